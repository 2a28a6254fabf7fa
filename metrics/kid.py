"""Kernel Inception Distance: the unbiased MMD² estimate with the cubic polynomial kernel
k(x, y) = (x·y / d + 1)³, averaged over random subsets (Bińkowski et al. 2018).

Unlike FID it is unbiased in the number of samples, so it suits small few-shot test sets.
Reported as mean ± std over subsets.
"""

from __future__ import annotations

import numpy as np


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> np.ndarray:
    return (x @ y.T / x.shape[1] + coef0) ** degree


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² between samples x (m×d) and y (n×d) under the cubic kernel."""
    m, n = len(x), len(y)
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
                 + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


def kid(real: np.ndarray, fake: np.ndarray, n_subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float, int]:
    """(mean, std, subset size used) of MMD² over ``n_subsets`` random subsets drawn without
    replacement within a subset; the size is capped by the smaller set."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    size = min(subset_size, len(real), len(fake))
    if size < 2:
        raise ValueError(f"KID needs at least 2 samples per set (got {len(real)} real, {len(fake)} fake)")
    rng = np.random.default_rng(seed)
    values = np.array([mmd2_unbiased(real[rng.choice(len(real), size, replace=False)],
                                     fake[rng.choice(len(fake), size, replace=False)])
                       for _ in range(n_subsets)])
    return float(values.mean()), float(values.std()), size
