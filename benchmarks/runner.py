"""The benchmark pipeline: data → train → generate → realism → detection → report, as
stages of :mod:`talkbench.benchmarks.stages` under one run directory.

Every stage calls the owning package's public API (docs/CONTRACTS.md); nothing here
re-implements a model, a metric or a detector. A package that is not installed makes its
stage fail with a one-line error naming it, never a made-up result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from talkbench.benchmarks.stages import Stage, StageFailed, StageReport, StageRunner
from talkbench.benchmarks.suite import SuiteConfig
from talkbench.config import to_dict
from talkbench.errors import TalkbenchError
from talkbench.files import read_json
from talkbench.runs import RunDir

STAGES = ("data", "train", "generate", "checks", "realism", "detection", "adversarial", "cross_dataset", "report")
# cross_dataset runs when the suite lists detector.datasets


def require(module: str) -> ModuleType:
    """Import a package module a stage needs, or fail the stage naming what is missing."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise TalkbenchError(f"it needs {module}, which is not available here ({exc}); "
                             "that package has not landed or is not installed") from None


def result_of(run_dir: Path, stage: str) -> dict:
    """The JSON result a finished stage left in its record (dataset path, checkpoint ...)."""
    rec = StageRunner(run_dir).record(stage)
    if rec is None:
        raise TalkbenchError(f"stage '{stage}' has not finished in {run_dir}")
    return rec.get("result") or {}


def input_fingerprint(path: Path) -> str:
    """A cheap content key for a user-given input (dataset folder, videos or checkpoint):
    relative path, size and mtime of every file, so an edited input reruns its stages."""
    if not path.exists():
        raise TalkbenchError(f"{path} does not exist")
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(path) if f != path else f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def is_prepared_dataset(path: Path) -> bool:
    return (path / "meta.json").is_file() and (path / "index.csv").is_file()


def build_stages(cfg: SuiteConfig, run_dir: Path) -> list[Stage]:
    """The suite's stages with the config each one's outputs depend on."""
    from talkbench.benchmarks import adversarial, pipeline

    data_in = {"data": cfg.data, "seed": cfg.seed}
    if cfg.data:
        data_in["input"] = input_fingerprint(Path(cfg.data))
        data_in["prepare"] = cfg.prepare
    else:
        data_in["synth"] = cfg.synth
    train_in: dict[str, Any] = {"checkpoint": cfg.checkpoint, "seed": cfg.seed}
    if cfg.checkpoint:
        train_in["input"] = input_fingerprint(Path(cfg.checkpoint))
    else:
        train_in.update(model=cfg.model, train=cfg.train)
    fewshot = to_dict(cfg.fewshot)
    stages = [
        Stage("data", lambda ctx: pipeline.data_stage(ctx, cfg), data_in),
        Stage("train", lambda ctx: pipeline.train_stage(ctx, cfg), train_in, deps=("data",)),
        Stage("generate", lambda ctx: pipeline.generate_stage(ctx, cfg), {"fewshot": fewshot, "seed": cfg.seed},
              deps=("data", "train")),
        Stage("checks", lambda ctx: pipeline.checks_stage(ctx, cfg), {"backend": cfg.metrics.options.get("backend")},
              deps=("generate",)),
        Stage("realism", lambda ctx: pipeline.realism_stage(ctx, cfg), to_dict(cfg.metrics), deps=("generate",)),
        Stage("detection", lambda ctx: pipeline.detection_stage(ctx, cfg),
              {"detector": to_dict(cfg.detector), "seed": cfg.seed}, deps=("generate",)),
        Stage("adversarial", lambda ctx: adversarial.adversarial_stage(ctx, cfg),
              {"adversarial": to_dict(cfg.adversarial), "detector": to_dict(cfg.detector), "fewshot": fewshot,
               "metrics": to_dict(cfg.metrics), "seed": cfg.seed}, deps=("train", "generate", "detection")),
        Stage("report", lambda ctx: pipeline.report_stage(ctx, cfg), {},
              deps=("checks", "realism", "detection", "adversarial")),
    ]
    if cfg.detector.datasets:  # the cross-dataset matrix with imported sets, before the report
        from talkbench.benchmarks import cross_dataset_stage as cds

        stages.insert(-1, Stage("cross_dataset", lambda ctx: cds.cross_dataset_stage(ctx, cfg), cds.stage_inputs(cfg),
                                deps=("generate",)))
        stages[-1].deps = (*stages[-1].deps, "cross_dataset")
    return stages


def _weights_used(run_dir: Path) -> list[str]:
    """Registry names of the pretrained assets the finished stages report having loaded."""
    names: set[str] = set()
    for record in sorted((run_dir / "stages").glob("*.json")):
        names.update((read_json(record).get("result") or {}).get("weights", []))
    return sorted(names)


def run_suite(cfg: SuiteConfig, out: str | Path, force: list[str] | None = None,
              show_progress: bool = True, command: list[str] | None = None) -> list[StageReport]:
    """Run (or resume) a suite in ``out``; returns the per-stage outcomes. Raises
    :class:`~talkbench.benchmarks.stages.StageFailed` with the outcomes when a stage fails."""
    from talkbench.device import configure_threads, seed_everything

    run_dir = Path(out)
    run = RunDir(run_dir)
    run.start(cfg, seed=cfg.seed, device=cfg.device, command=command if command is not None else sys.argv)
    configure_threads()
    seed_everything(cfg.seed)
    stages = build_stages(cfg, run_dir)
    reports = StageRunner(run_dir, show_progress).run(stages, force=force or ())
    run.record_weights(_weights_used(run_dir))
    run.finish(stages={r.name: {"outcome": r.outcome, "wall_s": round(r.wall_s, 3)} for r in reports})
    return reports


def run_seeds(cfg: SuiteConfig, out: str | Path, force: list[str] | None = None, show_progress: bool = True,
              command: list[str] | None = None) -> dict[int, list[StageReport]]:
    """Seed replicates: the whole flow once per seed of ``cfg.seeds`` in ``out/seed-<s>/``
    (each its own resumable run directory, stages cached per seed), then the report over
    seeds in ``out/report/`` (mean and across-seed CI beside the within-run CI)."""
    from talkbench.reports.build import build_report
    from talkbench.reports.seeds import SEED_DIR_PREFIX

    if len(set(cfg.seeds)) != len(cfg.seeds):
        raise TalkbenchError(f"seeds={list(cfg.seeds)}: a seed is repeated")
    out = Path(out)
    reports = {}
    for seed in cfg.seeds:
        run_dir = out / f"{SEED_DIR_PREFIX}{seed}"
        try:
            reports[seed] = run_suite(dataclasses.replace(cfg, seed=seed, seeds=()), run_dir, force=force,
                                      show_progress=show_progress, command=command)
        except StageFailed as exc:
            exc.run_dir = run_dir  # where the finished stages are, for the summary
            raise
    build_report([out / f"{SEED_DIR_PREFIX}{s}" for s in cfg.seeds], out / "report")
    return reports
