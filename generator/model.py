"""Model configuration, presets and the E+G+D bundle.

Presets: ``paper`` is the paper's 256 px network (widths 64 → 512, ê ∈ R^512, five AdaIN
residual blocks: E 14.9M, G 37.9M, D 19.6M parameters); ``cpu64`` / ``cpu128`` are the same
architecture narrowed (widths 16 → 128, ê ∈ R^128, two AdaIN residual blocks) so that a
meta-learning run makes progress in minutes on a 2-core CPU.
Any field left ``None`` is taken from the preset, so ``model.preset=cpu64 model.width=16``
works as expected.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
from torch import nn

from talkbench.config import fingerprint
from talkbench.errors import TalkbenchError
from talkbench.generator.blocks import MEMORY_FORMAT
from talkbench.generator.networks import Discriminator, Embedder, Generator, levels

Preset = Literal["cpu64", "cpu128", "paper"]

GENERATOR_NAME = "talkbench-fewshot-talking-head (Zakharov et al. 2019)"  # in the provenance of what it draws

PRESETS: dict[str, dict[str, int]] = {
    "cpu64": dict(image_size=64, width=16, max_width=128, n_res=2, emb_dim=128),
    "cpu128": dict(image_size=128, width=16, max_width=128, n_res=2, emb_dim=128),
    "paper": dict(image_size=256, width=64, max_width=512, n_res=5, emb_dim=512),
}


@dataclasses.dataclass
class ModelConfig:
    """Network shape. ``None`` fields come from ``preset``."""

    preset: Preset = "cpu64"
    image_size: int | None = None
    width: int | None = None
    max_width: int | None = None
    n_res: int | None = None
    emb_dim: int | None = None

    def resolved(self) -> "ModelConfig":
        shape = self.shape()
        return dataclasses.replace(self, image_size=shape.image_size, width=shape.width, max_width=shape.max_width,
                                   n_res=shape.n_res, emb_dim=shape.emb_dim)

    def shape(self) -> "ModelShape":
        """Every field filled in from the preset where ``None``; raises for sizes the networks cannot take."""
        base = PRESETS[self.preset]
        shape = ModelShape(**{k: (getattr(self, k) if getattr(self, k) is not None else v) for k, v in base.items()})
        levels(shape.image_size)
        return shape


@dataclasses.dataclass(frozen=True)
class ModelShape:
    """A resolved :class:`ModelConfig`'s numbers, none missing (what the networks are built from)."""

    image_size: int
    width: int
    max_width: int
    n_res: int
    emb_dim: int


class TalkingHead(nn.Module):
    """E, G and D of one meta-learned model; D's W has one row per training video."""

    def __init__(self, cfg: ModelConfig, n_videos: int) -> None:
        super().__init__()
        self.cfg = cfg.resolved()
        self.n_videos = n_videos
        s = cfg.shape()
        self.E = Embedder(s.image_size, s.width, s.max_width, s.emb_dim)
        self.G = Generator(s.image_size, s.width, s.max_width, s.emb_dim, s.n_res)
        self.D = Discriminator(s.image_size, s.width, s.max_width, n_videos, s.emb_dim)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cfg, self.n_videos)

    def embed(self, frames: torch.Tensor, landmarks: torch.Tensor) -> torch.Tensor:
        """ê of one person from (T, 3, S, S) frames and landmark images: mean over T → (1, d)."""
        return self.E.embed_video(frames[None], landmarks[None])

    def parameter_counts(self) -> dict[str, int]:
        """Parameters of E, G (incl. P), D (excl. W) and W, for reports."""
        def count(m: nn.Module) -> int:
            return sum(p.numel() for p in m.parameters())
        return {"E": count(self.E), "G": count(self.G), "P": count(self.G.projection),
                "D": count(self.D) - self.D.W.numel(), "W": self.D.W.numel()}


def build_model(cfg: ModelConfig, n_videos: int) -> TalkingHead:
    """E, G, D for ``cfg`` with a projection discriminator over ``n_videos`` training videos.

    Example::

        model = build_model(ModelConfig(preset="cpu64"), n_videos=800)
        e = model.embed(frames, landmark_images)          # (1, 512)
        fake = model.G(landmark_images, e)                # (T, 3, 64, 64) in [-1, 1]
    """
    if n_videos < 1:
        raise TalkbenchError("the discriminator needs at least one training video")
    return TalkingHead(cfg, n_videos).to(memory_format=MEMORY_FORMAT)
