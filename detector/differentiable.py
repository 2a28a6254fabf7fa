"""Detectors as differentiable functions of the pixels, for attacks that need their gradient
(a generator fine-tuned to evade them, PGD on finished fakes).

``logit_function(det)`` returns ``f(x) -> logits`` where ``x`` is a float N×3×H×W RGB tensor
in [0, 1] and ``sigmoid(f(x))`` is ``det.predict_proba`` of the same pixels: timm CNNs run
their own preprocessing (:meth:`TimmDetector.normalize`); the spectral baseline is rebuilt in
torch (``torch.fft.rfft2`` → azimuthal log-power profile → its StandardScaler and logistic
regression, read from the fitted detector's attributes). The detectors are frozen: their
parameters get no gradient.

:class:`EvasionLoss` is the evasion term of detector-aware fine-tuning,
λ · Σ_detectors mean softplus(logit(fake)) = λ · Σ −log(1 − p_fake).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from talkbench.detector.base import Detector
from talkbench.errors import TalkbenchError
from talkbench.tensors import tensor_sum

LogitFn = Callable[[torch.Tensor], torch.Tensor]


def logit_function(det: Detector) -> LogitFn:
    """``f(x)``: (N,) fake logits of float N×3×H×W RGB images in [0, 1], differentiable in x."""
    from talkbench.detector.spectral import SpectralDetector
    from talkbench.detector.timm_models import TimmDetector

    if isinstance(det, TimmDetector):
        return _timm_logits(det)
    if isinstance(det, SpectralDetector):
        return _spectral_logits(det)
    raise TalkbenchError(f"detector kind '{det.kind}' has no differentiable form")


def _timm_logits(det) -> LogitFn:
    det.model.eval()
    det.model.requires_grad_(False)

    def f(x: torch.Tensor) -> torch.Tensor:
        if det.device != x.device:
            det.to(x.device)
        return det.logits(det.normalize(x.float()))

    return f


def _spectral_logits(det) -> LogitFn:
    from talkbench.detector.spectral import _GREY, _radial_weights

    params = det.params  # the exported scaler and classifier arrays (set by fit or load)
    if params is None:
        raise TalkbenchError(f"detector '{det.name}' is not trained yet")
    if "coef" not in params:
        raise TalkbenchError(f"'{det.name}' ({det.classifier}) is not differentiable here; attack spectral_logreg")
    size = int(det.size)
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


def to_unit(images: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 N×H×W×3 → float N×3×H×W in [0, 1]."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise TalkbenchError(f"expected uint8 N×H×W×3 images, got {images.dtype} {images.shape}")
    return torch.from_numpy(np.require(images, requirements=["C", "W"])).to(device).permute(0, 3, 1, 2).float().div(255)


class EvasionLoss:
    """λ · Σ_d mean_batch softplus(logit_d(fake)) over frozen detectors; ``fake`` in [-1, 1]
    (the generator's range). softplus(l) = −log(1 − sigmoid(l)): pushes P(fake) towards 0."""

    def __init__(self, detectors: Sequence[Detector], weight: float) -> None:
        if not detectors:
            raise TalkbenchError("an evasion term needs at least one detector")
        if weight < 0:
            raise TalkbenchError(f"the evasion weight λ must be ≥ 0, got {weight}")
        self.detectors = list(detectors)
        self.weight = float(weight)
        self._fns = [logit_function(d) for d in self.detectors]

    def __call__(self, fake: torch.Tensor) -> torch.Tensor:
        x = (fake.float().clamp(-1, 1) + 1) / 2
        return self.weight * tensor_sum(F.softplus(fn(x)).mean() for fn in self._fns)

    def describe(self) -> str:
        """One line for model info and provenance: what the fakes were trained to evade."""
        return f"evasion λ={self.weight:g} against {', '.join(d.name for d in self.detectors)}"
