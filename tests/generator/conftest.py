"""Tiny models and a tiny synthetic dataset shared by the generator tests."""

from __future__ import annotations

import pytest

from talkbench.generator.model import ModelConfig
from talkbench.generator.train_config import TrainConfig


def tiny_model_config(image_size: int = 32) -> ModelConfig:
    return ModelConfig(preset="cpu64", image_size=image_size, width=8, max_width=32, emb_dim=32, n_res=1)


def tiny_train_config(**overrides) -> TrainConfig:
    cfg = TrainConfig(model=tiny_model_config(), steps=4, batch_size=2, k=2, threads=1, log_every=1,
                      sample_every=2, checkpoint_every=2)
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cfg


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield
