"""Several runs side by side: one table with each Table-1 column repeated per run, and the
differences against the first run (the baseline) flagged where they are clear — the two 95 %
confidence intervals do not overlap — as better or worse for that metric."""

from __future__ import annotations

from talkbench.reports.results import RunResults
from talkbench.reports.tables import Cell, Table, table1


def clear_difference(base: Cell, other: Cell, higher_is_better: bool | None) -> str:
    """"better"/"worse" when ``other``'s CI lies wholly above/below ``base``'s, else "" (also
    when no direction is known: the results say which way is better, the report does not)."""
    if higher_is_better is None or not (base.ok and other.ok and base.has_ci and other.has_ci):
        return ""  # no interval from one unit
    if other.interval[0] > base.interval[1]:
        return "better" if higher_is_better else "worse"
    if other.interval[1] < base.interval[0]:
        return "worse" if higher_is_better else "better"
    return ""


def side_by_side(runs: list[RunResults], kind: str = "self") -> Table:
    """Rows mode × T (union over runs); columns ``<metric> · <run>`` per metric, runs adjacent."""
    tables = [table1(r, kind) for r in runs]
    rows = list(dict.fromkeys(r for t in tables for r in t.rows))
    metrics = list(dict.fromkeys(c for t in tables for c in t.columns))
    columns, cells = [], {}
    for col in metrics:
        for run, table in zip(runs, tables):
            name = f"{col} · {run.label}"
            columns.append(name)
            for row in rows:
                cell = table.cell(row, col)
                if run is not runs[0]:
                    base = tables[0].cell(row, col)
                    cell = Cell(**{**cell.as_dict(), "flag": clear_difference(base, cell, cell.higher_is_better)})
                cells[(row, name)] = cell
    caption = (f"{kind}-reenactment; baseline: {runs[0].label}. Highlighted: the 95 % CIs do not overlap "
               "(green better, red worse than the baseline for that metric). Hover a value for its CI.")
    return Table(f"Runs side by side — {kind}", rows, columns, cells, caption, compact=True).without_empty_columns()
