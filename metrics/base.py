"""The result record every metric returns, and the torchmetrics-style base classes.

A metric accumulates state with ``update`` (batches of H×W×3 uint8 RGB arrays; ``None``
marks an input that could not be read), produces a :class:`MetricResult` with ``compute``
and starts over with ``reset``. Inputs a metric cannot score (unreadable file, no face)
are counted in ``n_failed``, never dropped silently or scored as zero.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import Any, ClassVar, Literal, Sequence

import numpy as np

from talkbench.errors import TalkbenchError

Image = np.ndarray  # H×W×3 uint8 RGB
# Memory is bounded by pixels, not by image counts: a batch of pairs holds at most this many
# pixels (at least one pair), and pixel metrics work through an image in row blocks of
# ``BLOCK_VALUES`` values. An 8000×8000 pair is then scored like many small ones.
PIXEL_BUDGET = 1 << 24
BLOCK_VALUES = 1 << 20
Status = Literal["ok", "unavailable"]


@dataclasses.dataclass
class MetricResult:
    """One metric's value with its 95 % confidence interval and what it rests on.

    ``n`` counts the scored inputs (images, pairs or faces), ``n_failed`` those that could
    not be scored. ``status == "unavailable"`` means no value at all (``value is None``) and
    ``reason`` says why (e.g. the missing weights and how to fetch them)."""

    name: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    n_failed: int = 0
    status: Status = "ok"
    reason: str = ""
    backend: str = ""
    higher_is_better: bool = False
    std: float | None = None  # spread (KID: std over subsets)
    note: str = ""  # caveats that do not invalidate the value (e.g. FID on < 2048 images)
    bounds: tuple[float, float] = (-math.inf, math.inf)  # values the metric can take; CIs are clipped to it
    n_real: int = 0  # set metrics: real / fake samples the value was computed on
    n_fake: int = 0
    # set metrics with groups (people): the value with each group left out, by group (not a row)
    loo: dict[str, float] | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def unavailable(cls, name: str, reason: str, higher_is_better: bool, backend: str = "") -> "MetricResult":
        return cls(name, None, status="unavailable", reason=reason, backend=backend,
                   higher_is_better=higher_is_better)

    def as_row(self) -> dict[str, Any]:
        """A flat dict (one pandas row); None becomes NaN so columns stay numeric."""
        row = dataclasses.asdict(self)
        del row["bounds"], row["loo"]
        for key in ("value", "ci_low", "ci_high", "std"):
            if row[key] is None:
                row[key] = math.nan
        return row

    def __str__(self) -> str:
        if self.status != "ok":
            return f"{self.name}: unavailable ({self.reason})"
        ci = f" [{self.ci_low:.4g}, {self.ci_high:.4g}]" if self.ci_low is not None else ""
        sd = f" ± {self.std:.4g}" if self.std is not None else ""
        return f"{self.name}: {self.value:.4g}{sd}{ci} (n={self.n}, failed={self.n_failed})"


def mean_ci(values: np.ndarray, level: float = 0.95,
            bounds: tuple[float, float] = (-math.inf, math.inf)) -> tuple[float, float, float]:
    """Mean and its two-sided Student-t confidence interval (the CI for per-image values
    everywhere in this package), clipped to the metric's possible values ``bounds`` (with few,
    spread values the t interval can otherwise leave them, e.g. a miss rate above 1). One
    value gives a degenerate interval."""
    from scipy import stats

    values = np.asarray(values, np.float64)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))
    return mean, max(mean - half, bounds[0]), min(mean + half, bounds[1])


class Metric(abc.ABC):
    """Base of every metric. ``paired`` metrics compare fake[i] with real[i]; unpaired ones
    compare the two sets as distributions (the sets may differ in size)."""

    name: ClassVar[str]
    higher_is_better: ClassVar[bool]
    paired: bool  # a class constant for most; CSIM sets it per instance
    bounds: ClassVar[tuple[float, float]] = (-math.inf, math.inf)  # the values it can take

    def __init__(self) -> None:
        self.reset()

    @classmethod
    def display_for(cls, backend: str) -> str:
        """The reported name when run with ``backend`` (a face backend's name, LPIPS's trunk):
        one rule for a built metric and for one that could not be built, so a metric keeps
        its name whether or not it is available. Subclasses add the backend where it matters
        (e.g. CSIM-dlib); ``auto`` names no backend yet, so it gives the bare name."""
        return cls.name

    @property
    def display_name(self) -> str:
        """The reported name (includes the backend where it matters, e.g. CSIM-dlib)."""
        return self.display_for(self.backend)

    @property
    def backend(self) -> str:
        return ""

    @abc.abstractmethod
    def reset(self) -> None:
        """Forget everything accumulated."""

    @abc.abstractmethod
    def update(self, fake: Sequence[Image | None], real: Sequence[Image | None] | None = None) -> None:
        """Accumulate a batch."""

    @abc.abstractmethod
    def compute(self) -> MetricResult:
        """The metric over everything accumulated since the last reset."""

    def compute_all(self) -> list[MetricResult]:
        """Every result this metric produces (most produce one)."""
        return [self.compute()]

    def _result(self, value: float | None, **kw: Any) -> MetricResult:
        return MetricResult(self.display_name, value, backend=self.backend,
                            higher_is_better=self.higher_is_better, bounds=self.bounds, **kw)


def check_pairs(fake: Sequence, real: Sequence | None) -> Sequence:
    if real is None or len(real) != len(fake):
        raise TalkbenchError(f"paired metric needs as many real as fake images "
                             f"(got {len(fake)} fake, {0 if real is None else len(real)} real)")
    return real


def resize_to(image: Image, shape: tuple[int, ...]) -> Image:
    """``image`` resized (bilinear, PIL) to ``shape``'s height and width: paired metrics
    resize the fake to its real partner's size when they differ."""
    if image.shape[:2] == tuple(shape[:2]):
        return image
    from PIL import Image as PILImage

    return np.asarray(PILImage.fromarray(image).resize((shape[1], shape[0]), PILImage.Resampling.BILINEAR))


