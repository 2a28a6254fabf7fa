"""The work of each benchmark stage, written against the other packages' public APIs
(docs/CONTRACTS.md). Each function takes the stage context and the suite config, writes
its outputs atomically under the run directory and returns a small JSON-able result that
later stages read (dataset path, checkpoint path, counts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NoReturn

import numpy as np
import pandas as pd

from talkbench.benchmarks.runner import is_prepared_dataset, require, result_of
from talkbench.benchmarks.stages import StageContext
from talkbench.benchmarks.suite import SuiteConfig, section_config
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path, read_json

from talkbench.contracts import FRAME_COLUMNS, REALISM_COLUMNS, setting_name


def data_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """The synthetic default, a prepared dataset used in place, or raw videos prepared now."""
    if cfg.data and is_prepared_dataset(Path(cfg.data)):
        return {"dataset": str(Path(cfg.data).resolve()), "source": "given"}
    out = ctx.output_dir("data")
    if cfg.data:
        prepare = require("talkbench.data.prepare")
        pcfg = section_config(cfg, "prepare")
        summary = prepare.prepare(Path(cfg.data), out / "dataset", pcfg, progress=ctx.show_progress)
        return {"dataset": str((out / "dataset").resolve()), "source": "prepared",
                "summary": {k: v for k, v in summary.items() if isinstance(v, (int, float, str))}}
    synth = require("talkbench.data.synth")
    scfg = section_config(cfg, "synth")
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
    tcfg = section_config(cfg, "train")
    dataset = Path(result_of(ctx.run_dir, "data")["dataset"])
    out = ctx.output_dir("train")
    ckpt = train.train(tcfg, dataset, out, resume=True, progress=ctx.show_progress)
    done = read_json(out / "manifest.json")  # the training run's own record: steps reached, cap hit
    return {"checkpoint": str(Path(ckpt).resolve()), "source": "trained", "final_step": done.get("final_step"),
            "stopped_by_time_limit": done.get("stopped_by_time_limit", False)}


def select_cases(cases: list, max_people: int) -> list:
    """One test video per identity (the first by name), up to ``max_people`` identities."""
    first: dict[str, str] = {}
    for c in sorted(cases, key=lambda c: (c.identity, c.video)):
        first.setdefault(c.identity, c.video)
    keep = sorted(first.items())[: max_people or None]
    videos = {v for _, v in keep}
    return [c for c in cases if c.video in videos]


def fewshot_test_cases(run_dir: Path, cfg: SuiteConfig) -> list:
    """The suite's few-shot test cases (every T × test person), as the generate stage uses them."""
    dataset_mod = require("talkbench.data.dataset")
    episodes = require("talkbench.generator.episodes")
    fs = cfg.fewshot
    dataset = dataset_mod.FaceDataset(Path(result_of(run_dir, "data")["dataset"]))
    cases = select_cases(episodes.few_shot_cases(dataset, split="test", shots=tuple(fs.shots),
                                                 n_heldout=fs.n_heldout, n_cross=fs.n_cross, seed=cfg.seed),
                         fs.max_people)
    if not cases:
        raise TalkbenchError(f"the dataset {dataset.root} has no test videos to evaluate on")
    return cases


def generate_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """For each T × mode × test person: build the few-shot model, self-reenact the held-out
    frames and cross-reenact another person's landmarks; write ``RUN/generated/`` per the
    contract, plus sample grids. Finished (setting, person) units are kept across a kill."""
    fewshot = require("talkbench.generator.fewshot")
    from talkbench.device import select_device

    fs = cfg.fewshot
    checkpoint = Path(result_of(ctx.run_dir, "train")["checkpoint"])
    cases = fewshot_test_cases(ctx.run_dir, cfg)
    device = select_device(cfg.device)
    out = ctx.output_dir("generated")
    samples = ctx.output_dir("samples")
    units = [(mode, case) for mode in fs.modes for case in sorted(cases, key=lambda c: (c.T, c.identity))]
    grid_people = sorted({c.identity for c in cases})[: fs.n_sample_grids]
    parts = []
    for mode, case in ctx.progress(units, total=len(units), desc="few-shot models"):
        setting = setting_name(mode, case.T)
        part = out / ".parts" / f"{setting}__{case.identity}__{case.video}.csv"
        if not part.is_file():
            model = fewshot.build_fewshot(checkpoint, case.shot_frames, case.shot_landmarks, mode=mode,
                                          ft=fine_tune_config(cfg), device=device)
            rows = _write_case(out, setting, mode, case, model, samples if case.identity in grid_people else None)
            with atomic_path(part) as tmp:
                pd.DataFrame(rows, columns=FRAME_COLUMNS).to_csv(tmp, index=False)
        parts.append(part)
    frames = pd.concat([pd.read_csv(p, keep_default_na=False) for p in parts], ignore_index=True)
    with atomic_path(out / "frames.csv") as tmp:
        frames.to_csv(tmp, index=False)
    return {"n_frames": len(frames), "n_people": len({c.identity for c in cases}),
            "settings": sorted(frames["setting"].unique().tolist())}


