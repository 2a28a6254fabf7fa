"""Evaluating detectors the way docs/CONTRACTS.md's results expect: frame- and video-level
metrics with bootstrap CIs (``detection.csv``), ROC/PR curves (``roc/*.csv``, ``pr/*.csv``
and PNGs), the robustness sweep (``robustness.csv``) and the cross-setting AUC matrix.

Inputs are crops aligned with a frame table (see :mod:`talkbench.detector.data`): row ``i``
of the table describes ``images[i]``; tables keep a 0..N−1 index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from talkbench.contracts import DETECTION_COLUMNS, DETECTION_KEY, ROBUSTNESS_COLUMNS, ROBUSTNESS_KEY, SETTING_PATTERN
from talkbench.detector.base import Detector
from talkbench.detector.data import select
from talkbench.detector.metrics import auc as auc_score
from talkbench.detector.metrics import binary_metrics, grouped_bootstrap_auc, pr_curve, roc_curve
from talkbench.detector.perturb import ROBUSTNESS_CONDITIONS, Condition
from talkbench.detector.plots import plot_curves, plot_heatmap, plot_robustness
from talkbench.files import atomic_path
from talkbench.progress import progress_bar

VIDEO_KEYS = ["label", "setting", "kind", "video"]  # a video's real and fake frames are two units


def setting_order(name: str) -> tuple:
    """Sort key: FF_T1 < FF_T8 < FF_T32 < FT_T1 ...; other names alphabetically after."""
    m = SETTING_PATTERN.fullmatch(name)
    return (0, m.group(1), int(m.group(2))) if m else (1, name, 0)


def fake_settings(table: pd.DataFrame) -> list[str]:
    return sorted(table.loc[table.label == 1, "setting"].unique(), key=setting_order)


def score(det: Detector, images: np.ndarray, table: pd.DataFrame, batch_size: int = 64) -> pd.DataFrame:
    """The table's rows with a ``prob`` column (P(fake)) from ``det``."""
    return table.assign(prob=det.predict_proba(images[table.index.to_numpy()], batch_size))


def video_scores(scored: pd.DataFrame) -> pd.DataFrame:
    """Mean fake probability per video (and class, setting, kind): the video-level units."""
    return scored.groupby(VIDEO_KEYS, as_index=False).prob.mean()