def _stack(images: list[Image]) -> np.ndarray:
    """N×H×W×C from same-size images; one image becomes a view (no copy of a huge image)."""
    return images[0][None] if len(images) == 1 else np.stack(images)


class PerImageMetric(Metric):
    """A paired metric that scores each pair; reports the mean with a t-based 95 % CI.
    Subclasses implement ``score(fake, real) -> (n,) float`` on same-size uint8 batches."""

    paired = True

    def reset(self) -> None:
        self.values: list[float] = []
        self.n_failed = 0

    @abc.abstractmethod
    def score(self, fake: np.ndarray, real: np.ndarray) -> np.ndarray:
        """Scores of n same-size pairs (n×H×W×3 uint8 each); NaN marks a failed pair."""

    def update(self, fake: Sequence[Image | None], real: Sequence[Image | None] | None = None) -> None:
        real = check_pairs(fake, real)
        groups: dict[tuple[int, ...], list[tuple[Image, Image]]] = {}
        for f, r in zip(fake, real):
            if f is None or r is None:
                self.n_failed += 1
                continue
            groups.setdefault(r.shape, []).append((resize_to(f, r.shape), r))
        for shape, pairs in groups.items():
            step = max(1, PIXEL_BUDGET // (shape[0] * shape[1]))
            for s in range(0, len(pairs), step):
                chunk = pairs[s:s + step]
                scores = self.score(_stack([p[0] for p in chunk]), _stack([p[1] for p in chunk]))
                ok = np.isfinite(scores)
                self.n_failed += int((~ok).sum())
                self.values.extend(scores[ok].tolist())

    def compute(self) -> MetricResult:
        if not self.values:
            return self._result(None, status="unavailable", n_failed=self.n_failed,
                                reason=f"no pair could be scored ({self.n_failed} failed)")
        mean, lo, hi = mean_ci(np.array(self.values), bounds=self.bounds)
        return self._result(mean, ci_low=lo, ci_high=hi, n=len(self.values), n_failed=self.n_failed)
