"""Plots of one run or several overlaid (matplotlib, Agg backend: no display needed).

Every function returns a :class:`Plot`: PNG bytes for the HTML page (inlined) and the same
plot drawn again at a paper's one- or two-column width with small fonts, as PDF (TrueType
fonts embedded) and SVG (text as paths, so it needs no font). Colour encodes the mode
(FF / FT), line style and marker the run."""

from __future__ import annotations

import dataclasses
import functools
import io
import math
import textwrap
from typing import TYPE_CHECKING, Any, Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from talkbench.plotting import auc_heatmap, roc_frame, robustness_frame  # noqa: E402
from talkbench.reports.document import Figure  # noqa: E402
from talkbench.reports.results import RunResults, split_setting  # noqa: E402
from talkbench.reports.tables import TABLE1_COLUMNS, column_direction, cross_setting, detectors, table1  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

MODE_COLORS = {"FF": "#1f77b4", "FT": "#d62728"}
RUN_STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D")]
DPI = 100
COLUMN_WIDTH_IN = {1: 3.5, 2: 7.16}  # one and two columns of a two-column paper (IEEE/ACM)
PAPER_RC: dict[RcKeyType, Any] = {"font.size": 7, "axes.titlesize": 7, "axes.labelsize": 7, "xtick.labelsize": 6, "ytick.labelsize": 6,
            "legend.fontsize": 6, "figure.titlesize": 8, "lines.markersize": 3, "pdf.fonttype": 42,
            "svg.fonttype": "path"}
METADATA = {"pdf": {"Creator": "talkbench report", "Subject": "plot of benchmark results on synthetic faces"},
            "svg": {"Creator": "talkbench report", "Description": "plot of benchmark results on synthetic faces"}}


@dataclasses.dataclass
class Plot:
    """A drawn plot: the PNG now; the paper-size PDF and SVG drawn on first use (they cost
    about three times the PNG, and only a report written to disk needs them)."""

    png: bytes  # screen size, for the HTML page
    columns: int  # 1 or 2: the paper width the vector versions are drawn for
    redraw: Callable[[], "plt.Figure | None"]  # the same plot again, for the vector versions

    @functools.cached_property
    def _vector(self) -> tuple[bytes, bytes]:
        with plt.rc_context(PAPER_RC):
            fig = self.redraw()
            if fig is None:
                raise RuntimeError("a plot drawn once drew nothing the second time")
            w, h = fig.get_size_inches()
            width = COLUMN_WIDTH_IN[self.columns]
            fig.set_size_inches(width, min(width * h / w * (1.15 if self.columns == 2 else 1.0), 9.0))
            fig.tight_layout()
            out = _save(fig, "pdf"), _save(fig, "svg")
            plt.close(fig)
        return out

    @property
    def pdf(self) -> bytes:  # fonts embedded (TrueType)
        return self._vector[0]

    @property
    def svg(self) -> bytes:  # text as paths: needs no font
        return self._vector[1]


def _save(fig, fmt: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=DPI, metadata=METADATA.get(fmt))
    return buf.getvalue()


def as_figures(name: str, plot: Plot | None, caption: str) -> list[Figure]:
    """A drawn plot as the report's figure (none when it could not be drawn)."""
    return [Figure(name, plot.png, caption, lambda: (plot.pdf, plot.svg))] if plot is not None else []


def vector_plot(draw: Callable[..., "plt.Figure | None"]) -> Callable[..., Plot | None]:
    """Draw for the screen (PNG); keep how to draw it again under paper fonts at one- or
    two-column width (PDF, SVG). The width follows the screen figure: wide grids take two."""
    @functools.wraps(draw)
    def plot(*args, **kwargs) -> Plot | None:
        fig = draw(*args, **kwargs)
        if fig is None:
            return None
        png, (w, _) = _save(fig, "png"), fig.get_size_inches()
        plt.close(fig)
        return Plot(png, 1 if w <= 5.0 else 2, functools.partial(draw, *args, **kwargs))
    return plot


