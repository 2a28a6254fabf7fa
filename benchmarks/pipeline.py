"""The work of each benchmark stage, written against the other packages' public APIs
(docs/CONTRACTS.md). Each function takes the stage context and the suite config, writes
its outputs atomically under the run directory and returns a small JSON-able result that
later stages read (dataset path, checkpoint path, counts).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from talkbench.benchmarks.runner import is_prepared_dataset, require, result_of
from talkbench.benchmarks.stages import StageContext
from talkbench.benchmarks.suite import SuiteConfig
from talkbench.config import from_dict
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path

FRAME_COLUMNS = ["setting", "mode", "T", "kind", "identity", "video", "frame", "fake_path", "real_path",
                 "driver_identity"]


def data_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """The synthetic default, a prepared dataset used in place, or raw videos prepared now."""
    if cfg.data and is_prepared_dataset(Path(cfg.data)):
        return {"dataset": str(Path(cfg.data).resolve()), "source": "given"}
    out = ctx.output_dir("data")
    if cfg.data:
        prepare = require("talkbench.generator.prepare")
        pcfg = from_dict(prepare.PrepareConfig, {"seed": cfg.seed, **cfg.prepare})
        summary = prepare.prepare(Path(cfg.data), out / "dataset", pcfg, progress=ctx.show_progress)
        return {"dataset": str((out / "dataset").resolve()), "source": "prepared",
                "summary": {k: v for k, v in summary.items() if isinstance(v, (int, float, str))}}
    synth = require("talkbench.generator.synth")
    scfg = from_dict(synth.SynthConfig, {"seed": cfg.seed, **cfg.synth})
    synth.render_dataset(out / "dataset", scfg, progress=ctx.show_progress)
    return {"dataset": str((out / "dataset").resolve()), "source": "synthetic"}


def train_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """Meta-train the generator (resuming its own checkpoints), or take ``checkpoint=PATH``."""
    if cfg.checkpoint:
        path = Path(cfg.checkpoint)
        if not path.is_file():
            raise TalkbenchError(f"checkpoint={path} is not a file")
        return {"checkpoint": str(path.resolve()), "source": "given"}
    train = require("talkbench.generator.train")
    tcfg = from_dict(train.TrainConfig, {"seed": cfg.seed, "device": cfg.device, **cfg.train,
                                         "model": dict(cfg.model)})
    dataset = Path(result_of(ctx.run_dir, "data")["dataset"])
    ckpt = train.train(tcfg, dataset, ctx.output_dir("train"), resume=True, progress=ctx.show_progress)
    return {"checkpoint": str(Path(ckpt).resolve()), "source": "trained"}


def setting_name(mode: str, t: int) -> str:
    return f"{mode}_T{t}"


def select_cases(cases: list, max_people: int) -> list:
    """One test video per identity (the first by name), up to ``max_people`` identities."""
    first: dict[str, str] = {}
    for c in sorted(cases, key=lambda c: (c.identity, c.video)):
        first.setdefault(c.identity, c.video)
    keep = sorted(first.items())[: max_people or None]
    videos = {v for _, v in keep}
    return [c for c in cases if c.video in videos]


def generate_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """For each T × mode × test person: build the few-shot model, self-reenact the held-out
    frames and cross-reenact another person's landmarks; write ``RUN/generated/`` per the
    contract, plus sample grids. Finished (setting, person) units are kept across a kill."""
    dataset_mod = require("talkbench.generator.dataset")
    episodes = require("talkbench.generator.episodes")
    fewshot = require("talkbench.generator.fewshot")
    from talkbench.device import select_device

    fs = cfg.fewshot
    dataset = dataset_mod.FaceDataset(Path(result_of(ctx.run_dir, "data")["dataset"]))
    checkpoint = Path(result_of(ctx.run_dir, "train")["checkpoint"])
    cases = select_cases(episodes.few_shot_cases(dataset, split="test", shots=tuple(fs.shots),
                                                 n_heldout=fs.n_heldout, n_cross=fs.n_cross, seed=cfg.seed),
                         fs.max_people)
    if not cases:
        raise TalkbenchError(f"the dataset {dataset} has no test videos to evaluate on")
    device = select_device(cfg.device)
    out = ctx.run_dir / "generated"
    units = [(mode, case) for mode in fs.modes for case in sorted(cases, key=lambda c: (c.T, c.identity))]
    grid_people = sorted({c.identity for c in cases})[: fs.n_sample_grids]
    parts = []
    for mode, case in ctx.progress(units, total=len(units), desc="few-shot models"):
        setting = setting_name(mode, case.T)
        part = out / ".parts" / f"{setting}__{case.identity}__{case.video}.csv"
        if not part.is_file():
            model = fewshot.build_fewshot(checkpoint, case.shot_frames, case.shot_landmarks, mode=mode,
                                          ft_steps=fs.ft_steps, device=device)
            rows = _write_case(out, setting, mode, case, model, cfg, ctx.run_dir, case.identity in grid_people)
            with atomic_path(part) as tmp:
                pd.DataFrame(rows, columns=FRAME_COLUMNS).to_csv(tmp, index=False)
        parts.append(part)
    frames = pd.concat([pd.read_csv(p, keep_default_na=False) for p in parts], ignore_index=True)
    with atomic_path(out / "frames.csv") as tmp:
        frames.to_csv(tmp, index=False)
    return {"n_frames": len(frames), "n_people": len({c.identity for c in cases}),
            "settings": sorted(frames["setting"].unique().tolist())}


def _write_case(out: Path, setting: str, mode: str, case, model, cfg: SuiteConfig, run_dir: Path,
                grid: bool) -> list[list]:
    """Generate and write one (setting, person): shots, self and cross fakes, ground truth."""
    from talkbench.media import write_png
    from talkbench.provenance import provenance

    person = f"{case.identity}__{case.video}"
    real_meta = {"role": "real frame from the dataset (not generated)", "identity": case.identity,
                 "video": case.video}
    for i, frame in enumerate(case.shot_frames):
        write_png(out / setting / "shots" / person / f"{i:04d}.png", frame, {**real_meta, "role": "few-shot input frame"})
    rows = []
    fakes = {}
    for kind, landmarks, driver, index in (("self", case.heldout_landmarks, case.identity, case.heldout_index),
                                           ("cross", case.cross_landmarks, case.cross_identity, case.cross_index)):
        fake = model.generate(landmarks)
        numbers = index if len(index) == len(fake) else np.arange(len(fake))  # frame numbers in the source video
        fakes[kind] = fake
        meta = provenance(generator=model.generator_name, config_fingerprint=model.config_fingerprint,
                          setting=setting, kind=kind, identity=case.identity, video=case.video,
                          driver_identity=driver, shots=case.T)
        folder = Path(setting) / kind / person
        for j, (img, frame) in enumerate(zip(fake, numbers)):
            fake_rel = folder / f"{int(frame):04d}_fake.png"
            write_png(out / fake_rel, img, meta)
            real_rel = ""
            if kind == "self":
                real_rel = folder / f"{int(frame):04d}_real.png"
                write_png(out / real_rel, case.heldout_frames[j], {**real_meta, "role": "ground truth"})
            rows.append([setting, mode, case.T, kind, case.identity, case.video, int(frame), str(fake_rel),
                         str(real_rel), driver])
    if grid:
        _write_grid(run_dir / "samples" / f"{setting}__{case.identity}.png", case, fakes["self"], model, setting)
    return rows


def _write_grid(path: Path, case, fake: np.ndarray, model, setting: str, rows: int = 3) -> None:
    """shots | driver landmarks | generated | ground truth, one row per held-out frame."""
    from talkbench.media import write_png
    from talkbench.provenance import provenance

    draw = require("talkbench.generator.landmark_image").draw_landmarks
    size = fake.shape[1]
    drivers = draw(case.heldout_landmarks[:rows], size)
    lines = [np.concatenate([case.shot_frames[i % len(case.shot_frames)], drivers[i], fake[i],
                             case.heldout_frames[i]], axis=1) for i in range(min(rows, len(fake)))]
    write_png(path, np.concatenate(lines, axis=0),
              provenance(generator=model.generator_name, config_fingerprint=model.config_fingerprint,
                         setting=setting, identity=case.identity,
                         layout="columns: shot | driver landmarks | generated | ground truth"))


def realism_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    raise TalkbenchError("stage 'realism': not wired yet")


def detection_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    raise TalkbenchError("stage 'detection': not wired yet")


def report_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """The run's own report (HTML, Markdown, CSV, JSON) in ``RUN/report/``."""
    from talkbench.reports.build import build_report

    paths = build_report([ctx.run_dir], ctx.run_dir / "report")
    return {"html": str(paths["html"].relative_to(ctx.run_dir))}
