"""End to end: `talkbench run quick` through every real stage (synthetic data, meta-training,
few-shot FF/FT models, metrics, detectors, report), then a rerun that skips everything."""

from __future__ import annotations

import time

import pandas as pd
import pytest
import torch

from talkbench.cli import main
from talkbench.files import read_json
from talkbench.media import read_png_provenance

STAGES = ["data", "train", "generate", "checks", "realism", "detection", "adversarial", "report"]


@pytest.mark.slow
def test_quick_suite_end_to_end_and_resume(tmp_path, capsys):
    torch.set_num_threads(1)
    run = tmp_path / "quick"
    assert main(["run", "quick", "--out", str(run), "--no-progress"]) == 0, capsys.readouterr().err
    for stage in STAGES:
        rec = read_json(run / "stages" / f"{stage}.json")
        assert rec["status"] == "done" and len(rec["fingerprint"]) == 16
    generated = read_json(run / "stages" / "generate.json")["result"]
    assert generated["ft_steps_per_T"] == {"1": 1, "4": 1} and generated["ft"]["steps"] == 1  # quick: ft_steps 1
    assert "FT fine-tunes G, ψ' and D on each person's T shots for 1 / 1 steps at T = 1 / 4" in \
        (run / "report" / "methods.md").read_text()

    frames = pd.read_csv(run / "generated" / "frames.csv", keep_default_na=False)
    assert set(frames["setting"]) == {"FF_T1", "FF_T4", "FT_T1", "FT_T4"}
    assert set(frames["kind"]) == {"self", "cross"} and frames["identity"].nunique() == 3
    cross = frames[frames["kind"] == "cross"]
    assert (cross["driver_identity"] != cross["identity"]).all() and (cross["real_path"] == "").all()
    fake = run / "generated" / frames["fake_path"].iloc[0]
    assert read_png_provenance(fake)["synthetic"] == "true"

    realism = pd.read_csv(run / "results" / "realism.csv", keep_default_na=False)
    ssim = realism[(realism["metric"] == "SSIM") & (realism["status"] == "ok")]
    assert len(ssim) == 4 and ssim["value"].astype(float).between(-1, 1).all()
    assert (realism.loc[realism["status"] == "unavailable", "reason"] != "").all()
    shots = pd.read_csv(run / "results" / "realism_vs_shots.csv")
    assert {("FF", "self", "SSIM"), ("FT", "self", "SSIM")} <= set(zip(shots["mode"], shots["kind"], shots["metric"]))
    assert ((shots["T_a"] == 1) & (shots["T_b"] == 4)).all() and (shots["n_people"] == 3).all()
    assert (shots["ci_low"] <= shots["diff"] + 1e-9).all() and (shots["diff"] <= shots["ci_high"] + 1e-9).all()
    ft_ff = pd.read_csv(run / "results" / "realism_ft_vs_ff.csv")
    assert {("self", "SSIM", 1), ("self", "SSIM", 4)} <= set(zip(ft_ff["kind"], ft_ff["metric"], ft_ff["T"]))
    assert (ft_ff["n_people"] == 3).all() and set(ft_ff["verdict"]) <= {"better", "worse", "no difference"}
    fid = realism[(realism["metric"] == "FID") & (realism["status"] == "ok")]
    if len(fid):  # the FID Inception is installed: a jackknife interval over the 3 people, and paired T rows
        assert (fid["ci_low"].astype(float) <= fid["value"].astype(float)).all()
        assert "jackknife over 3 people" in fid["note"].iloc[0]
        assert (shots.loc[shots["metric"] == "FID", "interval"] == "jackknife").sum() == 4
    checks = pd.read_csv(run / "results" / "generator_checks.csv")
    assert set(checks["check"]) == {"own_vs_other", "own_vs_mean", "ft_vs_nearest_shot"}
    assert set(checks["T"]) == {1, 4} and (checks["n_people"] == 3).all()
    people = pd.read_csv(run / "results" / "generator_checks_people.csv")
    assert set(people["method"]) == {"real", "FF", "FT", "FF-other-ê", "FF-mean-ê", "nearest-shot"}
    detection = pd.read_csv(run / "results" / "detection.csv")
    assert set(detection["train_setting"]) == set(frames["setting"])
    assert detection["auc"].between(0, 1).all()
    assert (run / "results" / "robustness.csv").is_file() and any((run / "results" / "roc").glob("*.csv"))
    adv = pd.read_csv(run / "results" / "adversarial.csv")
    assert {"none", "evade", "pgd"} <= set(adv["attack"]) and set(adv["round"]) == {0, 1}
    assert adv["auc"].between(0, 1).all() and (adv["auc_ci_low"] <= adv["auc"] + 1e-9).all()
    evasive = pd.read_csv(run / "adversarial" / "round0" / "frames.csv")
    meta = read_png_provenance(run / "adversarial" / "round0" / evasive["fake_path"].iloc[0])
    assert meta["synthetic"] == "true" and "adversarial: evasion" in meta["generator"]
    assert (run / "report" / "plots" / "adversarial.png").is_file()
    assert (run / "report" / "index.html").stat().st_size > 10_000
    assert any((run / "samples").glob("*.png"))
    trained = read_json(run / "stages" / "train.json")["result"]
    assert trained["final_step"] == 4 and trained["stopped_by_time_limit"] is False
    weights = {w["name"]: w for w in read_json(run / "manifest.json")["weights"]}
    assert "dlib-landmarks68" in weights and len(weights["dlib-landmarks68"]["files"][0]["sha256"]) == 64

    start = time.perf_counter()
    assert main(["run", "quick", "--out", str(run), "--no-progress"]) == 0
    assert time.perf_counter() - start < 30
    assert capsys.readouterr().out.count("up to date") == len(STAGES)

    # the FT probe (docs/generator.md) on the finished run: one line per FT length, FF first
    from talkbench.benchmarks.ft_probe import main as ft_probe

    assert ft_probe([str(run), "--shots", "4", "--steps", "1", "2", "--people", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("T = 4") and "nearest shot frame: SSIM" in lines[0]
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["step    0 (FF)", "step    1", "step    2"]
    assert ft_probe([str(run), "--shots", "5"]) == 2
    assert "has no test case with T = 5" in capsys.readouterr().err
