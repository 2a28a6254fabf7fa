"""Few-shot talking-head models of a new person from T frames (paper §3.3).

- **FF** (feed-forward): ê_new = mean of E over the T frames; frames are G(y, ψ = P·ê_new).
- **FT** (fine-tuned): start from ψ' = P·ê_new (now a free parameter) and D's column
  w' = w0 + ê_new, then train ψ', G's weights, D and w' on the T frames with
  L_CNT (+ the offline pixel L1 when VGG is absent) + L_ADV, no L_MCH (``generate`` returns no ê,
  so ``gan_step`` adds none), with the
  meta-learning learning rates; default length: 40 epochs over the T frames, as in one
  re-implementation.

A saved few-shot model holds G's weights and ψ (the person), not D: that is all that
generation needs.
"""

from __future__ import annotations

import copy
import hashlib
import dataclasses
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from talkbench.checksum import load_tagged, stamp_weights
from talkbench.config import fingerprint, from_dict, to_dict
from talkbench.device import select_device
from talkbench.errors import TalkbenchError
from talkbench.files import save_torch_file
from talkbench.generator.blocks import MEMORY_FORMAT
from talkbench.generator.landmark_image import draw_landmarks, to_tensor_range
from talkbench.generator.losses import ContentLoss, LossConfig
from talkbench.generator.ft_config import FineTuneConfig
from talkbench.generator.checkpoint import load_checkpoint, model_from_checkpoint
from talkbench.generator.model import GENERATOR_NAME, ModelConfig
from talkbench.generator.networks import Generator
from talkbench.generator.steps import CollapseGuard, autocast, gan_step
from talkbench.generator.train_config import TrainConfig

FORMAT = "talkbench-fewshot"


