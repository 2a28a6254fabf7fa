"""SSIM (Wang et al. 2004) batched in torch, matching ``skimage.metrics.structural_similarity``
with ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255``:
11×11 Gaussian window (σ = 1.5), K1 = 0.01, K2 = 0.03, data range 255 (uint8 input);
the SSIM map is averaged over the valid region (5 px border excluded, as skimage crops it)
and over the RGB channels. MS-SSIM is not implemented.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from talkbench.metrics.base import PerImageMetric

DATA_RANGE = 255.0
K1, K2, SIGMA, RADIUS = 0.01, 0.03, 1.5, 5


def gaussian_window(sigma: float = SIGMA, radius: int = RADIUS, dtype=torch.float64) -> torch.Tensor:
    x = torch.arange(-radius, radius + 1, dtype=dtype)
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    return g / g.sum()


def _blur(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable valid-mode Gaussian filter of (B, C, H, W)."""
    c = x.shape[1]
    x = F.conv2d(x, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


@torch.inference_mode()
def ssim_batch(fake: np.ndarray, real: np.ndarray,
               data_range: float = DATA_RANGE) -> np.ndarray:
    """Per-image SSIM of two N×H×W×C uint8 (or float in [0, data_range]) batches.

    Float32 on centred inputs (each image's mean removed first; SSIM's variances and
    covariance are shift-invariant and the means enter only through their difference and
    sum, which we restore) keeps the result within ~1e-6 of skimage's float64."""
    x = torch.from_numpy(np.asarray(fake, np.float64)).permute(0, 3, 1, 2)
    y = torch.from_numpy(np.asarray(real, np.float64)).permute(0, 3, 1, 2)
    if x.shape != y.shape:
        raise ValueError(f"shape mismatch {tuple(x.shape)} vs {tuple(y.shape)}")
    if min(x.shape[2:]) < 2 * RADIUS + 1:
        raise ValueError(f"SSIM needs images of at least {2 * RADIUS + 1} px, got {tuple(x.shape[2:])}")
    shift = ((x.mean(dim=(2, 3), keepdim=True) + y.mean(dim=(2, 3), keepdim=True)) / 2)
    xc, yc = (x - shift).float(), (y - shift).float()
    g = gaussian_window(dtype=torch.float32)
    mx, my = _blur(xc, g), _blur(yc, g)
    sxx = _blur(xc * xc, g) - mx * mx
    syy = _blur(yc * yc, g) - my * my
    sxy = _blur(xc * yc, g) - mx * my
    shift_v = shift.float()
    mx, my = mx + shift_v, my + shift_v
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    smap = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return smap.double().mean(dim=(1, 2, 3)).numpy()


class SSIM(PerImageMetric):
    """Mean SSIM over pairs (data range 255, Gaussian 11×11, σ = 1.5)."""

    name = "SSIM"
    higher_is_better = True

    def score(self, fake: np.ndarray, real: np.ndarray) -> np.ndarray:
        return ssim_batch(fake, real)
