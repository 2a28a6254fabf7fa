"""`talkbench synth OUT`: render the synthetic talking-face dataset (the offline default)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from talkbench.config import bounded
from talkbench.data.synth import SynthConfig


def configure(parser: argparse.ArgumentParser) -> None:
    d = SynthConfig()
    parser.add_argument("out", type=Path, help="output folder (the prepared-dataset format, docs/data.md)")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="any SynthConfig field, e.g. occlusion=0.3 light_change=1 noise=5 glasses=0.3 "
                             "clip_seconds=4 (docs/data.md lists them; the options below are the common ones)")
    parser.add_argument("--identities", type=int, default=d.identities, help="number of people (default %(default)s)")
    parser.add_argument("--videos", type=int, default=d.videos, help="videos per person (default %(default)s)")
    parser.add_argument("--frames", type=int, default=d.frames, help="frames per training video (default %(default)s)")
    parser.add_argument("--test-frames", type=int, default=d.test_frames,
                        help="frames per test video: T=32 shots + held-out need >= 40 (default %(default)s)")
    parser.add_argument("--size", type=int, default=d.size, help="image side in pixels (default %(default)s)")
    parser.add_argument("--seed", type=int, default=d.seed, help="random seed (default %(default)s)")
    parser.add_argument("--test-fraction", type=float, default=d.test_fraction,
                        help="share of identities held out for testing (default %(default)s)")
    parser.add_argument("--supersample", type=int, default=d.supersample,
                        help="render at this multiple of the size, then area-downsample (default %(default)s)")
    parser.add_argument("--workers", type=bounded(int, 1), default=None, help="processes (default: all cores)")
    parser.add_argument("--check", type=bounded(int, 0), default=0, metavar="N",
                        help="afterwards, run dlib on N frames and report detection rate and landmark error")


def run(args: argparse.Namespace) -> int:
    from talkbench.config import apply_overrides, from_dict
    from talkbench.data.dataset import FaceDataset
    from talkbench.data.synth import render_dataset

    cfg = from_dict(SynthConfig, {"identities": args.identities, "videos": args.videos, "frames": args.frames,
                                  "test_frames": args.test_frames, "size": args.size, "seed": args.seed,
                                  "test_fraction": args.test_fraction,
                                  "supersample": args.supersample})  # checks each value's range
    cfg = apply_overrides(cfg, args.overrides)
    start = time.perf_counter()
    render_dataset(args.out, cfg, workers=args.workers)
    wall = time.perf_counter() - start
    ds = FaceDataset(args.out)
    n = int(ds.index.n_frames.sum())
    print(f"{args.out}: {ds.index.identity.nunique()} identities, {len(ds.index)} videos, {n} frames "
          f"at {cfg.size} px in {wall:.1f} s ({n / wall:.0f} frames/s)")
    if args.check:
        from talkbench.data.face_check import check_faces

        upscale = max(1, -(-128 // cfg.size))  # dlib's HOG window needs faces of ~80 px
        print(check_faces(ds, args.check, "dlib", upscale=upscale).summary())
    return 0
