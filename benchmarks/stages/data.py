"""The data stage: the synthetic default, a prepared dataset used in place, or raw videos
prepared now."""

from __future__ import annotations

from pathlib import Path

from talkbench.benchmarks.stage_runner import StageContext
from talkbench.benchmarks.suite import SuiteConfig, section_config


def is_prepared_dataset(path: Path) -> bool:
    return (path / "meta.json").is_file() and (path / "index.csv").is_file()


def data_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """``RUN/data/dataset`` (or the given prepared dataset); returns its path and source."""
    if cfg.data and is_prepared_dataset(Path(cfg.data)):
        return {"dataset": str(Path(cfg.data).resolve()), "source": "given"}
    out = ctx.output_dir("data")
    if cfg.data:
        from talkbench.data.prepare import prepare

        summary = prepare(Path(cfg.data), out / "dataset", section_config(cfg, "prepare"), progress=ctx.show_progress)
        return {"dataset": str((out / "dataset").resolve()), "source": "prepared",
                "summary": {k: v for k, v in summary.items() if isinstance(v, (int, float, str))}}
    from talkbench.data.synth import render_dataset

    render_dataset(out / "dataset", section_config(cfg, "synth"), progress=ctx.show_progress)
    return {"dataset": str((out / "dataset").resolve()), "source": "synthetic"}
