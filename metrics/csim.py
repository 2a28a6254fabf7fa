"""CSIM (the paper's identity-preservation score): cosine similarity of identity
embeddings between generated frames and the person's real frames.

Paired: each fake against its own real partner (the ground-truth frame or a source frame).
Unpaired: each fake against the mean embedding of the real set (the person's source
frames). The embedding backend is part of the name: ``CSIM-dlib``, ``CSIM-arcface``.
A frame without a detected face counts as failed.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from talkbench.faces import FaceBackend
from talkbench.faces.base import l2_normalise
from talkbench.metrics.base import Image, Metric, MetricResult, check_pairs, mean_ci
from talkbench.metrics.face_metric import FaceBackedMetric
from talkbench.metrics.identity_fd import EMBEDDING_NAMES


class CSIM(FaceBackedMetric, Metric):
    name = "CSIM"
    higher_is_better = True
    bounds = (-1.0, 1.0)

    def __init__(self, backend: str | FaceBackend = "auto", paired: bool = True) -> None:
        self._use_face(backend, "embed")
        self.paired = paired
        super().__init__()

    @classmethod
    def display_for(cls, backend: str) -> str:
        return f"CSIM-{EMBEDDING_NAMES.get(backend, backend)}" if backend not in ("", "auto") else cls.name

    def reset(self) -> None:
        self.values: list[float] = []
        self.fake_emb: list[np.ndarray] = []
        self.real_emb: list[np.ndarray] = []
        self.n_failed = 0

    def _embed(self, images: Sequence[Image | None]) -> np.ndarray:
        out = np.full((len(images), self.face.embedding_dim or 1), np.nan, np.float32)
        idx = [i for i, im in enumerate(images) if im is not None]
        if idx:
            out[idx] = self.face.embed([im for im in images if im is not None])
        return out

    def update(self, fake: Sequence[Image | None], real: Sequence[Image | None] | None = None) -> None:
        if self.paired:
            check_pairs(fake, real)
        self.update_embeddings(self._embed(fake), self._embed(real) if real else None)

    def update_embeddings(self, fake: np.ndarray, real: np.ndarray | None) -> None:
        """Embeddings computed elsewhere (NaN rows: no face or unreadable). Paired: row i
        of ``fake`` goes with row i of ``real``. Identity embeddings align the face
        themselves, so image sizes need not match."""
        if self.paired:
            cos = (fake * real).sum(axis=1)
            ok = np.isfinite(cos)
            self.n_failed += int((~ok).sum())
            self.values.extend(cos[ok].tolist())
        else:
            self.fake_emb.append(fake)
            if real is not None:
                self.real_emb.append(real)

    def compute(self) -> MetricResult:
        if not self.paired:
            return self._compute_against_mean()
        if not self.values:
            return self._result(None, status="unavailable", n_failed=self.n_failed,
                                reason=f"no pair with a face on both sides ({self.n_failed} failed)")
        mean, lo, hi = mean_ci(np.array(self.values), bounds=self.bounds)
        return self._result(mean, ci_low=lo, ci_high=hi, n=len(self.values), n_failed=self.n_failed)

    def _compute_against_mean(self) -> MetricResult:
        fake = np.concatenate(self.fake_emb) if self.fake_emb else np.zeros((0, 1))
        real = np.concatenate(self.real_emb) if self.real_emb else np.zeros((0, 1))
        real_ok, fake_ok = real[np.isfinite(real).all(1)], fake[np.isfinite(fake).all(1)]
        n_failed = len(fake) - len(fake_ok)
        if not len(real_ok) or not len(fake_ok):
            return self._result(None, status="unavailable", n_failed=n_failed,
                                reason=f"no face found in the {'real' if not len(real_ok) else 'fake'} set")
        cos = fake_ok @ l2_normalise(real_ok.mean(axis=0))
        mean, lo, hi = mean_ci(cos, bounds=self.bounds)
        return self._result(mean, ci_low=lo, ci_high=hi, n=len(cos), n_failed=n_failed,
                            note=f"each fake vs the mean embedding of {len(real_ok)} real images")
