"""Binary real-vs-fake classification metrics in numpy: ROC, AUC, AP, EER, TPR at a fixed FPR,
accuracy, with stratified bootstrap confidence intervals.

Labels: 1 = fake (the positive class), 0 = real. Scores: higher = more likely fake.
Curves, AUC and AP come from scikit-learn; EER interpolates between its ROC points. The
stratified bootstrap is scipy's, with the AUC of all resamples from ranks in one call; the
bootstrap over videos stays here (scipy resamples observations, not groups of them).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.stats import bootstrap, rankdata
from sklearn import metrics as skm

from talkbench.errors import TalkbenchError


def _check(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).astype(np.int64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise TalkbenchError(f"{y.size} labels but {s.size} scores")
    if not np.isin(y, (0, 1)).all():
        raise TalkbenchError("labels must be 0 (real) or 1 (fake)")
    if not np.isfinite(s).all():
        raise TalkbenchError("scores contain NaN or inf")
    if y.min(initial=1) == 1 or y.max(initial=0) == 0:
        raise TalkbenchError("need both real (0) and fake (1) samples to score a detector")
    return y, s


@dataclasses.dataclass
class Curve:
    """Points of a ROC (x=fpr, y=tpr) or PR (x=recall, y=precision) curve, by threshold."""

    x: np.ndarray
    y: np.ndarray
    thresholds: np.ndarray


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> Curve:
    """ROC with one point per distinct score (ties form one step), starting at (0, 0)
    with threshold +inf, like ``sklearn.metrics.roc_curve(drop_intermediate=False)``."""
    y, s = _check(labels, scores)
    fpr, tpr, thresholds = skm.roc_curve(y, s, drop_intermediate=False)
    return Curve(fpr, tpr, thresholds)


def pr_curve(labels: np.ndarray, scores: np.ndarray) -> Curve:
    """Precision-recall points by decreasing threshold (recall increasing), one per distinct
    score: scikit-learn's curve reversed, without its closing (recall 0, precision 1) point."""
    y, s = _check(labels, scores)
    precision, recall, thresholds = skm.precision_recall_curve(y, s, drop_intermediate=False)
    return Curve(recall[-2::-1], precision[-2::-1], thresholds[::-1])


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half)."""
    return float(skm.roc_auc_score(*_check(labels, scores)))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """AP = Σ (R_n − R_{n−1}) P_n over thresholds (no interpolation)."""
    return float(skm.average_precision_score(*_check(labels, scores)))


def eer(labels: np.ndarray, scores: np.ndarray) -> float:
    """Equal error rate: where the false-positive rate equals the false-negative rate,
    linearly interpolated between the two ROC points that bracket the crossing."""
    c = roc_curve(labels, scores)
    diff = (1.0 - c.y) - c.x  # fnr − fpr: starts at 1, ends at −1, non-increasing
    i = int(np.argmax(diff <= 0))
    if diff[i] == 0:
        return float(c.x[i])
    t = diff[i - 1] / (diff[i - 1] - diff[i])
    return float(c.x[i - 1] + t * (c.x[i] - c.x[i - 1]))


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, max_fpr: float = 0.01) -> float:
    """Highest TPR over thresholds whose FPR does not exceed ``max_fpr`` (no interpolation)."""
    c = roc_curve(labels, scores)
    return float(c.y[c.x <= max_fpr + 1e-12].max())


def accuracy(labels: np.ndarray, probs: np.ndarray, threshold: float = 0.5) -> tuple[float, float]:
    """(accuracy, balanced accuracy) of the decision ``prob >= threshold`` → fake."""
    y, p = _check(labels, probs)
    pred = p >= threshold
    tpr = pred[y == 1].mean()
    tnr = (~pred[y == 0]).mean()
    return float((pred == (y == 1)).mean()), float((tpr + tnr) / 2)


def bootstrap_auc(labels: np.ndarray, scores: np.ndarray, n_boot: int = 1000, seed: int = 0,
                  alpha: float = 0.05) -> tuple[float, float]:
    """Percentile (1−alpha) CI of the AUC from stratified resamples (each class resampled
    with replacement at its own size: scipy's bootstrap of two independent samples), the
    AUC of all resamples at once from ranks."""
    y, s = _check(labels, scores)
    if n_boot <= 0:
        return float("nan"), float("nan")
    # scipy wants two observations per sample: a class of one resamples to itself, and two
    # copies of it have the same AUC against any resample of the other class.
    pos, neg = (x if x.size > 1 else np.repeat(x, 2) for x in (s[y == 1], s[y == 0]))
    res = bootstrap((pos, neg), _rank_auc, n_resamples=n_boot, confidence_level=1 - alpha,
                    vectorized=True, paired=False, method="percentile", random_state=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _rank_auc(pos: np.ndarray, neg: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mann-Whitney AUC along ``axis`` (average ranks: ties count one half)."""
    n_pos, n_neg = pos.shape[axis], neg.shape[axis]
    r1 = np.take(rankdata(np.concatenate([pos, neg], axis=axis), axis=axis), range(n_pos), axis=axis).sum(axis=axis)
    return (r1 - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


_BOOT_ELEMENTS = 1 << 22  # frame weights per chunk of resamples (32 MB of float64)


def grouped_bootstrap_auc(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, n_boot: int = 1000,
                          seed: int = 0, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile (1−alpha) CI of the frame-level AUC from resampling whole groups (videos or
    people) with replacement, each class at its own number of groups: frames of one video are
    not independent, so resampling them one by one makes the interval too narrow. A resample
    is a count per group, i.e. a weight per frame; the weighted AUC of all resamples comes
    from one sort (ties count one half)."""
    y, s = _check(labels, scores)
    g = np.asarray(groups).astype(str).ravel()
    if g.shape != y.shape:
        raise TalkbenchError(f"{y.size} labels but {g.size} group ids")
    if n_boot <= 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    order = np.argsort(s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    counts, frame_group = [], []  # per class: resampled group counts (n_boot × groups), each frame's group
    for c in (0, 1):
        ids, inverse = np.unique(g[order][y_sorted == c], return_inverse=True)
        counts.append(rng.multinomial(len(ids), np.full(len(ids), 1 / len(ids)), size=n_boot))
        frame_group.append(inverse)
    starts = np.r_[0, np.flatnonzero(np.diff(s_sorted)) + 1]  # blocks of tied scores, ascending
    aucs = np.empty(n_boot)
    step = max(1, _BOOT_ELEMENTS // y.size)  # resamples at a time: memory stays bounded on large test sets
    for i in range(0, n_boot, step):
        w = np.zeros((min(step, n_boot - i), y.size))
        for c in (0, 1):
            w[:, y_sorted == c] = counts[c][i:i + step][:, frame_group[c]]
        pos = np.add.reduceat(w * (y_sorted == 1), starts, axis=1)
        neg = np.add.reduceat(w * (y_sorted == 0), starts, axis=1)
        below = np.cumsum(neg, axis=1) - neg  # negative weight strictly below each block
        aucs[i:i + step] = (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))
    lo, hi = np.quantile(aucs, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def binary_metrics(labels: np.ndarray, probs: np.ndarray, n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """Every detection.csv metric for one set of (label, fake probability) pairs."""
    y, p = _check(labels, probs)
    acc, bacc = accuracy(y, p)
    lo, hi = bootstrap_auc(y, p, n_boot, seed)
    return {"auc": auc(y, p), "auc_ci_low": lo, "auc_ci_high": hi, "ap": average_precision(y, p),
            "eer": eer(y, p), "acc": acc, "balanced_acc": bacc, "tpr_at_1fpr": tpr_at_fpr(y, p, 0.01),
            "n_real": int((y == 0).sum()), "n_fake": int((y == 1).sum())}

