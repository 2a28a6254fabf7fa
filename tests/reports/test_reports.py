"""Reports from fixture result files: tables, comparisons, plots, HTML/Markdown/JSON, CLI."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest
from PIL import Image

from talkbench.cli import main
from talkbench.errors import TalkbenchError
from talkbench.reports import paper, plots
from talkbench.reports.build import build_report
from talkbench.reports.compare import side_by_side
from talkbench.reports.results import load_run
from talkbench.reports.tables import cross_setting, table1


def test_table1_rows_columns_values_and_unavailable(fixture_run, lpips_reason):
    run = load_run(fixture_run)
    t = table1(run, "self")
    assert t.rows == ["FF, T=1", "FF, T=8", "FF, T=32", "FT, T=1", "FT, T=8", "FT, T=32"]
    assert t.columns == ["FID", "KID", "SSIM", "PSNR", "LPIPS", "CSIM", "NME", "AUC spectral"]
    raw = run.realism.set_index(["setting", "kind", "metric"])
    fid = t.cell("FT, T=8", "FID")
    assert fid.value == pytest.approx(raw.loc[("FT_T8", "self", "FID"), "value"])
    assert fid.ci_low < fid.value < fid.ci_high and fid.backend == "inception-random"
    assert t.cell("FF, T=1", "CSIM").backend == "dlib"  # "CSIM-dlib" lands in the CSIM column
    lp = t.cell("FF, T=1", "LPIPS")
    assert lp.status == "unavailable" and lp.text() == "n/a" and lp.reason == lpips_reason
    assert t.notes() == [f"LPIPS: unavailable — {lpips_reason}"]
    auc = t.cell("FF, T=32", "AUC spectral")
    d = run.detection
    expect = d[(d.train_setting == "FF_T32") & (d.test_setting == "FF_T32")]["auc"].item()
    assert auc.value == pytest.approx(expect) and auc.backend == "from scratch"
    text = t.text_frame()
    assert re.fullmatch(r"\d+\.\d+ \[\d+\.\d+, \d+\.\d+\]", text.loc["FF, T=1", "FID"])

    cross = table1(run, "cross")
    assert cross.columns == ["FID", "KID", "CSIM", "NME"]  # paired metrics need a ground truth
    assert cross.cell("FF, T=1", "SSIM").text() == "—" and cross.cell("FF, T=1", "FID").ok


def test_cross_setting_matrix(fixture_run):
    run = load_run(fixture_run)
    m = cross_setting(run, "spectral")
    assert m.rows == m.columns == ["FF_T1", "FF_T8", "FF_T32", "FT_T1", "FT_T8", "FT_T32"]
    assert all(m.cell(r, c).ok for r in m.rows for c in m.columns)
    assert m.cell("FF_T1", "FF_T1").value > m.cell("FF_T1", "FF_T32").value


def test_bad_inputs_are_one_line_errors(tmp_path, fixture_run):
    with pytest.raises(TalkbenchError, match="not a run directory"):
        load_run(tmp_path / "nothing")
    df = pd.read_csv(fixture_run / "results" / "realism.csv").drop(columns=["ci_low"])
    df.to_csv(fixture_run / "results" / "realism.csv", index=False)
    with pytest.raises(TalkbenchError, match="lacks the column"):
        load_run(fixture_run)


def test_missing_results_render_as_absent(tmp_path):
    (tmp_path / "bare" / "results").mkdir(parents=True)
    paths = build_report([tmp_path / "bare"], tmp_path / "out")
    page = paths["html"].read_text()
    assert "No detection results" in page and "Paper Table 1" in page


def test_paper_table_is_the_published_one():
    df = paper.table1()
    assert len(df) == 15
    ft32 = df[(df["set"] == "VoxCeleb2") & (df["method"] == "ours-FT") & (df["T"] == 32)].iloc[0]
    assert (ft32["FID"], ft32["SSIM"], ft32["CSIM"], ft32["USER"]) == (30.6, 0.72, 0.45, 0.33)
    assert df["FID confirmed"].sum() == 6
    assert list(paper.ours_by_mode()["mode"]) == ["FF", "FT", "FF", "FT", "FF", "FT"]


def test_compare_flags_only_clear_differences(tmp_path, make_run):
    a = load_run(make_run(tmp_path / "a"), "a")
    b = load_run(make_run(tmp_path / "b", shift=20.0), "b")  # FID +20 (worse), SSIM -0.2 (worse)
    c = load_run(make_run(tmp_path / "c", shift=0.5), "c")  # within the CIs
    t = side_by_side([a, b, c])
    assert t.cell("FF, T=1", "FID · a").flag == ""  # the baseline itself
    assert t.cell("FF, T=1", "FID · b").flag == "worse"
    assert t.cell("FF, T=1", "SSIM · b").flag == "worse"
    assert t.cell("FF, T=1", "FID · c").flag == ""
    assert t.cell("FF, T=1", "PSNR · b").flag == ""  # unchanged
    a_better = side_by_side([b, a])
    assert a_better.cell("FT, T=32", "FID · a").flag == "better"


def _png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG"
        return im.size


def test_plots_render_with_and_without_data(tmp_path, fixture_run):
    run = load_run(fixture_run)
    w, h = _png_size(plots.realism_vs_shots([run], "self").png)
    assert w > 800 and h > 400
    for data in (plots.auc_vs_shots([run]), plots.roc_curves(run), plots.cross_heatmap(run, "spectral"),
                 plots.robustness_curves(run, "spectral")):
        assert data is not None and min(_png_size(data.png)) > 200
    (tmp_path / "empty" / "results").mkdir(parents=True)
    empty = load_run(tmp_path / "empty")
    assert plots.auc_vs_shots([empty]) is None and plots.roc_curves(empty) is None
    assert plots.cross_heatmap(empty, "spectral") is None


def test_report_files_self_contained_html_markdown_json(tmp_path, fixture_run, lpips_reason):
    paths = build_report([fixture_run], tmp_path / "rep")
    page = paths["html"].read_text()
    srcs = re.findall(r'src="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r"(href|src)=\"(http|//|/)", page) and "<script" not in page
    assert len(srcs) == 2 + 4 + 2  # realism self/cross, AUC, ROC, heatmap, robustness; 2 sample grids
    assert paper.LABEL in page and lpips_reason in page and "0123456789abcdef" in page
    assert "User study (USER" in page
    md = paths["markdown"].read_text()
    assert "| FF, T=1 |" in md and "n/a" in md and "(plots/realism_self.png)" in md
    assert (tmp_path / "rep" / "samples" / "FF_T1__id00017.png").is_file()
    numbers = json.loads(paths["json"].read_text())
    assert any(f["supported"] and f["text"].startswith("FT at T = 32 beats FT at T = 1 on FID") for f in numbers["findings"])
    fid = [r for r in numbers["runs"][0]["realism"] if r["setting"] == "FT_T32" and r["metric"] == "FID"
           and r["kind"] == "self"][0]
    raw = pd.read_csv(fixture_run / "results" / "realism.csv")
    assert fid["value"] == pytest.approx(raw[(raw.setting == "FT_T32") & (raw.metric == "FID")
                                             & (raw.kind == "self")]["value"].item())
    lp = [r for r in numbers["runs"][0]["realism"] if r["metric"] == "LPIPS"][0]
    assert lp["value"] is None and lp["status"] == "unavailable"
    csv = pd.read_csv(tmp_path / "rep" / "tables" / "realism_and_detectability_vs_shots_self.csv")
    assert set(csv["column"]) >= {"FID", "LPIPS", "AUC spectral"} and len(csv) == 6 * 8


def test_cli_single_and_compare(tmp_path, capsys, make_run):
    a = make_run(tmp_path / "a")
    b = make_run(tmp_path / "b", shift=20.0, seed=1)
    assert main(["report", str(a)]) == 0
    assert (a / "report" / "index.html").is_file()
    out = tmp_path / "cmp"
    assert main(["report", str(a), str(b), "--out", str(out), "--no-vector"]) == 0
    page = (out / "index.html").read_text()
    assert "Runs side by side" in page and 'class="worse"' in page
    assert (out / "samples" / "b__FF_T1__id00017.png").is_file()
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_own_vs_other_sentences_name_the_winner_first_whichever_cell_wins():
    """A detector trained on A that scores a higher AUC on B than on A: the sentence says B
    is detected better than its own setting (it once read "B is detected better than
    <detector> trained on A: its own setting")."""
    from talkbench.reports.findings import group_findings, own_vs_other
    from talkbench.reports.tables import Cell, Table

    def auc(v: float) -> Cell:
        return Cell(v, v - 0.01, v + 0.01, "ok", n=64, higher_is_better=True, units=4, unit="test people")

    table = Table("Cross-setting AUC", ["FT_T8", "FT_T32"], ["FT_T8", "FT_T32"],
                  {("FT_T8", "FT_T8"): auc(0.70), ("FT_T8", "FT_T32"): auc(0.90),
                   ("FT_T32", "FT_T32"): auc(0.95), ("FT_T32", "FT_T8"): auc(0.60)})
    texts = [f.text for g in own_vs_other(table, "Cross-setting generalisation", "cnn", "setting")
             for f in group_findings(g)]
    assert texts[0].startswith("cnn trained on FT_T8: FT_T32 is detected better than its own setting (FT_T8) by 0.2")
    assert texts[1].startswith("cnn trained on FT_T32: its own setting (FT_T32) is detected better than FT_T8 by 0.35")


def test_shots_findings_use_the_paired_difference_where_the_run_has_one(tmp_path, make_run):
    """Two settings whose own intervals overlap (SSIM of FF at T = 1 and 32 in the fixture:
    0.5 ± 5 %) support no difference; the paired difference over the same people, whose CI
    excludes 0, does — and the finding says it is paired and links to its table. A paired
    difference whose CI includes 0 gives "no difference", and a worse one names T = 1 the
    winner. Metrics with no paired row (KID) keep the two-interval comparison."""
    from talkbench.reports.findings import findings
    from talkbench.reports.results import load_run

    run = make_run(tmp_path / "r")
    realism = pd.read_csv(run / "results" / "realism.csv")
    ff32_ssim = (realism.setting == "FF_T32") & (realism.metric == "SSIM")
    realism.loc[ff32_ssim, ["value", "ci_low", "ci_high"]] = [0.511, 0.486, 0.536]  # overlaps T = 1's 0.5 ± 0.025
    realism.to_csv(run / "results" / "realism.csv", index=False)
    before = dict(findings(load_run(run)))["Realism vs shots (self-reenactment)"]
    assert not any(f.supported and f.text.startswith("FF at T = 32 beats FF at T = 1 on SSIM") for f in before)
    rows = [dict(mode="FF", kind="self", metric="SSIM", T_a=1, T_b=32, diff=0.011, ci_low=0.003, ci_high=0.019,
                 n_people=10, interval="t", higher_is_better=True, verdict="better"),
            dict(mode="FF", kind="self", metric="FID", T_a=1, T_b=32, diff=-4.4, ci_low=-13.2, ci_high=4.4,
                 n_people=10, interval="jackknife", higher_is_better=False, verdict="no difference"),
            dict(mode="FT", kind="self", metric="PSNR", T_a=1, T_b=32, diff=-0.5, ci_low=-0.8, ci_high=-0.2,
                 n_people=10, interval="t", higher_is_better=True, verdict="worse")]
    pd.DataFrame(rows).to_csv(run / "results" / "realism_vs_shots.csv", index=False)
    after = dict(findings(load_run(run)))["Realism vs shots (self-reenactment)"]
    ssim = [f for f in after if f.text.startswith("FF at T = 32 beats FF at T = 1 on SSIM")]
    assert len(ssim) == 1 and ssim[0].supported and ssim[0].anchor != before[0].anchor
    assert "paired over the same people: FF at T = 32 − FF at T = 1 = 0.0110 [0.0030, 0.0190]" in ssim[0].text
    assert "n = 10 people" in ssim[0].text
    assert any(not f.supported and f.text.startswith("FF at T = 32 vs FF at T = 1 on FID")
               and "no difference detected" in f.text for f in after)
    assert any(f.supported and f.text.startswith("FT at T = 1 beats FT at T = 32 on PSNR by 0.5") for f in after)
    # KID has no paired row: the fixture's two intervals still decide it, as before
    assert any(f.supported and f.text.startswith("FT at T = 32 beats FT at T = 1 on KID") for f in after)


def test_ft_vs_ff_findings_use_the_paired_difference_where_the_run_has_one(make_run, tmp_path):
    """FT against FF at the same T, read from realism_ft_vs_ff.csv where it has the metric:
    a paired CSIM difference clear of 0 is stated although the fixture's FF and FT intervals
    at T = 1 overlap, and one whose CI includes 0 is not, although the intervals are apart."""
    from talkbench.reports.findings import findings
    from talkbench.reports.results import load_run

    run = make_run(tmp_path / "r")
    realism = pd.read_csv(run / "results" / "realism.csv")
    ft8_ssim = (realism.setting == "FT_T8") & (realism.metric == "SSIM")
    realism.loc[ft8_ssim, ["value", "ci_low", "ci_high"]] = [0.75, 0.73, 0.77]  # clear of FF's 0.62 ± 0.031
    realism.to_csv(run / "results" / "realism.csv", index=False)
    before = dict(findings(load_run(run)))["Fine-tuning (FT) vs feed-forward (FF)"]
    assert any(f.supported and f.text.startswith("FT at T = 8 beats FF at T = 8 on SSIM") for f in before)
    assert not any(f.supported and f.text.startswith("FT at T = 1 beats FF at T = 1 on CSIM") for f in before)
    rows = [dict(kind="self", metric="CSIM-dlib", T=1, diff=0.02, ci_low=0.01, ci_high=0.03, n_people=10,
                 interval="t", higher_is_better=True, verdict="better"),
            dict(kind="self", metric="SSIM", T=8, diff=0.02, ci_low=-0.01, ci_high=0.05, n_people=10,
                 interval="t", higher_is_better=True, verdict="no difference")]
    pd.DataFrame(rows).to_csv(run / "results" / "realism_ft_vs_ff.csv", index=False)
    after = dict(findings(load_run(run)))["Fine-tuning (FT) vs feed-forward (FF)"]
    csim = [f for f in after if f.supported and f.text.startswith("FT at T = 1 beats FF at T = 1 on CSIM by 0.02")]
    assert len(csim) == 1 and "paired over the same people: FT at T = 1 − FF at T = 1" in csim[0].text
    assert not any(f.supported and f.text.startswith("FT at T = 8 beats FF at T = 8 on SSIM") for f in after)
    assert any(f.text.startswith("FT at T = 8 vs FF at T = 8 on") and "SSIM" in f.text and "no difference" in f.text
               for f in after)
