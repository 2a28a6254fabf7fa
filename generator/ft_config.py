"""The few-shot fine-tuning (FT) schedule, kept free of torch so that suite configs can name it."""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

LrSchedule = Literal["constant", "cosine"]


@dataclasses.dataclass
class FineTuneConfig:
    """FT schedule. ``steps=None``: ``epochs`` over the T frames, at least ``min_steps``
    (max(min_steps, ⌈epochs·T / batch⌉) steps), so more shots get more steps, as in the
    paper's re-implementations (40 epochs). Learning rates ``None``: those of the
    meta-learning run. ``lr_schedule="cosine"`` anneals both learning rates to 0 over the FT
    steps: on the default suite, better SSIM and L1 but worse FID (docs/generator.md).
    ``average=f`` returns the polynomial-decay average of G's weights and ψ' over the steps
    (Shamir & Zhang 2013, η = 1/f − 1: step s's weight grows as s^η, so about the last
    fraction f counts), which scales with the FT length as no fixed EMA decay does."""

    steps: int | None = None
    epochs: float = 40.0
    min_steps: int = 0
    batch_size: int = 8
    lr_g: float | None = None
    lr_d: float | None = None
    beta1: float | None = None  # Adam's β1 for both FT optimisers (None: the meta-learning run's)
    average: float | None = None  # G and ψ' averaged over about this last share of the steps (None: the last)
    d_steps: int = 1
    seed: int = 0
    lr_schedule: LrSchedule = "constant"

    def __post_init__(self) -> None:
        from talkbench.config import limit_of

        for key in ("epochs", "average"):  # checked here too: the Python API bypasses config parsing
            value, limit = getattr(self, key), limit_of(FineTuneConfig, key)
            if value is not None and limit is not None:
                limit.check(value, f"FineTuneConfig.{key}")

    def steps_for(self, t: int) -> int:
        """The number of FT steps on T frames."""
        if self.steps is not None:
            return self.steps
        return max(self.min_steps, math.ceil(self.epochs * t / min(self.batch_size, t)))
