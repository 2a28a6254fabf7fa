"""FT probe: how few-shot fine-tuning moves realism and face rates with its length and the
generator's learning rate, on a finished run's test people, against the nearest-shot
baseline (the FT table of docs/generator.md).

For each FT length in ``--steps`` the person's FT model is built afresh with the suite's own
``build_fewshot``; FT is deterministic on the CPU (seeded batches, same optimiser path), so
the model after 40 steps is the 80-step run's model at step 40. Each is scored on the held-out
frames (SSIM, L1 on 0–255) and by whether the face backend finds a face under the person's
own held-out landmarks (self) and another person's (cross).

    python -m talkbench.benchmarks.ft_probe runs/default --shots 32 --lr-g 1e-3 --steps 40 80 --people 3 [--batch 4]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from pathlib import Path

import numpy as np

from talkbench.config import bounded
from talkbench.generator.ft_config import LrSchedule


def _face_rate(face, images: np.ndarray) -> float:
    return float(np.isfinite(face.embed(list(images))).all(axis=1).mean())


def probe(run: Path, shots: int, lr_g: float | None, steps: list[int], people: int, backend: str = "auto",
          batch: int | None = None, lr_schedule: LrSchedule | None = None, beta1: float | None = None,
          average: float | None = None) -> None:
    """Print, per FT length, the mean over ``people`` test people of SSIM, L1 and face rates."""
    from talkbench.benchmarks.generator_checks import nearest_shot_frames
    from talkbench.benchmarks.stage_runner import result_of
    from talkbench.benchmarks.stages.generate import fewshot_test_cases, run_dataset
    from talkbench.benchmarks.suite import fine_tune_config, load_suite
    from talkbench.errors import TalkbenchError
    from talkbench.faces import create_backend
    from talkbench.generator.fewshot import build_fewshot
    from talkbench.metrics.pixel import l1_batch
    from talkbench.metrics.ssim import ssim_batch

    cfg = load_suite(str(run / "config.yaml"))
    cases = [c for c in fewshot_test_cases(run_dataset(run), cfg) if c.T == shots][:people]
    if not cases:
        raise TalkbenchError(f"{run} has no test case with T = {shots} (its suite's shots: {list(cfg.fewshot.shots)})")
    checkpoint = Path(result_of(run, "train")["checkpoint"])
    face = create_backend(backend, capability="embed")
    near = [nearest_shot_frames(c.shot_frames, c.shot_landmarks, c.heldout_landmarks) for c in cases]
    suite_ft = fine_tune_config(cfg)
    suite_ft = dataclasses.replace(suite_ft, lr_schedule=lr_schedule or suite_ft.lr_schedule,
                                   beta1=suite_ft.beta1 if beta1 is None else beta1,
                                   average=suite_ft.average if average is None else average or None)
    beta = "of the meta-learning run" if suite_ft.beta1 is None else suite_ft.beta1
    print(f"T = {shots}, G lr {lr_g or suite_ft.lr_g or 'of the meta-learning run'} ({suite_ft.lr_schedule}), "
          f"batch {min(batch or suite_ft.batch_size, shots)}, Adam β1 {beta}, "
          f"{'the last step' if suite_ft.average is None else f'averaged over the last {suite_ft.average:.0%}'}, "
          f"{len(cases)} people; "
          "nearest shot frame: "
          f"SSIM {np.mean([ssim_batch(n, c.heldout_frames).mean() for n, c in zip(near, cases)]):.3f} "
          f"L1 {np.mean([l1_batch(n, c.heldout_frames).mean() for n, c in zip(near, cases)]):.1f}")
    for n_steps in [0, *steps]:
        rows = []
        for c in cases:
            ft = dataclasses.replace(suite_ft, steps=n_steps, lr_g=lr_g or suite_ft.lr_g,
                                     batch_size=batch or suite_ft.batch_size)
            model = build_fewshot(checkpoint, c.shot_frames, c.shot_landmarks, "FT" if n_steps else "FF",
                                  ft=ft, device="cpu")
            own, other = model.generate(c.heldout_landmarks), model.generate(c.cross_landmarks)
            rows.append((ssim_batch(own, c.heldout_frames).mean(), l1_batch(own, c.heldout_frames).mean(),
                         _face_rate(face, own), _face_rate(face, other)))
        ssim, l1, self_rate, cross_rate = np.mean(rows, axis=0)
        print(f"  step {n_steps:4d}{' (FF)' if not n_steps else ''}: SSIM {ssim:.3f}  L1 {l1:.1f}  "
              f"face found self {self_rate:.0%}  cross {cross_rate:.0%}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", type=Path, help="a finished run folder (`talkbench run --out RUN`)")
    p.add_argument("--shots", type=bounded(int, 1), default=32, help="T, one of the run's shot counts (default 32)")
    p.add_argument("--lr-g", type=bounded(float, 0, open_low=True), help="FT learning rate of G and ψ' "
                   "(default: the run's fewshot.ft_lr_g, else its meta-learning lr_g)")
    p.add_argument("--steps", type=bounded(int, 1), nargs="+", default=[20, 40, 80], help="FT lengths to score")
    p.add_argument("--batch", type=bounded(int, 1), help="FT batch (default: the run's fewshot.ft_batch)")
    p.add_argument("--lr-schedule", choices=typing.get_args(LrSchedule),
                   help="FT learning-rate schedule (default: the run's fewshot.ft_lr_schedule)")
    p.add_argument("--beta1", type=bounded(float, 0, 1), help="Adam's β1 in FT (default: the run's fewshot.ft_beta1, "
                   "else its meta-learning beta1)")
    p.add_argument("--average", type=bounded(float, 0, 1),
                   help="FT returns G and ψ' averaged over about this last fraction of its steps; 0: the last "
                   "step's weights (default: the run's fewshot.ft_average)")
    p.add_argument("--people", type=bounded(int, 1), default=4, help="test people (the suite's first, by name)")
    p.add_argument("--backend", default="auto", help="face backend that finds the faces (default auto)")
    args = p.parse_args(argv)
    from talkbench.errors import TalkbenchError

    try:
        probe(args.run, args.shots, args.lr_g, sorted(set(args.steps)), args.people, args.backend, args.batch,
              args.lr_schedule, args.beta1, args.average)
    except TalkbenchError as exc:
        print(f"ft_probe: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
