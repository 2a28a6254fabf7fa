"""Build the report of one run, of seed replicates (aggregated) or of several runs side by
side: ``index.html`` (self-contained), ``report.md``, ``latex/*.tex``, ``methods.md`` and
``methods.tex``, ``plots/*.{png,pdf,svg}``, ``samples/*.png``, ``tables/*.csv`` and
``report.json`` with every number."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

import pandas as pd

from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path, write_bytes, write_json, write_text
from talkbench.reports import compare, html, latex, markdown, paper, plots, seeds
from talkbench.reports.adversarial import adversarial_section
from talkbench.reports.generator_checks import generator_checks_section
from talkbench.reports.shots import ft_vs_ff_section, shots_section
from talkbench.reports.document import Document, Figure, Image, Section
from talkbench.reports.findings import findings
from talkbench.reports.methods import methods_section
from talkbench.reports.results import RunResults, load_run, unique_labels
from talkbench.reports.tables import CI_NOTE, Cell, Table, detectors, extra_metrics, cross_setting, robustness, table1, user_table
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


_figure = plots.as_figures


def _figures(*candidates: tuple[str, plots.Plot | None, str]) -> list[Figure]:
    """Figures for the plots that could be drawn (a plot function returns None when empty)."""
    return [f for c in candidates for f in _figure(*c)]


def findings_section(run: RunResults) -> Section:
    """The generated findings, first in a report (see :mod:`talkbench.reports.findings`)."""
    sec = Section("Findings", text=["Each sentence compares two values of the table it links to; a difference is "
                                    "stated only where the two 95 % confidence intervals do not overlap, or, for a "
                                    "difference paired over the same people (realism versus shots, FT versus FF), "
                                    "where its own 95 % confidence interval excludes 0."],
                  findings=findings(run))
    if len(run.robustness):
        sec.text.append("Robustness AUCs carry no confidence interval (results/robustness.csv), so no robustness "
                        "finding is stated; see the robustness tables.")
    if not sec.findings:
        sec.text.append("This run has no results the findings compare.")
    return sec


def _run_sections(run: RunResults, prefix: str, files_title: str | None = None) -> list[Section]:
    """Everything about one run: tables, plots, grids, manifest. ``files_title``: the title
    suffix of the sections read straight from ``run.path`` (a seed aggregate's are one seed's)."""
    title = f" — {run.label}" if prefix else ""
    own = title if files_title is None else files_title
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
    secs += [sec for sec in (shots_section(run.path, own), ft_vs_ff_section(run.path, own)) if sec is not None]
    checks = generator_checks_section(run.path, own)
    if checks is not None:
        secs.append(checks)
    det = Section(f"Detectors{title}")
    det.figures += _figure(f"{prefix}auc_vs_shots", plots.auc_vs_shots([run]),
                           "Detector AUC vs shots (trained and tested per setting)")
    det.figures += _figure(f"{prefix}roc", plots.roc_curves(run), "ROC curves per setting")
    for d in detectors(run):
        det.tables.append(cross_setting(run, d))
        det.figures += _figure(f"{prefix}cross_{d}", plots.cross_heatmap(run, d), f"Cross-setting AUC, {d}")
        rob = plots.robustness_curves(run, d)
        if rob:
            det.tables.append(robustness(run, d))
            det.figures += _figure(f"{prefix}robustness_{d}", rob, f"Robustness, {d}")
    for d in sorted(run.cross_dataset["detector"].astype(str).unique()):
        det.tables += [cross_dataset(run, d, "video"), cross_dataset(run, d, "frame")]
    if not (det.tables or det.figures):
        det.text.append("No detection results in this run (results/detection.csv is absent).")
    secs.append(det)
    adv = adversarial_section(run.path, prefix, own)
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


def _with_methods(sections: list[Section], methods: Section) -> list[Section]:
    """The methods just before the (last) manifest section."""
    at = max((i for i, s in enumerate(sections) if s.title.startswith("Manifest")), default=len(sections))
    return sections[:at] + [methods] + sections[at:]


def seed_document(runs: list[RunResults]) -> Document:
    """Seed replicates: findings and tables on the mean over seeds (CI across seeds, the
    within-run CI beside it), then every seed's values side by side."""
    label = f"mean of {len(runs)} seeds"
    agg = seeds.aggregate(runs, label)
    sections = _run_sections(agg, "", files_title=f" — seed {seeds.seed_of(runs[0])} only (not aggregated)")
    for t in (t for sec in sections for t in sec.tables):
        t.caption = t.caption.replace(CI_NOTE, "mean over seeds [95 % CI across seeds]; beneath it the within-run CI")
    sections[0].title = "Table 1 over seeds: realism and detectability vs shots"
    sections[0].text.append(f"Mean over {len(runs)} seeds (seeds {', '.join(str(seeds.seed_of(r)) for r in runs)}); "
                            "[95 % CI across seeds]; below it the within-run CI over people (mean over seeds).")
    per_seed = Section("Each seed side by side", tables=[compare.side_by_side(runs, "self")],
                       text=[f"Baseline: {runs[0].label}; the ROC curves, sample grids and per-file sections "
                             "(checks, adversarial) of this report are of that seed."])
    sections.insert(2, per_seed)
    sections = [findings_section(agg)] + _with_methods(sections, methods_section(runs))
    return Document(TITLE, f"{label}: suite '{agg.config.get('name', '?')}'", sections)


