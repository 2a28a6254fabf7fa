"""Frequency baseline of Durall et al. 2020 ("Watch your up-convolution"): the azimuthally
averaged log power spectrum of each grey-level crop, fed to a scikit-learn classifier.
Up-sampling layers leave periodic high-frequency traces that this 1-D profile exposes.

Vectorised: one batched ``numpy.fft.fft2`` and one ``np.add.reduceat`` over radius-sorted
frequencies for the whole batch.

Saved as ``.safetensors``: the fitted scaler and classifier as plain arrays plus JSON-safe
metadata, evaluated here with numpy. Nothing in the file can run code when it is loaded
(pickles, and so joblib files, can: those are refused)."""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from talkbench.checksum import KEY, verify_weights, weights_sha256
from talkbench.detector.base import Detector, LogitFn
from talkbench.detector.metrics import auc
from talkbench.detector.registry import register_detector, register_kind
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path

if TYPE_CHECKING:
    from talkbench.detector.train import DetectorTrainConfig

_GREY = np.array([0.299, 0.587, 0.114], np.float32)
FORMAT = "talkbench-spectral-detector"


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


def _export(pipeline: Pipeline) -> dict[str, np.ndarray]:
    """The fitted scaler and classifier as float64 arrays (what :func:`_fake_proba` needs)."""
    scaler, clf = pipeline[0], pipeline[-1]
    params = {"scaler_mean": scaler.mean_, "scaler_scale": scaler.scale_}
    if isinstance(clf, LogisticRegression):
        params |= {"classes": clf.classes_, "coef": clf.coef_[0], "intercept": clf.intercept_}
    else:  # CalibratedClassifierCV(SVC(rbf), ensemble=False): one SVC, one Platt sigmoid
        cal = clf.calibrated_classifiers_[0]
        svc, sig = cal.estimator, cal.calibrators[0]
        params |= {"classes": clf.classes_, "support_vectors": svc.support_vectors_,
                   "dual_coef": svc.dual_coef_[0], "intercept": svc.intercept_,
                   "gamma": np.array([svc._gamma]), "platt": np.array([sig.a_, sig.b_])}
    return {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in params.items()}


def _fake_proba(params: dict[str, np.ndarray], features: np.ndarray) -> np.ndarray:
    """P(label 1) for spectral features, from exported parameters (logistic regression:
    sigmoid of the linear score; SVM: Platt sigmoid of the RBF decision function)."""
    x = (features.astype(np.float64) - params["scaler_mean"]) / params["scaler_scale"]
    if "coef" in params:
        p = 1.0 / (1.0 + np.exp(-(x @ params["coef"] + params["intercept"][0])))
    else:
        sv = params["support_vectors"]
        d2 = (x * x).sum(1)[:, None] + (sv * sv).sum(1)[None, :] - 2.0 * x @ sv.T
        dec = np.exp(-params["gamma"][0] * np.maximum(d2, 0.0)) @ params["dual_coef"] + params["intercept"][0]
        a, b = params["platt"]
        p = 1.0 / (1.0 + np.exp(a * dec + b))
    # columns follow sorted classes: with labels {0, 1} the second one is "fake"
    return p if params["classes"][-1] == 1 else 1.0 - p


