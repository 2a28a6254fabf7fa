"""The checks stage: the generator's own sanity checks on this run's model and fakes."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from talkbench.benchmarks.stage_runner import StageContext, result_of
from talkbench.benchmarks.stages.generate import fewshot_test_cases, run_dataset
from talkbench.benchmarks.suite import SuiteConfig
from talkbench.contracts import setting_name
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path


def checks_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """The generator checks (:mod:`talkbench.benchmarks.generator_checks`): own ê vs another
    person's ê vs the training mean ê (FF, over ``checks.people`` test people: FF needs
    no fine-tuning, so the identity checks can afford more people than were generated), FT vs
    the nearest shot frame (the generated people), paired over test people; writes
    ``results/generator_checks.csv`` and ``generator_checks_people.csv``."""
    from talkbench.benchmarks import generator_checks as gc
    from talkbench.device import select_device
    from talkbench.faces import create_backend
    from talkbench.generator.checkpoint import load_checkpoint, model_from_checkpoint
    from talkbench.media import read_image

    fs = cfg.fewshot
    dataset = run_dataset(ctx.run_dir)
    state = load_checkpoint(Path(result_of(ctx.run_dir, "train")["checkpoint"]))
    model = model_from_checkpoint(state, select_device(cfg.device)).eval()
    cases = fewshot_test_cases(dataset, cfg, cfg.checks.people)
    gen = ctx.run_dir / "generated"
    frames = pd.read_csv(gen / "frames.csv", keep_default_na=False)
    own = frames[frames["kind"] == "self"]

    def generated(mode: str, case) -> np.ndarray | None:
        rows = own[(own["setting"] == setting_name(mode, case.T)) & (own["identity"] == case.identity)]
        return np.stack([read_image(gen / p) for p in rows["fake_path"]]) if len(rows) else None

    people = gc.person_fakes(model, dataset, cases, {m: (lambda c, m=m: generated(m, c)) for m in fs.modes},
                             seed=cfg.seed)
    try:
        face = create_backend(str(cfg.metrics.options.get("backend", "auto")), capability="embed")
        embed: Callable[[np.ndarray], np.ndarray] | None = lambda images: face.embed(list(images))
        # every image in one batch, before the person-by-person scoring (dlib: on every core)
        face.prefetch_embeddings([im for p in people for batch in (p.real, *p.fakes.values()) for im in batch])
        weights = face.weights_used()
    except TalkbenchError:  # no embedding backend here: SSIM and L1 checks still run
        embed, weights = None, []
    per_person = gc.score_people(people, embed)
    checks = gc.paired_checks(per_person)
    results = ctx.run_dir / "results"
    for name, df in (("generator_checks.csv", checks), ("generator_checks_people.csv", per_person)):
        with atomic_path(results / name) as tmp:
            df.to_csv(tmp, index=False)
    return {"rows": len(checks), "holds": int(checks["holds"].sum()), "weights": weights}
