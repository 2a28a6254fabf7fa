"""The differentiable form of each detector scores exactly what predict_proba scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkbench.detector.differentiable import EvasionLoss, to_unit
from talkbench.detector.registry import create_detector
from talkbench.errors import TalkbenchError


def _images(n: int, size: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def _smooth_vs_sharp(size: int = 64, seed: int = 0, n: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """n noisy textured images (label 0) and n made from others by 2× down-sampling and
    nearest-neighbour up-sampling (label 1: the high-frequency trace of up-convolutions)."""
    import cv2

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    base = [np.clip(128 + 60 * np.sin(xx / rng.uniform(4, 9) + rng.uniform(0, 6))[..., None]
                    + rng.normal(0, 6, (size, size, 3)), 0, 255).astype(np.uint8) for _ in range(2 * n)]
    fake = [cv2.resize(cv2.resize(b, (size // 2, size // 2), interpolation=cv2.INTER_AREA), (size, size),
                       interpolation=cv2.INTER_NEAREST) for b in base[:n]]
    return np.stack(base[n:] + fake), np.r_[np.zeros(n), np.ones(n)]


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


@pytest.mark.parametrize("size", [64, 48])
def test_timm_logits_match_predict_proba(size):
    det = create_detector("test_resnet_64")
    x = _images(6, size, 1)
    logits = det.logit_function()(to_unit(x))
    assert np.allclose(torch.sigmoid(logits).detach().numpy(), det.predict_proba(x), atol=1e-6)


@pytest.mark.parametrize("image_size", [64, 128])
def test_spectral_logits_match_predict_proba(image_size):
    x, y = _smooth_vs_sharp(image_size)
    det = create_detector("spectral_logreg", size=64).fit(x, y)
    xt = to_unit(x).requires_grad_(True)
    logits = det.logit_function()(xt)
    assert np.allclose(logits.detach().numpy(), _logit(np.clip(det.predict_proba(x), 1e-12, 1 - 1e-12)), atol=1e-3)
    logits.sum().backward()
    assert xt.grad is not None and float(xt.grad.abs().sum()) > 0  # the pixels get a gradient


def test_non_differentiable_and_bad_inputs_are_errors():
    x, y = _smooth_vs_sharp()
    with pytest.raises(TalkbenchError, match="not differentiable"):
        create_detector("spectral_svm").fit(x, y).logit_function()
    with pytest.raises(TalkbenchError, match="not trained"):
        create_detector("spectral_logreg").logit_function()
    with pytest.raises(TalkbenchError, match="uint8"):
        to_unit(x.astype(np.float32))
    with pytest.raises(TalkbenchError, match="≥ 0"):
        EvasionLoss([create_detector("test_resnet_64")], -1.0)


def test_evasion_loss_is_softplus_of_the_logit_and_leaves_detectors_frozen():
    det = create_detector("test_resnet_64")
    x = _images(4, 64, 2)
    fake = to_unit(x) * 2 - 1
    loss = EvasionLoss([det, det], 0.5)(fake.requires_grad_(True))
    p = det.predict_proba(x)
    assert float(loss.detach()) == pytest.approx(0.5 * 2 * float(np.mean(-np.log1p(-p))), rel=1e-5)
    loss.backward()
    assert fake.grad is not None and all(q.grad is None for q in det.model.parameters())
