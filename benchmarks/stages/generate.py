"""The generate stage: for each T × mode × test person, the few-shot model built from T
shots self-reenacts the held-out frames and cross-reenacts another person's landmarks;
``RUN/generated/`` per the contract, plus sample grids. Also the case selection and FT
schedule that the checks and adversarial stages share with it."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from talkbench.benchmarks.stage_runner import StageContext, result_of
from talkbench.benchmarks.suite import SuiteConfig, fine_tune_config
from talkbench.config import to_dict
from talkbench.contracts import FRAME_COLUMNS, setting_name
from talkbench.data.dataset import FaceDataset
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path, write_json
from talkbench.generator.ft_config import FineTuneConfig
from talkbench.media import image_grid, write_png
from talkbench.processes import run_resumable, workers_within_memory
from talkbench.provenance import provenance

log = logging.getLogger(__name__)


def select_cases(cases: list, max_people: int) -> list:
    """One test video per identity (the first by name), up to ``max_people`` identities."""
    first: dict[str, str] = {}
    for c in sorted(cases, key=lambda c: (c.identity, c.video)):
        first.setdefault(c.identity, c.video)
    keep = sorted(first.items())[: max_people or None]
    videos = {v for _, v in keep}
    return [c for c in cases if c.video in videos]


def run_dataset(run_dir: Path) -> FaceDataset:
    """The dataset the data stage of ``run_dir`` made or took."""
    return FaceDataset(Path(result_of(run_dir, "data")["dataset"]))


def fewshot_test_cases(dataset: FaceDataset, cfg: SuiteConfig, max_people: int | None = None) -> list:
    """The suite's few-shot test cases (every T × test person), as the generate stage uses them;
    ``max_people`` in place of the suite's (0: every test identity)."""
    from talkbench.generator.episodes import few_shot_cases

    fs = cfg.fewshot
    cases = select_cases(few_shot_cases(dataset, split="test", shots=tuple(fs.shots), n_heldout=fs.n_heldout,
                                        n_cross=fs.n_cross, seed=cfg.seed),
                         fs.max_people if max_people is None else max_people)
    if not cases:
        raise TalkbenchError(f"the dataset {dataset.root} has no test videos to evaluate on")
    return cases


def generate_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """For each T × mode × test person: build the few-shot model, self-reenact the held-out
    frames and cross-reenact another person's landmarks; write ``RUN/generated/`` per the
    contract, plus sample grids. Finished (setting, person) units are kept across a kill."""
    from talkbench.device import select_device

    fs = cfg.fewshot
    cases = fewshot_test_cases(run_dataset(ctx.run_dir), cfg)
    out = ctx.output_dir("generated")
    samples = ctx.output_dir("samples")
    grid_people = sorted({c.identity for c in cases})[: fs.n_sample_grids]
    base = FewShotJob(out=out, setting="", mode="", case=None, checkpoint=Path(result_of(ctx.run_dir, "train")["checkpoint"]),
                      ft=fine_tune_config(cfg), device=str(select_device(cfg.device)))
    jobs = [dataclasses.replace(base, setting=setting_name(mode, case.T), mode=mode, case=case,
                                samples=samples if case.identity in grid_people else None)
            for mode in fs.modes for case in sorted(cases, key=lambda c: (c.T, c.identity))]
    frames = run_fewshot_jobs(ctx, jobs, "few-shot models")
    with atomic_path(out / "frames.csv") as tmp:
        frames.to_csv(tmp, index=False)
    result = {"n_frames": len(frames), "n_people": len({c.identity for c in cases}),
              "settings": sorted(frames["setting"].unique().tolist())}
    if "FT" in fs.modes:  # the FT schedule as applied, for the report's methods
        result["ft"] = to_dict(base.ft)
        result["ft_steps_per_T"] = {str(t): base.ft.steps_for(t) for t in fs.shots}
    return result


