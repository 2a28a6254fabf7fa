"""Distribution metrics on embeddings (FID, KID and their face-identity variants): the
shared state — features of the real and the fake set — and how images become features."""

from __future__ import annotations

import abc
from typing import Sequence

import numpy as np

from talkbench.metrics.base import Image, Metric, MetricResult


class FeatureDistanceMetric(Metric):
    """An unpaired metric comparing the feature distributions of the two sets.

    ``update`` embeds images; ``update_features`` takes features computed elsewhere (e.g.
    from the on-disk feature cache). Rows of NaN are inputs without features (no face,
    unreadable) and count as failed."""

    paired = False
    min_samples = 2
    common_n: int | None = None  # compare at this many samples per set (random subsets), when set
    seed = 0

    def reset(self) -> None:
        self.real: list[np.ndarray] = []
        self.fake: list[np.ndarray] = []
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

    def update_features(self, features: np.ndarray, real: bool) -> None:
        features = np.asarray(features)
        good = np.isfinite(features).all(axis=1)
        self.n_failed += int((~good).sum())
        (self.real if real else self.fake).append(features[good])

    def compute(self) -> MetricResult:
        real = np.concatenate(self.real) if self.real else np.zeros((0, 1))
        fake = np.concatenate(self.fake) if self.fake else np.zeros((0, 1))
        if min(len(real), len(fake)) < self.min_samples:
            return self._result(None, status="unavailable", n_failed=self.n_failed,
                                reason=f"needs at least {self.min_samples} usable images per set "
                                       f"(got {len(real)} real, {len(fake)} fake, {self.n_failed} failed)")
        real, fake, note = self._at_common_n(real, fake)
        result = self.distance(real, fake)
        result.n, result.n_failed = len(real) + len(fake), self.n_failed
        result.n_real, result.n_fake = len(real), len(fake)
        result.note = "; ".join(t for t in (note, result.note) if t)
        return result

    def _at_common_n(self, real: np.ndarray, fake: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        """Both sets cut to ``common_n`` random samples (fixed seed), so that values biased by
        the sample size (FID) compare across settings; fewer usable samples are kept and said."""
        if self.common_n is None:
            return real, fake, ""
        k = min(self.common_n, len(real), len(fake))
        rng = np.random.default_rng(self.seed)
        real = real[np.sort(rng.choice(len(real), k, replace=False))]
        fake = fake[np.sort(rng.choice(len(fake), k, replace=False))]
        short = "" if k == self.common_n else f", fewer usable samples than the common n = {self.common_n}"
        return real, fake, f"at n = {k} per set (random subsets){short}"
