"""Pixel metrics on uint8 RGB pairs: PSNR (data range 255, dB) and mean absolute error (L1,
in 0–255 units). An identical pair has infinite PSNR; we cap it at 100 dB so means and
confidence intervals stay finite (documented in docs/metrics.md)."""

from __future__ import annotations

import math

import numpy as np

from talkbench.metrics.base import BLOCK_VALUES, PerImageMetric

PSNR_CAP_DB = 100.0


def _mean_per_image(fake: np.ndarray, real: np.ndarray, power: int) -> np.ndarray:
    """Mean of |fake − real|**power per image, in row blocks of ≤ BLOCK_VALUES values so that
    the float copies stay small whatever the image size."""
    n, h = fake.shape[:2]
    rows = max(1, BLOCK_VALUES // max(1, fake[0, 0].size))
    out = np.zeros(n, np.float64)
    for i in range(n):
        for r in range(0, h, rows):
            d = fake[i, r:r + rows].astype(np.float32) - real[i, r:r + rows].astype(np.float32)
            out[i] += float(np.square(d, out=d).sum(dtype=np.float64) if power == 2
                            else np.abs(d, out=d).sum(dtype=np.float64))
    return out / fake[0].size


def psnr_batch(fake: np.ndarray, real: np.ndarray, data_range: float = 255.0) -> np.ndarray:
    mse = _mean_per_image(fake, real, 2)
    with np.errstate(divide="ignore"):
        psnr = 10 * np.log10(data_range ** 2 / mse)
    return np.minimum(psnr, PSNR_CAP_DB)


def l1_batch(fake: np.ndarray, real: np.ndarray) -> np.ndarray:
    return _mean_per_image(fake, real, 1)


class PSNR(PerImageMetric):
    name = "PSNR"
    higher_is_better = True
    bounds = (0.0, math.inf)

    def score(self, fake: np.ndarray, real: np.ndarray) -> np.ndarray:
        return psnr_batch(fake, real)


class L1(PerImageMetric):
    name = "L1"
    higher_is_better = False
    bounds = (0.0, 255.0)

    def score(self, fake: np.ndarray, real: np.ndarray) -> np.ndarray:
        return l1_batch(fake, real)
