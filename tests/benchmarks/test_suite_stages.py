"""The suite's stage declarations: what each stage reads exists, deps run first, and a
stage's fingerprint changes when, and only when, something it declares it reads changes
(checked through the real runner, with the bodies swapped for recorders)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from talkbench.benchmarks.stage_runner import StageRunner
from talkbench.benchmarks.suite import SuiteConfig, load_suite
from talkbench.benchmarks.suite_stages import STAGE_NAMES, STAGES, build_stages, field_value
from talkbench.errors import TalkbenchError
from talkbench.files import write_text

ALL = ["data", "train", "generate", "checks", "realism", "detection", "adversarial", "report"]
AFTER_TRAIN = ALL[1:]


def test_every_declared_read_is_a_suite_field():
    cfg = SuiteConfig()
    for spec in STAGES:
        for field in [*spec.declared_fields(), *([spec.only_if] if spec.only_if else [])]:
            field_value(cfg, field)  # raises on a field SuiteConfig does not have
    with pytest.raises(TalkbenchError, match="no suite field 'fewshot.shotz'"):
        field_value(cfg, "fewshot.shotz")


def test_deps_run_first_and_the_report_comes_last_reading_everything():
    assert len(set(STAGE_NAMES)) == len(STAGE_NAMES)
    for i, spec in enumerate(STAGES):
        assert set(spec.deps) <= set(STAGE_NAMES[:i]), spec.name
    upstream = {s.name: set(s.deps) for s in STAGES}
    changed = True
    while changed:  # transitive closure
        changed = False
        for name, deps in upstream.items():
            more = set().union(*(upstream[d] for d in deps)) - deps
            if more:
                deps |= more
                changed = True
    assert STAGE_NAMES[-1] == "report" and upstream["report"] == set(STAGE_NAMES[:-1])


def _reruns(run_dir: Path, cfg: SuiteConfig) -> list[str]:
    """The stages that ran (were not up to date) in ``run_dir`` under ``cfg``."""
    calls: list[str] = []
    stages = build_stages(cfg)
    for stage in stages:
        stage.fn = lambda ctx, name=stage.name: calls.append(name)
    StageRunner(run_dir, show_progress=False).run(stages)
    return calls


@pytest.fixture(scope="module")
def quick() -> SuiteConfig:
    return load_suite("quick")


def _with(overrides: list[str]) -> SuiteConfig:
    return load_suite("quick", overrides)


def test_a_change_reruns_the_stages_that_read_it_and_those_downstream_only(tmp_path, quick):
    assert _reruns(tmp_path, quick) == ALL
    assert _reruns(tmp_path, quick) == []
    cases = [
        (["fewshot.shots=[1,2]"], ["generate", "checks", "realism", "detection", "adversarial", "report"]),
        (["metrics.names=[ssim]"], ["realism", "report"]),
        (["metrics.options={backend: none}"], ["checks", "realism", "adversarial", "report"]),
        (["detector.robustness=false"], ["detection", "adversarial", "report"]),
        (["adversarial.pgd_steps=1"], ["adversarial", "report"]),
        (["train.steps=5"], AFTER_TRAIN),
        (["synth.identities=12"], ALL),
    ]
    for overrides, expected in cases:
        run = tmp_path / overrides[0].split("=")[0]
        _reruns(run, quick)
        assert _reruns(run, _with(overrides)) == expected, overrides
    run = tmp_path / "prepare"
    _reruns(run, quick)
    assert _reruns(run, _with(["prepare={frames: 10}"])) == []  # synthetic data: prepare is not read


def test_a_new_outputs_version_reruns_that_stage_and_what_follows_only(tmp_path, quick, monkeypatch):
    import dataclasses

    from talkbench.benchmarks import suite_stages

    _reruns(tmp_path, quick)
    bumped = tuple(dataclasses.replace(s, outputs=s.outputs + 1) if s.name == "detection" else s
                   for s in suite_stages.STAGES)
    monkeypatch.setattr(suite_stages, "STAGES", bumped)
    assert _reruns(tmp_path, quick) == ["detection", "adversarial", "report"]
    assert _reruns(tmp_path, quick) == []


def test_a_given_checkpoint_is_keyed_on_its_content_not_the_train_section(tmp_path):
    ckpt = tmp_path / "g.pt"
    write_text(ckpt, "weights")
    cfg = _with([f"checkpoint={ckpt}"])
    run = tmp_path / "run"
    assert _reruns(run, cfg) == ALL
    assert _reruns(run, _with([f"checkpoint={ckpt}", "train.steps=99"])) == []
    write_text(ckpt, "other weights")
    assert _reruns(run, cfg) == AFTER_TRAIN


def test_given_data_is_keyed_on_its_content_and_prepare_not_synth(tmp_path):
    data = tmp_path / "videos"
    write_text(data / "p0" / "v0.mp4", "frames")
    cfg = _with([f"data={data}"])
    run = tmp_path / "run"
    assert _reruns(run, cfg) == ALL
    assert _reruns(run, _with([f"data={data}", "synth.identities=12"])) == []
    assert _reruns(run, _with([f"data={data}", "prepare={frames: 10}"])) == ALL
    write_text(data / "p0" / "v1.mp4", "more frames")
    assert _reruns(run, _with([f"data={data}", "prepare={frames: 10}"])) == ALL


def test_imported_datasets_add_cross_dataset_without_rerunning_detection(tmp_path, quick):
    imported = tmp_path / "imp"
    write_text(imported / "crops.csv", "path\n")
    cfg = _with([f"detector.datasets={{mine: {imported}}}"])
    run = tmp_path / "run"
    _reruns(run, quick)
    assert _reruns(run, cfg) == ["cross_dataset", "report"]
    write_text(imported / "crops.csv", "path\na.png\n")
    os.utime(imported / "crops.csv", ns=(1, 1))
    assert _reruns(run, cfg) == ["cross_dataset", "report"]
    with pytest.raises(TalkbenchError, match="not a dataset made by `talkbench detect import`"):
        build_stages(_with([f"detector.datasets={{mine: {tmp_path}}}"]))
