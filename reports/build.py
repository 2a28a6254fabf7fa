"""Build the report of one run or several: ``index.html`` (self-contained), ``report.md``,
``plots/*.png``, ``samples/*.png``, ``tables/*.csv`` and ``report.json`` with every number."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path, write_bytes, write_json, write_text
from talkbench.reports import compare, html, markdown, paper, plots
from talkbench.reports.adversarial import adversarial_section
from talkbench.reports.document import Document, Figure, Image, Section
from talkbench.reports.results import RunResults, load_run, unique_labels
from talkbench.reports.tables import Cell, Table, detectors, extra_metrics, cross_setting, robustness, table1, user_table
from talkbench.reports.tables import cross_dataset


TITLE = "talkbench report: realism and detectability of few-shot talking heads"


def paper_table() -> Table:
    df = paper.table1()
    rows = [f"{s} · {m} · T={t}" for s, m, t in zip(df["set"], df["method"], df["T"])]
    cols = ["FID", "SSIM", "CSIM", "USER"]
    cells = {(row, c): Cell(float(v), status="ok", higher_is_better=c in ("SSIM", "CSIM"))
             for row, (_, r) in zip(rows, df.iterrows()) for c in cols for v in [r[c]]}
    return Table(f"Paper Table 1 — {paper.LABEL}", rows, cols, cells, paper.NOTE)


def manifest_facts(run: RunResults) -> list[tuple[str, str]]:
    m = run.manifest
    versions = m.get("versions") or {}
    weights = m.get("weights") or []
    facts = [
        ("run", str(run.path)),
        ("suite", str(run.config.get("name", ""))),
        ("command", " ".join(m.get("command") or [])),
        ("config fingerprint", str(m.get("config_fingerprint", ""))),
        ("seed", str(m.get("seed", ""))),
        ("device", json.dumps(m.get("device", {}))),
        ("host", json.dumps(m.get("host", {}))),
        ("git revision", str(m.get("git_revision"))),
        ("started / finished", f"{m.get('started')} / {m.get('finished')}"),
        ("versions", ", ".join(f"{k} {v}" for k, v in versions.items() if v)),
        ("weights", ", ".join(f"{w.get('name')} ({w.get('status')})" for w in weights) or "none recorded"),
    ]
    backends = sorted({f"{m_} → {b}" for m_, b in zip(run.realism.get("metric", []), run.realism.get("backend", [])) if b})
    facts.append(("metric backends", ", ".join(backends) or "—"))
    stage_times = ", ".join(f"{name} {rec.get('wall_s', 0):.1f} s" for name, rec in run.stages.items())
    facts.append(("stage wall times", stage_times or "—"))
    return facts


def _figures(*candidates: tuple[str, bytes | None, str]) -> list[Figure]:
    """Figures for the plots that could be drawn (a plot function returns None when empty)."""
    return [Figure(name, png, caption) for name, png, caption in candidates if png is not None]


def _run_sections(run: RunResults, prefix: str) -> list[Section]:
    """Everything about one run: tables, plots, grids, manifest."""
    title = f" — {run.label}" if prefix else ""
    first = Section(f"Table 1: realism and detectability vs shots{title}", tables=[table1(run, "self")],
                    tables_side_by_side=True)
    if not prefix:  # one run: the published figures right beside its numbers
        first.tables.append(paper_table())
    more = Section(f"Cross-reenactment and other metrics{title}", tables=[table1(run, "cross")],
                   figures=_figures((f"{prefix}realism_self", plots.realism_vs_shots([run], "self"),
                                     "Realism vs shots, self-reenactment (95 % CI over people)"),
                                    (f"{prefix}realism_cross", plots.realism_vs_shots([run], "cross"),
                                     "Realism vs shots, cross-reenactment")))
    extra = extra_metrics(run)
    if extra.cells:
        more.tables.append(extra)
    user = user_table(run)
    if user is not None:
        first.tables.insert(1, user)
    secs = [first, more]
    det = Section(f"Detectors{title}")
    auc = plots.auc_vs_shots([run])
    if auc:
        det.figures.append(Figure(f"{prefix}auc_vs_shots", auc, "Detector AUC vs shots (trained and tested per setting)"))
    roc = plots.roc_curves(run)
    if roc:
        det.figures.append(Figure(f"{prefix}roc", roc, "ROC curves per setting"))
    for d in detectors(run):
        det.tables.append(cross_setting(run, d))
        heat = plots.cross_heatmap(run, d)
        if heat:
            det.figures.append(Figure(f"{prefix}cross_{d}", heat, f"Cross-setting AUC, {d}"))
        rob = plots.robustness_curves(run, d)
        if rob:
            det.tables.append(robustness(run, d))
            det.figures.append(Figure(f"{prefix}robustness_{d}", rob, f"Robustness, {d}"))
    for d in sorted(run.cross_dataset["detector"].astype(str).unique()):
        det.tables += [cross_dataset(run, d, "video"), cross_dataset(run, d, "frame")]
    if not (det.tables or det.figures):
        det.text.append("No detection results in this run (results/detection.csv is absent).")
    secs.append(det)
    adv = adversarial_section(run.path, prefix, title)
    if adv is not None:
        secs.append(adv)
    grids = Section(f"Sample grids{title}",
                    text=["Columns: shot | driving landmarks | generated | ground truth; one row per held-out frame."],
                    images=[Image(p, p.stem.replace("__", " · ")) for p in run.samples])
    if not run.samples:
        grids.text = ["No sample grids in this run."]
    secs.append(grids)
    secs.append(Section(f"Manifest{title}", facts=manifest_facts(run), raw_json=json.dumps(run.manifest, indent=2)))
    return secs


def build_document(runs: list[RunResults]) -> Document:
    """One run: its sections. Several: the comparison first, then each run in turn."""
    if len(runs) == 1:
        run = runs[0]
        sections = _run_sections(run, "")
        subtitle = f"run {run.label}: suite '{run.config.get('name', '?')}'"
        return Document(TITLE, subtitle, sections)
    cmp = Section("Runs side by side",
                  tables=[compare.side_by_side(runs, "self"), compare.side_by_side(runs, "cross")],
                  figures=_figures(("compare_realism_self", plots.realism_vs_shots(runs, "self"),
                                    "Realism vs shots, runs overlaid (line style = run)")))
    auc = plots.auc_vs_shots(runs)
    if auc:
        cmp.figures.append(Figure("compare_auc", auc, "Detector AUC vs shots, runs overlaid"))
    published = Section("Published reference", tables=[paper_table()])
    sections = [cmp, published] + [s for i, r in enumerate(runs) for s in _run_sections(r, f"run{i + 1}_")]
    return Document(TITLE, "runs: " + ", ".join(r.label for r in runs), sections)


def _tables(doc: Document) -> list[Table]:
    return [t for s in doc.sections for t in s.tables]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60]


def build_report(run_paths: list[str | Path], out: str | Path) -> dict[str, Path]:
    """Write the report of ``run_paths`` into ``out``; returns the paths written."""
    if not run_paths:
        raise TalkbenchError("no run given")
    labels = unique_labels([Path(p) for p in run_paths])
    runs = [load_run(p, label) for p, label in zip(run_paths, labels)]
    out = Path(out)
    doc = build_document(runs)
    for sec in doc.sections:  # samples next to the Markdown, named uniquely across runs
        for img in sec.images:
            run_label = next(r.label for r in runs if img.path.is_relative_to(r.path))
            name = img.path.name if len(runs) == 1 else f"{_slug(run_label)}__{img.path.name}"
            write_bytes(out / "samples" / name, img.path.read_bytes())
            img.path = out / "samples" / name
        for fig in sec.figures:
            write_bytes(out / "plots" / f"{fig.name}.png", fig.png)
    numbers = {"runs": [{"label": r.label, "path": str(r.path), "manifest": r.manifest, "stages": r.stages,
                         "realism": _records(r.realism), "detection": _records(r.detection),
                         "robustness": _records(r.robustness), "user": _records(r.user),
                         "cross_dataset": _records(r.cross_dataset)} for r in runs],
               "tables": [{"title": t.title, "caption": t.caption, "cells": _records(t.tidy())} for t in _tables(doc)],
               "published": {"label": paper.LABEL, "note": paper.NOTE, "table1": _records(paper.table1())}}
    for t in _tables(doc):
        with atomic_path(out / "tables" / f"{_slug(t.title)}.csv") as tmp:
            t.tidy().to_csv(tmp, index=False)
    write_json(out / "report.json", numbers)
    write_text(out / "report.md", markdown.render(doc))
    write_text(out / "index.html", html.render(doc))
    return {"html": out / "index.html", "markdown": out / "report.md", "json": out / "report.json",
            "tables": out / "tables", "plots": out / "plots"}


def _records(df: pd.DataFrame) -> list[dict]:
    """DataFrame rows as JSON-safe dicts (NaN → null)."""
    return json.loads(df.to_json(orient="records"))
