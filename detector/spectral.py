"""Frequency baseline of Durall et al. 2020 ("Watch your up-convolution"): the azimuthally
averaged log power spectrum of each grey-level crop, fed to a scikit-learn classifier.
Up-sampling layers leave periodic high-frequency traces that this 1-D profile exposes.

Vectorised: one batched ``numpy.fft.fft2`` and one ``np.add.reduceat`` over radius-sorted
frequencies for the whole batch."""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import joblib
import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from talkbench.detector.base import Detector
from talkbench.detector.registry import register_detector
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path

_GREY = np.array([0.299, 0.587, 0.114], np.float32)


@functools.lru_cache(maxsize=8)
def _radial_weights(size: int) -> np.ndarray:
    """(size·(size//2+1), size//2+1) float32 matrix that turns a flattened ``rfft2`` power
    spectrum into the mean over each integer radius of the full spectrum. The half spectrum
    holds every frequency whose conjugate lies in the missing half once for both, so those
    count twice; radii beyond size/2 (the corners) are left out."""
    fy = np.fft.fftfreq(size, 1 / size)[:, None]
    fx = np.fft.rfftfreq(size, 1 / size)[None, :]
    radius = np.rint(np.hypot(fx, fy)).astype(np.int64).ravel()
    mult = np.where((fx == 0) | (fx == size / 2), 1.0, 2.0).repeat(size, axis=0).ravel()
    n_r = size // 2 + 1
    keep = radius < n_r
    w = np.zeros((radius.size, n_r), np.float64)
    w[np.flatnonzero(keep), radius[keep]] = mult[keep]
    return (w / w.sum(axis=0, keepdims=True)).astype(np.float32)


def spectrum_features(images: np.ndarray, size: int | None = None) -> np.ndarray:
    """(N, size//2 + 1) azimuthal averages of 20·log10|FFT| of grey-level crops.

    ``images``: N×H×W×3 uint8 (or N×H×W grey); resized to ``size`` (default: their own,
    which must be square). One batched real FFT and one matrix product do the whole batch."""
    images = np.asarray(images)
    if images.ndim == 4:
        grey = images.astype(np.float32) @ _GREY
    elif images.ndim == 3:
        grey = images.astype(np.float32)
    else:
        raise TalkbenchError(f"expected N×H×W×3 images, got shape {images.shape}")
    n, h, w = grey.shape
    size = size or h
    if h != w and size == h:
        raise TalkbenchError(f"spectral features need square crops, got {h}×{w}")
    if (h, w) != (size, size):
        grey = np.stack([cv2.resize(g, (size, size), interpolation=cv2.INTER_AREA) for g in grey])
    spec = np.fft.rfft2(grey)
    power = spec.real ** 2 + spec.imag ** 2
    # 20·log10|F| = 10·log10|F|²; the epsilon (1e-16 on |F|²) keeps empty frequencies finite
    logp = 10.0 * np.log10(power.reshape(n, -1) + 1e-16)
    return logp.astype(np.float32) @ _radial_weights(size)


class SpectralDetector(Detector):
    kind = "spectral"

    def __init__(self, name: str, classifier: str = "logreg", size: int = 64, C: float = 1.0) -> None:
        self.name, self.classifier, self.size = name, classifier, size
        self.pretrained = False
        if classifier == "logreg":
            clf = LogisticRegression(C=C, max_iter=2000)
        elif classifier == "svm":
            # Platt-scaled probabilities from held-out folds (SVC(probability=True) is deprecated)
            clf = CalibratedClassifierCV(SVC(C=C, kernel="rbf"), ensemble=False)
        else:
            raise TalkbenchError(f"spectral classifier must be 'logreg' or 'svm', not {classifier!r}")
        self.pipeline: Pipeline = make_pipeline(StandardScaler(), clf)
        self.fitted = False

    def features(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        return np.concatenate([spectrum_features(images[i:i + batch_size], self.size)
                               for i in range(0, len(images), batch_size)])

    def fit(self, images: np.ndarray, labels: np.ndarray) -> "SpectralDetector":
        self.pipeline.fit(self.features(images), np.asarray(labels))
        self.fitted = True
        return self

    def predict_proba(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        if not self.fitted:
            raise TalkbenchError(f"detector '{self.name}' is not trained yet")
        return self.pipeline.predict_proba(self.features(images, batch_size))[:, 1].astype(np.float64)

    def save(self, path: Path) -> Path:
        """A joblib file (scikit-learn's persistence; load only files you made yourself)."""
        path = Path(path).with_suffix(".joblib")
        with atomic_path(path) as tmp:
            joblib.dump({"kind": self.kind, "detector": self}, tmp)
        return path

    @classmethod
    def load(cls, path: Path) -> "SpectralDetector":
        try:
            blob = joblib.load(path)
        except Exception as exc:  # truncated or foreign file: say which, without a traceback
            raise TalkbenchError(f"cannot load spectral detector {path}: {exc}") from None
        if not isinstance(blob, dict) or blob.get("kind") != cls.kind:
            raise TalkbenchError(f"{path} is not a spectral detector file")
        return blob["detector"]

    def describe(self) -> dict:
        return {**super().describe(), "classifier": self.classifier, "size": self.size}


@register_detector
def spectral_logreg(pretrained: bool = False, **kwargs) -> SpectralDetector:
    """Durall et al. 2020: azimuthal log power spectrum → logistic regression."""
    return SpectralDetector("spectral_logreg", "logreg", **kwargs)


@register_detector
def spectral_svm(pretrained: bool = False, **kwargs) -> SpectralDetector:
    """Durall et al. 2020: azimuthal log power spectrum → RBF SVM."""
    return SpectralDetector("spectral_svm", "svm", **kwargs)
