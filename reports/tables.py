"""Tables of a run's results: the Table-1-style realism/detectability table (rows mode × T),
the cross-setting AUC matrix and the robustness table. Cells keep the numbers (value, CI,
backend, status, reason) so HTML, Markdown, CSV and JSON render the same content."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Literal

import pandas as pd

from talkbench.reports.results import RunResults, split_setting

# The realism columns of Table 1, in order: a layout choice of the report, named by the metric
# classes' names (metric names in the results carry their backend after a dash, e.g.
# "CSIM-dlib"). Which way is better is no report's to say: it comes with every result row
# (``higher_is_better``, written from the metric class).
TABLE1_COLUMNS = ("FID", "FID∞", "KID", "SSIM", "PSNR", "LPIPS", "CSIM", "NME")
_TABLE1_BY_TOKEN = {c.casefold(): c for c in TABLE1_COLUMNS}
# A value resting on fewer independent units (people, test people, seeds) than this is marked
# in every table; below two units no interval is shown at all (a CI from one unit is no CI).
LOW_N = 5
CI_NOTE = "value [95 % CI over people; FID/KID: on the pooled frames]"  # what a run's intervals are
_SINGULAR = {"people": "person", "test people": "test person", "seeds": "seed"}
Status = Literal["ok", "unavailable", "not measured"]


@dataclasses.dataclass
class Cell:
    """One number of a table, with what it rests on."""

    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    status: Status = "not measured"
    reason: str = ""
    backend: str = ""
    n: int = 0
    n_failed: int = 0
    higher_is_better: bool | None = None
    flag: Literal["", "better", "worse"] = ""  # set by comparisons against a baseline run
    units: int | None = None  # independent units the CI is over (people, seeds); None: not known
    unit: str = ""  # what a unit is ("people", "test people", "seeds")
    detail: str = ""  # a second line, e.g. the within-run CI beside an across-seed one
    std: float | None = None  # spread where there is no CI (KID: std over subsets)
    n_set: int = 0  # set metrics (FID, KID, ...): samples per set the value rests on

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.value is not None and not math.isnan(self.value)

    @property
    def number(self) -> float:
        """``value`` of a cell known to be ``ok``."""
        if self.value is None:
            raise ValueError("cell has no value (check .ok first)")
        return self.value

    @property
    def interval(self) -> tuple[float, float]:
        """(ci_low, ci_high) of a cell known to have ``has_ci``."""
        if self.ci_low is None or self.ci_high is None:
            raise ValueError("cell has no interval (check .has_ci first)")
        return self.ci_low, self.ci_high

    @property
    def has_ci(self) -> bool:
        """An interval exists and rests on at least two units."""
        return (self.ci_low is not None and not math.isnan(self.ci_low) and self.ci_high is not None
                and (self.units is None or self.units >= 2))

    @property
    def low_n(self) -> bool:
        return self.ok and self.units is not None and self.units < LOW_N

    def n_text(self) -> str:
        if self.units is None:
            return ""
        unit = _SINGULAR.get(self.unit, self.unit) if self.units == 1 else self.unit
        return f"n = {self.units} {unit}".rstrip()

    def mark(self) -> str:
        """" (n = 3 people)†" for a value resting on few units, else ""."""
        return f" ({self.n_text()})†" if self.low_n else ""

    def ci_text(self) -> str:
        return f"[{fmt(self.ci_low)}, {fmt(self.ci_high)}]" if self.ok and self.has_ci else ""

    def text(self, with_ci: bool = True) -> str:
        if not self.ok:
            return "n/a" if self.status == "unavailable" else "—"
        n = f" (n={self.n_set})" if self.n_set else ""
        ci = self.ci_text() if with_ci else ""
        if with_ci and not ci and self.std is not None:
            ci = f"± {fmt(self.std)}"
        return fmt(self.value) + (f" {ci}" if ci else "") + n + self.mark()

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def fmt(v: float | None) -> str:
    """Few digits, enough to see differences between settings."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    a = abs(v)
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    if a >= 0.1 or a == 0:
        return f"{v:.3f}"
    return f"{v:.4f}"


