"""What a report gives people who publish: generated findings that follow the numbers, low-n
honesty, seed replicates aggregated, LaTeX tables that compile, PDF/SVG figures, and a
methods section read from the run's records."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from talkbench.cli import main
from talkbench.files import read_json, write_json, write_text
from talkbench.reports import latex, plots, seeds
from talkbench.reports.build import build_report
from talkbench.reports.findings import NOT_MEASURED, findings
from talkbench.reports.results import load_run
from talkbench.reports.tables import best_row, table1


def _sentences(run) -> list[str]:
    return [f.text for _, fs in findings(run) for f in fs]


def _edit_realism(path: Path, fn) -> None:
    df = pd.read_csv(path / "results" / "realism.csv")
    fn(df)
    df.to_csv(path / "results" / "realism.csv", index=False)


def _swap_shots(df: pd.DataFrame, a: int, b: int, columns=("value", "ci_low", "ci_high")) -> None:
    """Exchange the numbers of T = a and T = b (same mode, kind, metric): the trend reverses."""
    key = ["mode", "kind", "metric"]
    ia = df.index[df["T"] == a]
    ib = df.index[df["T"] == b]
    va = df.loc[ia].set_index(key)[list(columns)]
    vb = df.loc[ib].set_index(key)[list(columns)]
    for i in ia:
        df.loc[i, list(columns)] = vb.loc[tuple(df.loc[i, key])].values
    for i in ib:
        df.loc[i, list(columns)] = va.loc[tuple(df.loc[i, key])].values


def _widen(df: pd.DataFrame) -> None:
    df["ci_low"], df["ci_high"] = df["value"] - 100, df["value"] + 100


def test_a_metric_measured_nowhere_is_named_once_not_once_per_comparison(tmp_path, make_run):
    run = load_run(make_run(tmp_path / "a"))  # LPIPS is unavailable in every setting of the fixture
    by_heading = dict(findings(run))
    lpips = [f for fs in by_heading.values() for f in fs if "LPIPS" in f.text]
    assert lpips == by_heading[NOT_MEASURED]  # nowhere else: not one "not compared" per T and mode
    assert [f.text.split(":")[0] for f in lpips] == ["LPIPS"] * len({f.anchor for f in lpips})
    assert all(f.anchor == table1(run, "self").anchor() or f.anchor == table1(run, "cross").anchor() for f in lpips)
    assert not any("not compared" in f.text for fs in by_heading.values() for f in fs)


def test_findings_state_supported_differences_and_flip_with_the_numbers(tmp_path, make_run):
    run = load_run(make_run(tmp_path / "a"))
    text = _sentences(run)
    fid = [s for s in text if " on FID by " in s]
    assert any(s.startswith("FT at T = 32 beats FT at T = 1 on FID by 30.00 (") for s in text), text
    assert fid and all("95 % CIs do not overlap, n = 24 frames" in s for s in fid)
    assert any(s.startswith("FT at T = 32 is harder to detect than FT at T = 1 on spectral AUC") for s in text)
    f = [f for _, fs in findings(run) for f in fs if f.text.startswith("FT at T = 32 beats")][0]
    assert f.anchor == table1(run, "self").anchor() and f.supported

    flipped = make_run(tmp_path / "b")
    _edit_realism(flipped, lambda df: _swap_shots(df, 1, 32))
    det = pd.read_csv(flipped / "results" / "detection.csv")
    t1, t32 = det["test_setting"].str.endswith("_T1"), det["test_setting"].str.endswith("_T32")
    det.loc[t1, ["auc", "auc_ci_low", "auc_ci_high"]], det.loc[t32, ["auc", "auc_ci_low", "auc_ci_high"]] = (
        det.loc[t32, ["auc", "auc_ci_low", "auc_ci_high"]].values, det.loc[t1, ["auc", "auc_ci_low", "auc_ci_high"]].values)
    det.to_csv(flipped / "results" / "detection.csv", index=False)
    text = _sentences(load_run(flipped))
    assert any(s.startswith("FT at T = 1 beats FT at T = 32 on FID by 30.00 (") for s in text), text
    assert not any(s.startswith("FT at T = 32 beats FT at T = 1 on FID") for s in text)
    assert any(s.startswith("FT at T = 1 is harder to detect than FT at T = 32") for s in text)

    wide = make_run(tmp_path / "c")  # the same means, CIs too wide to tell them apart
    _edit_realism(wide, _widen)
    text = _sentences(load_run(wide))
    assert not any(" on FID by " in s for s in text)
    nodiff = [s for s in text if s.startswith("FT at T = 32 vs FT at T = 1 on FID")]
    assert nodiff and "no difference detected at this sample size (n = 24 frames)" in nodiff[0]


def test_low_n_is_marked_and_one_unit_gives_no_interval(tmp_path, make_run):
    path = make_run(tmp_path / "a")
    _edit_realism(path, lambda df: df.insert(len(df.columns), "n_people", np.where(df["T"] == 1, 1, 3)))
    write_json(path / "stages" / "detection.json", {"status": "done", "wall_s": 1.0,
                                                    "result": {"split_identities": {"test": 1, "train": 4}}})
    run = load_run(path)
    t = table1(run, "self")
    one, three = t.cell("FF, T=1", "SSIM"), t.cell("FF, T=8", "SSIM")
    assert not one.has_ci and one.text() == f"{one.value:.3f} (n = 1 person)†"
    assert three.has_ci and three.text().endswith("(n = 3 people)†") and "[" in three.text()
    assert t.cell("FF, T=8", "AUC spectral").text().endswith("(n = 1 test person)†")
    assert any(n.startswith("†: rests on fewer than 5") for n in t.notes())
    assert best_row(t, "SSIM") is None  # a value without interval cannot be separated
    page = build_report([path], tmp_path / "rep", vector=False)["html"].read_text()
    assert "(n = 1 person)†" in page and not re.search(r"\[\d\.\d+, \d\.\d+\] \(n = 1 person", page)
    # no finding rests on the single-person values
    assert not any("FF at T = 1 on SSIM" in s and "beats" in s for s in _sentences(run))


def test_latex_bolds_the_best_only_where_the_ci_separates_it(tmp_path, make_run):
    path = make_run(tmp_path / "a")
    t = table1(load_run(path), "self")
    assert best_row(t, "FID") is None  # FT, T=32 is lowest, but its CI overlaps FF, T=32's
    assert r"\textbf" not in latex.table_tex(t)

    def clear_winner(df: pd.DataFrame) -> None:
        at = (df["setting"] == "FT_T32") & (df["metric"] == "FID")
        df.loc[at, ["value", "ci_low", "ci_high"]] = [30.0, 29.0, 31.0]
    _edit_realism(path, clear_winner)
    t = table1(load_run(path), "self")
    assert best_row(t, "FID") == "FT, T=32" and best_row(t, "AUC spectral") is None
    tex = latex.table_tex(t)
    assert r"\toprule" in tex and r"\bottomrule" in tex and r"\label{tab:realism-and-detectability-vs-shots-self}" in tex
    assert r"\textbf{30.00} {[}29.00, 31.00{]}" in tex and tex.count(r"\textbf") == 1
    wide = make_run(tmp_path / "b")
    _edit_realism(wide, _widen)
    t2 = table1(load_run(wide), "self")
    assert best_row(t2, "FID") is None and r"\textbf" not in latex.table_tex(t2)
    assert latex.escape("a_b & 5 % [x] → y†") == r"a\_b \& 5 \% {[}x{]} $\to$ y\textsuperscript{\dag}"


def _has_latex() -> str:
    if not shutil.which("pdflatex") or not shutil.which("kpsewhich"):
        return "pdflatex not installed (apt-get install -y texlive-latex-base texlive-latex-recommended)"
    if not subprocess.run(["kpsewhich", "booktabs.sty"], capture_output=True, text=True).stdout.strip():
        return "booktabs.sty not installed (apt-get install -y texlive-latex-recommended)"
    return ""


@pytest.mark.skipif(bool(_has_latex()), reason=_has_latex() or "latex present")
def test_latex_report_compiles_stand_alone(tmp_path, fixture_run):
    paths = build_report([fixture_run], tmp_path / "rep")
    folder = paths["latex"].parent
    assert (folder / "realism_and_detectability_vs_shots_self.tex").is_file()
    for _ in range(2):  # second pass resolves the findings' \ref to the tables
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "report.tex"], cwd=folder,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-3000:]
    log = (folder / "report.log").read_text(errors="replace")
    assert "undefined references" not in log and (folder / "report.pdf").stat().st_size > 10_000


def test_plots_as_pdf_and_svg_at_paper_width(fixture_run):
    run = load_run(fixture_run)
    wide = plots.realism_vs_shots([run], "self")
    assert wide.columns == 2
    for plot in (wide, plots.roc_curves(run), plots.cross_heatmap(run, "spectral"), plots.auc_vs_shots([run])):
        assert plot.pdf.startswith(b"%PDF") and b"/FontFile2" in plot.pdf  # TrueType fonts embedded
        box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", plot.pdf)
        w = float(box.group(1))
        assert w == pytest.approx({1: 3.5, 2: 7.16}[plot.columns] * 72, abs=1)
        svg = ET.fromstring(plot.svg)
        assert svg.tag.endswith("svg") and float(svg.get("width").removesuffix("pt")) == pytest.approx(w, abs=1)
        assert b"<text" not in plot.svg  # text drawn as paths: no font needed


def _seed_run(make_run, path: Path, seed: int, shift: float) -> Path:
    run = make_run(path, shift=shift, seed=seed)
    write_text(run / "config.yaml", f"name: fixture\nseed: {seed}\n")
    m = read_json(run / "manifest.json")
    write_json(run / "manifest.json", {**m, "seed": seed})
    write_json(run / "stages" / "data.json", {"status": "done", "wall_s": 10.0 + seed, "result": {"source": "synthetic"}})
    return run


def test_seed_replicates_report_mean_and_ci_across_seeds(tmp_path, make_run, capsys):
    shifts = [0.0, 3.0, 9.0]
    for s, shift in enumerate(shifts):
        _seed_run(make_run, tmp_path / "multi" / f"seed-{s}", s, shift)
    runs = [load_run(p) for p in seeds.seed_dirs(tmp_path / "multi")]
    assert seeds.are_replicates(runs)
    agg = seeds.aggregate(runs, "mean")
    cell = table1(agg, "self").cell("FF, T=1", "FID")
    fids = np.array([80 + s for s in shifts])
    half = stats.t.ppf(0.975, 2) * fids.std(ddof=1) / np.sqrt(3)
    assert cell.value == pytest.approx(fids.mean())
    assert (cell.ci_low, cell.ci_high) == pytest.approx((fids.mean() - half, fids.mean() + half))
    assert cell.units == 3 and cell.unit == "seeds" and cell.low_n
    assert cell.detail.startswith("within-run ±") and cell.detail.endswith("(people)")
    assert main(["report", str(tmp_path / "multi"), "--out", str(tmp_path / "rep")]) == 0, capsys.readouterr().err
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "Table 1 over seeds" in page and "Each seed side by side" in page and "mean of 3 seeds" in page
    methods = (tmp_path / "rep" / "methods.md").read_text()
    assert "seeds [0, 1, 2]" in methods and "seed 0: 10.0 s, seed 1: 11.0 s, seed 2: 12.0 s" in methods
    # the same runs listed one by one aggregate too; runs of other configs stay side by side
    assert not seeds.are_replicates([runs[0], load_run(make_run(tmp_path / "other", seed=5))])


def test_methods_read_from_the_runs_records(tmp_path, fixture_run):
    write_json(fixture_run / "train" / "manifest.json", {"final_step": 1234, "parameters": {"G": 99},
                                                         "content_note": "pixel L1 replaces L_CNT (deviation)"})
    write_text(fixture_run / "config.yaml", "name: fixture\ndescription: tiny\nseed: 7\nsynth: {identities: 11}\n"
                                            "train: {steps: 1234}\n")
    write_json(fixture_run / "stages" / "data.json", {"status": "done", "wall_s": 3.2, "result": {"source": "synthetic"}})
    write_json(fixture_run / "stages" / "generate.json",
               {"status": "done", "result": {"ft": {"epochs": 50.0, "average": 0.1},
                                             "ft_steps_per_T": {"1": 50, "8": 100, "32": 400}}})
    paths = build_report([fixture_run], tmp_path / "rep", vector=False)
    md = paths["methods"].read_text()
    for fact in ("0123456789abcdef", "identities = 11", "steps reached: 1234", "pixel L1 replaces L_CNT",
                 "dlib_landmarks68 (present)", "torch 2.x", "Wall time: 3.2 s", '"threads": 2',
                 "for 50 / 100 / 400 steps at T = 1 / 8 / 32 (epochs = 50.0, average = 0.1)"):
        assert fact in md, fact
    tex = (tmp_path / "rep" / "methods.tex").read_text()
    assert tex.startswith(r"\section{Methods}") and "L\\_CNT" in tex


@pytest.mark.parametrize("modes, expected", [("[FF]", "Few-shot: no FT models (modes: FF)"),
                                             ("[FF, FT]", "Few-shot: FT as the suite configured it (ft_epochs = 9")])
def test_methods_without_the_generate_record_fall_back_to_the_suites_ft(tmp_path, fixture_run, modes, expected):
    """A run made before the generate stage recorded its FT, or without FT at all."""
    write_text(fixture_run / "config.yaml", f"name: fixture\nfewshot: {{modes: {modes}, ft_epochs: 9}}\n")
    write_json(fixture_run / "stages" / "generate.json", {"status": "done", "result": {}})
    assert expected in build_report([fixture_run], tmp_path / "rep", vector=False)["methods"].read_text()


def _adversarial_csv(path: Path, evade_auc: float) -> None:
    """results/adversarial.csv (docs/CONTRACTS.md) with a clean and an evade round scored by
    the attacked and a hardened detector."""
    from talkbench.benchmarks.stages.adversarial import RESULT_COLUMNS

    rows = []
    for attack, weight, aucs in (("none", 0.0, (0.95, 0.96)), ("evade", 1.0, (evade_auc, 0.93))):
        for (det, role), auc in zip((("cnn", "attacked"), ("cnn-hard", "hardened")), aucs):
            rows.append(dict(round=0, attack=attack, eps=0, weight=weight, setting="FT_T32", target="cnn", detector=det,
                             evaluator=role, white_box=det == "cnn", post="none", auc=auc, auc_ci_low=auc - 0.03,
                             auc_ci_high=min(1.0, auc + 0.03), p_fake=0.5, n_real=40, n_fake=40, n_videos=8))
    pd.DataFrame(rows, columns=RESULT_COLUMNS).to_csv(path / "results" / "adversarial.csv", index=False)


def test_adversarial_findings_follow_the_numbers(tmp_path, make_run):
    path = make_run(tmp_path / "a")
    _adversarial_csv(path, evade_auc=0.60)
    text = _sentences(load_run(path))
    assert any(s.startswith("evade λ=1 fakes are harder to detect than clean FT fakes on cnn (attacked) AUC by 0.350")
               for s in text), text
    assert any(s.startswith("cnn-hard (hardened) detects better than cnn (attacked) on evade λ=1 fakes") for s in text)
    attack = [s for s in text if "clean FT fakes" in s or "detects better than" in s]
    assert attack and all(s.endswith("n = 8 videos).") for s in attack), attack  # the units the CI resamples
    _adversarial_csv(path, evade_auc=0.94)  # the attack failed: within the CIs of clean
    text = _sentences(load_run(path))
    assert not any("harder to detect than clean FT fakes on cnn (attacked)" in s for s in text)
    assert any(s.startswith("evade λ=1 fakes vs clean FT fakes on cnn (attacked) AUC") and "no difference detected" in s
               for s in text), text
