"""USER per setting: the fraction of trials where participants found the fake (chance 1/3,
lower = more realistic), with binomial 95 % confidence intervals.

Participants who miss more attention checks than allowed are excluded entirely (all their
answers) and counted. Answers of participants who stopped early still count: every click
is a valid judgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from scipy.stats import binomtest

from talkbench.contracts import USER_COLUMNS
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path
from talkbench.study.app import db_path
from talkbench.study.store import Store
from talkbench.study.trials import Registry, load_or_register

COLUMNS = USER_COLUMNS  # results/user.csv (talkbench.contracts)
CI_METHODS = {"wilson": "wilson", "exact": "exact"}  # exact = Clopper-Pearson


@dataclass(frozen=True)
class Summary:
    n_participants: int
    n_excluded: int
    n_finished: int
    attention_answered: int
    attention_correct: int


def binomial_ci(k: int, n: int, method: str = "wilson") -> tuple[float, float]:
    """95 % interval for a proportion k/n (scipy's binomtest; "exact" is Clopper-Pearson)."""
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method=CI_METHODS[method])
    return float(ci.low), float(ci.high)


def user_table(registry: Registry, responses: list[dict], ci: str = "wilson",
               max_attention_errors: int = 0) -> tuple[pd.DataFrame, Summary]:
    """One row per registered setting (COLUMNS); settings without answers have empty USER."""
    if ci not in CI_METHODS:
        raise TalkbenchError(f"unknown CI method {ci!r}; choose one of {', '.join(CI_METHODS)}")
    df = pd.DataFrame(responses, columns=["pid", "number", "n_trials", "idx", "kind", "setting", "identity", "video",
                                          "choice", "answer", "correct", "rt_ms"])
    attention = df[df.kind == "attention"]
    errors = (1 - attention.correct).groupby(attention.pid).sum()
    excluded = set(errors[errors > max_attention_errors].index)
    tests = df[(df.kind == "test") & ~df.pid.isin(excluded)]

    rows = []
    for s in registry.settings:
        sel = tests[tests.setting == s.name]
        n, k = len(sel), int(sel.correct.sum())
        low, high = binomial_ci(k, n, ci) if n else (None, None)
        rows.append({"setting": s.name, "mode": s.mode, "T": s.T, "user": k / n if n else None,
                     "ci_low": low, "ci_high": high, "n_trials": n,
                     "n_participants": sel.pid.nunique(), "n_excluded": len(excluded)})
    answered = df.groupby("pid").agg(done=("idx", "size"), total=("n_trials", "first"))
    summary = Summary(n_participants=df.pid.nunique(), n_excluded=len(excluded),
                      n_finished=int((answered.done == answered.total).sum()), attention_answered=len(attention), attention_correct=int(attention.correct.sum()))
    return pd.DataFrame(rows, columns=COLUMNS), summary


def write_results(run: str | Path, ci: str = "wilson", max_attention_errors: int = 0) -> tuple[Path, pd.DataFrame, Summary]:
    """Compute USER from RUN/study/responses.sqlite and write RUN/results/user.csv."""
    run = Path(run)
    if not db_path(run).is_file():
        raise TalkbenchError(f"no study responses in {db_path(run)}: run `talkbench study serve {run}` first")
    registry = load_or_register(run)
    store = Store(db_path(run))
    table, summary = user_table(registry, store.responses(), ci, max_attention_errors)
    out = run / "results" / "user.csv"
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False)
    return out, table, summary
