"""Training a detector on in-memory face crops: AdamW with a per-step cosine schedule, the
Wang et al. augmentations, early stopping on validation AUC, bf16 autocast on CUDA, and a
checkpoint after every epoch (atomic; ``resume=True`` continues from it exactly, because
shuffling and augmentation are seeded by (seed, epoch)). The spectral baseline is fitted in
one call instead. Logs: ``log.csv`` and TensorBoard under ``OUT/tb``."""

from __future__ import annotations

import dataclasses
import time
from typing import Any
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from talkbench.checksum import load_tagged, stamp_weights
from talkbench.config import to_dict
from talkbench.detector.augment import WangAugment
from talkbench.detector.metrics import auc
from talkbench.detector.registry import create_detector
from talkbench.detector.spectral import SpectralDetector
from talkbench.detector.timm_models import TimmDetector
from talkbench.device import configure_threads, seed_everything, select_device
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path, save_torch_file, write_json
from talkbench.progress import progress_bar

RESUME_WEIGHTS = ("model", "optimizer", "scheduler")  # what last.pt's checksum covers


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
    """The trained detector inside a training folder (``detector.pt`` or ``detector.safetensors``)."""
    for name in ("detector.pt", "detector.safetensors"):
        if (Path(out_dir) / name).is_file():
            return Path(out_dir) / name
    return None


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
    if isinstance(det, SpectralDetector):
        return _fit_spectral(det, train_images, train_labels, val_images, val_labels, out_dir)
    if not isinstance(det, TimmDetector):
        raise TalkbenchError(f"do not know how to train detector kind '{det.kind}'")
    return _train_timm(cfg, det, train_images, np.asarray(train_labels), val_images, np.asarray(val_labels),
                       out_dir, resume, progress)


def _fit_spectral(det: SpectralDetector, xtr, ytr, xva, yva, out_dir: Path) -> Path:
    t0 = time.perf_counter()
    det.fit(xtr, ytr)
    path = det.save(out_dir / "detector.safetensors")
    write_json(out_dir / "train.json", {**det.describe(), "best_val_auc": auc(yva, det.predict_proba(xva)),
                                        "fit_s": time.perf_counter() - t0, "n_train": len(xtr)})
    return path


def _train_timm(cfg: DetectorTrainConfig, det: TimmDetector, xtr: np.ndarray, ytr: np.ndarray,
                xva: np.ndarray, yva: np.ndarray, out_dir: Path, resume: bool, progress: bool) -> Path:
    configure_threads(cfg.threads or None)
    device = select_device(cfg.device)
    det.to(device)
    if device.type == "cuda":
        det.model.to(memory_format=torch.channels_last)
    steps_per_epoch = max(1, len(xtr) // cfg.batch_size)  # drop the ragged last batch
    opt = torch.optim.AdamW(det.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs * steps_per_epoch)
    state: dict[str, Any] = {"epoch": 0, "best_auc": -1.0, "best_epoch": -1, "bad_epochs": 0, "history": []}  # resumable: read back from last.pt
    last = out_dir / "last.pt"
    if resume and last.is_file():
        ckpt = load_tagged(last, "resume checkpoint", RESUME_WEIGHTS, lambda s: {"config", "state", *RESUME_WEIGHTS} <= set(s),
                           f"{last} is not a detector resume checkpoint; use a new folder or drop --resume")
        if ckpt["config"] != to_dict(cfg):
            raise TalkbenchError(f"{last} was written with a different config; use a new folder or drop --resume")
        det.model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        state = ckpt["state"]
    augment = WangAugment() if cfg.augment else None
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(out_dir / "tb"))
    labels = torch.from_numpy(ytr.astype(np.float32))
    bar = progress_bar(total=cfg.epochs, initial=state["epoch"], desc=f"train {det.name}", unit="epoch", enabled=progress)
    while state["epoch"] < cfg.epochs and state["bad_epochs"] < cfg.patience:
        epoch = state["epoch"]
        rng = np.random.default_rng([cfg.seed, epoch])
        order = rng.permutation(len(xtr))[:steps_per_epoch * cfg.batch_size].reshape(steps_per_epoch, -1)
        det.model.train()
        t0, losses = time.perf_counter(), []
        for idx in order:
            batch = augment(xtr[idx], rng) if augment else xtr[idx]
            x = det.preprocess(batch)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(det.logits(x), labels[idx].to(device))
            if not torch.isfinite(loss):
                raise TalkbenchError(f"training '{det.name}' diverged (loss {loss.item()}) at epoch {epoch}; lower lr")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        train_s = time.perf_counter() - t0
        val_auc = auc(yva, det.predict_proba(xva, cfg.batch_size * 2))
        row = {"epoch": epoch, "train_loss": float(np.mean(losses)), "val_auc": val_auc, "lr": sched.get_last_lr()[0],
               "images_per_s": order.size / train_s}
        state["history"].append(row)
        for k, v in row.items():
            if k != "epoch":
                writer.add_scalar(k, v, epoch)
        if val_auc > state["best_auc"]:
            state.update(best_auc=val_auc, best_epoch=epoch, bad_epochs=0)
            det.save(out_dir / "detector.pt")
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch + 1
        save_torch_file(stamp_weights({"model": det.model.state_dict(), "optimizer": opt.state_dict(),
                                       "scheduler": sched.state_dict(), "state": state, "config": to_dict(cfg)},
                                      RESUME_WEIGHTS), last)
        with atomic_path(out_dir / "log.csv") as tmp:
            pd.DataFrame(state["history"]).to_csv(tmp, index=False)
        bar.update(1)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_auc=f"{val_auc:.3f}")
    bar.close()
    writer.close()
    write_json(out_dir / "train.json", {**det.describe(), "best_val_auc": state["best_auc"],
                                        "best_epoch": state["best_epoch"], "epochs_run": state["epoch"],
                                        "stopped_early": state["bad_epochs"] >= cfg.patience,
                                        "device": str(device), "n_train": len(xtr)})
    return out_dir / "detector.pt"
