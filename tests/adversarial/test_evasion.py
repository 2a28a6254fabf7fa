"""Detector-aware fine-tuning: λ = 0 is plain FT bit for bit; λ > 0 lowers a tiny
detector's score on the person's fakes within a few steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkbench.data.dataset import FaceDataset
from talkbench.detector.differentiable import EvasionLoss
from talkbench.detector.registry import create_detector
from talkbench.generator.episodes import few_shot_cases
from talkbench.generator.ft_config import FineTuneConfig
from talkbench.generator.fewshot import build_fewshot

FT = FineTuneConfig(steps=6, lr_g=1e-3, lr_d=1e-3)


@pytest.fixture(scope="module")
def person(tiny_faces):
    return few_shot_cases(FaceDataset(tiny_faces), shots=(4,), max_videos=1)[0]


@pytest.fixture(scope="module")
def tiny_detector(checkpoint, tiny_faces, person):
    """A spectral detector fitted on real frames vs the FF model's fakes of train people."""
    ds = FaceDataset(tiny_faces)
    real, fake = [], []
    for video in ds.videos("train")[:4]:
        frames, marks = ds.load(video)
        ff = build_fewshot(checkpoint, frames[:4], marks[:4], "FF", device="cpu")
        real.append(frames)
        fake.append(ff.generate(marks))
    x, y = np.concatenate(real + fake), np.r_[np.zeros(sum(map(len, real))), np.ones(sum(map(len, fake)))]
    return create_detector("spectral_logreg", size=ds.size).fit(x, y)


def _ft(checkpoint, person, extra=None):
    return build_fewshot(checkpoint, person.shot_frames, person.shot_landmarks, "FT", device="cpu", ft=FT,
                         extra_loss=extra)


def test_lambda_zero_is_plain_ft_bit_for_bit(checkpoint, person, tiny_detector):
    plain = _ft(checkpoint, person)
    zero = _ft(checkpoint, person, EvasionLoss([tiny_detector], 0.0))
    a, b = plain.state_dict(), zero.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert np.array_equal(plain.generate(person.heldout_landmarks), zero.generate(person.heldout_landmarks))
    assert plain.info["ft_losses"] == zero.info["ft_losses"]
    assert "adversarial" in zero.generator_name and "adversarial" not in plain.generator_name


def test_evasion_lowers_the_detectors_score(checkpoint, person, tiny_detector):
    plain = tiny_detector.predict_proba(_ft(checkpoint, person).generate(person.heldout_landmarks))
    evade = _ft(checkpoint, person, EvasionLoss([tiny_detector], 5.0))
    scores = tiny_detector.predict_proba(evade.generate(person.heldout_landmarks))
    assert plain.mean() > 0.2, plain  # the detector sees plain FT fakes as fake often enough (0.29 here)
    assert scores.mean() < 0.5 * plain.mean(), (plain.mean(), scores.mean())
    assert "evasion λ=5 against spectral_logreg" in evade.info["extra_loss"]


def test_ff_with_an_extra_loss_is_an_error(checkpoint, person, tiny_detector):
    from talkbench.errors import TalkbenchError

    with pytest.raises(TalkbenchError, match="needs mode FT"):
        build_fewshot(checkpoint, person.shot_frames, person.shot_landmarks, "FF", device="cpu",
                      extra_loss=EvasionLoss([tiny_detector], 1.0))
