"""The report stage: the run's own report, built from the files the other stages wrote."""

from __future__ import annotations

from talkbench.benchmarks.stage_runner import StageContext
from talkbench.benchmarks.suite import SuiteConfig


def report_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """The run's own report (HTML, Markdown, CSV, JSON) in ``RUN/report/``."""
    from talkbench.reports.build import build_report

    paths = build_report([ctx.run_dir], ctx.run_dir / "report")
    return {"html": str(paths["html"].relative_to(ctx.run_dir))}
