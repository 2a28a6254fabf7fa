"""FID and KID on pytorch-fid's Inception pool3 features.

FID warns (and notes in its result) when a set has fewer than 2048 images: the covariance
is then rank-deficient and FID biased upwards; KID is the better companion there.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from talkbench.metrics.base import Image, MetricResult
from talkbench.metrics.feature_metric import FeatureDistanceMetric
from talkbench.metrics.frechet import frechet_distance_features
from talkbench.metrics.inception import FEATURE_DIM, InceptionFeatures
from talkbench.metrics.kid import kid


def small_set_note(n_real: int, n_fake: int, dim: int) -> str:
    if min(n_real, n_fake) >= dim:
        return ""
    note = (f"fewer images than feature dimensions ({n_real} real, {n_fake} fake < {dim}): "
            f"rank-deficient covariance, value biased upwards; compare only at equal set sizes")
    warnings.warn(note, stacklevel=3)
    return note


class _InceptionMetric(FeatureDistanceMetric):
    def __init__(self, extractor: InceptionFeatures | None = None) -> None:
        self.extractor = extractor or InceptionFeatures()  # raises WeightsMissing without weights
        super().__init__()

    @property
    def backend(self) -> str:
        return f"pytorch-fid inception ({self.extractor.weights_source}; {self.extractor.weights_id})"

    def embed(self, images: Sequence[Image]) -> np.ndarray:
        return self.extractor.embed_arrays(images)


class FID(_InceptionMetric):
    """Fréchet Inception Distance (pytorch-fid's network and preprocessing)."""

    name = "FID"
    higher_is_better = False

    def distance(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        return self._result(frechet_distance_features(real, fake),
                            note=small_set_note(len(real), len(fake), FEATURE_DIM))


class KID(_InceptionMetric):
    """Kernel Inception Distance: mean ± std of unbiased MMD² over random subsets."""

    name = "KID"
    higher_is_better = False

    def __init__(self, extractor: InceptionFeatures | None = None, n_subsets: int = 100,
                 subset_size: int = 1000, seed: int = 0) -> None:
        self.n_subsets, self.subset_size, self.seed = n_subsets, subset_size, seed
        super().__init__(extractor)

    def distance(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        mean, std, size = kid(real, fake, self.n_subsets, self.subset_size, self.seed)
        return self._result(mean, std=std, note=f"{self.n_subsets} subsets of {size}")
