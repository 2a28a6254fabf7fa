"""`talkbench train`'s settings: one typed config, read from ``config.yaml`` and key=value
overrides, written into every run and checkpoint so a run can be resumed and repeated."""

from __future__ import annotations

import dataclasses

from talkbench.generator.losses import LossConfig
from talkbench.generator.model import ModelConfig


@dataclasses.dataclass
class TrainConfig:
    """Meta-learning settings; paper defaults where the paper gives one."""

    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    steps: int = 2000
    batch_size: int = 8  # global (split over DDP ranks)
    k: int = 8
    lr_g: float = 5e-5  # E and G (and P)
    lr_d: float = 2e-4
    beta1: float = 0.0
    beta2: float = 0.999
    d_steps: int = 1
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # CPU intra-op threads (0: all cores or $TALKBENCH_THREADS)
    num_workers: int = 0
    amp: bool = True  # bf16 autocast on CUDA
    # torch.compile E, G and D for the training step: pays on long runs only (64 px, 2 CPU cores:
    # the step 1.15-1.3x faster, compiling ~110 s the first time; docs/generator.md)
    compile: bool = False
    checkpoint_every: int = 200
    log_every: int = 10
    sample_every: int = 200
    guard_min_std: float = 0.02
    guard_patience: int = 5
    guard_after: int = 0
    time_limit_min: float = 0.0  # stop (with a checkpoint) after this many minutes; 0: no limit
