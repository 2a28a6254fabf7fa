"""Fréchet distance and KID in a face-identity embedding space (dlib 128-D or ArcFace 512-D).

A face-specific realism score that works offline (dlib). Named IFD-<space> / IKID-<space>
(e.g. ``IFD-dlib128``) so nobody mistakes it for FID: the numbers are on a different scale
and not comparable with published FIDs. Frames without a detected face count as failed.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from talkbench.faces import FaceBackend
from talkbench.metrics.base import Image, MetricResult
from talkbench.metrics.face_metric import FaceBackedMetric
from talkbench.metrics.feature_metric import FeatureDistanceMetric
from talkbench.metrics.fid import infinity_result, kid_result, small_set_note
from talkbench.metrics.frechet import MIN_INFINITY_SAMPLES, frechet_distance_features

EMBEDDING_NAMES = {"dlib": "dlib", "insightface": "arcface"}


def embedding_space(backend: FaceBackend) -> str:
    return f"{EMBEDDING_NAMES.get(backend.name, backend.name)}{backend.embedding_dim}"


class _IdentityMetric(FaceBackedMetric, FeatureDistanceMetric):
    prefix: str

    def __init__(self, backend: str | FaceBackend = "auto", common_n: int | None = None) -> None:
        self._use_face(backend, "embed")
        self.common_n = common_n
        super().__init__()

    @property
    def display_name(self) -> str:
        return f"{self.prefix}-{embedding_space(self.face)}"

    def embed(self, images: Sequence[Image]) -> np.ndarray:
        return self.face.embed(list(images))


class IdentityFD(_IdentityMetric):
    """Fréchet distance between identity-embedding distributions (IFD)."""

    prefix, name, higher_is_better = "IFD", "IFD", False

    def distance(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        return self._result(frechet_distance_features(real, fake),
                            note=small_set_note(len(real), len(fake), real.shape[1]))


class IdentityFDInfinity(IdentityFD):
    """IFD∞: the identity-space Fréchet distance extrapolated to n → ∞, as FID∞."""

    prefix, name = "IFD∞", "IFD∞"
    min_samples = MIN_INFINITY_SAMPLES

    def __init__(self, backend: str | FaceBackend = "auto") -> None:
        super().__init__(backend)

    def distance(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        return infinity_result(self, real, fake)


class IdentityKID(_IdentityMetric):
    """KID between identity-embedding distributions (IKID)."""

    prefix, name, higher_is_better = "IKID", "IKID", False

    def distance(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        return kid_result(self, real, fake, n_subsets=100, subset_size=1000)
