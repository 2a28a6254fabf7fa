"""The cross_dataset stage (only when the suite lists ``detector.datasets``): each
detector trained on this run's generated fakes (dataset ``talkbench``) and on each imported
dataset, tested on all of them — the detector package's cross-dataset experiment; results
copied into ``RUN/results/cross_dataset.csv`` and ``RUN/results/cross_dataset/``."""

from __future__ import annotations

import shutil
from pathlib import Path

from talkbench.benchmarks.stage_runner import StageContext
from talkbench.benchmarks.suite import SuiteConfig
from talkbench.config import from_dict
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path

OWN = "talkbench"  # the name of this run's generated frames in the matrix


def cross_dataset_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    from talkbench.detector import cross_dataset as cross, train

    if OWN in cfg.detector.datasets:
        raise TalkbenchError(f"detector.datasets: '{OWN}' names this run's own fakes; call yours otherwise")
    work = ctx.output_dir("cross_dataset")
    specs = {OWN: ctx.run_dir / "generated", **{k: Path(v) for k, v in cfg.detector.datasets.items()}}
    opts = dict(cfg.detector.options)
    dcfg = from_dict(train.DetectorTrainConfig, {"seed": cfg.seed, "device": cfg.device, **opts})
    images, table = cross.load_datasets(cross.parse_datasets([f"{k}={v}" for k, v in specs.items()]),
                                        dcfg.crop_size, seed=cfg.seed, progress=ctx.show_progress)
    rows = cross.cross_dataset(images, table, dcfg, list(cfg.detector.names), work / "models", work / "results",
                               progress=ctx.show_progress)
    results = ctx.run_dir / "results"
    with atomic_path(results / cross.RESULTS_FILE) as tmp:
        shutil.copyfile(work / "results" / cross.RESULTS_FILE, tmp)
    shutil.rmtree(results / "cross_dataset", ignore_errors=True)
    shutil.copytree(work / "results" / "cross_dataset", results / "cross_dataset")
    return {"rows": len(rows), "datasets": list(specs), "detectors": list(cfg.detector.names)}
