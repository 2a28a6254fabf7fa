"""The report's "Findings": sentences generated from the numbers, each one a comparison the
suite is built to make, stated as a difference only where the two 95 % CIs do not overlap —
or, for a paired difference measured on the same people (realism versus shots, FT versus
FF), where its own 95 % CI excludes 0 — otherwise as "no difference detected at this sample
size (n = ...)".

A finding is a comparison of two cells of one report table (so it can link to that table).
A *finder* turns a run into groups of comparisons; new result tables plug in by appending a
finder to :data:`FINDERS` (e.g. the adversarial or cross-dataset sections), nothing else.
Which way is better comes from the cell (``higher_is_better``, read from the results, which
the metrics registry wrote), never from the sentence.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import pandas as pd

from talkbench.reports.compare import clear_difference
from talkbench.reports.results import RunResults
from talkbench.reports.tables import (Cell, Table, cross_dataset, cross_setting, detectors, fmt, metric_column,
                                      row_label, table1)


@dataclasses.dataclass
class Comparison:
    """Cell ``a`` against cell ``b`` of one table; ``item`` names what is compared (a metric,
    a test setting) within its group. ``b`` None: cell ``a`` is itself the paired difference
    (``a_name`` minus ``b_name`` on the same units), which supports a difference where its CI
    excludes 0 — tighter than two intervals that each include how hard each person is."""

    table: Table
    a: tuple[str, str]  # (row, column)
    b: tuple[str, str] | None
    a_name: str
    b_name: str
    item: str


@dataclasses.dataclass
class Group:
    """Comparisons read together (same two settings, several metrics). ``verb`` joins the
    winner and the loser; ``lower_wins`` reverses the cells' own direction (detectability:
    the generator "wins" when its fakes get the lower AUC); ``lead`` opens every sentence
    (what both cells share, e.g. the detector and what it was trained on), so the names can be
    swapped whichever cell wins."""

    heading: str
    comparisons: list[Comparison]
    verb: str = "beats"
    lower_wins: bool = False
    lead: str = ""


@dataclasses.dataclass
class Finding:
    text: str
    anchor: str  # the table it reads (Table.anchor())
    table_title: str
    supported: bool  # a difference the CIs support


def _n(cells: list[Cell]) -> str:
    """The smallest sample the compared values rest on, in units where known."""
    known = [(c.units, c) for c in cells if c.units is not None]
    if known:
        return min(known, key=lambda uc: uc[0])[1].n_text()
    return f"n = {min(c.n for c in cells)} frames"


def _cells(cmp: Comparison) -> list[Cell]:
    return [cmp.table.cell(*x) for x in (cmp.a, cmp.b) if x is not None]


def _winner(cmp: Comparison, group: Group) -> str:
    """"a"/"b" when that side is better by non-overlapping CIs (a paired difference: by a CI
    clear of 0), else ""."""
    a = cmp.table.cell(*cmp.a)
    higher = a.higher_is_better
    if group.lower_wins and higher is not None:
        higher = not higher
    if cmp.b is None:
        if higher is None or not (a.ok and a.has_ci):
            return ""
        low, high = a.interval
        flag = "better" if (low > 0 if higher else high < 0) else "worse" if (high < 0 if higher else low > 0) else ""
    else:
        flag = clear_difference(cmp.table.cell(*cmp.b), a, higher)  # how a compares against b
    return {"better": "a", "worse": "b"}.get(flag, "")


def _values(cmp: Comparison) -> str:
    """The compared values without intervals: "A vs B", or "A − B = d" for a paired difference."""
    a = cmp.table.cell(*cmp.a).text(False)
    return f"{cmp.a_name} − {cmp.b_name} = {a}" if cmp.b is None else f"{a} vs {cmp.table.cell(*cmp.b).text(False)}"


def group_findings(group: Group) -> list[Finding]:
    """One sentence per supported difference, then one for the rest (no difference at this n,
    no interval, or not measured), each linked to its table."""
    out: list[Finding] = []
    lead = f"{group.lead}: " if group.lead else ""
    by_table: dict[str, Table] = {}
    undecided: dict[str, list[Comparison]] = {"nodiff": [], "noci": [], "na": []}
    for cmp in group.comparisons:
        by_table[cmp.table.anchor()] = cmp.table
        cells = _cells(cmp)
        if not all(c.ok for c in cells):
            undecided["na"].append(cmp)
            continue
        if not all(c.has_ci for c in cells):
            undecided["noci"].append(cmp)
            continue
        side = _winner(cmp, group)
        if not side:
            undecided["nodiff"].append(cmp)
            continue
        wn, ln = (cmp.a_name, cmp.b_name) if side == "a" else (cmp.b_name, cmp.a_name)
        on = f" on {cmp.item}" if cmp.item else ""
        a = cells[0]
        if cmp.b is None:
            text = (f"{lead}{wn} {group.verb} {ln}{on} by {fmt(abs(a.number))} (paired over the same "
                    f"{a.unit or 'units'}: {cmp.a_name} − {cmp.b_name} = {a.text()}; 95 % CI excludes 0, "
                    f"{_n(cells)}).")
        else:
            wc, lc = (a, cells[1]) if side == "a" else (cells[1], a)
            text = (f"{lead}{wn} {group.verb} {ln}{on} by {fmt(abs(wc.number - lc.number))} "
                    f"({wc.text()} vs {lc.text()}; 95 % CIs do not overlap, {_n(cells)}).")
        out.append(Finding(text, cmp.table.anchor(), cmp.table.title, True))
    for key, cmps in undecided.items():
        if not cmps:
            continue
        what = lead + _what(cmps)
        cells = [cell for c in cmps for cell in _cells(c)]
        if key == "nodiff":
            text = f"{what}: no difference detected at this sample size ({_n(cells)})."
        elif key == "noci":
            values = "; ".join(_values(c) for c in cmps)
            text = (f"{what}: no interval to compare ({_n(cells)}), so no difference is claimed"
                    + (f" ({values})." if len(cmps) <= 2 else "."))
        else:
            text = f"{what}: not compared, a value is unavailable or not measured in this run."
        anchor = cmps[0].table.anchor()
        out.append(Finding(text, anchor, by_table[anchor].title, False))
    return out


def _what(cmps: list[Comparison]) -> str:
    """"A vs B on X, Y" for comparisons of one group (B listed when it varies)."""
    b_names = ", ".join(dict.fromkeys(c.b_name for c in cmps))
    items = ", ".join(dict.fromkeys(c.item for c in cmps if c.item))
    return f"{cmps[0].a_name} vs {b_names}" + (f" on {items}" if items else "")


def _shot_pairs(ts: list[int]) -> list[tuple[int, int]]:
    """Most shots against fewest: the comparison Table 1 is built for."""
    return [(max(ts), min(ts))] if len(ts) > 1 else []


def _metric_columns(table: Table) -> list[str]:
    return [c for c in table.columns if not c.startswith("AUC ")]


def _paired(run: RunResults, name: str, make: Callable[[pd.DataFrame], Table]) -> Table | None:
    """The table of the run's paired differences in ``results/<name>`` (None where it has none,
    and for seed aggregates, whose files are one seed's)."""
    from talkbench.reports.shots import read_paired  # shots → document → findings

    diffs = read_paired(run.path, name) if not run.manifest.get("seeds") else pd.DataFrame()
    return make(diffs) if len(diffs) else None