def _num(x) -> float | None:
    """A result-file value as a float, None where it is missing, NaN or infinite."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


@dataclasses.dataclass
class Table:
    """A grid of cells with row/column labels and footnotes."""

    title: str
    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], Cell]
    caption: str = ""
    compact: bool = False  # render values only (CI and backend in the tooltip): wide tables

    def cell(self, row: str, col: str) -> Cell:
        return self.cells.get((row, col), Cell())

    def without_empty_columns(self) -> "Table":
        """Drop columns with nothing measured at all (e.g. paired metrics on cross-reenactment);
        columns with unavailable cells stay, so their reason is shown."""
        keep = [c for c in self.columns if any(self.cell(r, c).status != "not measured" for r in self.rows)]
        return dataclasses.replace(self, columns=keep)

    def notes(self) -> list[str]:
        """One line per distinct reason a cell is unavailable, and one when a shown value
        rests on few units."""
        seen: dict[str, list[str]] = {}
        for (_, col), c in self.cells.items():
            if c.status == "unavailable":
                seen.setdefault(c.reason or "no reason given", [])
                if col not in seen[c.reason or "no reason given"]:
                    seen[c.reason or "no reason given"].append(col)
        notes = [f"{', '.join(cols)}: unavailable — {reason}" for reason, cols in seen.items()]
        shown = [self.cell(r, c) for r in self.rows for c in self.columns]
        if any(c.low_n for c in shown):
            notes.append(f"†: rests on fewer than {LOW_N} independent units (n shown); "
                         "no interval is given from a single unit")
        return notes

    def anchor(self) -> str:
        """The id other parts of the report link to (findings → table)."""
        return "tab-" + re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")[:60]

    def text_frame(self, with_ci: bool = True) -> pd.DataFrame:
        return pd.DataFrame([[self.cell(r, c).text(with_ci) for c in self.columns] for r in self.rows],
                            index=self.rows, columns=self.columns)

    def tidy(self) -> pd.DataFrame:
        """Every cell as a row (row, column, value, ci, status, reason, backend, ...)."""
        return pd.DataFrame([{"row": r, "column": c, **self.cell(r, c).as_dict()}
                             for r in self.rows for c in self.columns])


def column_direction(cells: dict[tuple[str, str], Cell], col: str) -> bool | None:
    """Whether higher is better in column ``col``, as its cells' results say (None: no cell says)."""
    return next((c.higher_is_better for (_, k), c in cells.items() if k == col and c.higher_is_better is not None),
                None)


def row_label(mode: str, t: int) -> str:
    return f"{mode}, T={t}"


def metric_column(metric: str) -> str | None:
    """The Table-1 column a realism metric belongs to, or None for extra metrics."""
    return _TABLE1_BY_TOKEN.get(str(metric).split("-")[0].split("_")[0].casefold())


def _units(r: pd.Series, default_unit: str) -> tuple[int | None, str]:
    """How many independent units a row's CI is over: ``n_units``/``unit`` (seed aggregates),
    else ``n_people`` (realism.csv of a run), else unknown."""
    for col, unit in (("n_units", None), ("n_people", "people")):
        n = _num(r.get(col))
        if n is not None:
            return int(n), str(r.get("unit") or "") if unit is None else unit
    return None, default_unit


def _realism_cell(r: pd.Series) -> Cell:
    status: Status = "ok" if r["status"] == "ok" else "unavailable"
    units, unit = _units(r, "people")
    n_set = min(int(_num(r.get("n_real")) or 0), int(_num(r.get("n_fake")) or 0))
    return Cell(_num(r["value"]), _num(r["ci_low"]), _num(r["ci_high"]), status, str(r["reason"]),
                str(r["backend"]), int(_num(r["n"]) or 0), int(_num(r["n_failed"]) or 0),
                bool(r["higher_is_better"]) if str(r["higher_is_better"]) not in ("", "nan") else None,
                units=units, unit=unit, detail=str(r.get("within") or "") if status == "ok" else "",
                std=_num(r.get("std")), n_set=n_set)


def detectors(run: RunResults) -> list[str]:
    return sorted(run.detection["detector"].astype(str).unique().tolist()) if len(run.detection) else []


