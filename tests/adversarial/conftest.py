"""A tiny meta-trained generator and a tiny test person shared by the adversarial tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield


@pytest.fixture(scope="session")
def checkpoint(tiny_faces, tmp_path_factory):
    import torch

    from talkbench.generator.train import train
    from tests.generator.conftest import tiny_train_config

    torch.set_num_threads(1)
    cfg = tiny_train_config(steps=2)
    cfg.loss.vgg19 = cfg.loss.vggface = "off"
    return train(cfg, tiny_faces, tmp_path_factory.mktemp("run") / "run", progress=False)