def _grid(n: int, cols: int = 4, w: float = 3.4, h: float = 2.8):
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(w * cols, h * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _setting_style(setting: str, all_shots: list[int]) -> tuple[str | None, str]:
    """Colour by mode, line style by T (solid = most shots), for per-setting curves."""
    mode, t = split_setting(setting)
    order = sorted(set(all_shots), reverse=True)
    styles = ["-", "--", "-.", ":"]
    return MODE_COLORS.get(mode), styles[min(order.index(t), 3)] if t in order else ":"


def _shots_axis(ax, ts: list[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.minorticks_off()
    ax.set_xticks(ts)
    ax.set_xticklabels([str(t) for t in ts])
    ax.set_xlabel("shots T")
    ax.grid(alpha=0.3)


def _series(table, mode: str, col: str, ts: list[int]):
    """T, value, lower and upper error of one table column for one mode (ok cells only)."""
    out = []
    for t in ts:
        c = table.cell(f"{mode}, T={t}", col)
        if c.ok:
            lo = c.value - c.ci_low if c.ci_low is not None else 0.0
            hi = c.ci_high - c.value if c.ci_high is not None else 0.0
            out.append((t, c.value, max(lo, 0.0), max(hi, 0.0)))
    return np.array(out, dtype=float).reshape(-1, 4)


def _lines(ax, runs: list[RunResults], tables, col: str) -> bool:
    """Draw every run × mode of one column; False when nothing could be drawn."""
    drew = False
    for i, (run, table) in enumerate(zip(runs, tables)):
        style, marker = RUN_STYLES[i % len(RUN_STYLES)]
        ts = sorted({t for _, t in run.settings})
        for mode in sorted({m for m, _ in run.settings}):
            s = _series(table, mode, col, ts)
            if not len(s):
                continue
            label = mode if len(runs) == 1 else f"{mode} · {run.label}"
            ax.errorbar(s[:, 0], s[:, 1], yerr=s[:, 2:].T, color=MODE_COLORS.get(mode), linestyle=style,
                        marker=marker, capsize=3, label=label)
            drew = True
        if ts:
            _shots_axis(ax, ts)
    return drew


def _unavailable(ax, tables, col: str) -> None:
    reasons = {t.cells[k].reason for t in tables for k in t.cells if k[1] == col and t.cells[k].status == "unavailable"}
    msg = "\n".join(["unavailable:"] + [textwrap.fill(r, 34) for r in sorted(reasons)])[:300] if reasons \
        else "not measured"
    ax.text(0.5, 0.5, msg, ha="center", va="center", fontsize=0.7 * plt.rcParams["font.size"], color="#666",
            transform=ax.transAxes, clip_on=True)
    ax.set_xticks([])
    ax.set_yticks([])


@vector_plot
def realism_vs_shots(runs: list[RunResults], kind: str = "self") -> "plt.Figure | None":
    """One panel per Table-1 metric: value vs T for FF and FT, with 95 % CIs (None: no metric)."""
    tables = [table1(r, kind) for r in runs]
    cols = [c for c in TABLE1_COLUMNS if any(c in t.columns for t in tables)]  # cross: no paired ones
    if not cols:
        return None
    fig, axes = _grid(len(cols))
    for ax, col in zip(axes, cols):
        higher = next((h for t in tables if (h := column_direction(t.cells, col)) is not None), None)
        ax.set_title(col if higher is None else f"{col} {'↑' if higher else '↓'}")
        if _lines(ax, runs, tables, col):
            ax.legend(fontsize=7)
        else:
            _unavailable(ax, tables, col)
    fig.suptitle(f"Realism vs shots ({kind}-reenactment)")
    fig.tight_layout()
    return fig


@vector_plot
def auc_vs_shots(runs: list[RunResults]) -> "plt.Figure | None":
    """Detector AUC (trained and tested per setting) vs T, one panel per detector."""
    dets = sorted({d for r in runs for d in detectors(r)})
    if not dets:
        return None
    tables = [table1(r, "self") for r in runs]
    fig, axes = _grid(len(dets), cols=3, w=4.2, h=3.2)
    for ax, det in zip(axes, dets):
        _lines(ax, runs, tables, f"AUC {det}")
        ax.axhline(0.5, color="#999", lw=0.8, ls=":")
        ax.set_ylim(0.4, 1.02)
        ax.set_ylabel("AUC")
        ax.set_title(f"{det}: detectability vs shots")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


@vector_plot
def roc_curves(run: RunResults) -> "plt.Figure | None":
    """ROC curves of each detector on its own setting (trained and tested there)."""
    dets = sorted({d for d, tr, te in run.roc if tr == te})
    if not dets:
        return None
    fig, axes = _grid(len(dets), cols=3, w=4.0, h=3.6)
    for ax, det in zip(axes, dets):
        for (d, tr, te), df in sorted(run.roc.items(), key=lambda kv: split_setting(kv[0][2])):
            if d != det or tr != te:
                continue
            color, ls = _setting_style(te, [t for _, t in run.settings])
            ax.plot(df["fpr"], df["tpr"], color=color, ls=ls, label=te)
        roc_frame(ax, f"ROC — {det}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


@vector_plot
def cross_heatmap(run: RunResults, detector: str) -> "plt.Figure | None":
    """AUC matrix: trained on (rows) × tested on (columns), annotated."""
    table = cross_setting(run, detector)
    if not table.cells:
        return None
    m = np.array([[table.cell(r, c).value if table.cell(r, c).ok else np.nan for c in table.columns]
                  for r in table.rows], dtype=float)
    n = len(table.rows)
    fig, ax = plt.subplots(figsize=(1.0 * n + 2.4, 0.8 * n + 1.6))
    auc_heatmap(ax, m, table.rows, table.columns, "tested on", "trained on")
    ax.set_title(f"Cross-setting AUC — {detector}")
    fig.tight_layout()
    return fig


@vector_plot
def robustness_curves(run: RunResults, detector: str) -> "plt.Figure | None":
    """AUC vs perturbation strength, one panel per perturbation family, a line per training setting."""
    d = run.robustness[run.robustness["detector"].astype(str) == detector]
    if not len(d):
        return None
    fams = sorted(d["perturbation"].astype(str).unique())
    fig, axes = _grid(len(fams), cols=4, w=3.4, h=2.8)
    for ax, fam in zip(axes, fams):
        f = d[d["perturbation"].astype(str) == fam]
        for setting in sorted(f["train_setting"].astype(str).unique(), key=split_setting):
            g = f[f["train_setting"].astype(str) == setting].sort_values("level")
            color, ls = _setting_style(setting, [t for _, t in run.settings])
            ax.plot(g["level"].astype(float), g["auc"].astype(float), marker="o", ms=3, color=color, ls=ls,
                    label=setting)
        robustness_frame(ax, fam)
        ax.legend(fontsize=6)
    fig.suptitle(f"Robustness — {detector}")
    fig.tight_layout()
    return fig