def build_document(runs: list[RunResults]) -> Document:
    """One run: its sections. Seed replicates of one suite: aggregated. Several runs: the
    comparison first, then each run in turn."""
    if len(runs) == 1:
        run = runs[0]
        sections = [findings_section(run)] + _with_methods(_run_sections(run, ""), methods_section([run]))
        subtitle = f"run {run.label}: suite '{run.config.get('name', '?')}'"
        return Document(TITLE, subtitle, sections)
    if seeds.are_replicates(runs):
        return seed_document(runs)
    cmp = Section("Runs side by side",
                  tables=[compare.side_by_side(runs, "self"), compare.side_by_side(runs, "cross")],
                  figures=_figures(("compare_realism_self", plots.realism_vs_shots(runs, "self"),
                                    "Realism vs shots, runs overlaid (line style = run)")))
    cmp.figures += _figure("compare_auc", plots.auc_vs_shots(runs), "Detector AUC vs shots, runs overlaid")
    published = Section("Published reference", tables=[paper_table()])
    sections = [cmp, published] + [s for i, r in enumerate(runs) for s in _run_sections(r, f"run{i + 1}_")]
    return Document(TITLE, "runs: " + ", ".join(r.label for r in runs), sections)


def _tables(doc: Document) -> list[Table]:
    return [t for s in doc.sections for t in s.tables]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60]


def expand_seed_runs(run_paths: Sequence[str | Path]) -> list[Path]:
    """A ``--seeds`` run folder (``OUT/seed-*/`` inside, no results of its own) stands for its seeds."""
    out: list[Path] = []
    for p in map(Path, run_paths):
        inner = seeds.seed_dirs(p) if not (p / "results").is_dir() else []
        out += inner or [p]
    return out


def build_report(run_paths: Sequence[str | Path], out: str | Path, vector: bool = True) -> dict[str, Path]:
    """Write the report of ``run_paths`` into ``out``; returns the paths written. ``vector``:
    also every plot as PDF and SVG at paper size (and in ``latex/report.tex``)."""
    if not run_paths:
        raise TalkbenchError("no run given")
    paths = expand_seed_runs(run_paths)
    labels = unique_labels(paths)
    runs = [load_run(p, label) for p, label in zip(paths, labels)]
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
            if vector and fig.vector is not None:
                pdf, svg = fig.vector()
                write_bytes(out / "plots" / f"{fig.name}.pdf", pdf)
                write_bytes(out / "plots" / f"{fig.name}.svg", svg)
    numbers = {"runs": [{"label": r.label, "path": str(r.path), "manifest": r.manifest, "stages": r.stages,
                         "realism": _records(r.realism), "detection": _records(r.detection),
                         "robustness": _records(r.robustness), "user": _records(r.user),
                         "cross_dataset": _records(r.cross_dataset)} for r in runs],
               "tables": [{"title": t.title, "caption": t.caption, "cells": _records(t.tidy())} for t in _tables(doc)],
               "findings": [{"heading": h, "text": f.text, "table": f.table_title, "supported": f.supported}
                            for sec in doc.sections for h, fs in sec.findings for f in fs],
               "published": {"label": paper.LABEL, "note": paper.NOTE, "table1": _records(paper.table1())}}
    table_files: dict[str, str] = {}
    for t in _tables(doc):
        with atomic_path(out / "tables" / f"{_slug(t.title)}.csv") as tmp:
            t.tidy().to_csv(tmp, index=False)
        if t.anchor() not in table_files:  # a title repeated per run keeps the first run's
            write_text(out / "latex" / f"{_slug(t.title)}.tex", latex.table_tex(t))
            table_files[t.anchor()] = _slug(t.title)
    write_text(out / "latex" / "report.tex", latex.render(doc, table_files, figures=vector))
    methods = next((s for s in doc.sections if s.title == "Methods"), None)
    if methods is not None:
        write_text(out / "methods.md", markdown.section_md(methods, "samples"))
        write_text(out / "methods.tex", latex.section_tex(methods, {}))
    write_json(out / "report.json", numbers)
    write_text(out / "report.md", markdown.render(doc))
    write_text(out / "index.html", html.render(doc))
    return {"html": out / "index.html", "markdown": out / "report.md", "json": out / "report.json",
            "tables": out / "tables", "plots": out / "plots", "latex": out / "latex" / "report.tex",
            "methods": out / "methods.md"}


def _records(df: pd.DataFrame) -> list[dict]:
    """DataFrame rows as JSON-safe dicts (NaN → null)."""
    return json.loads(df.to_json(orient="records"))
