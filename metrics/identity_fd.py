"""Fréchet distance and KID in a face-identity embedding space (dlib 128-D or ArcFace 512-D).

A face-specific realism score that works offline (dlib). Named IFD-<space> / IKID-<space>
(e.g. ``IFD-dlib128``) so nobody mistakes it for FID: the numbers are on a different scale
and not comparable with published FIDs. Frames without a detected face count as failed.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from talkbench.errors import TalkbenchError
from talkbench.faces import FaceBackend
from talkbench.faces.registry import backend_class
from talkbench.metrics.base import Image, MetricResult
from talkbench.metrics.face_metric import FaceBackedMetric
from talkbench.metrics.feature_metric import FeatureDistanceMetric
from talkbench.metrics.fid import infinity_result, kid_result, small_set_note
from talkbench.metrics.frechet import MIN_INFINITY_SAMPLES, frechet_distance_features

EMBEDDING_NAMES = {"dlib": "dlib", "insightface": "arcface"}


def embedding_space(backend: str) -> str:
    """``dlib`` -> ``dlib128``: the embedding's name and size (the size is the backend class's,
    so it is known without building the backend; an unknown name stays as given)."""
    try:
        dim = backend_class(backend).embedding_dim
    except (TalkbenchError, ImportError):
        dim = None
    return f"{EMBEDDING_NAMES.get(backend, backend)}{dim or ''}"


class _IdentityMetric(FaceBackedMetric, FeatureDistanceMetric):
    def __init__(self, backend: str | FaceBackend = "auto", common_n: int | None = None) -> None:
        self._use_face(backend, "embed")
        self.common_n = common_n
        super().__init__()

    @classmethod
    def display_for(cls, backend: str) -> str:
        return f"{cls.name}-{embedding_space(backend)}" if backend not in ("", "auto") else cls.name

    def embed(self, images: Sequence[Image]) -> np.ndarray:
        return self.face.embed(list(images))


class IdentityFD(_IdentityMetric):
    """Fréchet distance between identity-embedding distributions (IFD)."""

    name, higher_is_better = "IFD", False
    bounds = (0.0, math.inf)
    jackknife = True

    def distance(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        return self._result(frechet_distance_features(real, fake),
                            note=small_set_note(len(real), len(fake), real.shape[1]))


class IdentityFDInfinity(IdentityFD):
    """IFD∞: the identity-space Fréchet distance extrapolated to n → ∞, as FID∞."""

    name = "IFD∞"
    min_samples = MIN_INFINITY_SAMPLES
    bounds = (-math.inf, math.inf)  # an extrapolation: may fall below 0
    jackknife = False  # its own spread: the fit's standard error

    def __init__(self, backend: str | FaceBackend = "auto") -> None:
        super().__init__(backend)

    def distance(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        return infinity_result(self, real, fake)


class IdentityKID(_IdentityMetric):
    """KID between identity-embedding distributions (IKID)."""

    name, higher_is_better = "IKID", False

    def distance(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        return kid_result(self, real, fake, n_subsets=100, subset_size=1000)
