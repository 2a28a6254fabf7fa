"""The train stage: meta-train the generator (resuming its own checkpoints), or take the
user's ``checkpoint=PATH``."""

from __future__ import annotations

from pathlib import Path

from talkbench.benchmarks.stage_runner import StageContext, result_of
from talkbench.benchmarks.suite import SuiteConfig, section_config
from talkbench.errors import TalkbenchError
from talkbench.files import read_json


def train_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """Returns the checkpoint's path and source, and for a trained one the step reached."""
    if cfg.checkpoint:
        path = Path(cfg.checkpoint)
        if not path.is_file():
            raise TalkbenchError(f"checkpoint={path} is not a file")
        return {"checkpoint": str(path.resolve()), "source": "given"}
    from talkbench.generator import train

    dataset = Path(result_of(ctx.run_dir, "data")["dataset"])
    out = ctx.output_dir("train")
    ckpt = train.train(section_config(cfg, "train"), dataset, out, resume=True, progress=ctx.show_progress)
    done = read_json(out / "manifest.json")  # the training run's own record: steps reached, cap hit
    return {"checkpoint": str(Path(ckpt).resolve()), "source": "trained", "final_step": done.get("final_step"),
            "stopped_by_time_limit": done.get("stopped_by_time_limit", False)}
