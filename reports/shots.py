"""The report section "Realism versus shots": does each model get better with more shots,
measured on the same people? Reads ``results/realism_vs_shots.csv`` (the realism stage's
paired differences; docs/CONTRACTS.md has the columns). Table 1 gives each setting's value
with its own interval; those intervals include how hard each person is, which cancels in a
difference taken person by person, so this is where a change with T can be shown."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from talkbench.reports.document import Section
from talkbench.reports.tables import Cell, Table, _num


def shots_row(mode: str, kind: str, t_a: int, t_b: int) -> str:
    """The shots table's row for the change of ``mode`` ``kind``-reenactment from T_a to T_b."""
    return f"{mode} {kind} · T={t_a}→{t_b}"


def read_shots(run_path: Path) -> pd.DataFrame:
    """``results/realism_vs_shots.csv`` (empty where the run has none: older runs, one T)."""
    path = run_path / "results" / "realism_vs_shots.csv"
    return pd.read_csv(path, keep_default_na=False) if path.is_file() else pd.DataFrame()


def shots_table(diffs: pd.DataFrame) -> Table:
    """Mode · kind · T step rows, metric columns: the change from the fewer to the more shots."""
    rows: list[str] = []
    cols: list[str] = []
    cells = {}
    for _, r in diffs.iterrows():
        row = shots_row(str(r["mode"]), str(r["kind"]), int(r["T_a"]), int(r["T_b"]))
        col = str(r["metric"])
        rows += [row] if row not in rows else []
        cols += [col] if col not in cols else []
        n = int(r["n_people"])
        cells[(row, col)] = Cell(_num(r["diff"]), _num(r["ci_low"]), _num(r["ci_high"]), status="ok", n=n,
                                 higher_is_better=str(r["higher_is_better"]) == "True", units=n, unit="people",
                                 detail=str(r["verdict"]))
    return Table("Realism versus shots (paired over the same people)", rows, cols, cells,
                 "Each cell: the metric at the larger T minus at the smaller T, on the same test people "
                 "[95 % CI: Student-t over per-person differences; FID and IFD: jackknife over people]; "
                 "'better' when the CI excludes 0 in the metric's better direction (L1, FID, NME: lower).")


def shots_section(run_path: Path, title: str = "") -> Section | None:
    diffs = read_shots(run_path)
    if diffs.empty:
        return None
    sec = Section(f"Realism versus shots{title}", tables=[shots_table(diffs)])
    for (mode, kind), part in diffs.groupby(["mode", "kind"], sort=False):
        counts = part["verdict"].value_counts()
        sec.text.append(f"{mode} {kind}-reenactment: more shots better in {counts.get('better', 0)}, worse in "
                        f"{counts.get('worse', 0)}, no difference shown in {counts.get('no difference', 0)} "
                        f"of {len(part)} paired comparisons.")
    return sec
