"""USER per setting from recorded answers: counts, binomial CIs, attention-check exclusion,
and the two CLI commands."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from talkbench.cli import main
from talkbench.study.app import create_app
from talkbench.study.results import COLUMNS, binomial_ci


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval written out (the reference for scipy's)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize("k,n", [(0, 10), (3, 10), (10, 10), (17, 51), (1, 1)])
def test_wilson_interval(k, n):
    assert binomial_ci(k, n, "wilson") == pytest.approx(wilson(k, n), abs=1e-12)


def test_clopper_pearson_interval():
    # exact interval for 0/10: upper = 1 - 0.025 ** (1/10)
    assert binomial_ci(0, 10, "exact") == pytest.approx((0.0, 1 - 0.025 ** 0.1), abs=1e-12)
    low, high = binomial_ci(5, 10, "exact")
    assert low == pytest.approx(1 - high) and low == pytest.approx(0.18708602, abs=1e-7)


def start(client) -> str:
    token = client.application.extensions["talkbench_study"]["start_token"]
    return client.post("/start", data={"csrf": token}).headers["Location"].rsplit("/", 1)[1]


def play(client, run, current_answer, policy) -> str:
    """One participant clicking through the whole study; ``policy(kind, setting_index)`` says
    whether to pick the odd image."""
    pid = start(client)
    n = 0
    while b"Thank you" not in client.get(f"/p/{pid}").data:
        idx, answer, kind = current_answer(run, pid)
        choice = answer if policy(kind, n) else (answer + 1) % 3
        assert client.post(f"/p/{pid}/answer", data={"trial": idx, "choice": choice}).status_code == 303
        n += 1
    return pid


def test_results_exclude_attention_failures(run_dir, current_answer, capsys):
    client = create_app(run_dir, trials_per_participant=6, attention_checks=2, seed=0).test_client()
    play(client, run_dir, current_answer, lambda kind, n: True)              # finds every fake
    play(client, run_dir, current_answer, lambda kind, n: kind == "attention")  # never finds a fake
    play(client, run_dir, current_answer, lambda kind, n: kind == "test")    # misses attention: excluded
    # a fourth participant stops after the first screen (a test trial): still counted
    pid = start(client)
    client.get(f"/p/{pid}")
    idx, answer, kind = current_answer(run_dir, pid)
    assert kind == "test"
    client.post(f"/p/{pid}/answer", data={"trial": idx, "choice": answer})

    assert main(["study", "results", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "participants: 4 (3 finished), excluded for failed attention checks: 1" in out
    assert "attention checks passed: 4/6" in out
    table = pd.read_csv(run_dir / "results" / "user.csv")
    assert list(table.columns) == COLUMNS
    assert list(table.setting) == ["FF_T1", "FF_T8", "FT_T8"] and list(table["T"]) == [1, 8, 8]
    assert table.n_trials.sum() == 6 + 6 + 1 and (table.n_excluded == 1).all()
    # participants 1 and 2 saw two screens per setting; participant 4 one more in one setting
    assert sorted(table.n_trials) == [4, 4, 5]
    for r in table.itertuples():
        correct = 2 + (r.n_trials == 5)
        assert r.user == pytest.approx(correct / r.n_trials)
        assert (r.ci_low, r.ci_high) == pytest.approx(wilson(correct, r.n_trials))
        assert r.n_participants == 2 + (r.n_trials == 5)

    assert main(["study", "results", str(run_dir), "--max-attention-errors", "2", "--ci", "exact"]) == 0
    table = pd.read_csv(run_dir / "results" / "user.csv")
    assert table.n_trials.sum() == 19 and (table.n_excluded == 0).all()
    assert (table.user * table.n_trials).sum() == pytest.approx(6 + 6 + 1)  # participants 1, 3 and 4 found them


def test_results_with_no_answers_and_errors(tmp_path, run_dir, capsys):
    assert main(["study", "results", str(run_dir)]) == 2
    assert "run `talkbench study serve" in capsys.readouterr().err
    create_app(run_dir)
    assert main(["study", "results", str(run_dir)]) == 0
    table = pd.read_csv(run_dir / "results" / "user.csv")
    assert (table.n_trials == 0).all() and table.user.isna().all()
    assert main(["study", "serve", str(tmp_path / "missing")]) == 2
    assert main(["study", "serve", str(run_dir), "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "is not a run directory" in err and "--port" in err


def test_help(capsys):
    for argv in (["study", "--help"], ["study", "serve", "--help"], ["study", "results", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--trials-per-participant N" in out and "Wilson score interval" in out and "95% confidence" in out
