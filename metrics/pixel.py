"""Pixel metrics on uint8 RGB pairs: PSNR (data range 255, dB) and mean absolute error (L1,
in 0–255 units). An identical pair has infinite PSNR; we cap it at 100 dB so means and
confidence intervals stay finite (documented in docs/metrics.md)."""

from __future__ import annotations

import math

import numpy as np

from talkbench.metrics.base import PerImageMetric

PSNR_CAP_DB = 100.0


def _diff(fake: np.ndarray, real: np.ndarray) -> np.ndarray:
    return fake.astype(np.float32) - real.astype(np.float32)


def psnr_batch(fake: np.ndarray, real: np.ndarray, data_range: float = 255.0) -> np.ndarray:
    mse = (_diff(fake, real) ** 2).reshape(len(fake), -1).mean(axis=1, dtype=np.float64)
    with np.errstate(divide="ignore"):
        psnr = 10 * np.log10(data_range ** 2 / mse)
    return np.minimum(psnr, PSNR_CAP_DB)


def l1_batch(fake: np.ndarray, real: np.ndarray) -> np.ndarray:
    return np.abs(_diff(fake, real)).reshape(len(fake), -1).mean(axis=1, dtype=np.float64)


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
