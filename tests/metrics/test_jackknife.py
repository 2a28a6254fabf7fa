"""Jackknife intervals over people for set metrics (FID, IFD) and the paired T differences."""

from __future__ import annotations

import numpy as np
import pytest

from talkbench.metrics.base import mean_ci
from talkbench.metrics.fid import FID
from talkbench.metrics.frechet import frechet_distance_features
from talkbench.metrics.jackknife import jackknife_interval, leave_one_group_out, paired_difference


def test_jackknife_of_the_mean_is_the_student_t_interval():
    # for the mean, the jackknife standard error is exactly s/√n (Efron & Tibshirani, ch. 11)
    values = np.random.default_rng(0).normal(3.0, 2.0, 9)
    loo = np.array([np.delete(values, i).mean() for i in range(len(values))])
    mean, lo, hi = mean_ci(values)
    assert jackknife_interval(mean, loo) == pytest.approx((lo, hi), rel=1e-12)
    assert jackknife_interval(mean, loo[:2]) == (mean, mean)  # too few groups: no spread
    assert jackknife_interval(-1.0, loo - 4, bounds=(0, np.inf))[0] == 0.0


def test_leave_one_group_out_drops_the_group_from_both_sets():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(12, 3)), rng.normal(size=(9, 3))
    rg, fg = np.repeat(["a", "b", "c", "d"], 3), np.repeat(["a", "b", "c"], 3)
    loo = leave_one_group_out(lambda r, f: len(r) * 100 + len(f), real, fake, rg, fg)
    assert loo == {"a": 906, "b": 906, "c": 906, "d": 909}
    with pytest.raises(ValueError, match="one group label per row"):
        leave_one_group_out(lambda r, f: 0.0, real, fake, rg[:5], fg)
    assert leave_one_group_out(lambda r, f: 0.0, real[:6], fake[:6], rg[:6], fg[:6]) == {}  # 2 groups


def test_paired_difference_cancels_what_both_settings_share():
    a = {"p1": 10.0, "p2": 14.0, "p3": 9.0, "p4": 12.0}
    shifted = {k: v - 2.0 for k, v in a.items()}
    assert paired_difference(11.0, a, 9.0, shifted) == (-2.0, -2.0, -2.0, 4)
    noisy = {"p1": 8.5, "p2": 12.5, "p3": 7.0, "p4": 10.0}
    diff, lo, hi, n = paired_difference(11.0, a, 9.0, noisy)
    assert n == 4 and lo < diff < hi and hi - lo < jackknife_interval(9.0, noisy)[1] - jackknife_interval(9.0, noisy)[0]


class _GivenFeatures:
    """An extractor stand-in: the tests hand FID its features (no Inception weights needed)."""

    weights_source, weights_id = "given features", "00000000"


def _fid_with_people(common_n=None, groups=True):
    rng = np.random.default_rng(2)
    people = np.repeat([f"p{i}" for i in range(6)], 8)
    offsets = {p: rng.normal(0, 1, 16) for p in set(people)}
    real = np.stack([offsets[p] + rng.normal(0, 1, 16) for p in people])
    fake = np.stack([offsets[p] + 0.5 + rng.normal(0, 1, 16) for p in people])
    metric = FID(extractor=_GivenFeatures(), common_n=common_n)  # type: ignore[arg-type]
    metric.update_features(real, real=True, groups=people if groups else None)
    metric.update_features(fake, real=False, groups=people)
    return metric.compute(), real, fake, people


def test_fid_gets_a_jackknife_interval_over_people_and_keeps_the_left_out_values():
    result, real, fake, people = _fid_with_people()
    assert result.value == pytest.approx(frechet_distance_features(real, fake))
    assert result.ci_low < result.value < result.ci_high and result.ci_low >= 0
    keep = people != "p3"
    assert result.loo["p3"] == pytest.approx(frechet_distance_features(real[keep], fake[keep]))
    assert "jackknife over 6 people" in result.note and "loo" not in result.as_row()
    unlabelled, *_ = _fid_with_people(groups=False)  # one set without labels: no interval, no made-up one
    assert unlabelled.ci_low is None and unlabelled.loo is None
    cut, *_ = _fid_with_people(common_n=30)  # labels follow the random subsets
    assert cut.n_real == 30 and cut.ci_low is not None and len(cut.loo) == 6


def test_group_labels_must_match_the_rows():
    metric = FID(extractor=_GivenFeatures())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="3 group labels for 4 feature rows"):
        metric.update_features(np.zeros((4, 2)), real=True, groups=["a", "b", "c"])
