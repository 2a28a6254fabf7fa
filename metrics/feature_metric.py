"""Distribution metrics on embeddings (FID, KID and their face-identity variants): the
shared state — features of the real and the fake set, and optionally whose frames they are
(for a jackknife interval over people) — and how images become features."""

from __future__ import annotations

import abc
import warnings
from typing import ClassVar, Sequence

import numpy as np

from talkbench.metrics.base import Image, Metric, MetricResult
from talkbench.metrics.jackknife import jackknife_interval, leave_one_group_out


class FeatureDistanceMetric(Metric):
    """An unpaired metric comparing the feature distributions of the two sets.

    ``update`` embeds images; ``update_features`` takes features computed elsewhere (e.g.
    from the on-disk feature cache). Rows of NaN are inputs without features (no face,
    unreadable) and count as failed. With ``groups`` (whose frames each row is: people) on
    every update, metrics with ``jackknife`` get a 95 % interval by the jackknife over the
    groups, and the result keeps the leave-one-out values (``MetricResult.loo``) for paired
    differences between settings (:mod:`talkbench.metrics.jackknife`)."""

    paired = False
    min_samples = 2
    common_n: int | None = None  # compare at this many samples per set (random subsets), when set
    seed = 0
    jackknife: ClassVar[bool] = False  # a plain value, no spread of its own: interval over groups

    def reset(self) -> None:
        self.real: list[np.ndarray] = []
        self.fake: list[np.ndarray] = []
        self.real_groups: list[np.ndarray] | None = []
        self.fake_groups: list[np.ndarray] | None = []
        self.n_failed = 0

    @abc.abstractmethod
    def embed(self, images: Sequence[Image]) -> np.ndarray:
        """(n, d) features; NaN rows where an image has none."""

    @abc.abstractmethod
    def distance(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        """The metric from two clean feature sets."""

    def update(self, fake: Sequence[Image | None] | None = None, real: Sequence[Image | None] | None = None) -> None:
        for images, is_real in ((fake, False), (real, True)):
            if images:
                ok = [im for im in images if im is not None]
                self.n_failed += len(images) - len(ok)
                if ok:
                    self.update_features(self.embed(ok), real=is_real)

    def update_features(self, features: np.ndarray, real: bool, groups: Sequence[str] | None = None) -> None:
        """Add feature rows (NaN rows: failed); ``groups``: one label per row, or None when
        unknown (then this metric gives no interval over groups)."""
        features = np.asarray(features)
        good = np.isfinite(features).all(axis=1)
        self.n_failed += int((~good).sum())
        (self.real if real else self.fake).append(features[good])
        labels = self.real_groups if real else self.fake_groups
        if groups is None or labels is None:
            self.real_groups = self.fake_groups = None
        else:
            if len(groups) != len(features):
                raise ValueError(f"{len(groups)} group labels for {len(features)} feature rows")
            labels.append(np.asarray(groups).astype(str)[good])

    def point(self, real: np.ndarray, fake: np.ndarray) -> float:
        """The bare value of :meth:`distance` (what the jackknife recomputes per group),
        without its small-sample warning: the full value's result already carries it."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            value = self.distance(real, fake).value
        assert value is not None
        return value

    def compute(self) -> MetricResult:
        real = np.concatenate(self.real) if self.real else np.zeros((0, 1))
        fake = np.concatenate(self.fake) if self.fake else np.zeros((0, 1))
        if min(len(real), len(fake)) < self.min_samples:
            return self._result(None, status="unavailable", n_failed=self.n_failed,
                                reason=f"needs at least {self.min_samples} usable images per set "
                                       f"(got {len(real)} real, {len(fake)} fake, {self.n_failed} failed)")
        groups = None
        if self.real_groups is not None and self.fake_groups is not None:
            groups = (np.concatenate(self.real_groups) if self.real_groups else np.zeros(0, str),
                      np.concatenate(self.fake_groups) if self.fake_groups else np.zeros(0, str))
        (real, fake), groups, note = self._at_common_n((real, fake), groups)
        result = self.distance(real, fake)
        result.n, result.n_failed = len(real) + len(fake), self.n_failed
        result.n_real, result.n_fake = len(real), len(fake)
        if self.jackknife and groups is not None and result.value is not None:
            loo = leave_one_group_out(self.point, real, fake, *groups, self.min_samples)
            if loo:
                result.ci_low, result.ci_high = jackknife_interval(result.value, loo, bounds=self.bounds)
                result.loo = loo
                note = "; ".join(t for t in (note, f"95 % CI: jackknife over {len(loo)} people") if t)
        result.note = "; ".join(t for t in (note, result.note) if t)
        return result

    def _at_common_n(self, sets: tuple[np.ndarray, np.ndarray], groups: tuple[np.ndarray, np.ndarray] | None
                     ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray] | None, str]:
        """Both sets (and their group labels) cut to ``common_n`` random samples (fixed seed),
        so that values biased by the sample size (FID) compare across settings; fewer usable
        samples are kept and said."""
        if self.common_n is None:
            return sets, groups, ""
        k = min(self.common_n, *(len(s) for s in sets))
        rng = np.random.default_rng(self.seed)
        keep = [np.sort(rng.choice(len(s), k, replace=False)) for s in sets]
        real, fake = (s[i] for s, i in zip(sets, keep))
        if groups is not None:
            groups = (groups[0][keep[0]], groups[1][keep[1]])
        short = "" if k == self.common_n else f", fewer usable samples than the common n = {self.common_n}"
        return (real, fake), groups, f"at n = {k} per set (random subsets){short}"