def level_metrics(scored: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> list[tuple[str, dict]]:
    """(level, metrics) at frame and at video level. Both AUC intervals resample whole videos:
    frames of one video are not independent, so resampling them one by one gave intervals far
    too narrow (with 2 test people, non-overlapping ones between settings)."""
    y, p = scored.label.to_numpy(), scored.prob.to_numpy()
    frame = binary_metrics(y, p, n_boot=0)
    videos = scored[VIDEO_KEYS].astype(str).agg("/".join, axis=1).to_numpy()
    frame["auc_ci_low"], frame["auc_ci_high"] = grouped_bootstrap_auc(y, p, videos, n_boot, seed)
    per_video = video_scores(scored)
    return [("frame", frame),
            ("video", binary_metrics(per_video.label.to_numpy(), per_video.prob.to_numpy(), n_boot, seed))]


def detection_rows(scored: pd.DataFrame, detector: str, train_setting: str, test_setting: str,
                   pretrained: bool, n_boot: int = 1000, seed: int = 0) -> list[dict]:
    """detection.csv rows (frame and video level) for one scored test set."""
    return [{"detector": detector, "train_setting": train_setting, "test_setting": test_setting,
             "level": level, **m, "pretrained": bool(pretrained)} for level, m in level_metrics(scored, n_boot, seed)]


def write_curves(scored: pd.DataFrame, detector: str, train_setting: str, test_setting: str, results: Path) -> None:
    """roc/<d>__<train>__<test>.csv (fpr, tpr, threshold), pr/<...>.csv (recall, precision,
    threshold) and roc/<...>.png with both curves, at frame level."""
    y, p = scored.label.to_numpy(), scored.prob.to_numpy()
    stem = f"{detector}__{train_setting}__{test_setting}"
    roc, pr = roc_curve(y, p), pr_curve(y, p)
    _write_csv(pd.DataFrame({"fpr": roc.x, "tpr": roc.y, "threshold": roc.thresholds}), results / "roc" / f"{stem}.csv")
    _write_csv(pd.DataFrame({"recall": pr.x, "precision": pr.y, "threshold": pr.thresholds}), results / "pr" / f"{stem}.csv")
    m = binary_metrics(y, p, n_boot=0)
    plot_curves(roc, pr, f"{detector} trained on {train_setting}, tested on {test_setting} (frames)",
                results / "roc" / f"{stem}.png", m["auc"], m["ap"])


def robustness_sweep(det: Detector, images: np.ndarray, test: pd.DataFrame, train_setting: str,
                     conditions: Sequence[Condition] = ROBUSTNESS_CONDITIONS, batch_size: int = 64,
                     progress: bool = True) -> pd.DataFrame:
    """Frame-level AUC of ``det`` on the test crops under each degradation (both classes
    degraded alike)."""
    x, y = images[test.index.to_numpy()], test.label.to_numpy()
    rows = []
    for cond in progress_bar(conditions, desc=f"robustness {det.name}", enabled=progress):
        prob = det.predict_proba(cond.apply(x), batch_size)
        rows.append({"detector": det.name, "train_setting": train_setting, "perturbation": cond.perturbation,
                     "level": cond.level, "auc": auc_score(y, prob)})
    return pd.DataFrame(rows, columns=ROBUSTNESS_COLUMNS)


def evaluate_detector(det: Detector, images: np.ndarray, table: pd.DataFrame, train_setting: str,
                      results: Path | None = None, test_settings: Iterable[str] | None = None,
                      split: str | None = "test", n_boot: int = 1000, seed: int = 0,
                      batch_size: int = 64) -> pd.DataFrame:
    """detection.csv rows of ``det`` on every test setting (fakes of the setting vs the real
    frames of the split, class-balanced); with ``results``, also writes curves and merges the
    rows into ``results/detection.csv``."""
    rows = []
    for setting in test_settings or fake_settings(table):
        scored = score(det, images, select(table, split, setting, seed=seed), batch_size)
        rows += detection_rows(scored, det.name, train_setting, setting, det.pretrained, n_boot, seed)
        if results is not None:
            write_curves(scored, det.name, train_setting, setting, Path(results))
    out = pd.DataFrame(rows, columns=DETECTION_COLUMNS)
    if results is not None:
        merge_csv(out, Path(results) / "detection.csv", DETECTION_KEY)
    return out


def auc_matrix(detection: pd.DataFrame, detector: str, level: str = "frame") -> pd.DataFrame:
    """Train setting × test setting AUC table of one detector."""
    part = detection[(detection.detector == detector) & (detection.level == level)]
    m = part.pivot_table(index="train_setting", columns="test_setting", values="auc")
    return m.loc[sorted(m.index, key=setting_order), sorted(m.columns, key=setting_order)]


def write_cross_setting(detection: pd.DataFrame, results: Path) -> list[Path]:
    """cross_setting/<detector>__<level>.csv and .png heatmaps from detection rows."""
    return write_auc_matrices(detection, auc_matrix, Path(results) / "cross_setting", "setting")


def write_auc_matrices(rows: pd.DataFrame, matrix: Callable[[pd.DataFrame, str, str], pd.DataFrame], folder: Path,
                       axes: str) -> list[Path]:
    """<folder>/<detector>__<level>.csv and .png heatmaps of ``matrix(rows, detector, level)``
    for each detector at frame and video level; ``axes`` names what the rows and columns are
    (train × test "setting" or "dataset")."""
    out = []
    for det in rows.detector.unique():
        for level in ("frame", "video"):
            m = matrix(rows, det, level)
            if m.empty:
                continue
            stem = folder / f"{det}__{level}"
            _write_csv(m.reset_index(), stem.with_suffix(".csv"))
            out.append(plot_heatmap(m, f"{det}: AUC, train × test {axes} ({level} level)", stem.with_suffix(".png")))
    return out


def write_robustness(table: pd.DataFrame, results: Path) -> None:
    """Merge rows into results/robustness.csv and redraw results/robustness.png."""
    merged = merge_csv(table, Path(results) / "robustness.csv", ROBUSTNESS_KEY)
    plot_robustness(merged, Path(results) / "robustness.png")


def merge_csv(new: pd.DataFrame, path: Path, keys: list[str]) -> pd.DataFrame:
    """Write ``new`` into the CSV at ``path``, replacing rows with the same keys (atomic)."""
    if path.is_file():
        old = pd.read_csv(path, keep_default_na=False)
        if not old.empty:
            old_keys = old[keys].astype(str).agg("\x1f".join, axis=1)
            new_keys = set(new[keys].astype(str).agg("\x1f".join, axis=1))
            new = pd.concat([old[~old_keys.isin(new_keys)], new], ignore_index=True)
    _write_csv(new, path)
    return new


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)

