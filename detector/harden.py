"""Adversarial training of a detector: the train split's real frames against its clean *and*
adversarial fakes (several settings at once), early-stopped on the val split's. The test
people are never in the training data (splits are identity-disjoint), so hardened
detectors are scored on attacks of people they never saw."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from talkbench.detector.base import Detector
from talkbench.detector.data import select
from talkbench.detector.registry import load_detector
from talkbench.detector.train import DetectorTrainConfig, detector_file, train_detector
from talkbench.errors import TalkbenchError


def train_hardened(cfg: DetectorTrainConfig, images: np.ndarray, table: pd.DataFrame, settings: Sequence[str],
                   out_dir: str | Path, progress: bool = True) -> Detector:
    """``cfg.detector`` trained on real vs fakes of every setting in ``settings`` (clean and
    adversarial), class-balanced; loaded instead when ``out_dir`` holds a finished one."""
    out_dir = Path(out_dir)
    if (out_dir / "train.json").is_file() and (path := detector_file(out_dir)) is not None:
        return load_detector(path)
    missing = sorted(set(settings) - set(table.setting))
    if missing:
        raise TalkbenchError(f"no fakes of setting(s) {', '.join(missing)} to harden on")
    sub = table[(table.label == 0) | table.setting.isin(list(settings))]
    tr, va = select(sub, "train", None, seed=cfg.seed), select(sub, "val", None, seed=cfg.seed)
    path = train_detector(cfg, images[tr.index.to_numpy()], tr.label.to_numpy(), images[va.index.to_numpy()],
                          va.label.to_numpy(), out_dir, resume=True, progress=progress)
    return load_detector(path)