def _images(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(to_tensor_range(np.asarray(frames))).contiguous(memory_format=MEMORY_FORMAT)


def _landmark_images(landmarks: np.ndarray, size: int) -> torch.Tensor:
    drawn = to_tensor_range(draw_landmarks(np.asarray(landmarks, np.float32), size))
    return torch.from_numpy(drawn).contiguous(memory_format=MEMORY_FORMAT)


def _check_shots(frames: np.ndarray, landmarks: np.ndarray, size: int) -> None:
    frames, landmarks = np.asarray(frames), np.asarray(landmarks)
    if frames.ndim != 4 or frames.shape[1:] != (size, size, 3) or frames.dtype != np.uint8:
        raise TalkbenchError(f"shot frames must be uint8 T×{size}×{size}×3 (the model's size), got "
                             f"{frames.dtype} {frames.shape}")
    if landmarks.shape != (len(frames), 68, 2):
        raise TalkbenchError(f"shot landmarks must be {len(frames)}×68×2, got {landmarks.shape}")
    if len(frames) < 1:
        raise TalkbenchError("a few-shot model needs at least one frame")


class FewShotModel(nn.Module):
    """One person's talking-head model: G and ψ. ``generate`` maps landmarks to frames."""

    def __init__(self, model_cfg: ModelConfig, generator: Generator, psi: torch.Tensor, mode: str, shots: int,
                 info: dict[str, Any]) -> None:
        super().__init__()
        self.model_cfg = model_cfg.resolved()
        self.G = generator.to(memory_format=MEMORY_FORMAT)  # built or loaded alike
        self.psi = nn.Parameter(psi.detach().clone().reshape(1, -1), requires_grad=False)
        self.mode = mode
        self.shots = shots
        self.info = info

    @property
    def size(self) -> int:
        return self.model_cfg.shape().image_size

    @property
    def generator_name(self) -> str:
        name = f"{GENERATOR_NAME} {self.mode} T={self.shots}"
        return f"{name}, adversarial: {self.info['extra_loss']}" if self.info.get("extra_loss") else name

    @property
    def adversarial_fields(self) -> dict[str, str]:
        """Provenance fields of a detector-evading model (empty for a plain one): that its
        output is adversarial and what it was trained to evade."""
        return {"adversarial": "true", "target_detector": self.info["extra_loss"]} if self.info.get("extra_loss") else {}

    @property
    def config_fingerprint(self) -> str:
        return fingerprint(self.info, self.mode, self.shots)

    @torch.no_grad()
    def generate(self, landmarks: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """(N, 68, 2) landmarks in pixel coordinates of an S×S crop → uint8 (N, S, S, 3)."""
        landmarks = np.asarray(landmarks, np.float32)
        if landmarks.ndim == 2:
            landmarks = landmarks[None]
        if landmarks.ndim != 3 or landmarks.shape[1:] != (68, 2):
            raise TalkbenchError(f"landmarks must be N×68×2, got {landmarks.shape}")
        check_landmarks(landmarks, self.size)
        self.G.eval()
        device = self.psi.device
        out = []
        for i in range(0, len(landmarks), batch_size):
            y = _landmark_images(landmarks[i:i + batch_size], self.size).to(device)
            with autocast(device):
                x = self.G(y, psi=self.psi)
            out.append(((x.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.size, self.size, 3), np.uint8)

    def save(self, path: str | Path) -> None:
        state = {"format": FORMAT, "version": 1, "model_config": to_dict(self.model_cfg), "mode": self.mode,
                 "shots": self.shots, "info": self.info, "G": self.G.state_dict(), "psi": self.psi.detach().cpu()}
        stamp_weights(state, ("G", "psi"))
        save_torch_file(state, path)

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> "FewShotModel":
        state = load_tagged(path, "few-shot model", ("G", "psi"), lambda s: s.get("format") == FORMAT,
                            f"{path} is not a talkbench few-shot model (make one with `talkbench fewshot`)")
        cfg = from_dict(ModelConfig, state["model_config"])
        s = cfg.shape()
        g = Generator(s.image_size, s.width, s.max_width, s.emb_dim, s.n_res)
        g.load_state_dict(state["G"])
        return cls(cfg, g, state["psi"], state["mode"], state["shots"], state["info"]).to(select_device(str(device)))


def check_landmarks(landmarks: np.ndarray, size: int) -> None:
    """Refuse landmarks that cannot be a face in an S-px crop (NaN, infinite, or far outside
    it): drawn, they would render an empty or garbage frame that looks like a result."""
    bad = ~np.isfinite(landmarks).all(axis=(1, 2)) | (np.abs(landmarks - size / 2) > 2 * size).any(axis=(1, 2))
    if bad.any():
        raise TalkbenchError(f"{int(bad.sum())} of {len(landmarks)} landmark frames are not finite or lie far "
                             f"outside the {size}-px crop (first: frame {int(np.flatnonzero(bad)[0])}); "
                             f"landmarks are pixel coordinates of the model's crop")


def build_fewshot(checkpoint: str | Path, shot_frames: np.ndarray, shot_landmarks: np.ndarray, mode: str = "FF",
                  ft_steps: int | None = None, device: str | torch.device = "auto",
                  ft: FineTuneConfig | None = None, loss: LossConfig | None = None,
                  progress: bool = False, extra_loss: Callable[[torch.Tensor], torch.Tensor] | None = None
                  ) -> FewShotModel:
    """A person's FF or FT model from T frames (uint8 T×S×S×3) and their 68 landmarks.
    ``extra_loss(fake)``: an optional extra generator-side FT term (detector evasion); its
    ``describe()`` is recorded in the model's info (and so in its generator name).

    Example::

        case = few_shot_cases(FaceDataset(root))[0]
        fs = build_fewshot(run / "checkpoint.pt", case.shot_frames, case.shot_landmarks, mode="FT")
        frames = fs.generate(case.heldout_landmarks)
    """
    mode = mode.upper()
    if mode not in ("FF", "FT"):
        raise TalkbenchError(f"mode must be FF or FT, got {mode!r}")
    if extra_loss is not None and mode != "FT":
        raise TalkbenchError("an extra fine-tuning loss (e.g. detector evasion) needs mode FT")
    state = load_checkpoint(checkpoint)
    dev = select_device(str(device))
    meta = model_from_checkpoint(state, dev)
    size = meta.cfg.shape().image_size
    _check_shots(shot_frames, shot_landmarks, size)
    x = _images(shot_frames).to(dev)
    y = _landmark_images(shot_landmarks, size).to(dev)
    meta.eval()
    with torch.no_grad():
        e_new = meta.embed(x, y)  # (1, d)
        psi = meta.G.psi(e_new)
    ft = ft or FineTuneConfig()
    if ft_steps is not None:
        ft = dataclasses.replace(ft, steps=ft_steps)
    info = {"checkpoint_fingerprint": state["fingerprint"], "checkpoint_step": int(state["step"]),
            "shots_sha256": hashlib.sha256(np.ascontiguousarray(shot_frames).tobytes()).hexdigest()[:16]}
    G = copy.deepcopy(meta.G)
    if mode == "FT":
        train_cfg = from_dict(TrainConfig, state["train_config"]) if state.get("train_config") else TrainConfig()
        loss = loss or train_cfg.loss
        psi, log = fine_tune(G, copy.deepcopy(meta.D), psi, meta.D.w0.detach() + e_new[0], x, y, ft, train_cfg,
                             loss, dev, progress, extra_loss)
        info.update(ft=to_dict(ft), ft_losses=log, loss=to_dict(loss))
        if extra_loss is not None:
            info["extra_loss"] = getattr(extra_loss, "describe", lambda: repr(extra_loss))()
    return FewShotModel(meta.cfg, G, psi, mode, len(shot_frames), info).to(dev)


@torch.no_grad()
def _average_update(average: list[torch.Tensor], params: list[nn.Parameter], step: int, eta: float) -> None:
    """Polynomial-decay averaging: a_s = a_{s-1} + (η + 1) / (s + η) · (w_s − a_{s-1}); a_1 = w_1."""
    torch._foreach_lerp_(average, [p.detach() for p in params], (eta + 1) / (step + eta))


def fine_tune(G: Generator, D: nn.Module, psi: torch.Tensor, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
              ft: FineTuneConfig, train_cfg: TrainConfig, loss: LossConfig, device: torch.device,
              progress: bool = False, extra_loss: Callable[[torch.Tensor], torch.Tensor] | None = None
              ) -> tuple[torch.Tensor, dict[str, list[float]]]:
    """Train G, ψ', D and w' on the T frames; returns the tuned ψ' and the per-step
    generator and discriminator totals (first and last ten steps). With ``ft.average``, G (in
    place) and the returned ψ' are their average over the steps, not the last step's."""
    from talkbench.progress import progress_bar

    t = x.shape[0]
    batch = min(ft.batch_size, t)
    steps = ft.steps_for(t)
    psi_p = nn.Parameter(psi.detach().clone())
    w_p = nn.Parameter(w.detach().clone())
    betas = (train_cfg.beta1 if ft.beta1 is None else ft.beta1, train_cfg.beta2)
    g_params = list(G.parameters()) + [psi_p]
    opt_g = torch.optim.Adam(g_params, lr=ft.lr_g or train_cfg.lr_g, betas=betas)
    average = [p.detach().clone() for p in g_params] if ft.average is not None else []
    opt_d = torch.optim.Adam(list(D.parameters()) + [w_p], lr=ft.lr_d or train_cfg.lr_d, betas=betas)
    schedules = [torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) for opt in (opt_g, opt_d)
                 if ft.lr_schedule == "cosine"]
    content = ContentLoss(loss).to(device)
    shot_features = content.target_features(x)  # the T shots' L_CNT features, once
    gen = torch.Generator().manual_seed(ft.seed)
    guard = CollapseGuard(train_cfg.guard_min_std, train_cfg.guard_patience)
    G.train()
    D.train()
    totals: list[float] = []
    for step in progress_bar(range(1, steps + 1), desc="fine-tune", unit="step", enabled=progress):
        idx = torch.randperm(t, generator=gen)[:batch].to(device)
        xb, yb = x[idx], y[idx]
        features = {name: [f[idx] for f in feats] for name, feats in shot_features.items()}
        losses, fake = gan_step(lambda: (G(yb, psi=psi_p.expand(len(idx), -1)), None),
                                lambda xx, yy: D(xx, yy, w=w_p), xb, yb,
                                lambda fake, real: content(fake, real, features), loss, opt_g, opt_d,
                                ft.d_steps, autocast(device, train_cfg.amp), extra_loss)
        guard.check(step, losses, fake)
        for schedule in schedules:
            schedule.step()
        if ft.average is not None:
            _average_update(average, g_params, step, 1 / ft.average - 1)
        totals.append(losses["g_total"])
    if ft.average is not None:
        with torch.no_grad():
            for p, a in zip(g_params, average):
                p.copy_(a)
    G.eval()
    return psi_p.detach(), {"g_total_first": totals[:10], "g_total_last": totals[-10:], "steps": [steps]}
