"""Binary real-vs-fake classification metrics in numpy: ROC, AUC, AP, EER, TPR at a fixed FPR,
accuracy, with stratified bootstrap confidence intervals.

Labels: 1 = fake (the positive class), 0 = real. Scores: higher = more likely fake.
Own implementation (checked against scikit-learn in the tests) because the bootstrap needs
AUC for a thousand resamples at once, which a rank formula does in one vectorised call.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.stats import rankdata

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
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]  # last index of each distinct score
    tps = np.cumsum(y)[last]
    fps = (last + 1) - tps
    fpr = np.r_[0.0, fps / fps[-1]]
    tpr = np.r_[0.0, tps / tps[-1]]
    return Curve(fpr, tpr, np.r_[np.inf, s[last]])


def pr_curve(labels: np.ndarray, scores: np.ndarray) -> Curve:
    """Precision-recall points by decreasing threshold (recall increasing)."""
    y, s = _check(labels, scores)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]
    tps = np.cumsum(y)[last]
    precision = tps / (last + 1)
    recall = tps / tps[-1]
    return Curve(recall, precision, s[last])


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half)."""
    c = roc_curve(labels, scores)
    return float(np.trapezoid(c.y, c.x))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """AP = Σ (R_n − R_{n−1}) P_n over thresholds (no interpolation), as scikit-learn."""
    c = pr_curve(labels, scores)
    return float(np.sum(np.diff(np.r_[0.0, c.x]) * c.y))


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
    with replacement at its own size), computed for all resamples at once from ranks."""
    y, s = _check(labels, scores)
    if n_boot <= 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    pos, neg = s[y == 1], s[y == 0]
    bp = pos[rng.integers(0, pos.size, (n_boot, pos.size))]
    bn = neg[rng.integers(0, neg.size, (n_boot, neg.size))]
    ranks = rankdata(np.concatenate([bp, bn], axis=1), axis=1)  # average ranks handle ties
    r1 = ranks[:, :pos.size].sum(axis=1)
    aucs = (r1 - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size)
    lo, hi = np.quantile(aucs, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


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
    weights = np.empty((n_boot, y.size))
    for c in (0, 1):
        ids, inverse = np.unique(g[y == c], return_inverse=True)
        counts = rng.multinomial(len(ids), np.full(len(ids), 1 / len(ids)), size=n_boot)  # resampled groups
        weights[:, y == c] = counts[:, inverse]
    order = np.argsort(s, kind="mergesort")
    s_sorted, y_sorted, w = s[order], y[order], weights[:, order]
    starts = np.r_[0, np.flatnonzero(np.diff(s_sorted)) + 1]  # blocks of tied scores, ascending
    pos = np.add.reduceat(w * (y_sorted == 1), starts, axis=1)
    neg = np.add.reduceat(w * (y_sorted == 0), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg  # negative weight strictly below each block
    aucs = (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))
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


def bootstrap_auc_by_group(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, n_boot: int = 1000,
                           seed: int = 0, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile CI of the frame-level AUC resampling whole groups (videos), stratified by
    class: frames of one video are not independent, so resampling frames understates the
    uncertainty."""
    y, s = _check(labels, scores)
    groups = np.asarray(groups)
    if n_boot <= 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    members = {c: [np.flatnonzero((y == c) & (groups == g)) for g in np.unique(groups[y == c])] for c in (0, 1)}
    aucs = np.empty(n_boot)
    for b in range(n_boot):
        idx = np.concatenate([members[c][k] for c in (0, 1) for k in rng.integers(0, len(members[c]), len(members[c]))])
        aucs[b] = auc(y[idx], s[idx])
    lo, hi = np.quantile(aucs, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)
