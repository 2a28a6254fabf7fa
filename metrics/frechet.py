"""The Fréchet distance between two Gaussians, in float64, without ``scipy.linalg.sqrtm``.

d² = |μ1 − μ2|² + tr Σ1 + tr Σ2 − 2 tr (Σ1 Σ2)^{1/2}. The trace term equals the sum of
square roots of the eigenvalues of Σ1^{1/2} Σ2 Σ1^{1/2}, a symmetric PSD matrix: two
``eigh`` calls, no complex parts, no ``disp=`` argument (removed in newer scipy), and it
stays accurate when the covariances are rank-deficient (fewer samples than dimensions).

FID is biased upwards at small n, roughly linearly in 1/n (Chong & Forsyth, "Effectively
Unbiased FID and Inception Score and where to find them", CVPR 2020): ``frechet_infinity``
fits FID at several subset sizes against 1/n and extrapolates to 1/n → 0 (FID∞).
"""

from __future__ import annotations

import numpy as np


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance (as pytorch-fid: ``np.cov(rowvar=False)``) in float64."""
    x = np.asarray(features, np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need at least 2 feature vectors (n×d), got shape {x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((sigma + sigma.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, sigma {s1.shape} vs {s2.shape}")
    root1 = _psd_sqrt(s1)
    inner = root1 @ s2 @ root1
    eig = np.linalg.eigvalsh((inner + inner.T) / 2)
    tr_covmean = np.sqrt(np.clip(eig, 0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def frechet_distance_features(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance between the Gaussians fitted to two feature sets (n×d each).

    With at most d samples per set (the usual few-shot case: d = 2048) it works on the
    centred samples instead of the d×d covariances: with Σ1 = AᵀA and Σ2 = BᵀB (A, B the
    centred samples / √(n − 1)), tr (Σ1Σ2)^{1/2} is the nuclear norm of A Bᵀ, an n1×n2
    matrix — exact, and far cheaper than two d×d eigendecompositions."""
    x, y = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if max(len(x), len(y)) > x.shape[1]:
        return frechet_distance(*gaussian_stats(x), *gaussian_stats(y))
    if min(len(x), len(y)) < 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"need at least 2 feature vectors of equal dimension, got {x.shape} and {y.shape}")
    a = (x - x.mean(axis=0)) / np.sqrt(len(x) - 1)
    b = (y - y.mean(axis=0)) / np.sqrt(len(y) - 1)
    diff = x.mean(axis=0) - y.mean(axis=0)
    nuclear = np.linalg.svd(a @ b.T, compute_uv=False).sum()
    return float(diff @ diff + (a * a).sum() + (b * b).sum() - 2 * nuclear)


MIN_INFINITY_SAMPLES = 8  # subset sizes 4 … 8 at least: 5 points for the line (a rough fit; its SE says how rough)


def frechet_infinity(real: np.ndarray, fake: np.ndarray, n_sizes: int = 8, draws: int = 5,
                     seed: int = 0) -> tuple[float, float, list[int]]:
    """FID∞ of two feature sets: (extrapolated value, standard error of the intercept, sizes).

    Chong & Forsyth evaluate FID at 15 sizes from 5k to 50k; with few-shot test sets we use
    ``n_sizes`` sizes evenly spaced from a quarter of the smaller set (at least 4) to all of
    it, both sets subsampled to each size without replacement, ``draws`` draws per size
    averaged, then a least-squares line FID(n) = FID∞ + k/n."""
    x, y = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    n = min(len(x), len(y))
    if n < MIN_INFINITY_SAMPLES:
        raise ValueError(f"FID∞ needs at least {MIN_INFINITY_SAMPLES} samples per set (got {len(x)} and {len(y)})")
    sizes = sorted({int(round(s)) for s in np.linspace(max(4, n // 4), n, n_sizes)})
    rng = np.random.default_rng(seed)
    means = [np.mean([frechet_distance_features(x[rng.choice(len(x), m, replace=False)],
                                                y[rng.choice(len(y), m, replace=False)]) for _ in range(draws)])
             for m in sizes]
    coef, cov = np.polyfit(1.0 / np.array(sizes, np.float64), means, 1, cov=True)
    return float(coef[1]), float(np.sqrt(max(cov[1, 1], 0.0))), sizes
