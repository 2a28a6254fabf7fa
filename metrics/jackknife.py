"""Confidence intervals for set metrics (FID, IFD) by the jackknife over groups (people).

A set metric gives one number per set of frames, so the per-person Student-t interval of the
per-image metrics does not apply. People are the independent units of a few-shot test set:
leaving one person out at a time (their real and their fake frames) gives G values θ₋ᵢ, and
the jackknife standard error is √((G − 1)/G · Σ (θ₋ᵢ − θ̄)²) (Efron & Tibshirani, "An
Introduction to the Bootstrap", ch. 11), with a Student-t quantile on G − 1 degrees of freedom.

The θ₋ᵢ rest on fewer frames than the full value, and FID is biased upwards at small n; the
bias is about the same for every θ₋ᵢ, so it shifts them together and leaves their spread,
which is all the interval uses. The difference of two settings' values on the same people
(FID at T = 8 minus FID at T = 1) is jackknifed the same way, person by person, and is far
tighter than two separate intervals: the people's own difficulty cancels.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping

import numpy as np

MIN_GROUPS = 3  # fewer people give no usable spread


def jackknife_interval(full: float, loo: Mapping[str, float] | np.ndarray, level: float = 0.95,
                       bounds: tuple[float, float] = (-math.inf, math.inf)) -> tuple[float, float]:
    """The ``level`` interval around ``full`` from its leave-one-group-out values ``loo``,
    clipped to ``bounds``; (full, full) with fewer than :data:`MIN_GROUPS` groups."""
    from scipy import stats

    values = np.asarray(list(loo.values()) if isinstance(loo, Mapping) else loo, np.float64)
    g = len(values)
    if g < MIN_GROUPS:
        return full, full
    se = math.sqrt((g - 1) / g * float(((values - values.mean()) ** 2).sum()))
    half = float(stats.t.ppf(0.5 + level / 2, g - 1)) * se
    return max(full - half, bounds[0]), min(full + half, bounds[1])


def leave_one_group_out(value: Callable[[np.ndarray, np.ndarray], float], real: np.ndarray, fake: np.ndarray,
                        real_groups: np.ndarray, fake_groups: np.ndarray, min_samples: int = 2) -> dict[str, float]:
    """``value(real, fake)`` with each group's rows left out of both sets, by group; empty
    when there are fewer than :data:`MIN_GROUPS` groups or a left-out set gets too small."""
    real_groups, fake_groups = np.asarray(real_groups).astype(str), np.asarray(fake_groups).astype(str)
    if len(real_groups) != len(real) or len(fake_groups) != len(fake):
        raise ValueError(f"one group label per row: {len(real_groups)} labels for {len(real)} real rows, "
                         f"{len(fake_groups)} for {len(fake)} fake rows")
    groups = sorted(set(real_groups) | set(fake_groups))
    if len(groups) < MIN_GROUPS:
        return {}
    out = {}
    for g in groups:
        r, f = real[real_groups != g], fake[fake_groups != g]
        if min(len(r), len(f)) < min_samples:
            return {}
        out[g] = float(value(r, f))
    return out


def paired_difference(a_full: float, a_loo: Mapping[str, float], b_full: float, b_loo: Mapping[str, float],
                      level: float = 0.95) -> tuple[float, float, float, int]:
    """b − a with its jackknife interval over the groups both were computed on:
    (difference, low, high, groups); with fewer than :data:`MIN_GROUPS` groups the interval
    is (b − a, b − a), no interval at all, which callers must not read as one."""
    common = sorted(set(a_loo) & set(b_loo))
    diff = b_full - a_full
    lo, hi = jackknife_interval(diff, np.array([b_loo[g] - a_loo[g] for g in common]), level)
    return diff, lo, hi, len(common)