def detector_test_people(run: RunResults) -> int | None:
    """People in the detectors' test split (the units their AUC rests on), from the
    detection stage's record; None when the run does not say."""
    split = ((run.stages.get("detection") or {}).get("result") or {}).get("split_identities") or {}
    return int(split["test"]) if "test" in split else None


def _auc_cell(r: pd.Series, units: int | None = None) -> Cell:
    pre = str(r["pretrained"]).lower() in ("true", "1", "yes")
    n_units, unit = _units(r, "test people")
    return Cell(_num(r["auc"]), _num(r["auc_ci_low"]), _num(r["auc_ci_high"]), "ok", "",
                "ImageNet-pretrained" if pre else "from scratch", int(_num(r["n_real"]) or 0) + int(_num(r["n_fake"]) or 0),
                0, True, units=n_units if n_units is not None else units, unit=unit,
                detail=str(r.get("within") or ""))


def table1(run: RunResults, kind: str = "self", level: str = "frame") -> Table:
    """Rows mode × T; columns FID, KID, SSIM, PSNR, LPIPS, CSIM, NME and one AUC column per
    detector (trained and tested on the same setting). Paired metrics only exist for
    ``kind="self"`` (a ground truth exists); cross-reenactment shows them as not measured."""
    rows = [row_label(m, t) for m, t in run.settings]
    dets = detectors(run)
    columns = list(TABLE1_COLUMNS) + [f"AUC {d}" for d in dets]
    cells: dict[tuple[str, str], Cell] = {}
    rz = run.realism[run.realism["kind"].astype(str) == kind] if len(run.realism) else run.realism
    for _, r in rz.iterrows():
        col = metric_column(r["metric"])
        if col is None:
            continue
        key = (row_label(str(r["mode"]), int(r["T"])), col)
        new = _realism_cell(r)
        if key not in cells or (not cells[key].ok and new.ok):  # several backends: an available one wins
            cells[key] = new
    if kind == "self" and len(run.detection):
        same = run.detection[(run.detection["train_setting"] == run.detection["test_setting"])
                             & (run.detection["level"].astype(str) == level)]
        for _, r in same.iterrows():
            mode, t = split_setting(r["test_setting"])
            cells[(row_label(mode, t), f"AUC {r['detector']}")] = _auc_cell(r, detector_test_people(run))
    if not any(col == "FID∞" for _, col in cells):  # runs from before FID∞ was measured
        columns.remove("FID∞")
    what = "self-reenactment (held-out frames of the same video)" if kind == "self" else \
        "cross-reenactment (driven by other people's landmarks)"
    fid_n = sorted({c.n_set for (_, col), c in cells.items() if col == "FID" and c.ok and c.n_set})
    sample = (f"FID of every setting at a common n = {', '.join(map(str, fid_n))} frames per set (random subsets), "
              "FID∞ extrapolated to n → ∞ from all frames (Chong & Forsyth 2020), KID ± std over subsets; "
              if fid_n else "")
    lower = [c for c in columns if column_direction(cells, c) is False]
    caption = (f"{what}; {CI_NOTE}; {sample}" + (f"↓ lower is better for {', '.join(lower)}; " if lower else "") +
               f"AUC: detector trained and tested on that setting ({level} level; 0.5 = undetectable)")
    table = Table(f"Realism and detectability vs shots — {kind}", rows, columns, cells, caption)
    return table if kind == "self" else table.without_empty_columns()


def extra_metrics(run: RunResults) -> Table:
    """Realism metrics outside Table 1 (L1, AKD, identity-space Fréchet ...), every kind."""
    rz = run.realism[[metric_column(m) is None for m in run.realism["metric"]]] if len(run.realism) else run.realism
    keys = sorted({(str(m), int(t), str(k)) for m, t, k in zip(rz.get("mode", []), rz.get("T", []), rz.get("kind", []))})
    rows = [f"{row_label(m, t)} · {k}" for m, t, k in keys]
    cols = sorted(rz["metric"].astype(str).unique().tolist()) if len(rz) else []
    cells = {(f"{row_label(str(r['mode']), int(r['T']))} · {r['kind']}", str(r["metric"])): _realism_cell(r)
             for _, r in rz.iterrows()}
    return Table("Other realism metrics", rows, cols, cells, CI_NOTE)


