"""Running a suite: one run directory through the stages of
:mod:`talkbench.benchmarks.suite_stages`, or seed replicates of it and their joint report."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from talkbench.benchmarks.stage_runner import StageFailed, StageReport, StageRunner
from talkbench.benchmarks.suite import SuiteConfig
from talkbench.benchmarks.suite_stages import build_stages
from talkbench.errors import TalkbenchError
from talkbench.files import read_json
from talkbench.runs import RunDir


def _weights_used(run_dir: Path) -> list[str]:
    """Registry names of the pretrained assets the finished stages report having loaded."""
    names: set[str] = set()
    for record in sorted((run_dir / "stages").glob("*.json")):
        names.update((read_json(record).get("result") or {}).get("weights", []))
    return sorted(names)


def run_suite(cfg: SuiteConfig, out: str | Path, force: list[str] | None = None,
              show_progress: bool = True, command: list[str] | None = None) -> list[StageReport]:
    """Run (or resume) a suite in ``out``; returns the per-stage outcomes. Raises
    :class:`~talkbench.benchmarks.stage_runner.StageFailed` with the outcomes when a stage fails."""
    from talkbench.device import configure_threads, seed_everything

    run_dir = Path(out)
    run = RunDir(run_dir)
    run.start(cfg, seed=cfg.seed, device=cfg.device, command=command if command is not None else sys.argv)
    configure_threads()
    seed_everything(cfg.seed)
    stages = build_stages(cfg)
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
