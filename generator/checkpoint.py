"""The meta-learning checkpoint format (``OUT/checkpoint.pt``): E, G, D (with W), both
optimisers, the step, the RNG states, the model and training configs and the video list.
Training writes it; resuming, few-shot models, evaluation, benchmarks and attacks read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from talkbench.checksum import load_tagged, stamp_weights
from talkbench.config import from_dict, to_dict
from talkbench.files import save_torch_file
from talkbench.generator.model import ModelConfig, TalkingHead, build_model
from talkbench.generator.rng_state import rng_state
from talkbench.generator.train_config import TrainConfig

CHECKPOINT = "checkpoint.pt"
FORMAT = "talkbench-talkinghead"
NETS = ("E", "G", "D")  # the networks whose weights a checkpoint holds, checksummed


def save_checkpoint(path: Path, model: TalkingHead, opt_g: torch.optim.Optimizer | None,
                    opt_d: torch.optim.Optimizer | None, step: int, cfg: TrainConfig | None,
                    videos: list[str], extra: dict[str, Any] | None = None) -> None:
    """Everything needed to resume or to build few-shot models, written atomically."""
    state = {
        "format": FORMAT, "version": 1, "step": step,
        "model_config": to_dict(model.cfg), "n_videos": model.n_videos, "videos": list(videos),
        "train_config": to_dict(cfg) if cfg is not None else None,
        "fingerprint": model.fingerprint,
        "E": model.E.state_dict(), "G": model.G.state_dict(), "D": model.D.state_dict(),
        "opt_g": opt_g.state_dict() if opt_g is not None else None,
        "opt_d": opt_d.state_dict() if opt_d is not None else None,
        "rng": rng_state(), **(extra or {}),
    }
    stamp_weights(state, NETS)
    save_torch_file(state, path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only=True``) and check its format."""
    return load_tagged(path, "checkpoint", NETS, lambda s: s.get("format") == FORMAT,
                       f"{path} is not a talkbench talking-head checkpoint")


def model_from_checkpoint(state: dict[str, Any], device: torch.device | str = "cpu") -> TalkingHead:
    """The E+G+D bundle a loaded checkpoint describes, with its weights, on ``device``."""
    model = build_model(from_dict(ModelConfig, state["model_config"]), state["n_videos"])
    load_weights(model, state)
    return model.to(device)


def load_weights(model: TalkingHead, state: dict[str, Any]) -> None:
    """Put a loaded checkpoint's E, G, D weights into ``model`` (built to the same config)."""
    for name in NETS:
        getattr(model, name).load_state_dict(state[name])
