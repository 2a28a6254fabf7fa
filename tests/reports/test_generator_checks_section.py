"""The generator-checks section says how many people each check rests on when they differ."""

from __future__ import annotations

import pandas as pd

from talkbench.benchmarks.generator_checks import CHECK_COLUMNS
from talkbench.reports.generator_checks import generator_checks_section


def _write(run, n_ff: int, n_ft: int) -> None:
    rows = [{"check": check, "T": 8, "metric": "ssim", "a": "x", "b": "y", "a_mean": 0.5, "b_mean": 0.4, "diff": 0.1,
             "ci_low": 0.05, "ci_high": 0.15, "n_people": n, "higher_is_better": True, "holds": True}
            for check, n in (("own_vs_other", n_ff), ("own_vs_mean", n_ff), ("ft_vs_nearest_shot", n_ft))]
    (run / "results").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=CHECK_COLUMNS).to_csv(run / "results" / "generator_checks.csv", index=False)


def test_people_per_check_are_stated_when_the_ff_checks_cover_more_people(tmp_path):
    _write(tmp_path, 20, 10)
    text = " ".join(generator_checks_section(tmp_path).text)
    assert "3 of 3 paired comparisons hold" in text
    assert "FF own ê − FF other person's ê 20" in text and "FT − nearest shot frame 10" in text
    _write(tmp_path, 10, 10)
    assert "People per check" not in " ".join(generator_checks_section(tmp_path).text)
