"""PGD on finished fakes: ε is respected exactly, and the attacked detector's score falls."""

from __future__ import annotations

import numpy as np
import pytest

from talkbench.detector.attack import pgd
from talkbench.detector.registry import create_detector
from talkbench.errors import TalkbenchError
from tests.adversarial.test_differentiable import _smooth_vs_sharp


@pytest.fixture(scope="module")
def spectral():
    x, y = _smooth_vs_sharp()
    return create_detector("spectral_logreg").fit(x, y), x[y == 1]


@pytest.mark.parametrize("eps", [1, 2, 4])
def test_pgd_respects_eps_exactly(spectral, eps):
    det, fakes = spectral
    fakes = fakes.copy()
    fakes[0, :4] = 0  # pixels at the range's ends stay in range
    fakes[1, :4] = 255
    adv = pgd(fakes, [det], eps, steps=5)
    diff = np.abs(adv.astype(int) - fakes.astype(int))
    assert adv.dtype == np.uint8 and adv.shape == fakes.shape
    assert diff.max() == eps  # reached, never exceeded
    assert (diff <= eps).all()


def test_pgd_lowers_the_attacked_detectors_score(spectral):
    det, fakes = spectral
    before = det.predict_proba(fakes)
    after = det.predict_proba(pgd(fakes, [det], 4, steps=10))
    assert before.mean() > 0.8, before  # the detector sees the fakes
    assert after.mean() < 0.5 * before.mean(), (before.mean(), after.mean())


def test_pgd_timm_and_edge_cases():
    det = create_detector("test_resnet_64")
    x = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    assert np.array_equal(pgd(x, [det], 0), x)
    adv = pgd(x, [det], 2, steps=3)
    assert np.abs(adv.astype(int) - x.astype(int)).max() == 2
    assert det.predict_proba(adv).mean() < det.predict_proba(x).mean()
    with pytest.raises(TalkbenchError, match="whole number"):
        pgd(x, [det], 1.5)
    with pytest.raises(TalkbenchError, match="at least one detector"):
        pgd(x, [], 2)