@dataclasses.dataclass(frozen=True)
class FewShotJob:
    """One few-shot model to build and run (see :func:`write_case`); plain picklable data, so
    that a worker process can do it."""

    out: Path
    setting: str
    mode: str
    case: Any
    checkpoint: Path
    ft: FineTuneConfig
    device: str
    samples: Path | None = None
    extra_loss: Any = None

    @property
    def marker(self) -> Path:
        """Its rows, written when it is finished: what a resumed run reads instead of redoing it."""
        return self.out / ".parts" / f"{self.setting}__{self.case.identity}__{self.case.video}.json"


def run_fewshot_jobs(ctx: StageContext, jobs: list[FewShotJob], desc: str) -> pd.DataFrame:
    """The frame rows of ``jobs``, in their order; finished ones (from a killed run) are read
    back. On the CPU the jobs run side by side in as many one-thread processes as the run has
    torch threads: fine-tuning's small convolutions scale poorly over threads, and two
    one-thread processes do 1.4× the FT work of one two-thread process (docs/benchmark.md).
    Each job computes on one thread wherever it runs, so the results do not depend on how
    many workers there are. Elsewhere (CUDA, MPS) they run one after another in this process."""
    workers = fewshot_workers(jobs)
    results, _ = run_resumable(jobs, key=lambda j: j.marker.name, marker=lambda j: j.marker, work=_run_fewshot_job,
                               workers=workers, desc=f"{ctx.name}: {desc}", unit="model",
                               progress=ctx.show_progress, start_method="spawn")
    rows = [row for j in jobs for row in results[j.marker.name]["rows"]]
    return pd.DataFrame(rows, columns=FRAME_COLUMNS)


def fewshot_worker_bytes(side: int) -> float:
    """A one-thread few-shot worker's peak resident memory at ``side``-px frames: imports, then
    model, FT state and activations growing with the frame area (measured: 1.1–1.2 GB per
    worker at 64 px, default suite, run d4)."""
    return 0.4e9 + 0.8e9 * (side / 64) ** 2


def fewshot_workers(jobs: list[FewShotJob]) -> int:
    """How many processes run ``jobs``: on the CPU one per torch thread, as many as the
    available memory holds; elsewhere one (the jobs share the device)."""
    import torch

    if not jobs or any(j.device != "cpu" for j in jobs):
        return 1
    side = max(j.case.shot_frames.shape[1] for j in jobs)
    wanted = torch.get_num_threads()
    workers = workers_within_memory(wanted, fewshot_worker_bytes(side))
    if workers < wanted:
        log.info("few-shot jobs: %d worker processes instead of %d, as many as the available memory holds",
                 workers, wanted)
    return workers


def _run_fewshot_job(job: FewShotJob) -> dict[str, Any]:
    """Build the job's model, write its fakes, ground truth and grid, then its marker."""
    from talkbench.device import torch_threads
    from talkbench.generator.fewshot import build_fewshot

    with torch_threads(1) if job.device == "cpu" else contextlib.nullcontext():
        model = build_fewshot(job.checkpoint, job.case.shot_frames, job.case.shot_landmarks, mode=job.mode,
                              ft=job.ft, device=job.device, extra_loss=job.extra_loss)
        rows = write_case(job.out, job.setting, job.mode, job.case, model, job.samples)
    result = {"rows": rows}
    write_json(job.marker, result)
    return result


def write_case(out: Path, setting: str, mode: str, case, model, samples: Path | None) -> list[list]:
    """Generate and write one (setting, person): shots, self and cross fakes, ground truth,
    and its sample grid when ``samples`` is given."""
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
    from talkbench.generator.landmark_image import draw_landmarks as draw

    size = fake.shape[1]
    drivers = draw(case.heldout_landmarks[:rows], size)
    lines = [[case.shot_frames[i % len(case.shot_frames)], drivers[i], fake[i], case.heldout_frames[i]]
             for i in range(min(rows, len(fake)))]
    write_png(path, image_grid(lines),
              provenance(generator=model.generator_name, config_fingerprint=model.config_fingerprint,
                         setting=setting, identity=case.identity,
                         layout="columns: shot | driver landmarks | generated | ground truth"))