def fine_tune_config(cfg: SuiteConfig):
    """The suite's FT schedule (the one source for every stage that fine-tunes)."""
    fs = cfg.fewshot
    return require("talkbench.generator.fewshot").FineTuneConfig(steps=fs.ft_steps, epochs=fs.ft_epochs,
                                                                  min_steps=fs.ft_min_steps, seed=cfg.seed)


def _write_case(out: Path, setting: str, mode: str, case, model, samples: Path | None) -> list[list]:
    """Generate and write one (setting, person): shots, self and cross fakes, ground truth,
    and its sample grid when ``samples`` is given."""
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
                          driver_identity=driver, shots=case.T, **model.adversarial_fields)
        folder = Path(setting) / kind / person
        for j, (img, frame) in enumerate(zip(fake, numbers)):
            fake_rel = folder / f"{int(frame):04d}_fake.png"
            write_png(out / fake_rel, img, meta, watermark=False)  # detectors train on these: no mark
            real_rel: str | Path = ""
            if kind == "self":
                real_rel = folder / f"{int(frame):04d}_real.png"
                write_png(out / real_rel, case.heldout_frames[j], {**real_meta, "role": "ground truth"})
            rows.append([setting, mode, case.T, kind, case.identity, case.video, int(frame), str(fake_rel),
                         str(real_rel), driver])
    if samples is not None:
        _write_grid(samples / f"{setting}__{case.identity}.png", case, fakes["self"], model, setting)
    return rows


def _write_grid(path: Path, case, fake: np.ndarray, model, setting: str, rows: int = 3) -> None:
    """shots | driver landmarks | generated | ground truth, one row per held-out frame."""
    from talkbench.media import image_grid, write_png
    from talkbench.provenance import provenance

    draw = require("talkbench.generator.landmark_image").draw_landmarks
    size = fake.shape[1]
    drivers = draw(case.heldout_landmarks[:rows], size)
    lines = [[case.shot_frames[i % len(case.shot_frames)], drivers[i], fake[i], case.heldout_frames[i]]
             for i in range(min(rows, len(fake)))]
    write_png(path, image_grid(lines),
              provenance(generator=model.generator_name, config_fingerprint=model.config_fingerprint,
                         setting=setting, identity=case.identity,
                         layout="columns: shot | driver landmarks | generated | ground truth"))


def checks_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """The generator checks (:mod:`talkbench.benchmarks.generator_checks`): own ê vs another
    person's ê vs the training mean ê (FF), FT vs the nearest shot frame, paired over test
    people; writes ``results/generator_checks.csv`` and ``generator_checks_people.csv``."""
    from talkbench.benchmarks import generator_checks as gc
    from talkbench.device import select_device
    from talkbench.faces import create_backend
    from talkbench.media import read_image

    dataset_mod = require("talkbench.data.dataset")
    episodes = require("talkbench.generator.episodes")
    checkpoint_mod = require("talkbench.generator.checkpoint")
    fs = cfg.fewshot
    dataset = dataset_mod.FaceDataset(Path(result_of(ctx.run_dir, "data")["dataset"]))
    state = checkpoint_mod.load_checkpoint(Path(result_of(ctx.run_dir, "train")["checkpoint"]))
    model = checkpoint_mod.model_from_checkpoint(state, select_device(cfg.device)).eval()
    cases = select_cases(episodes.few_shot_cases(dataset, split="test", shots=tuple(fs.shots),
                                                 n_heldout=fs.n_heldout, n_cross=fs.n_cross, seed=cfg.seed),
                         fs.max_people)
    gen = ctx.run_dir / "generated"
    frames = pd.read_csv(gen / "frames.csv", keep_default_na=False)
    own = frames[frames["kind"] == "self"]

    def generated(mode: str, case) -> np.ndarray:
        rows = own[(own["setting"] == setting_name(mode, case.T)) & (own["identity"] == case.identity)]
        return np.stack([read_image(gen / p) for p in rows["fake_path"]])

    people = gc.person_fakes(model, dataset, cases, {m: (lambda c, m=m: generated(m, c)) for m in fs.modes},
                             seed=cfg.seed)
    try:
        face = create_backend(str(cfg.metrics.options.get("backend", "auto")), capability="embed")
        embed: Callable[[np.ndarray], np.ndarray] | None = lambda images: face.embed(list(images))
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


