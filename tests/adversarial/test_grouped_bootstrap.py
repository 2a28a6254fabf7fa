"""The bootstrap over videos: a resample of whole groups, exact against a direct loop."""

from __future__ import annotations

import numpy as np
import pytest

from talkbench.detector.metrics import auc, bootstrap_auc, grouped_bootstrap_auc


def _data(seed: int = 0, videos: int = 6, frames: int = 10):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], videos * frames)
    groups = np.repeat(np.arange(2 * videos), frames)
    offset = rng.normal(0, 1.0, 2 * videos)[groups]  # frames of a video share its offset
    return y, 0.8 * y + offset + rng.normal(0, 0.1, y.size), groups


def _loop(y, s, g, n_boot, seed):
    """The definition: draw groups per class as the vectorised version does, concatenate, AUC."""
    rng = np.random.default_rng(seed)
    out = []
    draws = {}
    for c in (0, 1):
        ids = np.unique(g[y == c].astype(str))
        draws[c] = (ids, rng.multinomial(len(ids), np.full(len(ids), 1 / len(ids)), size=n_boot))
    for b in range(n_boot):
        idx = np.concatenate([np.repeat(np.flatnonzero((y == c) & (g.astype(str) == u)), k)
                              for c in (0, 1) for u, k in zip(draws[c][0], draws[c][1][b])])
        out.append(auc(y[idx], s[idx]))
    return np.quantile(out, [0.025, 0.975])


def test_matches_a_direct_loop_and_is_wider_than_the_frame_bootstrap():
    y, s, g = _data()
    s = np.round(s, 1)  # ties too
    lo, hi = grouped_bootstrap_auc(y, s, g, n_boot=200, seed=3)
    assert (lo, hi) == pytest.approx(tuple(_loop(y, s, g, 200, 3)), abs=1e-12)
    flo, fhi = bootstrap_auc(y, s, 200, seed=3)
    assert hi - lo > 1.5 * (fhi - flo)  # correlated frames: the video-level interval is wider
    assert lo <= auc(y, s) <= hi


def test_resamples_in_chunks_give_the_same_interval(monkeypatch):
    """A large test set is bootstrapped a few resamples at a time, to bound memory; the
    chunking must not change the draws or the interval."""
    from talkbench.detector import metrics

    y, s, g = _data(seed=1)
    whole = grouped_bootstrap_auc(y, s, g, n_boot=101, seed=5)
    monkeypatch.setattr(metrics, "_BOOT_ELEMENTS", 7 * y.size)  # 7 resamples per chunk, 101 = 14 × 7 + 3
    assert grouped_bootstrap_auc(y, s, g, n_boot=101, seed=5) == whole
    assert whole == pytest.approx(tuple(_loop(y, s, g, 101, 5)), abs=1e-12)
