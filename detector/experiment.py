"""The detector stage of a benchmark run: for each training setting, train a detector on
fakes of that setting (vs real frames), test it on every setting, sweep the robustness
conditions on its own setting, and write the cross-setting AUC matrix. Resumable: a
setting whose detector finished training is not trained again."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from talkbench.detector.data import select
from talkbench.detector.domain import training_domain
from talkbench.detector.evaluate import (
    DETECTION_COLUMNS, evaluate_detector, fake_settings, robustness_sweep, write_cross_setting, write_robustness,
)
from talkbench.detector.registry import load_detector
from talkbench.detector.train import DetectorTrainConfig, detector_file, train_detector

ALL = "all"  # train setting name for "fakes of every setting"


def train_setting_detector(images: np.ndarray, table: pd.DataFrame, cfg: DetectorTrainConfig, setting: str,
                           out_dir: Path, progress: bool = True):
    """Train (or, when finished before, load) ``cfg.detector`` on one setting's train split,
    early-stopped on its val split. ``setting='all'`` uses every fake setting."""
    if (out_dir / "train.json").is_file() and (path := detector_file(out_dir)) is not None:
        return load_detector(path)
    which = None if setting == ALL else setting
    tr = select(table, "train", which, seed=cfg.seed)
    va = select(table, "val", which, seed=cfg.seed)
    path = train_detector(cfg, images[tr.index.to_numpy()], tr.label.to_numpy(), images[va.index.to_numpy()],
                          va.label.to_numpy(), out_dir, resume=True, progress=progress,
                          domain=training_domain(tr, cfg.crop_size))
    return load_detector(path)


def cross_setting(images: np.ndarray, table: pd.DataFrame, cfg: DetectorTrainConfig, models_dir: Path,
                  results: Path, train_settings: Sequence[str] | None = None, robustness: bool = True,
                  n_boot: int = 1000, progress: bool = True) -> pd.DataFrame:
    """Train per setting, evaluate on every setting; writes detection.csv, roc/, pr/,
    robustness.csv/.png and cross_setting/ heatmaps under ``results``. Returns the rows."""
    rows = []
    tests = fake_settings(table)
    for setting in train_settings or tests:
        det = train_setting_detector(images, table, cfg, setting, Path(models_dir) / f"{cfg.detector}__{setting}",
                                     progress)
        rows.append(evaluate_detector(det, images, table, setting, results, tests, n_boot=n_boot, seed=cfg.seed,
                                      batch_size=cfg.batch_size * 2))
        if robustness:
            own = select(table, "test", None if setting == ALL else setting, seed=cfg.seed)
            write_robustness(robustness_sweep(det, images, own, setting, batch_size=cfg.batch_size * 2,
                                              progress=progress), results)
    detection = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=DETECTION_COLUMNS)
    write_cross_setting(detection, results)
    return detection


