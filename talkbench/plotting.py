"""Drawing shared by the detector's figures (``talkbench.detector.plots``, written beside the
results) and the report's plots (``talkbench.reports.plots``): the cross-setting AUC heatmap,
the ROC frame and a robustness panel. They draw on a matplotlib axes and save nothing: each
caller owns its figure, size and output, and reports stay readers of results."""

from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

CHANCE_COLOR = "#999"  # the dotted line a coin toss draws
PERTURBATION_AXIS = {"jpeg": "JPEG quality", "blur": "blur σ (px)", "downscale": "scale factor",
                     "noise": "noise σ (/255)"}


def auc_heatmap(ax: Axes, values: np.ndarray, rows: Sequence[str], columns: Sequence[str],
                xlabel: str, ylabel: str) -> None:
    """AUC matrix (rows × columns, NaN: not measured) on a 0.5–1 colour scale, every value
    written in its cell, with a colour bar."""
    values = np.asarray(values, dtype=float)
    im = ax.imshow(values, vmin=0.5, vmax=1.0, cmap="viridis")
    ax.set_xticks(range(len(columns)), list(columns), rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), list(rows))
    ax.set(xlabel=xlabel, ylabel=ylabel)
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if v < 0.8 else "black")
    ax.figure.colorbar(im, ax=ax, label="AUC")


def roc_frame(ax: Axes, title: str = "ROC") -> None:
    """Axes labels, title and the chance diagonal of a ROC plot."""
    ax.plot([0, 1], [0, 1], color=CHANCE_COLOR, lw=0.8, ls=":")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title)


def robustness_frame(ax: Axes, perturbation: str) -> None:
    """One perturbation's AUC-vs-strength panel: its strength axis (JPEG quality falls to the
    right: lower quality is the stronger perturbation), chance level and grid."""
    ax.axhline(0.5, color=CHANCE_COLOR, lw=0.8, ls=":")
    ax.set(title=perturbation, xlabel=PERTURBATION_AXIS.get(perturbation, "strength"), ylabel="AUC")
    if perturbation == "jpeg":
        ax.invert_xaxis()
    ax.grid(alpha=0.3)
