"""How per-person metric results become one realism.csv row."""

import pytest

from talkbench.benchmarks.stages.realism import over_people
from talkbench.metrics.base import MetricResult


def test_mean_over_people_with_a_bounded_ci_even_when_the_first_person_has_no_face():
    bounded = dict(backend="dlib", bounds=(0.0, 1.0))
    people = [MetricResult.unavailable("FaceMissRate-dlib", "no face", False, "dlib"),
              MetricResult("FaceMissRate-dlib", 0.0, n=8, n_failed=0, **bounded),
              MetricResult("FaceMissRate-dlib", 1.0, n=8, n_failed=8, **bounded),
              MetricResult("FaceMissRate-dlib", 1.0, n=8, n_failed=8, **bounded)]
    row = over_people(people)
    assert row["status"] == "ok" and row["value"] == pytest.approx(2 / 3)
    assert (row["ci_low"], row["ci_high"]) == (0.0, 1.0)  # the t interval, clipped to [0, 1]
    assert row["n"] == 24 and row["n_failed"] == 16 and row["n_people"] == 3  # the units of the CI


def test_no_scored_person_is_an_unavailable_row():
    row = over_people([MetricResult.unavailable("CSIM-dlib", "no face found", True, "dlib")])
    assert row["status"] == "unavailable" and row["value"] is None and row["reason"] == "no face found"
