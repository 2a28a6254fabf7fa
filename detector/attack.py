"""Pixel-space attack on finished fakes: L∞ projected gradient descent against frozen
detectors (Madry et al. 2018; the anchor of Carlini & Farid 2020 and Hussain et al. 2021).

ε is an integer number of grey levels (ε/255 on the [0, 1] scale). Iterates stay inside
the ε-ball and [0, 1]; the result is rounded to uint8 and clipped to the same integer ball,
so ``|adv − x| ≤ ε`` holds exactly for every pixel of the written image."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from talkbench.detector.base import Detector
from talkbench.detector.differentiable import to_unit
from talkbench.progress import progress_bar
from talkbench.tensors import tensor_sum
from talkbench.errors import TalkbenchError


def pgd(images: np.ndarray, detectors: Sequence[Detector], eps: int, steps: int = 10,
        step_size: float | None = None, batch_size: int = 64, device: str | torch.device = "cpu",
        progress: bool = False) -> np.ndarray:
    """Adversarial copies of uint8 N×H×W×3 fakes that lower Σ_d softplus(logit_d): each of
    ``steps`` signed-gradient steps of ``step_size`` (default 2.5·ε/steps, in grey levels),
    deterministic (no random start)."""
    if not isinstance(eps, (int, np.integer)) or eps < 0:
        raise TalkbenchError(f"ε must be a whole number of grey levels ≥ 0 (ε/255), got {eps!r}")
    if steps < 1:
        raise TalkbenchError(f"PGD needs at least one step, got {steps}")
    if not detectors:
        raise TalkbenchError("PGD needs at least one detector to attack")
    images = np.asarray(images)
    to_unit(images[:1])  # validates dtype and shape
    if eps == 0 or len(images) == 0:
        return images.copy()
    fns = [d.logit_function() for d in detectors]
    e = eps / 255.0
    alpha = (step_size if step_size is not None else 2.5 * eps / steps) / 255.0
    out = np.empty_like(images)
    starts = range(0, len(images), batch_size)
    for i in progress_bar(starts, desc=f"PGD ε={eps}/255", enabled=progress, leave=False):
        x0 = to_unit(images[i:i + batch_size], device)
        x = x0.clone()
        for _ in range(steps):
            x.requires_grad_(True)
            loss = tensor_sum(F.softplus(fn(x)).sum() for fn in fns)
            (grad,) = torch.autograd.grad(loss, x)
            with torch.no_grad():
                x = torch.minimum(torch.maximum(x - alpha * grad.sign(), x0 - e), x0 + e).clamp(0, 1)
        adv = (x.detach() * 255).round().permute(0, 2, 3, 1).cpu().numpy()
        base = images[i:i + batch_size].astype(np.int16)
        out[i:i + batch_size] = np.clip(adv, base - eps, base + eps).clip(0, 255).astype(np.uint8)
    return out
