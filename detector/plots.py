"""Figures of detector results (matplotlib, headless): ROC + PR curves, robustness curves,
and the cross-setting AUC heatmap. Each is written atomically as PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from talkbench.detector.metrics import Curve  # noqa: E402
from talkbench.files import atomic_path  # noqa: E402
from talkbench.plotting import auc_heatmap, roc_frame, robustness_frame  # noqa: E402


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_curves(roc: Curve, pr: Curve, title: str, path: Path, auc: float, ap: float) -> Path:
    """ROC (left) and precision-recall (right) of one detector on one test set."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.6))
    a.plot(roc.x, roc.y, lw=1.5, label=f"AUC {auc:.3f}")
    roc_frame(a)
    a.set(xlim=(0, 1), ylim=(0, 1.01))
    b.step(np.r_[0, pr.x], np.r_[pr.y[0], pr.y], where="pre", lw=1.5, label=f"AP {ap:.3f}")
    b.set(xlabel="recall (fakes found)", ylabel="precision", title="precision-recall", xlim=(0, 1), ylim=(0, 1.01))
    for ax in (a, b):
        ax.legend(loc="lower right")
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def plot_robustness(table: pd.DataFrame, path: Path) -> Path:
    """AUC against perturbation strength: one panel per perturbation, one line per
    (detector, train setting)."""
    kinds = list(dict.fromkeys(table.perturbation))
    fig, axes = plt.subplots(1, len(kinds), figsize=(3.2 * len(kinds), 3), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        part = table[table.perturbation == kind]
        for (det, train), g in part.groupby(["detector", "train_setting"], sort=False):
            g = g.sort_values("level")
            ax.plot(g.level, g.auc, marker="o", label=f"{det} ({train})")
        robustness_frame(ax, kind)
        ax.set(ylim=(0.3, 1.02))
    axes[0][0].legend(fontsize=7, loc="lower left")
    return _save(fig, path)


def plot_heatmap(matrix: pd.DataFrame, title: str, path: Path) -> Path:
    """Train setting (rows) × test setting (columns) AUC matrix with the values written in."""
    fig, ax = plt.subplots(figsize=(1.1 * matrix.shape[1] + 2, 0.8 * matrix.shape[0] + 1.5))
    auc_heatmap(ax, matrix.to_numpy(dtype=float), [str(r) for r in matrix.index], [str(c) for c in matrix.columns],
                "test setting", "train setting")
    ax.set_title(title)
    return _save(fig, path)
