"""Tables of a run's results: the Table-1-style realism/detectability table (rows mode × T),
the cross-setting AUC matrix and the robustness table. Cells keep the numbers (value, CI,
backend, status, reason) so HTML, Markdown, CSV and JSON render the same content."""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import pandas as pd

from talkbench.reports.results import RunResults, split_setting

# Canonical realism columns of Table 1, keyed by the metric name's first token, lower case
# (metric names carry their backend after a dash, e.g. "CSIM-dlib").
TABLE1_METRICS = {"fid": "FID", "fid∞": "FID∞", "kid": "KID", "ssim": "SSIM", "psnr": "PSNR", "lpips": "LPIPS",
                  "csim": "CSIM", "nme": "NME"}
LOWER_IS_BETTER = {"FID", "FID∞", "KID", "LPIPS", "NME"}
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
    std: float | None = None  # spread where there is no CI (KID: std over subsets)
    n_set: int = 0  # set metrics (FID, KID, ...): samples per set the value rests on

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.value is not None and not math.isnan(self.value)

    def text(self, with_ci: bool = True) -> str:
        if not self.ok:
            return "n/a" if self.status == "unavailable" else "—"
        n = f" (n={self.n_set})" if self.n_set else ""
        if with_ci and self.ci_low is not None and not math.isnan(self.ci_low):
            return f"{fmt(self.value)} [{fmt(self.ci_low)}, {fmt(self.ci_high)}]{n}"
        if with_ci and self.std is not None:
            return f"{fmt(self.value)} ± {fmt(self.std)}{n}"
        return fmt(self.value) + n

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
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


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
        """One line per distinct reason a cell is unavailable."""
        seen: dict[str, list[str]] = {}
        for (_, col), c in self.cells.items():
            if c.status == "unavailable":
                seen.setdefault(c.reason or "no reason given", [])
                if col not in seen[c.reason or "no reason given"]:
                    seen[c.reason or "no reason given"].append(col)
        return [f"{', '.join(cols)}: unavailable — {reason}" for reason, cols in seen.items()]

    def text_frame(self, with_ci: bool = True) -> pd.DataFrame:
        return pd.DataFrame([[self.cell(r, c).text(with_ci) for c in self.columns] for r in self.rows],
                            index=self.rows, columns=self.columns)

    def tidy(self) -> pd.DataFrame:
        """Every cell as a row (row, column, value, ci, status, reason, backend, ...)."""
        return pd.DataFrame([{"row": r, "column": c, **self.cell(r, c).as_dict()}
                             for r in self.rows for c in self.columns])


def row_label(mode: str, t: int) -> str:
    return f"{mode}, T={t}"


def metric_column(metric: str) -> str | None:
    """The Table-1 column a realism metric belongs to, or None for extra metrics."""
    return TABLE1_METRICS.get(str(metric).split("-")[0].split("_")[0].lower())


def _realism_cell(r: pd.Series) -> Cell:
    status = "ok" if r["status"] == "ok" else "unavailable"
    n_set = min(int(_num(r.get("n_real")) or 0), int(_num(r.get("n_fake")) or 0))
    return Cell(_num(r["value"]), _num(r["ci_low"]), _num(r["ci_high"]), status, str(r["reason"]),
                str(r["backend"]), int(_num(r["n"]) or 0), int(_num(r["n_failed"]) or 0),
                bool(r["higher_is_better"]) if str(r["higher_is_better"]) not in ("", "nan") else None,
                std=_num(r.get("std")), n_set=n_set)


def detectors(run: RunResults) -> list[str]:
    return sorted(run.detection["detector"].astype(str).unique().tolist()) if len(run.detection) else []


def _auc_cell(r: pd.Series) -> Cell:
    pre = str(r["pretrained"]).lower() in ("true", "1", "yes")
    return Cell(_num(r["auc"]), _num(r["auc_ci_low"]), _num(r["auc_ci_high"]), "ok", "",
                "ImageNet-pretrained" if pre else "from scratch", int(_num(r["n_real"]) or 0) + int(_num(r["n_fake"]) or 0),
                0, True)


def table1(run: RunResults, kind: str = "self", level: str = "frame") -> Table:
    """Rows mode × T; columns FID, KID, SSIM, PSNR, LPIPS, CSIM, NME and one AUC column per
    detector (trained and tested on the same setting). Paired metrics only exist for
    ``kind="self"`` (a ground truth exists); cross-reenactment shows them as not measured."""
    rows = [row_label(m, t) for m, t in run.settings]
    dets = detectors(run)
    columns = list(TABLE1_METRICS.values()) + [f"AUC {d}" for d in dets]
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
            cells[(row_label(mode, t), f"AUC {r['detector']}")] = _auc_cell(r)
    if not any(col == "FID∞" for _, col in cells):  # runs from before FID∞ was measured
        columns.remove("FID∞")
    what = "self-reenactment (held-out frames of the same video)" if kind == "self" else \
        "cross-reenactment (driven by other people's landmarks)"
    fid_n = sorted({c.n_set for (_, col), c in cells.items() if col == "FID" and c.ok})
    sample = (f"FID of every setting at a common n = {', '.join(map(str, fid_n))} frames per set (random subsets), "
              "FID∞ extrapolated to n → ∞ from all frames (Chong & Forsyth 2020), KID ± std over subsets; "
              if fid_n else "")
    caption = (f"{what}; value [95 % CI over people; FID/KID: on the pooled frames, n per set]; {sample}"
               "↓ lower is better for FID, FID∞, KID, LPIPS, NME; "
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
    return Table("Other realism metrics", rows, cols, cells, "value [95 % CI]")


def cross_setting(run: RunResults, detector: str, level: str = "frame") -> Table:
    """AUC of ``detector`` trained on the row's setting, tested on the column's."""
    d = run.detection[(run.detection["detector"].astype(str) == detector) & (run.detection["level"].astype(str) == level)]
    order = sorted(set(d["train_setting"]) | set(d["test_setting"]), key=split_setting)
    cells = {(str(r["train_setting"]), str(r["test_setting"])): _auc_cell(r) for _, r in d.iterrows()}
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