def cross_setting(run: RunResults, detector: str, level: str = "frame") -> Table:
    """AUC of ``detector`` trained on the row's setting, tested on the column's."""
    d = run.detection[(run.detection["detector"].astype(str) == detector) & (run.detection["level"].astype(str) == level)]
    order = sorted(set(d["train_setting"]) | set(d["test_setting"]), key=split_setting)
    units = detector_test_people(run)
    cells = {(str(r["train_setting"]), str(r["test_setting"])): _auc_cell(r, units) for _, r in d.iterrows()}
    return Table(f"Cross-setting AUC — {detector} ({level} level)", order, order, cells,
                 "rows: trained on; columns: tested on")


def robustness(run: RunResults, detector: str) -> Table:
    """AUC under each perturbation (rows) for each training setting (columns)."""
    d = run.robustness[run.robustness["detector"].astype(str) == detector]
    d = d.sort_values(["perturbation", "level"])
    rows = list(dict.fromkeys(f"{p} {fmt(_num(lv))}" for p, lv in zip(d["perturbation"], d["level"])))
    cols = sorted(d["train_setting"].astype(str).unique().tolist(), key=split_setting)
    cells = {(f"{r['perturbation']} {fmt(_num(r['level']))}", str(r["train_setting"])):
             Cell(_num(r["auc"]), status="ok", higher_is_better=True) for _, r in d.iterrows()}
    return Table(f"Robustness — {detector}", rows, cols, cells, "AUC on the same setting's test set after the perturbation")


def user_table(run: RunResults) -> Table | None:
    """The user study's USER score per setting, when the study has results."""
    if not len(run.user):
        return None
    cells = {(row_label(str(r["mode"]), int(r["T"])), "USER"):
             Cell(_num(r["user"]), _num(r["ci_low"]), _num(r["ci_high"]), "ok", "", "",
                  int(_num(r["n_trials"]) or 0), 0, False) for _, r in run.user.iterrows()}
    rows = [row_label(m, t) for m, t in run.settings]
    return Table("User study (USER: fraction of fakes found; chance 1/3)", rows, ["USER"], cells,
                 "lower is better; participants failing attention checks excluded")


def cross_dataset(run: RunResults, detector: str, level: str = "video") -> Table:
    """AUC of ``detector`` trained on the row's dataset, tested on the column's
    (results/cross_dataset.csv; video level = mean frame probability per video)."""
    d = run.cross_dataset[(run.cross_dataset["detector"].astype(str) == detector)
                          & (run.cross_dataset["level"].astype(str) == level)]
    rows = list(dict.fromkeys(d["train_dataset"].astype(str)))
    cols = list(dict.fromkeys(d["test_dataset"].astype(str)))
    cells = {(str(r["train_dataset"]), str(r["test_dataset"])): _auc_cell(r) for _, r in d.iterrows()}
    return Table(f"Cross-dataset AUC — {detector} ({level} level)", rows, cols, cells,
                 "rows: trained on (train split); columns: tested on (test split); [95 % CI, bootstrap over videos]")


def best_row(table: Table, col: str) -> str | None:
    """The row whose value in ``col`` is best and whose 95 % CI lies clear of every other
    value's CI in that column; None when no row is separated (or the column has no direction,
    e.g. a detector's AUC in Table 1, where higher is not "better")."""
    if col.startswith("AUC "):
        return None
    cells = [(r, table.cell(r, col)) for r in table.rows if table.cell(r, col).ok]
    if len(cells) < 2 or not all(c.has_ci and c.higher_is_better is not None for _, c in cells):
        return None
    higher = bool(cells[0][1].higher_is_better)
    row, best = max(cells, key=lambda rc: rc[1].number if higher else -rc[1].number)
    others = [c for r, c in cells if r != row]
    clear = (all(best.interval[0] > o.interval[1] for o in others) if higher
             else all(best.interval[1] < o.interval[0] for o in others))
    return row if clear else None