EXTRAPOLATED = {"fid": "fid-inf", "ifd": "ifd-inf"}  # reported beside each other (FID∞: Chong & Forsyth 2020)
# Which metrics are set distances (one value per set of frames) and which need the ground-truth
# frame: the metrics registry says (MetricSpec.set_metric / .needs_pairs, from the classes).


def _person_metrics(names: list[str], backend: str, kind: str) -> tuple[list, list, dict]:
    """The per-image metrics (metrics package classes), built once and shared across people:
    face backends load in seconds, so they are created once, not per person (and returned,
    so the run manifest can record their weights). A metric that cannot be built here comes
    back as an unavailable result."""
    api = require("talkbench.metrics.api")
    from talkbench.faces import Capability, FaceBackend, create_backend
    from talkbench.metrics.base import MetricResult

    faces: dict[str, FaceBackend] = {}

    def face(cap: Capability) -> FaceBackend:
        if cap not in faces:
            faces[cap] = create_backend(backend, capability=cap)
        return faces[cap]

    def no_inception() -> NoReturn:
        raise AssertionError("set metrics are computed on the pooled frames, not per person")

    ctx = api.BuildContext(backend, paired=kind == "self", inception=no_inception, faces=face, lpips_trunk=None)
    built, unavailable = [], []
    for name in names:
        spec = api.REGISTRY.get(name)
        if spec is None:
            raise TalkbenchError(f"metrics.names: unknown metric '{name}'; known: {', '.join(sorted(api.REGISTRY))}")
        if spec.set_metric or (kind == "cross" and spec.needs_pairs):
            continue
        try:
            built.append(spec.build(ctx))
        except (TalkbenchError, ImportError) as exc:
            unavailable.append(MetricResult.unavailable(spec.display_name(backend), str(exc), spec.higher_is_better))
    return built, unavailable, faces


def _over_people(per_person: list) -> dict:
    """One realism row from per-person results of one metric: the mean over people with its
    Student-t 95 % CI over people (people, not frames, are the independent units), clipped
    to the metric's possible values."""
    from talkbench.metrics.base import mean_ci

    ok = [r for r in per_person if r.status == "ok" and r.value is not None]
    first = per_person[0]
    row = {"metric": first.name, "backend": first.backend, "n": sum(r.n for r in per_person),
           "n_failed": sum(r.n_failed for r in per_person), "higher_is_better": first.higher_is_better,
           "n_people": len(ok)}
    if not ok:
        return {**row, "value": None, "ci_low": None, "ci_high": None, "status": "unavailable",
                "reason": first.reason or "no person could be scored"}
    value, lo, hi = mean_ci(np.array([r.value for r in ok]), bounds=ok[0].bounds)
    return {**row, "value": value, "ci_low": lo, "ci_high": hi, "status": "ok", "reason": ""}


def _result_row(result) -> dict:
    """A metrics-package ``MetricResult`` as a realism.csv row fragment."""
    row = result.as_row()
    row["metric"] = row.pop("name")
    return row


def _real_paths(part: pd.DataFrame, truth: pd.DataFrame, setting: str, kind: str) -> list[str]:
    """The real frames a group of fakes is compared with: its own ground truth (self), or
    the real held-out frames of each person being faked (cross), person by person."""
    if kind == "self":
        return part["real_path"].tolist()
    return [p for identity in sorted(part["identity"].unique())
            for p in truth[(truth["setting"] == setting) & (truth["identity"] == identity)]["real_path"]]


