"""FID/KID of the attacks: each real set embedded once, the numbers those of the metrics package."""

from __future__ import annotations

import numpy as np
import pytest

from talkbench.benchmarks.stages.adversarial import _Pooled
from talkbench.metrics.inception import InceptionFeatures, random_fid_state_dict


@pytest.mark.slow
def test_pooled_fid_kid_reuse_the_real_features():
    extractor = InceptionFeatures(random_fid_state_dict(seed=0), cache_dir=False, num_workers=0, batch_size=8)
    pooled = _Pooled(extractor)
    rng = np.random.default_rng(0)
    reals = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(6)]
    same = pooled(("k",), reals, np.stack(reals))
    noise = pooled(("k",), reals, np.full((6, 32, 32, 3), 128, np.uint8))
    assert [r.name for r in same] == ["FID", "KID"] and all(r.status == "ok" for r in same + noise)
    assert abs(same[0].value) < 1e-3 and noise[0].value > same[0].value + 1e-3
    assert list(pooled.real) == [("k",)]  # embedded once for both calls


def test_pooled_without_inception_weights_says_why(monkeypatch):
    from talkbench.errors import WeightsMissing
    import talkbench.metrics.fid as fid

    def missing(*a, **k):
        raise WeightsMissing("weights 'inception-fid' not found")

    monkeypatch.setattr(fid, "InceptionFeatures", missing)
    rows = _Pooled()(("k",), [np.zeros((8, 8, 3), np.uint8)] * 2, np.zeros((2, 8, 8, 3), np.uint8))
    assert [(r.name, r.status) for r in rows] == [("FID", "unavailable"), ("KID", "unavailable")]
    assert "inception-fid" in rows[0].reason
