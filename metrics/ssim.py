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


TILE = 64  # output columns per banded-matrix tile


def _band(g: torch.Tensor) -> torch.Tensor:
    """(TILE + 2R) × TILE matrix whose column j holds the window at rows j … j + 2R."""
    band = torch.zeros(TILE + 2 * RADIUS, TILE, dtype=g.dtype)
    for j in range(TILE):
        band[j:j + 2 * RADIUS + 1, j] = g
    return band


def _blur_last(x: torch.Tensor, band: torch.Tensor) -> torch.Tensor:
    """Valid-mode 1-D filter along the last axis as tiled banded matmuls: BLAS-fast on CPU,
    where depthwise convolutions with 1×11 kernels are slow; cost independent of width."""
    n_out = x.shape[-1] - 2 * RADIUS
    tiles = -(-n_out // TILE)
    x = F.pad(x, (0, tiles * TILE + 2 * RADIUS - x.shape[-1]))
    windows = x.unfold(-1, TILE + 2 * RADIUS, TILE).contiguous()  # (..., tiles, TILE + 2R); a strided view makes matmul crawl
    return (windows @ band).flatten(-2)[..., :n_out]


def _blur(x: torch.Tensor, band: torch.Tensor) -> torch.Tensor:
    """Separable valid-mode Gaussian filter over the last two axes."""
    return _blur_last(_blur_last(x, band).transpose(-1, -2), band).transpose(-1, -2)


CHUNK_BYTES = 8 << 20  # working set per step: cache-sized chunks beat one huge batch on CPU


def ssim_batch(fake: np.ndarray, real: np.ndarray, data_range: float = DATA_RANGE) -> np.ndarray:
    """Per-image SSIM of two N×H×W×C uint8 (or float in [0, data_range]) batches."""
    fake, real = np.asarray(fake), np.asarray(real)
    if fake.shape != real.shape:
        raise ValueError(f"shape mismatch {fake.shape} vs {real.shape}")
    if min(fake.shape[1:3]) < 2 * RADIUS + 1:
        raise ValueError(f"SSIM needs images of at least {2 * RADIUS + 1} px, got {fake.shape[1:3]}")
    chunk = max(1, CHUNK_BYTES // (5 * 4 * int(np.prod(fake.shape[1:]))))
    return np.concatenate([_ssim_chunk(fake[s:s + chunk], real[s:s + chunk], data_range)
                           for s in range(0, len(fake), chunk)])


@torch.inference_mode()
def _ssim_chunk(fake: np.ndarray, real: np.ndarray, data_range: float) -> np.ndarray:
    """Float32 on centred inputs (each image's mean removed first; SSIM's variances and
    covariance are shift-invariant and the means enter only through their difference and
    sum, which we restore) keeps the result within ~1e-6 of skimage's float64."""
    x = torch.from_numpy(np.asarray(fake, np.float32)).permute(0, 3, 1, 2)
    y = torch.from_numpy(np.asarray(real, np.float32)).permute(0, 3, 1, 2)
    shift = ((x.double().mean(dim=(2, 3), keepdim=True) + y.double().mean(dim=(2, 3), keepdim=True)) / 2).float()
    xc, yc = x - shift, y - shift
    blurred = _blur(torch.stack([xc, yc, xc * xc, yc * yc, xc * yc]), _band(gaussian_window(dtype=torch.float32)))
    mx, my, exx, eyy, exy = blurred.unbind(0)
    sxx, syy, sxy = exx - mx * mx, eyy - my * my, exy - mx * my
    mx, my = mx + shift, my + shift
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    smap = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return smap.double().mean(dim=(1, 2, 3)).numpy()


class SSIM(PerImageMetric):
    """Mean SSIM over pairs (data range 255, Gaussian 11×11, σ = 1.5)."""

    name = "SSIM"
    higher_is_better = True
    bounds = (-1.0, 1.0)

    def score(self, fake: np.ndarray, real: np.ndarray) -> np.ndarray:
        return ssim_batch(fake, real)
