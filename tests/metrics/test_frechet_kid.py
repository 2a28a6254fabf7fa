"""Fréchet distance vs a float64 scipy sqrtm reference; KID vs a direct O(n²) loop."""

import numpy as np
import pytest
from scipy import linalg

from talkbench.metrics.frechet import frechet_distance, gaussian_stats
from talkbench.metrics.kid import kid, mmd2_unbiased


def scipy_frechet(mu1, s1, mu2, s2):
    covmean = linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def random_cov(rng, d, rank=None, jitter=0.0):
    a = rng.normal(size=(d, rank or d))
    return a @ a.T / (rank or d) + jitter * np.eye(d)


@pytest.mark.parametrize("d", [2, 16, 64])
def test_frechet_matches_scipy_full_rank(rng, d):
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = random_cov(rng, d), random_cov(rng, d)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(scipy_frechet(mu1, s1, mu2, s2), rel=1e-8, abs=1e-9)


@pytest.mark.parametrize("rank", [3, 10])
def test_frechet_matches_scipy_near_singular(rng, rank):
    d = 32
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = random_cov(rng, d, rank, jitter=1e-9), random_cov(rng, d, rank, jitter=1e-9)
    ours = frechet_distance(mu1, s1, mu2, s2)
    assert np.isfinite(ours) and ours > 0
    assert ours == pytest.approx(scipy_frechet(mu1, s1, mu2, s2), rel=1e-5)


def test_frechet_properties(rng):
    x = rng.normal(size=(200, 8))
    mu, s = gaussian_stats(x)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0, abs=1e-9)
    # Shifted means only: the distance is the squared shift.
    assert frechet_distance(mu, s, mu + 2, s) == pytest.approx(4 * 8, rel=1e-9)
    # Rank-deficient sample covariances (n < d), as for FID on small sets, stay finite and >= 0.
    a, b = rng.normal(size=(10, 64)), rng.normal(size=(10, 64)) + 0.5
    assert frechet_distance(*gaussian_stats(a), *gaussian_stats(b)) > 0
    with pytest.raises(ValueError):
        frechet_distance(mu, s, mu[:4], s[:4, :4])


def direct_mmd2(x, y):
    """Unbiased MMD² with k(a, b) = (a·b/d + 1)³ by explicit double loops."""
    d = x.shape[1]
    k = lambda a, b: (float(np.dot(a, b)) / d + 1) ** 3  # noqa: E731
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kid_matches_direct_implementation(rng):
    x, y = rng.normal(size=(20, 6)), rng.normal(size=(25, 6)) + 0.3
    assert mmd2_unbiased(x, y) == pytest.approx(direct_mmd2(x, y), rel=1e-10)
    # One subset holding every sample is the plain estimate, with zero spread.
    mean, std, size = kid(x, y[:20], n_subsets=3, subset_size=20)
    assert size == 20 and std == pytest.approx(0, abs=1e-12)
    assert mean == pytest.approx(direct_mmd2(x, y[:20]), rel=1e-10)


def test_kid_separates_and_is_unbiased(rng):
    same = [kid(rng.normal(size=(50, 4)), rng.normal(size=(50, 4)), n_subsets=5, subset_size=50)[0] for _ in range(40)]
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(len(same)) + 1e-3  # unbiased: centred on 0
    shifted, std, _ = kid(rng.normal(size=(100, 4)), rng.normal(size=(100, 4)) + 1, n_subsets=10, subset_size=50)
    assert shifted > 5 * std > 0 and shifted > 20 * np.std(same)


@pytest.mark.parametrize("n1,n2", [(5, 9), (30, 30), (40, 70)])
def test_sample_form_matches_covariance_form(rng, n1, n2):
    from talkbench.metrics.frechet import frechet_distance_features

    d = 48
    x, y = rng.normal(size=(n1, d)), rng.normal(size=(n2, d)) * 1.3 + 0.2
    ref = scipy_frechet(*gaussian_stats(x), *gaussian_stats(y))
    assert frechet_distance_features(x, y) == pytest.approx(ref, rel=1e-6)
