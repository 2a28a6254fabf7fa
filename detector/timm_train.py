"""The training loop of timm detectors: AdamW with a per-step cosine schedule, the Wang et al.
augmentations, batch-norm statistics recomputed on the training images before each validation,
early stopping on validation AUC, bf16 autocast on CUDA, and a checkpoint
after every epoch (atomic; ``resume=True`` continues from it exactly, because shuffling and
augmentation are seeded by (seed, epoch)). Logs: ``log.csv`` and TensorBoard under ``OUT/tb``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from talkbench.checksum import load_tagged, stamp_weights
from talkbench.config import to_dict
from talkbench.detector.augment import WangAugment
from talkbench.detector.metrics import auc
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path, save_torch_file
from talkbench.device import configure_threads, select_device
from talkbench.progress import progress_bar

if TYPE_CHECKING:
    from talkbench.detector.timm_models import TimmDetector
    from talkbench.detector.train import DetectorTrainConfig

RESUME_WEIGHTS = ("model", "optimizer", "scheduler")  # what last.pt's checksum covers


def train_timm(det: TimmDetector, cfg: DetectorTrainConfig, xtr: np.ndarray, ytr: np.ndarray,
               xva: np.ndarray, yva: np.ndarray, out_dir: Path, resume: bool, progress: bool) -> dict:
    """Train ``det`` in place; the best epoch's model is saved as ``out_dir/detector.pt``.
    Returns the summary for ``train.json``."""
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
        recompute_batchnorm(det, xtr, cfg.batch_size * 2)
        val_auc = auc(yva, det.predict_proba(xva, cfg.batch_size * 2))
        row = {"epoch": epoch, "train_loss": float(np.mean(losses)), "val_auc": val_auc, "lr": sched.get_last_lr()[0],
               "images_per_s": order.size / train_s}
        state["history"].append(row)
        for k, v in row.items():
            if k != "epoch":
                writer.add_scalar(k, v, epoch)
        if val_auc > state["best_auc"]:
            state.update(best_auc=val_auc, best_epoch=epoch, bad_epochs=0)
            det.save(det.file_in(out_dir))
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
    return {"best_val_auc": state["best_auc"], "best_epoch": state["best_epoch"], "epochs_run": state["epoch"],
            "stopped_early": state["bad_epochs"] >= cfg.patience, "device": str(device)}


def recompute_batchnorm(det: TimmDetector, images: np.ndarray, batch_size: int) -> None:
    """Set every batch norm's running mean and variance to their average over ``images``
    under the current weights ("precise BN"). After the few dozen steps a small training set
    gives, the running averages still hold ~15 % of their initial 0 / 1 (momentum 0.1): at
    that, eval-mode outputs were nearly constant (std 0.008) where train mode separated
    real from fake, and early stopping followed noise."""
    norms = [m for m in det.model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a plain average over the batches below
    det.model.train()
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            if len(images) - i > 1:  # train-mode batch norm needs two samples
                det.logits(det.preprocess(images[i:i + batch_size]))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    det.model.eval()
