"""Detection metrics against scikit-learn and against values worked out by hand."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve as sk_roc_curve

from talkbench.detector import metrics as M
from talkbench.errors import TalkbenchError


@pytest.mark.parametrize("seed", range(4))
def test_auc_ap_roc_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.normal(size=300) + 0.8 * y, 1)  # rounding makes ties
    assert M.auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert M.average_precision(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    fpr, tpr, thr = sk_roc_curve(y, s, drop_intermediate=False)
    c = M.roc_curve(y, s)
    np.testing.assert_allclose(c.x, fpr)
    np.testing.assert_allclose(c.y, tpr)
    np.testing.assert_allclose(c.thresholds[1:], thr[1:])


@pytest.mark.parametrize("labels,scores,expected", [
    ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 0.0),          # separable
    ([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1], 1.0),          # inverted
    ([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], 0.5),          # FPR = FNR = 1/2 at threshold 0.6
    # (fpr, fnr): (0, .5) → (.25, .5) → (.25, 0): crosses on the vertical step at .25
    ([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.6, 0.8], 0.25),
    # a tie of a real and a fake at 0.5: the segment (0, .5) → (.5, 0) crosses at .25
    ([0, 1, 0, 1], [0.2, 0.5, 0.5, 0.9], 0.25),
    ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 0.5),          # constant scores
])
def test_eer_exact_on_hand_made_scores(labels, scores, expected):
    assert M.eer(labels, scores) == pytest.approx(expected, abs=1e-12)


def test_tpr_at_fpr_and_accuracy():
    y = np.array([0] * 100 + [1] * 10)
    s = np.r_[np.linspace(0, 0.5, 100), np.linspace(0.3, 1.0, 10)]
    # one real at 0.5 is the highest real; fakes above 0.5: those > 0.5 → TPR at FPR 0
    assert M.tpr_at_fpr(y, s, 0.0) == pytest.approx((s[100:] > 0.5).mean())
    acc, bacc = M.accuracy(y, s)
    pred = s >= 0.5
    assert acc == pytest.approx((pred == y.astype(bool)).mean())
    assert bacc == pytest.approx((pred[y == 1].mean() + (~pred[y == 0]).mean()) / 2)


def test_bootstrap_ci_brackets_auc_and_narrows_with_more_data():
    rng = np.random.default_rng(0)
    widths = []
    for n in (50, 800):
        y = np.r_[np.zeros(n), np.ones(n)]
        s = rng.normal(size=2 * n) + y
        lo, hi = M.bootstrap_auc(y, s, n_boot=500)
        assert lo < M.auc(y, s) < hi
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 2


def test_binary_metrics_keys_and_bad_input():
    m = M.binary_metrics([0, 1, 0, 1], [0.2, 0.9, 0.4, 0.7], n_boot=50)
    assert m["auc"] == 1.0 and m["eer"] == 0.0 and m["n_real"] == 2 and m["n_fake"] == 2
    with pytest.raises(TalkbenchError):
        M.auc([1, 1], [0.2, 0.3])
    with pytest.raises(TalkbenchError):
        M.auc([0, 1], [0.2, np.nan])
    with pytest.raises(TalkbenchError):
        M.auc([0, 2], [0.2, 0.3])


def test_pr_curve_points_and_ap_from_them():
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    s = np.array([0.1, 0.9, 0.4, 0.4, 0.8, 0.2, 0.7, 0.4])  # a tie of two fakes and a real at 0.4
    c = M.pr_curve(y, s)
    np.testing.assert_allclose(c.thresholds, [0.9, 0.8, 0.7, 0.4, 0.2, 0.1])  # one point per distinct score
    np.testing.assert_allclose(c.x, [0.25, 0.5, 0.5, 1.0, 1.0, 1.0])  # recall, increasing
    np.testing.assert_allclose(c.y, [1.0, 1.0, 2 / 3, 4 / 6, 4 / 7, 4 / 8])
    assert M.average_precision(y, s) == pytest.approx(np.sum(np.diff(np.r_[0.0, c.x]) * c.y), abs=1e-12)


def test_bootstrap_with_one_fake_resamples_only_the_reals():
    y = np.array([0, 0, 0, 0, 1])
    s = np.array([0.1, 0.2, 0.6, 0.8, 0.5])
    lo, hi = M.bootstrap_auc(y, s, n_boot=2000, seed=1)
    # AUC = share of resampled reals below 0.5: a binomial(4, 1/2) / 4, so the 95 % range is [0, 1]
    assert (lo, hi) == (0.0, 1.0)
