"""The CUDA path (bf16 autocast, channels_last) of training, FT and generation. Marked
``gpu``: deselected by default (pyproject's addopts), run with ``pytest -m gpu`` on a machine
with CUDA (``benchmarks/gpu_check.sh`` does, with the other GPU checks)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from talkbench.data.dataset import FaceDataset
from talkbench.generator.episodes import few_shot_cases
from talkbench.generator.ft_config import FineTuneConfig
from talkbench.generator.fewshot import build_fewshot
from talkbench.generator.train import train
from tests.generator.conftest import tiny_train_config

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (none on this machine)")]


@pytest.fixture(scope="module")
def cuda_checkpoint(tiny_faces, tmp_path_factory):
    cfg = tiny_train_config(steps=4, device="cuda", amp=True)
    cfg.loss.vgg19 = cfg.loss.vggface = "off"
    return train(cfg, tiny_faces, tmp_path_factory.mktemp("run") / "run", progress=False)


def test_training_on_cuda_with_bf16_writes_a_checkpoint_that_loads_on_the_cpu(cuda_checkpoint):
    from talkbench.generator.checkpoint import load_checkpoint, model_from_checkpoint

    state = load_checkpoint(cuda_checkpoint)  # checksummed, weights_only
    assert int(state["step"]) == 4
    model = model_from_checkpoint(state, "cpu")
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_ff_on_cuda_matches_the_cpu_within_bf16_rounding(cuda_checkpoint, tiny_faces):
    case = few_shot_cases(FaceDataset(tiny_faces), shots=(4,), max_videos=1)[0]
    on = {dev: build_fewshot(cuda_checkpoint, case.shot_frames, case.shot_landmarks, "FF", device=dev)
          .generate(case.heldout_landmarks) for dev in ("cpu", "cuda")}
    diff = np.abs(on["cpu"].astype(float) - on["cuda"].astype(float)).mean()
    assert diff < 4.0, f"mean |CPU − CUDA| = {diff:.2f} of 255: more than bf16 rounding"


def test_ft_on_cuda_fits_the_shots(cuda_checkpoint, tiny_faces):
    case = few_shot_cases(FaceDataset(tiny_faces), shots=(4,), max_videos=1)[0]
    ff = build_fewshot(cuda_checkpoint, case.shot_frames, case.shot_landmarks, "FF", device="cuda")
    ft = build_fewshot(cuda_checkpoint, case.shot_frames, case.shot_landmarks, "FT", device="cuda",
                       ft=FineTuneConfig(steps=25, lr_g=1e-3, lr_d=1e-3))
    l1 = lambda m: float(np.abs(m.generate(case.shot_landmarks).astype(float) - case.shot_frames).mean())  # noqa: E731
    before, after = l1(ff), l1(ft)
    assert math.isfinite(after) and after < 0.8 * before, (before, after)
