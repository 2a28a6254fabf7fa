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


def test_shots_differences_pair_the_same_people_and_say_which_way_it_went(tmp_path):
    import numpy as np

    from talkbench.benchmarks.stages.realism import PersonValues, shots_differences
    from talkbench.metrics.base import mean_ci
    from talkbench.metrics.jackknife import paired_difference
    from talkbench.reports.shots import shots_section

    t1 = {"a": 0.50, "b": 0.40, "c": 0.62, "d": 0.55}
    t8 = {"a": 0.58, "b": 0.47, "c": 0.71, "d": 0.61, "e": 0.9}  # "e" has no T = 1 value: not paired
    flat = {k: v + d for (k, v), d in zip(t8.items(), (0.01, -0.01, 0.0, 0.005, 0))}
    by_person = {
        ("FT", "self", "SSIM"): {1: PersonValues(True, "t", t1), 8: PersonValues(True, "t", t8),
                                 32: PersonValues(True, "t", flat)},
        ("FT", "self", "FID"): {1: PersonValues(False, "jackknife", {"a": 150.0, "b": 160.0, "c": 149.0, "d": 155.0},
                                                153.0),
                                8: PersonValues(False, "jackknife", {"a": 152.4, "b": 162.6, "c": 151.5, "d": 157.5},
                                                155.5)}}
    by_person[("FT", "cross", "FID")] = {1: PersonValues(False, "jackknife", {"a": 150.0, "b": 160.0}, 155.0),
                                         8: PersonValues(False, "jackknife", {"a": 140.0, "b": 150.0}, 145.0)}
    df = shots_differences(by_person)
    assert "cross" not in set(df["kind"])  # 2 people: no spread to estimate, so no row (not a zero-width "CI")
    df = df.set_index(["metric", "T_a", "T_b"])
    ssim = df.loc[("SSIM", 1, 8)]
    expected = mean_ci(np.array([t8[k] - t1[k] for k in t1]))
    assert (ssim["diff"], ssim["ci_low"], ssim["ci_high"]) == pytest.approx(expected)
    assert ssim["n_people"] == 4 and ssim["verdict"] == "better"
    assert df.loc[("SSIM", 8, 32), "verdict"] == "no difference"
    # with more than two T, also the fewest against the most shots, paired the same way
    span = df.loc[("SSIM", 1, 32)]
    assert (span["diff"], span["ci_low"], span["ci_high"]) == pytest.approx(
        mean_ci(np.array([flat[k] - t1[k] for k in t1])))
    assert span["verdict"] == "better" and ("FID", 1, 32) not in df.index  # FID has two T: no span row
    fid = df.loc[("FID", 1, 8)]
    assert (fid["diff"], fid["ci_low"], fid["ci_high"], fid["n_people"]) == pytest.approx(
        paired_difference(153.0, by_person[("FT", "self", "FID")][1].people, 155.5,
                          by_person[("FT", "self", "FID")][8].people))
    assert fid["verdict"] == "worse" and fid["interval"] == "jackknife"  # lower FID is better: it rose

    (tmp_path / "results").mkdir()
    shots_differences(by_person).to_csv(tmp_path / "results" / "realism_vs_shots.csv", index=False)
    sec = shots_section(tmp_path)
    assert sec is not None and sec.tables[0].rows == ["FT self · T=1→8", "FT self · T=8→32", "FT self · T=1→32"]
    assert sec.tables[0].cell("FT self · T=1→8", "FID").detail == "worse"
    assert sec.text == ["FT self-reenactment, from one T to the next: more shots better in 1, worse in 1, no "
                        "difference shown in 1 of 3 paired comparisons; from T = 1 to 32: more shots better in 1, "
                        "worse in 0, no difference shown in 0 of 1 paired comparisons."]


def test_ft_vs_ff_differences_pair_each_t_over_the_same_people(tmp_path):
    """FT minus FF at each T both models have, on the people both have; the report's section
    shows them and the findings state FT against FF from them."""
    import numpy as np

    from talkbench.benchmarks.stages.realism import PersonValues, ft_vs_ff_differences
    from talkbench.metrics.base import mean_ci
    from talkbench.reports.shots import ft_vs_ff_section

    ff = {"a": 0.50, "b": 0.40, "c": 0.62, "d": 0.55}
    ft = {"a": 0.52, "b": 0.43, "c": 0.63, "d": 0.58, "e": 0.9}
    by_person = {("FF", "self", "SSIM"): {1: PersonValues(True, "t", ff), 8: PersonValues(True, "t", ff)},
                 ("FT", "self", "SSIM"): {1: PersonValues(True, "t", ft), 32: PersonValues(True, "t", ft)},
                 ("FT", "self", "NME"): {1: PersonValues(False, "t", ft)}}  # no FF NME: no row
    df = ft_vs_ff_differences(by_person)
    assert df[["kind", "metric", "T"]].values.tolist() == [["self", "SSIM", 1]]  # T = 8 and 32: one model only
    row = df.iloc[0]
    assert (row["diff"], row["ci_low"], row["ci_high"]) == pytest.approx(mean_ci(np.array([ft[k] - ff[k] for k in ff])))
    assert row["n_people"] == 4 and row["verdict"] == "better"

    (tmp_path / "results").mkdir()
    df.to_csv(tmp_path / "results" / "realism_ft_vs_ff.csv", index=False)
    sec = ft_vs_ff_section(tmp_path)
    assert sec is not None and sec.tables[0].rows == ["self · T=1"] and sec.tables[0].cell("self · T=1", "SSIM").ok
    assert sec.text == ["self-reenactment: FT better in 1, worse in 0, no difference shown in 0 of 1 paired comparisons."]
