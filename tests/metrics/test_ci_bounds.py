"""Confidence intervals never leave the values a metric can take."""

import numpy as np
import pytest

from talkbench.metrics.base import mean_ci
from talkbench.metrics.pixel import L1
from talkbench.metrics.ssim import SSIM


def test_t_interval_is_clipped_to_the_bounds():
    # Few, spread values: unclipped, the Student-t interval of a rate leaves [0, 1].
    _, lo, hi = mean_ci(np.array([0.0, 1.0, 1.0]))
    assert lo < 0.0 and hi > 1.0
    mean, lo, hi = mean_ci(np.array([0.0, 1.0, 1.0]), bounds=(0.0, 1.0))
    assert (lo, hi) == (0.0, 1.0) and mean == pytest.approx(2 / 3)


def test_metric_results_carry_their_bounds(rng):
    real = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    fake = real.copy()
    fake[0] = 255 - fake[0]  # one pair far off, two identical: a wide interval
    for metric, bounds in ((SSIM(), (-1.0, 1.0)), (L1(), (0.0, 255.0))):
        metric.update(list(fake), list(real))
        result = metric.compute()
        assert result.bounds == bounds
        assert bounds[0] <= result.ci_low <= result.value <= result.ci_high <= bounds[1]
        assert "bounds" not in result.as_row()  # realism.csv columns are unchanged
