"""Training a detector on in-memory face crops: one config for every kind, and one entry point
that builds the detector and hands the crops to its kind's :meth:`Detector.train` (timm:
:mod:`talkbench.detector.timm_train`; spectral: one scikit-learn fit). Every kind leaves
its detector file and ``train.json`` in the output folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from talkbench.detector.registry import create_detector, detector_kinds
from talkbench.device import seed_everything
from talkbench.errors import TalkbenchError
from talkbench.files import write_json


@dataclasses.dataclass
class DetectorTrainConfig:
    detector: str = "resnet10t_64"
    pretrained: bool = False
    input_size: int | None = None  # None: the size from timm's pretrained config (or the registry's)
    crop_size: int = 64  # face crops are loaded at this size (data pipeline)
    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.05
    patience: int = 5  # epochs without a better validation AUC before stopping
    augment: bool = True
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # 0: all cores (or $TALKBENCH_THREADS)


def detector_file(out_dir: Path) -> Path | None:
    """The trained detector inside a training folder (``detector.pt``, ``detector.safetensors``,
    or another kind's ``Detector.file_in``)."""
    return next((f for kind in detector_kinds() if (f := kind.file_in(out_dir)).is_file()), None)


def train_detector(cfg: DetectorTrainConfig, train_images: np.ndarray, train_labels: np.ndarray,
                   val_images: np.ndarray, val_labels: np.ndarray, out_dir: str | Path,
                   resume: bool = False, progress: bool = True, domain: dict | None = None) -> Path:
    """Train ``cfg.detector`` and return the file of the best model (by validation AUC);
    ``domain`` (what the training data is, :mod:`talkbench.detector.domain`) is saved in it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(cfg.seed)
    kwargs = {"input_size": cfg.input_size} if cfg.input_size else {}
    det = create_detector(cfg.detector, pretrained=cfg.pretrained, **kwargs)
    det.crop_size = cfg.crop_size
    det.domain = domain
    summary = det.train(cfg, train_images, np.asarray(train_labels), val_images, np.asarray(val_labels), out_dir,
                        resume, progress)
    path = det.file_in(out_dir)
    if not path.is_file():
        raise TalkbenchError(f"detector kind '{det.kind}' finished training without writing {path}")
    write_json(out_dir / "train.json", {**det.describe(), **summary, "n_train": len(train_images)})
    return path
