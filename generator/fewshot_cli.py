"""`talkbench fewshot CHECKPOINT --frames SRC OUT`: a person's FF or FT model from T frames."""

from __future__ import annotations

import argparse
from pathlib import Path

from talkbench.config import bounded


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", type=Path, help="meta-learned checkpoint (OUT/checkpoint.pt of `talkbench train`)")
    parser.add_argument("out", type=Path, help="few-shot model file to write (e.g. person.pt)")
    parser.add_argument("--frames", type=Path, required=True,
                        help="a prepared dataset folder (with --video) or a folder of raw images of one person "
                             "(landmarks and crop from the face backend)")
    parser.add_argument("--video", help="video id within a prepared dataset (default: its first test video)")
    parser.add_argument("--mode", choices=("FF", "FT"), default="FF", help="feed-forward or fine-tuned (default FF)")
    parser.add_argument("--shots", type=bounded(int, 1), default=8, help="T, the number of frames used (default %(default)s)")
    parser.add_argument("--steps", type=bounded(int, 1), help="FT steps (default: the recipe's schedule)")
    add_recipe_option(parser)
    parser.add_argument("--backend", default="auto", help="face backend for raw images (default auto)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_recipe_option(parser: argparse.ArgumentParser) -> None:
    """``--recipe``: whose FT schedule, rates and averaging a command that fine-tunes one person uses."""
    parser.add_argument("--recipe", metavar="SUITE",
                        help="FT as this suite does it: default, paper, quick or a suite YAML (default: the suite "
                             "of the run whose train stage made CHECKPOINT, e.g. runs/default/train/checkpoint.pt; "
                             "for any other checkpoint, paper: 40 epochs over the T frames in batches of 8 at the "
                             "training run's rates)")


def run(args: argparse.Namespace) -> int:
    from talkbench.benchmarks.suite import recipe_fine_tuning
    from talkbench.errors import TalkbenchError
    from talkbench.generator.checkpoint import load_checkpoint
    from talkbench.generator.face_input import shots_from
    from talkbench.generator.fewshot import build_fewshot

    if (args.steps is not None or args.recipe is not None) and args.mode != "FT":
        raise TalkbenchError("--steps and --recipe are about fine-tuning: they need --mode FT")
    size = int(load_checkpoint(args.checkpoint)["model_config"]["image_size"])
    frames, marks, source = shots_from(args.frames, size, args.shots, args.video, args.backend)
    ft = recipe_fine_tuning(args.recipe, args.checkpoint) if args.mode == "FT" else None
    model = build_fewshot(args.checkpoint, frames, marks, mode=args.mode, ft=ft, ft_steps=args.steps,
                          device=args.device, progress=not args.quiet)
    model.info["source"] = source
    model.save(args.out)
    print(f"{args.out}: {model.generator_name} from {source}")
    return 0