@register_kind
class SpectralDetector(Detector):
    kind = "spectral"
    suffixes = (".safetensors", ".joblib")  # .joblib: only to refuse old pickled files with a clear message

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
        self.params: dict[str, np.ndarray] | None = None  # set by fit or load

    def features(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        return np.concatenate([spectrum_features(images[i:i + batch_size], self.size)
                               for i in range(0, len(images), batch_size)])

    def fit(self, images: np.ndarray, labels: np.ndarray) -> "SpectralDetector":
        labels = np.asarray(labels)
        if set(np.unique(labels).tolist()) != {0, 1}:
            raise TalkbenchError(f"spectral detector needs real (0) and fake (1) crops, got labels {np.unique(labels)}")
        self.pipeline.fit(self.features(images), labels)
        self.params = _export(self.pipeline)
        return self

    def train(self, cfg: DetectorTrainConfig, xtr: np.ndarray, ytr: np.ndarray, xva: np.ndarray, yva: np.ndarray,
              out_dir: Path, resume: bool, progress: bool) -> dict:
        """One :meth:`fit` on the training crops (nothing to resume or early-stop); the validation
        crops are only scored."""
        t0 = time.perf_counter()
        self.fit(xtr, ytr)
        self.save(self.file_in(out_dir))
        return {"best_val_auc": auc(yva, self.predict_proba(xva)), "fit_s": time.perf_counter() - t0}

    def predict_proba(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        if self.params is None:
            raise TalkbenchError(f"detector '{self.name}' is not trained yet")
        return _fake_proba(self.params, self.features(images, batch_size))

    def logit_function(self) -> LogitFn:
        """The features and the logistic regression rebuilt in torch (``torch.fft.rfft2`` →
        azimuthal log-power profile → the fitted scaler and coefficients), in float64 like
        :func:`_fake_proba`. The SVM has no such form."""
        import torch
        import torch.nn.functional as F

        params = self.params
        if params is None:
            raise TalkbenchError(f"detector '{self.name}' is not trained yet")
        if "coef" not in params:
            raise TalkbenchError(f"'{self.name}' ({self.classifier}) is not differentiable here; attack spectral_logreg")
        size = self.size
        sign = 1.0 if params["classes"][-1] == 1 else -1.0  # the logit of "fake" (label 1)
        consts = {"grey": np.asarray(_GREY, np.float64), "radial": _radial_weights(size).astype(np.float64),
                  "mean": params["scaler_mean"], "scale": params["scaler_scale"], "coef": sign * params["coef"],
                  "bias": sign * params["intercept"]}
        cache: dict[torch.device, dict[str, torch.Tensor]] = {}

        def f(x: torch.Tensor) -> torch.Tensor:
            c = cache.setdefault(x.device, {k: torch.as_tensor(np.asarray(v, np.float64), device=x.device)
                                            for k, v in consts.items()})
            grey = torch.einsum("nchw,c->nhw", x.double() * 255.0, c["grey"])
            if grey.shape[-2:] != (size, size):  # cv2.INTER_AREA's box filter (exact for integer factors)
                grey = F.interpolate(grey[:, None], size=(size, size), mode="area")[:, 0]
            spec = torch.fft.rfft2(grey)
            power = spec.real ** 2 + spec.imag ** 2
            feats = (10.0 * torch.log10(power.reshape(len(x), -1) + 1e-16)) @ c["radial"]
            z = (feats - c["mean"]) / c["scale"]
            return (z @ c["coef"] + c["bias"]).float()

        return f

    def save(self, path: Path) -> Path:
        """A ``.safetensors`` file: arrays, and metadata strings with the weights checksum."""
        if self.params is None:
            raise TalkbenchError(f"detector '{self.name}' is not trained yet")
        path = Path(path).with_suffix(".safetensors")
        meta = {"format": FORMAT, "kind": self.kind, "name": self.name, "classifier": self.classifier,
                "size": str(self.size), "crop_size": "" if self.crop_size is None else str(self.crop_size),
                "domain": json.dumps(self.domain), KEY: weights_sha256(self.params)}
        with atomic_path(path) as tmp:
            save_file(self.params, str(tmp), metadata=meta)
        return path

    @classmethod
    def load(cls, path: Path) -> "SpectralDetector":
        path = Path(path)
        if path.suffix == ".joblib":
            raise TalkbenchError(f"{path} is a pickled (joblib) spectral detector from an older talkbench; "
                                 "pickles can run code, so they are not loaded: retrain it with `talkbench detect train`")
        try:
            with safe_open(str(path), framework="np") as f:
                meta = f.metadata() or {}
                params = {k: f.get_tensor(k) for k in f.keys()}
        except (SafetensorError, OSError, ValueError) as exc:  # truncated or foreign file
            raise TalkbenchError(f"cannot load spectral detector {path}: {exc}") from None
        if meta.get("format") != FORMAT or meta.get("classifier") not in ("logreg", "svm"):
            raise TalkbenchError(f"{path} is not a talkbench spectral detector file")
        verify_weights({**params, KEY: meta.get(KEY)}, params, path)
        try:
            det = cls(meta["name"], meta["classifier"], size=int(meta["size"]))
            det.crop_size = int(meta["crop_size"]) if meta.get("crop_size") else None
            det.domain = json.loads(meta["domain"]) if meta.get("domain") else None
        except (KeyError, ValueError) as exc:
            raise TalkbenchError(f"{path}: bad spectral detector metadata ({exc})") from None
        det.params = params
        return det

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
