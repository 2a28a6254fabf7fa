"""Hardening: a detector retrained with adversarial fakes of the train people scores the test
people's adversarial fakes better than the detector they were made against."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from talkbench.detector.attack import pgd
from talkbench.detector.harden import train_hardened
from talkbench.detector.metrics import auc
from talkbench.detector.registry import create_detector
from talkbench.detector.train import DetectorTrainConfig
from talkbench.errors import TalkbenchError
from tests.adversarial.test_differentiable import _smooth_vs_sharp


def _people(n_people: int = 12, size: int = 64) -> tuple[np.ndarray, pd.DataFrame]:
    """Real/fake crops of 12 'people' (4 of each class per person) split 6/3/3 by person."""
    xs, rows = [], []
    for p in range(n_people):
        x, y = _smooth_vs_sharp(size, seed=p, n=4)
        xs.append(x)
        rows += [{"identity": f"p{p}", "video": f"p{p}", "label": int(label), "frame": i,
                  "setting": "fake" if label else "real", "kind": "self", "path": ""}
                 for i, label in enumerate(y)]
    table = pd.DataFrame(rows)
    table["split"] = table.identity.map(lambda i: "train" if int(i[1:]) < 6 else "val" if int(i[1:]) < 9 else "test")
    return np.concatenate(xs), table


def test_hardening_raises_auc_on_adversarial_fakes(tmp_path):
    images, table = _people()
    cfg = DetectorTrainConfig(detector="spectral_logreg", seed=0)
    plain = train_hardened(cfg, images, table, ["fake"], tmp_path / "plain", progress=False)
    fakes = table[table.label == 1]
    adv = pgd(images[fakes.index.to_numpy()], [plain], 4, steps=10)
    images = np.concatenate([images, adv])
    table = pd.concat([table, fakes.assign(setting="fake+pgd4")], ignore_index=True)
    hard = train_hardened(cfg, images, table, ["fake", "fake+pgd4"], tmp_path / "hard", progress=False)

    test = table[(table.split == "test") & (table.setting != "fake")]
    x, y = images[test.index.to_numpy()], test.label.to_numpy()
    before, after = auc(y, plain.predict_proba(x)), auc(y, hard.predict_proba(x))
    clean = table[(table.split == "test") & (table.setting != "fake+pgd4")]
    assert auc(clean.label, plain.predict_proba(images[clean.index.to_numpy()])) > 0.9  # a working detector
    assert before < 0.5, before  # which the white-box attack defeats
    assert after > before + 0.3, (before, after)  # and hardening recovers
    again = train_hardened(cfg, images, table, ["fake", "fake+pgd4"], tmp_path / "hard", progress=False)
    assert np.array_equal(again.predict_proba(x), hard.predict_proba(x))  # a finished one is loaded


def test_unknown_setting_is_an_error(tmp_path):
    images, table = _people(6)
    with pytest.raises(TalkbenchError, match="no fakes of setting"):
        train_hardened(DetectorTrainConfig(detector="spectral_logreg"), images, table, ["nope"], tmp_path)
