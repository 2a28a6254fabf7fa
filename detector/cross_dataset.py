"""Cross-dataset evaluation: train a detector on dataset A (its train split, every fake
method; early-stopped on its val split), test it on the test split of every dataset B —
imported standard sets and talkbench's own generated runs in one matrix, as the field
reports generalisation ("train FF++ c23, test Celeb-DF v2"). Frame- and video-level AUC
(video = mean of its frame probabilities), AP, EER, accuracy; AUC CIs bootstrap whole
videos. Writes ``results/cross_dataset.csv`` and ``results/cross_dataset/<detector>__<level>.csv|png``.
Resumable: a finished detector is loaded, not retrained."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from talkbench.contracts import CROSS_DATASET_COLUMNS, CROSS_DATASET_KEY
from talkbench.detector.data import from_data, keep_or_split, load_crops, select
from talkbench.detector.evaluate import level_metrics, merge_csv, score, write_auc_matrices
from talkbench.detector.experiment import ALL, train_setting_detector
from talkbench.detector.train import DetectorTrainConfig
from talkbench.errors import TalkbenchError
from talkbench.progress import progress_bar

RESULTS_FILE = "cross_dataset.csv"


def parse_datasets(specs: Sequence[str]) -> dict[str, Path]:
    """``NAME=PATH`` (or a bare PATH, named by its folder) → {name: path}."""
    out: dict[str, Path] = {}
    for spec in specs:
        name, _, path = spec.rpartition("=") if "=" in spec else ("", "", spec)
        path_ = Path(path)
        name = name or (path_.parent.name if path_.name == "generated" else path_.name)
        if name in out:
            raise TalkbenchError(f"dataset name '{name}' given twice; name them NAME=PATH")
        out[name] = path_
    if len(out) < 1:
        raise TalkbenchError("give at least one dataset (NAME=PATH)")
    return out


def load_datasets(specs: dict[str, Path], crop_size: int, jpeg: int | None = None,
                  seed: int = 0, progress: bool = True) -> tuple[np.ndarray, pd.DataFrame]:
    """(crops, one frame table) of every dataset, each keeping its own split (or split by
    identity when it has none), ``dataset`` set to the given name."""
    tables = [keep_or_split(from_data(path), seed).assign(dataset=name) for name, path in specs.items()]
    table = pd.concat(tables, ignore_index=True)
    paths = list(table.path)
    chunks = [load_crops(paths[i:i + 256], crop_size, jpeg)
              for i in progress_bar(range(0, len(paths), 256), desc="load crops", unit="×256", enabled=progress)]
    return np.concatenate(chunks), table


def dataset_rows(scored: pd.DataFrame, detector: str, train: str, test: str, pretrained: bool,
                 n_boot: int = 1000, seed: int = 0) -> list[dict]:
    """cross_dataset.csv rows (frame and video level) of one scored test split; ``n_videos``
    is the video level's count of units."""
    levels = level_metrics(scored, n_boot, seed)
    n_videos = next(m["n_real"] + m["n_fake"] for level, m in levels if level == "video")
    return [{"detector": detector, "train_dataset": train, "test_dataset": test, "level": level, **m,
             "n_videos": n_videos, "pretrained": bool(pretrained)} for level, m in levels]


def cross_dataset(images: np.ndarray, table: pd.DataFrame, cfg: DetectorTrainConfig, detectors: Sequence[str],
                  models_dir: Path, results: Path, train_datasets: Sequence[str] | None = None,
                  n_boot: int = 1000, progress: bool = True) -> pd.DataFrame:
    """Every detector × train dataset × test dataset; rows merged into results/cross_dataset.csv."""
    names = list(dict.fromkeys(table.dataset))
    rows = []
    for det_name in detectors:
        dcfg = dataclasses.replace(cfg, detector=det_name)
        for a in train_datasets or names:
            if a not in names:
                raise TalkbenchError(f"no dataset named '{a}' (given: {', '.join(names)})")
            det = train_setting_detector(images, table[table.dataset == a], dcfg, ALL,
                                         Path(models_dir) / f"{det_name}__{a}", progress)
            for b in names:
                test = select(table[table.dataset == b], "test", None, seed=cfg.seed)
                scored = score(det, images, test, cfg.batch_size * 2)
                rows += dataset_rows(scored, det.name, a, b, det.pretrained, n_boot, cfg.seed)
    out = pd.DataFrame(rows, columns=CROSS_DATASET_COLUMNS)
    merged = merge_csv(out, Path(results) / RESULTS_FILE, CROSS_DATASET_KEY)
    write_matrices(merged, Path(results))
    return out


def dataset_matrix(rows: pd.DataFrame, detector: str, level: str = "video") -> pd.DataFrame:
    """Train dataset × test dataset AUC of one detector."""
    part = rows[(rows.detector == detector) & (rows.level == level)]
    return part.pivot_table(index="train_dataset", columns="test_dataset", values="auc")


def write_matrices(rows: pd.DataFrame, results: Path) -> list[Path]:
    """cross_dataset/<detector>__<level>.csv and .png heatmaps."""
    return write_auc_matrices(rows, dataset_matrix, Path(results) / "cross_dataset", "dataset")
