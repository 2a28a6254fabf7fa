"""`talkbench train DATASET OUT [--config YAML] [key=value ...] [--resume]`: meta-learning."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", type=Path, help="prepared face dataset (`talkbench synth` / `talkbench prepare`)")
    parser.add_argument("out", type=Path, help="run folder: checkpoint.pt, log.csv, tb/, samples/, manifest.json")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="config overrides, e.g. steps=500 batch_size=4 model.preset=cpu128 lr_g=1e-4 "
                             "loss.mch_weight=10 device=cuda (see docs/generator.md for every key)")
    parser.add_argument("--config", type=Path, help="YAML file with TrainConfig values (overrides apply on top)")
    parser.add_argument("--resume", action="store_true", help="continue the run in OUT from its last checkpoint")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.epilog = ("Multi-GPU / multi-node: torchrun --nproc-per-node N -m talkbench.cli train DATASET OUT ... "
                     "(batch_size is the global batch).")


def run(args: argparse.Namespace) -> int:
    from talkbench.config import load_config
    from talkbench.generator.train import train
    from talkbench.generator.train_config import TrainConfig

    cfg = load_config(TrainConfig, args.config, args.overrides)
    ckpt = train(cfg, args.dataset, args.out, resume=args.resume, progress=not args.quiet)
    print(f"checkpoint: {ckpt}")
    return 0
