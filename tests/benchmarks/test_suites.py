"""Shipped suites load, and their pass-through sections are valid for the owning packages'
configs; bad suites and overrides fail with one line."""

from __future__ import annotations

import pytest

from talkbench.benchmarks.suite import load_suite, suite_names
from talkbench.cli import main
from talkbench.config import from_dict
from talkbench.errors import TalkbenchError


@pytest.mark.parametrize("name", ["quick", "default", "paper"])
def test_shipped_suites_fit_the_packages_configs(name):
    assert name in suite_names()
    cfg = load_suite(name, ["data=somewhere"] if name == "paper" else [])
    from talkbench.data.prepare import PrepareConfig
    from talkbench.data.synth import SynthConfig
    from talkbench.detector.registry import list_detectors
    from talkbench.detector.train import DetectorTrainConfig
    from talkbench.generator.train_config import TrainConfig
    from talkbench.metrics.api import REGISTRY

    train = from_dict(TrainConfig, {**cfg.train, "model": dict(cfg.model)})
    from_dict(SynthConfig, dict(cfg.synth))
    from_dict(PrepareConfig, dict(cfg.prepare))
    from_dict(DetectorTrainConfig, dict(cfg.detector.options))
    assert set(cfg.metrics.names) <= set(REGISTRY)
    assert set(cfg.detector.names) <= set(list_detectors())
    assert train.model.resolved().image_size == (256 if name == "paper" else 64)
    assert all(m in ("FF", "FT") for m, _ in cfg.settings)


def test_bad_suites_and_overrides_are_one_line_errors(tmp_path, capsys):
    with pytest.raises(TalkbenchError, match="unknown suite 'nope'"):
        load_suite("nope")
    with pytest.raises(TalkbenchError, match="needs data=PATH"):
        load_suite("paper")
    with pytest.raises(TalkbenchError, match="not FF or FT"):
        load_suite("quick", ["fewshot.modes=[FF,XX]"])
    assert main(["run", "quick", "fewshot.shotz=[1]", "--out", str(tmp_path / "r")]) == 2
    assert "unknown key 'fewshot.shotz'" in capsys.readouterr().err
    assert main(["run", "--list"]) == 0
    assert "quick" in capsys.readouterr().out


def test_overrides_reach_keys_a_suite_file_does_not_set():
    """A suite's pass-through sections take any key of the owning package's config (the
    default suite's YAML sets a few loss keys; the rest stay reachable), checked by that config."""
    from talkbench.benchmarks.suite import section_config

    cfg = load_suite("quick", ["train.loss.pixel_l1=3", "train.loss.inception=off", "detector.options.epochs=2"])
    train = section_config(cfg, "train")
    assert train.loss.pixel_l1 == 3.0 and train.loss.inception == "off"
    assert section_config(cfg, "detector", cfg.detector.names[0]).epochs == 2
    with pytest.raises(TalkbenchError, match="train.loss.pixel_lq"):
        load_suite("quick", ["train.loss.pixel_lq=3"])
    with pytest.raises(TalkbenchError, match="unknown key 'fewshot.nope.x'|'nope' is not a config section"):
        load_suite("quick", ["fewshot.nope.x=1"])


def test_ft_batch_sets_the_fine_tuning_schedule():
    from talkbench.benchmarks.suite import fine_tune_config

    ft = fine_tune_config(load_suite("quick", ["fewshot.ft_steps=null", "fewshot.ft_batch=4", "fewshot.ft_epochs=20",
                                               "fewshot.ft_min_steps=40"]))
    assert ft.batch_size == 4 and [ft.steps_for(t) for t in (1, 8, 32)] == [40, 40, 160]
    with pytest.raises(TalkbenchError, match="ft_batch"):
        load_suite("quick", ["fewshot.ft_batch=0"])


def test_seeds_must_be_positive(capsys):
    assert main(["run", "quick", "--seeds", "0", "--out", "/nonexistent/never-written"]) == 2
    assert "--seeds 0: give a positive number of seeds" in capsys.readouterr().err


@pytest.mark.slow
def test_quick_with_two_seeds_runs_each_seed_and_reports_over_them(tmp_path, capsys):
    from talkbench.files import read_json

    out = tmp_path / "q2"
    assert main(["run", "quick", "--seeds", "2", "--out", str(out), "--no-progress"]) == 0, capsys.readouterr().err
    assert [read_json(out / f"seed-{s}" / "manifest.json")["seed"] for s in (0, 1)] == [0, 1]
    page = (out / "report" / "index.html").read_text()
    assert "mean of 2 seeds" in page and "Each seed side by side" in page
    assert main(["run", "quick", "seeds=[0,1]", "--out", str(out), "--no-progress"]) == 0
    assert capsys.readouterr().out.count("skipped") >= 2 * 5  # every stage of both seeds cached


def test_a_failed_stage_says_where_its_finished_stages_are(tmp_path, capsys):
    empty = tmp_path / "no-videos"
    empty.mkdir()
    out = tmp_path / "r"
    assert main(["run", "quick", f"data={empty}", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "stage 'data' failed" in err and f"the finished stages in {out} are kept" in err, err
    assert "None" not in err
