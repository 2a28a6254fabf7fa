"""The report section of the ``checks`` stage: does identity come from ê, and do the fakes
beat copying a shot frame? Reads ``results/generator_checks.csv`` (paired differences over
test people) and ``results/generator_checks_people.csv`` (per-person scores, the face-
detection rate among them); docs/CONTRACTS.md has the columns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from talkbench.reports.document import Section
from talkbench.reports.tables import Cell, Table, _num

METRIC_NAMES = {"ssim": "SSIM", "l1": "L1", "id_sim": "identity sim."}
CHECK_NAMES = {"own_vs_other": "FF own ê − FF other person's ê", "own_vs_mean": "FF own ê − G(mean training ê)",
               "ft_vs_nearest_shot": "FT − nearest shot frame"}



def checks_table(checks: pd.DataFrame) -> Table:
    """Check × T rows, metric columns: the mean paired difference over people, its 95 % CI,
    and whether it holds (CI clear of zero in the metric's better direction)."""
    rows, cells = [], {}
    for _, r in checks.iterrows():
        row = f"{CHECK_NAMES.get(str(r['check']), r['check'])} · T={int(r['T'])}"
        if row not in rows:
            rows.append(row)
        holds = str(r["holds"]) == "True"
        cells[(row, METRIC_NAMES.get(str(r["metric"]), str(r["metric"])))] = Cell(
            _num(r["diff"]), _num(r["ci_low"]), _num(r["ci_high"]), status="ok", n=int(r["n_people"]),
            higher_is_better=str(r["higher_is_better"]) == "True", units=int(r["n_people"]), unit="people",
            detail=f"{'holds' if holds else 'not shown'}: {r['a_mean']:.3g} vs {r['b_mean']:.3g}")
    return Table("Generator checks (paired over test people)", rows, list(METRIC_NAMES.values()), cells,
                 "Each cell: mean difference a − b over test people [95 % t CI]; 'holds' when the CI excludes 0 "
                 "in the better direction (SSIM, identity similarity: higher; L1: lower). Identity similarity: "
                 "cosine of face-recognition embeddings of each fake against the person's real held-out frames.")


def face_rate_table(people: pd.DataFrame) -> Table:
    """Method × T: share of self-reenactment fakes in which the face backend finds a face,
    with the frames it rests on (the face metrics use only those)."""
    rows, cols, cells = [], [], {}
    for (method, t), part in people.groupby(["method", "T"], sort=False):
        col = f"T={int(t)}"
        if method not in rows:
            rows.append(method)
        if col not in cols:
            cols.append(col)
        rate = part["face_rate"].astype(float)
        n = int(part["n_frames"].sum())
        found = int(round(float((rate * part["n_frames"]).sum()))) if rate.notna().all() else 0
        cells[(method, col)] = Cell(_num(rate.mean()) if rate.notna().all() else None, status="ok"
                                    if rate.notna().all() else "unavailable", n=found, n_failed=n - found,
                                    higher_is_better=True, detail=f"{found} of {n} frames")
    return Table("Face found in the fakes (self-reenactment)", rows, sorted(cols, key=lambda c: int(c[2:])), cells,
                 "Share of frames where the face backend of the identity metric finds a face; the face metrics "
                 "(CSIM, landmark error, identity similarity) rest on those frames only. real: the held-out real "
                 "frames the fakes reenact, the backend's own rate on these people. Rows cover different people "
                 "when the FF checks take more people than were fine-tuned: compare frame counts.")


def generator_checks_section(run_path: Path, title: str = "") -> Section | None:
    res = run_path / "results"
    if not (res / "generator_checks.csv").is_file():
        return None
    checks = pd.read_csv(res / "generator_checks.csv", keep_default_na=False)
    sec = Section(f"Generator checks{title}", tables=[checks_table(checks)])
    if (res / "generator_checks_people.csv").is_file():
        sec.tables.append(face_rate_table(pd.read_csv(res / "generator_checks_people.csv")))
    held = checks[checks["holds"].astype(str) == "True"]
    sec.text.append(f"{len(held)} of {len(checks)} paired comparisons hold (CI clear of zero in the better direction).")
    people = checks.groupby("check", sort=False)["n_people"].max()
    if people.nunique() > 1:  # the FF checks ran on more people than were fine-tuned (the suite's checks.people)
        sec.text.append("People per check (at most): " + ", ".join(
            f"{CHECK_NAMES.get(str(c), c)} {int(n)}" for c, n in people.items()) + ".")
    return sec
