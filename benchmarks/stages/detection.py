"""The detection stage: each detector trained per setting, tested on every setting, and its
robustness on its own setting (the detector package's experiment); results copied into
``RUN/results``."""

from __future__ import annotations

import shutil

import pandas as pd

from talkbench.benchmarks.stage_runner import StageContext
from talkbench.benchmarks.suite import SuiteConfig, section_config
from talkbench.files import atomic_path


def detection_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """Detectors trained per setting, tested on every setting, robustness on their own
    setting (the detector package's experiment); results copied into ``RUN/results``."""
    from talkbench.detector import data, experiment

    work = ctx.output_dir("detection")
    table = data.split_by_identity(data.from_generated(ctx.run_dir / "generated"), seed=cfg.seed)
    opts = dict(cfg.detector.options)
    crop = int(opts.get("crop_size", 64))
    images = data.load_crops(table["path"].tolist(), crop)
    detection = []
    for name in ctx.progress(cfg.detector.names, desc="detectors"):
        dcfg = section_config(cfg, "detector", name)
        detection.append(experiment.cross_setting(images, table, dcfg, work / "models", work / "results",
                                                  robustness=cfg.detector.robustness, progress=ctx.show_progress))
    results = ctx.run_dir / "results"
    for name in ("detection.csv", "robustness.csv"):
        src = work / "results" / name
        if src.is_file():
            with atomic_path(results / name) as tmp:
                shutil.copyfile(src, tmp)
    for folder in ("roc", "pr", "cross_setting"):
        if (work / "results" / folder).is_dir():
            shutil.rmtree(results / folder, ignore_errors=True)
            shutil.copytree(work / "results" / folder, results / folder)
    df = pd.concat(detection, ignore_index=True)
    return {"rows": len(df), "detectors": list(cfg.detector.names),
            "split_identities": {k: int(v) for k, v in table.groupby("split")["identity"].nunique().items()}}
