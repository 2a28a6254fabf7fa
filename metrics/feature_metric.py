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
        result = self.distance(real, fake)
        result.n, result.n_failed = len(real) + len(fake), self.n_failed
        return result