def _comparison(paired: Table | None, row: str, table: Table, a: tuple[str, str], b: tuple[str, str],
                a_name: str, b_name: str, column: str) -> Comparison:
    """Table 1's ``column`` of settings ``a`` against ``b``: the paired difference in ``row`` of
    ``paired`` where it has one for that column, else the two cells of ``table``."""
    metric = next((m for m in paired.columns if metric_column(m) == column and paired.cell(row, m).ok),
                  None) if paired is not None else None
    if paired is not None and metric is not None:
        return Comparison(paired, (row, metric), None, a_name, b_name, column)
    return Comparison(table, a, b, a_name, b_name, column)


def realism_vs_shots(run: RunResults) -> list[Group]:
    """Most shots against fewest, per mode and kind, on every Table 1 metric: paired over the
    same people where the realism stage measured it (``realism_vs_shots.csv``), else the two
    settings' own intervals."""
    from talkbench.reports.shots import SHOTS_FILE, shots_row, shots_table

    paired = _paired(run, SHOTS_FILE, shots_table)
    groups = []
    for kind in ("self", "cross"):
        table = table1(run, kind)
        for mode in sorted({m for m, _ in run.settings}):
            ts = sorted({t for m, t in run.settings if m == mode})
            for hi, lo in _shot_pairs(ts):
                a_name, b_name = f"{mode} at T = {hi}", f"{mode} at T = {lo}"
                row = shots_row(mode, kind, lo, hi)
                cmps = [_comparison(paired, row, table, (row_label(mode, hi), c), (row_label(mode, lo), c),
                                    a_name, b_name, c) for c in _metric_columns(table)]
                groups.append(Group(f"Realism vs shots ({kind}-reenactment)", cmps))
    return groups


def ff_vs_ft(run: RunResults) -> list[Group]:
    """FT against FF at each T, self-reenactment, on every Table 1 metric: paired over the same
    people where the realism stage measured it (``realism_ft_vs_ff.csv``), else the two
    settings' own intervals."""
    from talkbench.reports.shots import FT_VS_FF_FILE, ft_vs_ff_row, ft_vs_ff_table

    table = table1(run, "self")
    modes = {m for m, _ in run.settings}
    if not {"FF", "FT"} <= modes:
        return []
    paired = _paired(run, FT_VS_FF_FILE, ft_vs_ff_table)
    groups = []
    for t in sorted({t for m, t in run.settings if m == "FT"} & {t for m, t in run.settings if m == "FF"}):
        a_name, b_name = f"FT at T = {t}", f"FF at T = {t}"
        cmps = [_comparison(paired, ft_vs_ff_row("self", t), table, (row_label("FT", t), c), (row_label("FF", t), c),
                            a_name, b_name, c) for c in _metric_columns(table)]
        groups.append(Group("Fine-tuning (FT) vs feed-forward (FF)", cmps))
    return groups


