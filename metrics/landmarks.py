"""Landmark error of generated frames: 68 landmarks detected on each fake versus the
reference landmarks — those detected on its real partner (paired folders) or the driving
landmarks given directly (``update_landmarks``).

- NME: mean point-to-point distance / the reference's outer-eye-corner distance
  (iBUG points 36 and 45), per frame, then averaged;
- AKD: mean point-to-point distance in pixels of the real image (FOMM's protocol);
- detection failure rate: fraction of fakes where the backend found no face.
Frames where either side has no face are failed for NME/AKD and counted in ``n_failed``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from talkbench.faces import FaceBackend
from talkbench.faces.base import nme
from talkbench.metrics.base import Image, Metric, MetricResult, check_pairs, mean_ci, resize_to
from talkbench.metrics.face_metric import FaceBackedMetric


def akd(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-frame average keypoint distance in pixels."""
    return np.linalg.norm(np.asarray(pred, np.float64) - np.asarray(target, np.float64), axis=-1).mean(axis=1)


def wilson_interval(k: int, n: int) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k/n (scipy's binomtest; imported here, as
    scipy.stats takes ~1.5 s to import and every ``compute_metrics`` caller would pay it)."""
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


class LandmarkError(FaceBackedMetric, Metric):
    """NME (``compute``), plus AKD and the detection failure rate (``compute_all``)."""

    name = "NME"
    higher_is_better = False
    paired = True

    def __init__(self, backend: str | FaceBackend = "auto") -> None:
        self._use_face(backend, "landmarks")
        super().__init__()

    @classmethod
    def display_for(cls, backend: str) -> str:
        return f"NME-{backend}" if backend not in ("", "auto") else cls.name

    def reset(self) -> None:
        self.nme: list[float] = []
        self.akd: list[float] = []
        self.n_fakes = 0
        self.n_no_face = 0
        self.n_failed = 0

    def _detect(self, images: Sequence[Image | None]) -> list[np.ndarray | None]:
        idx = [i for i, im in enumerate(images) if im is not None]
        found = self.face.landmarks_auto([im for im in images if im is not None]) if idx else []
        out: list[np.ndarray | None] = [None] * len(images)
        for i, lm in zip(idx, found):
            out[i] = lm
        return out

    def update(self, fake: Sequence[Image | None], real: Sequence[Image | None] | None = None) -> None:
        real = check_pairs(fake, real)
        fake = [None if f is None or r is None else resize_to(f, r.shape) for f, r in zip(fake, real)]
        self.update_landmarks(fake, self._detect(real))

    def update_landmarks(self, fake: Sequence[Image | None], target: Sequence[np.ndarray | None]) -> None:
        """Score fakes against given reference landmarks (e.g. the driving landmarks, in
        the fake's pixel coordinates); a None target is a failed frame."""
        if len(target) != len(fake):
            raise ValueError(f"{len(fake)} fakes but {len(target)} reference landmark sets")
        pred = self._detect(fake)
        self.n_fakes += sum(f is not None for f in fake)
        self.n_no_face += sum(f is not None and p is None for f, p in zip(fake, pred))
        ok = [(p, t) for p, t in zip(pred, target) if p is not None and t is not None]
        self.n_failed += len(fake) - len(ok)
        if ok:
            p = np.stack([p for p, _ in ok])
            t = np.stack([np.asarray(t) for _, t in ok])
            self.nme.extend(nme(p, t).tolist())
            self.akd.extend(akd(p, t).tolist())

    def _mean_result(self, name: str, values: list[float]) -> MetricResult:
        if not values:
            return MetricResult.unavailable(name, f"no frame with landmarks on both sides ({self.n_failed} failed)",
                                            self.higher_is_better, self.backend)
        mean, lo, hi = mean_ci(np.array(values), bounds=(0.0, math.inf))
        return MetricResult(name, mean, lo, hi, len(values), self.n_failed, backend=self.backend,
                            higher_is_better=False, bounds=(0.0, math.inf))

    def compute(self) -> MetricResult:
        return self._mean_result(self.display_name, self.nme)

    def compute_all(self) -> list[MetricResult]:
        out = [self.compute(), self._mean_result(f"AKD-{self.face.name}", self.akd)]
        name = f"FaceMissRate-{self.face.name}"
        if self.n_fakes:
            lo, hi = wilson_interval(self.n_no_face, self.n_fakes)
            out.append(MetricResult(name, self.n_no_face / self.n_fakes, lo, hi, self.n_fakes, self.n_no_face,
                                    backend=self.backend, higher_is_better=False, bounds=(0.0, 1.0),
                                    note="fraction of fakes without a detected face; Wilson 95 % CI"))
        else:
            out.append(MetricResult.unavailable(name, "no readable fake image", False, self.backend))
        return out
