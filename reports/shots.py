"""The report sections read from the realism stage's paired differences: "Realism versus
shots" (does each model get better with more shots? ``results/realism_vs_shots.csv``) and
"FT versus FF" (does fine-tuning beat the feed-forward model at the same T?
``results/realism_ft_vs_ff.csv``); docs/CONTRACTS.md has the columns. Table 1 gives each
setting's value with its own interval; those intervals include how hard each person is,
which cancels in a difference taken person by person, so these are where such changes can be
shown."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from talkbench.reports.document import Section
from talkbench.reports.tables import Cell, Table, _num

SHOTS_FILE = "realism_vs_shots.csv"
FT_VS_FF_FILE = "realism_ft_vs_ff.csv"
_PAIRED_CI = ("[95 % CI: Student-t over per-person differences; FID and IFD: jackknife over people]; 'better' when "
              "the CI excludes 0 in the metric's better direction (L1, FID, NME: lower).")


def shots_row(mode: str, kind: str, t_a: int, t_b: int) -> str:
    """The shots table's row for the change of ``mode`` ``kind``-reenactment from T_a to T_b."""
    return f"{mode} {kind} · T={t_a}→{t_b}"


def ft_vs_ff_row(kind: str, t: int) -> str:
    """The FT-versus-FF table's row for ``kind``-reenactment at T = ``t``."""
    return f"{kind} · T={t}"


def read_paired(run_path: Path, name: str) -> pd.DataFrame:
    """``results/<name>`` (empty where the run has none: older runs, a single T or model)."""
    path = run_path / "results" / name
    return pd.read_csv(path, keep_default_na=False) if path.is_file() else pd.DataFrame()


def _paired_table(diffs: pd.DataFrame, row_of: Callable[[pd.Series], str], title: str, caption: str) -> Table:
    """Rows from ``row_of``, metric columns, each cell a difference with its interval and verdict."""
    rows: list[str] = []
    cols: list[str] = []
    cells = {}
    for _, r in diffs.iterrows():
        row, col = row_of(r), str(r["metric"])
        rows += [row] if row not in rows else []
        cols += [col] if col not in cols else []
        n = int(r["n_people"])
        cells[(row, col)] = Cell(_num(r["diff"]), _num(r["ci_low"]), _num(r["ci_high"]), status="ok", n=n,
                                 higher_is_better=str(r["higher_is_better"]) == "True", units=n, unit="people",
                                 detail=str(r["verdict"]))
    return Table(title, rows, cols, cells, caption)


def shots_table(diffs: pd.DataFrame) -> Table:
    """Mode · kind · T step rows, metric columns: the change from the fewer to the more shots."""
    return _paired_table(diffs, lambda r: shots_row(str(r["mode"]), str(r["kind"]), int(r["T_a"]), int(r["T_b"])),
                         "Realism versus shots (paired over the same people)",
                         "Each cell: the metric at the larger T minus at the smaller T, on the same test people "
                         + _PAIRED_CI)


def ft_vs_ff_table(diffs: pd.DataFrame) -> Table:
    """Kind · T rows, metric columns: FT minus FF at the same T."""
    return _paired_table(diffs, lambda r: ft_vs_ff_row(str(r["kind"]), int(r["T"])),
                         "FT versus FF (paired over the same people)",
                         "Each cell: the metric of the fine-tuned (FT) model minus the feed-forward (FF) one at the "
                         "same T, on the same test people, frames and drivers " + _PAIRED_CI)


def shots_section(run_path: Path, title: str = "") -> Section | None:
    diffs = read_paired(run_path, SHOTS_FILE)
    if diffs.empty:
        return None
    sec = Section(f"Realism versus shots{title}", tables=[shots_table(diffs)])
    for (mode, kind), part in diffs.groupby(["mode", "kind"], sort=False):
        span = (part["T_a"] == part["T_a"].min()) & (part["T_b"] == part["T_b"].max())
        steps = part[~span] if (~span).any() else part  # two T only: the one step is the span
        text = f"{mode} {kind}-reenactment, from one T to the next: {_counts(steps, 'more shots')}"
        if (~span).any() and span.any():
            text += (f"; from T = {int(part['T_a'].min())} to {int(part['T_b'].max())}: "
                     f"{_counts(part[span], 'more shots')}")
        sec.text.append(text + ".")
    return sec


def _counts(part: pd.DataFrame, what: str) -> str:
    """"<what> better in b, worse in w, no difference shown in n of N paired comparisons"."""
    counts = part["verdict"].value_counts()
    return (f"{what} better in {counts.get('better', 0)}, worse in {counts.get('worse', 0)}, no difference shown in "
            f"{counts.get('no difference', 0)} of {len(part)} paired comparisons")


def ft_vs_ff_section(run_path: Path, title: str = "") -> Section | None:
    diffs = read_paired(run_path, FT_VS_FF_FILE)
    if diffs.empty:
        return None
    sec = Section(f"FT versus FF{title}", tables=[ft_vs_ff_table(diffs)])
    for kind, part in diffs.groupby("kind", sort=False):
        sec.text.append(f"{kind}-reenactment: {_counts(part, 'FT')}.")
    return sec