def detectability_vs_shots(run: RunResults) -> list[Group]:
    table = table1(run, "self")
    groups = []
    for det in detectors(run):
        for mode in sorted({m for m, _ in run.settings}):
            ts = sorted({t for m, t in run.settings if m == mode})
            for hi, lo in _shot_pairs(ts):
                col = f"AUC {det}"
                cmps = [Comparison(table, (row_label(mode, hi), col), (row_label(mode, lo), col),
                                   f"{mode} at T = {hi}", f"{mode} at T = {lo}", f"{det} AUC")]
                groups.append(Group("Detectability vs shots", cmps, verb="is harder to detect than", lower_wins=True))
    return groups


def own_vs_other(table: Table, heading: str, det: str, what: str) -> list[Group]:
    """A train × test AUC matrix: each row's own column (trained and tested on the same
    setting or dataset) against every other column it is tested on."""
    groups = []
    for train in (r for r in table.rows if r in table.columns):
        cmps = [Comparison(table, (train, train), (train, test), f"its own {what} ({train})", test, "")
                for test in table.columns if test != train]
        if cmps:
            groups.append(Group(heading, cmps, verb="is detected better than", lead=f"{det} trained on {train}"))
    return groups


def cross_setting_generalisation(run: RunResults) -> list[Group]:
    return [g for det in detectors(run) for g in own_vs_other(cross_setting(run, det), "Cross-setting generalisation",
                                                              det, "setting")]


def cross_dataset_generalisation(run: RunResults) -> list[Group]:
    dets = sorted(run.cross_dataset["detector"].astype(str).unique()) if len(run.cross_dataset) else []
    return [g for det in dets for g in own_vs_other(cross_dataset(run, det, "video"),
                                                    "Cross-dataset generalisation (video level)", det, "dataset")]


def adversarial_evasion_and_hardening(run: RunResults) -> list[Group]:
    """Each attack's fakes against the clean FT fakes, per scoring detector (evasion, and
    transfer to the other detectors); and the hardened detector against the attacked one on
    the same fakes (hardening). Reads the adversarial section's own table."""
    from talkbench.reports.adversarial import _read, auc_table

    adv = _read(run.path / "results" / "adversarial.csv")
    if adv.empty:
        return []
    table = auc_table(adv)
    one = f" (seed {run.manifest['seeds'][0]} only)" if run.manifest.get("seeds") else ""  # a seed aggregate
    groups = []
    attacks = [r for r in table.rows if r != "clean"]
    if "clean" in table.rows:
        for attack in attacks:
            cmps = [Comparison(table, (attack, c), ("clean", c), f"{attack} fakes", "clean FT fakes", f"{c} AUC")
                    for c in table.columns]
            groups.append(Group(f"Adversarial evasion{one}", cmps, verb="are harder to detect than", lower_wins=True))
    hardened = [c for c in table.columns if c.endswith("(hardened)")]
    attacked = [c for c in table.columns if c.endswith("(attacked)")]
    for h in hardened:
        for a in attacked:
            cmps = [Comparison(table, (r, h), (r, a), h, a, f"{r} fakes") for r in table.rows]
            groups.append(Group(f"Hardening{one}", cmps, verb="detects better than"))
    return groups


Finder = Callable[[RunResults], list[Group]]
FINDERS: list[Finder] = [realism_vs_shots, ff_vs_ft, detectability_vs_shots, cross_setting_generalisation,
                         cross_dataset_generalisation, adversarial_evasion_and_hardening]


NOT_MEASURED = "Not measured in this run"


def _unmeasured(cmp: Comparison) -> bool:
    """The compared column has no value in any row of its table: the metric (or detector) was
    not measured in this run at all, which one sentence says better than one per comparison."""
    column = cmp.a[1]
    return all(not cmp.table.cell(row, column).ok for row in cmp.table.rows)


def findings(run: RunResults, finders: list[Finder] | None = None) -> list[tuple[str, list[Finding]]]:
    """(heading, findings) in the order of ``finders``; supported differences first. Columns
    with no value anywhere in their table are left out of the comparisons and named once,
    under :data:`NOT_MEASURED`, linked to the table whose notes say why."""
    out: dict[str, list[Finding]] = {}
    unmeasured: dict[tuple[str, str], Table] = {}
    for finder in finders if finders is not None else FINDERS:
        for group in finder(run):
            keep = []
            for cmp in group.comparisons:
                if _unmeasured(cmp):
                    unmeasured.setdefault((cmp.table.anchor(), cmp.a[1]), cmp.table)
                else:
                    keep.append(cmp)
            out.setdefault(group.heading, []).extend(group_findings(dataclasses.replace(group, comparisons=keep)))
    out[NOT_MEASURED] = [Finding(f"{column}: no value in any row of “{table.title}”, so no finding compares it; "
                                 "the table's notes say why.", anchor, table.title, False)
                         for (anchor, column), table in unmeasured.items()]
    return [(h, sorted(fs, key=lambda f: not f.supported)) for h, fs in out.items() if fs]
