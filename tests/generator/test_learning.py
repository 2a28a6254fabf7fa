"""It learns: a short CPU meta-learning run on synthetic faces lowers its reconstruction
loss and beats the untrained model on held-out identities' self-reenactment."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from talkbench.generator.evaluate import evaluate
from talkbench.generator.train import train
from tests.generator.conftest import tiny_train_config


@pytest.mark.slow
def test_short_training_learns(tiny_faces, tmp_path, empty_weights):
    cfg = tiny_train_config(steps=150, batch_size=4, k=2, lr_g=5e-4, lr_d=2e-4, log_every=5,
                            sample_every=150, checkpoint_every=150)
    ckpt = train(cfg, tiny_faces, tmp_path / "run", progress=False)
    rows = list(csv.DictReader(open(tmp_path / "run" / "log.csv")))
    l1 = np.array([float(r["g_pixel_l1"]) for r in rows])
    assert l1[-6:].mean() < 0.85 * l1[:6].mean(), l1  # reconstruction loss falls

    table = evaluate(ckpt, tiny_faces, shots=(4,), ft_shots=(), max_videos=4).set_index("method")
    print(table)
    trained, untrained = table.loc["FF"], table.loc["untrained FF"]
    assert trained.l1 < 0.85 * untrained.l1
    assert trained.ssim > untrained.ssim
