"""Detectors as differentiable functions of the pixels, for attacks that need their gradient
(a generator fine-tuned to evade them, PGD on finished fakes).

Each kind says how with :meth:`Detector.logit_function`: ``f(x) -> logits`` where ``x`` is a
float N×3×H×W RGB tensor in [0, 1] and ``sigmoid(f(x))`` is ``det.predict_proba`` of the
same pixels (timm CNNs run their own preprocessing; the spectral baseline is rebuilt in
torch). The detectors are frozen: their parameters get no gradient. Here: the pixel
conversion those functions take, and the evasion term built on them.

:class:`EvasionLoss` is the evasion term of detector-aware fine-tuning,
λ · Σ_detectors mean softplus(logit(fake)) = λ · Σ −log(1 − p_fake).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from talkbench.detector.base import Detector
from talkbench.errors import TalkbenchError
from talkbench.tensors import tensor_sum


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
        self._fns = self._logit_functions()

    def _logit_functions(self) -> list:
        return [d.logit_function() for d in self.detectors]

    def __getstate__(self) -> dict:
        """The detectors and λ, for a worker process: the functions are closures, rebuilt there."""
        return {"detectors": self.detectors, "weight": self.weight}

    def __setstate__(self, state: dict) -> None:
        self.detectors, self.weight = state["detectors"], state["weight"]
        self._fns = self._logit_functions()

    def __call__(self, fake: torch.Tensor) -> torch.Tensor:
        x = (fake.float().clamp(-1, 1) + 1) / 2
        return self.weight * tensor_sum(F.softplus(fn(x)).mean() for fn in self._fns)

    def describe(self) -> str:
        """One line for model info and provenance: what the fakes were trained to evade."""
        return f"evasion λ={self.weight:g} against {', '.join(d.name for d in self.detectors)}"