def realism_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """Realism per setting × kind: per-image metrics (SSIM, PSNR, L1, LPIPS, CSIM, NME ...)
    per person, then the mean and CI over people; set metrics (FID, KID and their identity-
    space versions) on the pooled frames, FID and IFD at one common n per set across all
    settings (random subsets) beside their extrapolation FID∞ / IFD∞ on all frames.
    Self-reenactment compares with the ground-truth frame; cross-reenactment with the real
    frames of the person being faked (unpaired)."""
    api = require("talkbench.metrics.api")
    from talkbench.media import read_image

    gen = ctx.run_dir / "generated"
    frames = pd.read_csv(gen / "frames.csv", keep_default_na=False)
    names = list(cfg.metrics.names)
    backend = str(cfg.metrics.options.get("backend", "auto"))
    person_metrics = {kind: _person_metrics(names, backend, kind) for kind in ("self", "cross")}
    truth = frames[frames["kind"] == "self"]
    cache: dict[str, np.ndarray] = {}

    def load(rel: str) -> np.ndarray:
        if rel not in cache:
            cache[rel] = read_image(gen / rel)
        return cache[rel]

    rows = []
    groups = list(frames.groupby(["setting", "kind"], sort=False))
    # FID is biased by the sample size: every setting's FID/IFD at the same n per set.
    common_n = min(min(len(part), len(_real_paths(part, truth, setting, kind)))
                   for (setting, kind), part in groups) if groups else None
    wanted = [n for n in names if n in api.REGISTRY and api.REGISTRY[n].set_metric]
    wanted += [EXTRAPOLATED[n] for n in wanted if n in EXTRAPOLATED and EXTRAPOLATED[n] not in wanted]
    for (setting, kind), part in ctx.progress(groups, total=len(groups), desc="metrics per setting"):
        mode, t = str(part["mode"].iloc[0]), int(part["T"].iloc[0])
        built, unavailable, _ = person_metrics[kind]
        per_metric: dict[str, list] = {}
        for identity, person in part.groupby("identity"):
            real_rel = _real_paths(person, truth, setting, kind)
            fakes, reals = [load(p) for p in person["fake_path"]], [load(p) for p in real_rel]
            for m in built:
                m.reset()
                m.update(fakes, reals)
                for r in m.compute_all():
                    per_metric.setdefault(r.name, []).append(r)
        results = [_over_people(v) for v in per_metric.values()] + [_result_row(r) for r in unavailable]
        if wanted:
            reals_all = _real_paths(part, truth, setting, kind)
            pooled = api.compute_metrics([str(gen / p) for p in reals_all], [str(gen / p) for p in part["fake_path"]],
                                         wanted, pairs="none", backend=backend, common_n=common_n)
            results += [{**_result_row(r), "n_people": part["identity"].nunique()} for r in pooled]
        for r in results:
            rows.append({"setting": setting, "mode": mode, "T": t, "kind": kind,
                         **{k: r.get(k) for k in REALISM_COLUMNS[4:]}})
    df = pd.DataFrame(rows, columns=REALISM_COLUMNS)
    with atomic_path(ctx.run_dir / "results" / "realism.csv") as tmp:
        df.to_csv(tmp, index=False)
    weights = {w for _, _, faces in person_metrics.values() for f in faces.values() for w in f.weights_used()}
    if ((df["status"] == "ok") & df["backend"].astype(str).str.startswith("pytorch-fid")).any():
        weights.add("inception-fid")  # the manifest records its file, sha256 and provenance
    return {"rows": len(df), "unavailable": sorted(df.loc[df["status"] != "ok", "metric"].unique().tolist()),
            "weights": sorted(weights), "common_n": common_n}


def detection_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """Detectors trained per setting, tested on every setting, robustness on their own
    setting (the detector package's experiment); results copied into ``RUN/results``."""
    data = require("talkbench.detector.data")
    experiment = require("talkbench.detector.experiment")
    import shutil

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


def report_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """The run's own report (HTML, Markdown, CSV, JSON) in ``RUN/report/``."""
    from talkbench.reports.build import build_report

    paths = build_report([ctx.run_dir], ctx.run_dir / "report")
    return {"html": str(paths["html"].relative_to(ctx.run_dir))}
