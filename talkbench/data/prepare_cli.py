"""`talkbench prepare SRC OUT`: real talking-head videos → the prepared face dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from talkbench.config import bounded
from talkbench.data.prepare import PrepareConfig


def configure(parser: argparse.ArgumentParser) -> None:
    d = PrepareConfig()
    parser.add_argument("src", type=Path, help="VoxCeleb-style tree (id/video/utt.mp4), a folder of videos "
                                               "(one person each) or folders of frames")
    parser.add_argument("out", type=Path, help="output folder (rerun the same command to resume)")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="any PrepareConfig field, e.g. min_face_fraction=0.1 (docs/data.md lists them; "
                             "the options below are the common ones)")
    parser.add_argument("--frames", type=int, default=d.frames, help="frames sampled evenly per clip (default %(default)s)")
    parser.add_argument("--size", type=int, default=d.size, help="crop side in pixels (default %(default)s; the paper uses 256)")
    parser.add_argument("--margin", type=float, default=d.margin,
                        help="crop side = (1 + margin) x the landmarks' box (default %(default)s)")
    parser.add_argument("--backend", default=d.backend, help="face backend: auto, dlib, fan, insightface (default %(default)s)")
    parser.add_argument("--detect-size", type=int, default=d.detect_size,
                        help="longest side frames are shrunk to for detection (default %(default)s)")
    parser.add_argument("--min-frames", type=int, default=d.min_frames, help="skip clips with fewer usable frames")
    parser.add_argument("--workers", type=bounded(int, 1), default=2, help="parallel processes (default %(default)s)")
    parser.add_argument("--seed", type=int, default=d.seed, help="seed of the identity split (default %(default)s)")
    parser.add_argument("--test-fraction", type=float, default=d.test_fraction,
                        help="share of identities in the test split (default %(default)s)")


def run(args: argparse.Namespace) -> int:
    from talkbench.config import apply_overrides, from_dict
    from talkbench.data.prepare import prepare

    cfg = from_dict(PrepareConfig, {"frames": args.frames, "size": args.size, "margin": args.margin,
                                    "backend": args.backend, "detect_size": args.detect_size,
                                    "min_frames": args.min_frames, "seed": args.seed,
                                    "test_fraction": args.test_fraction})  # checks each value's range
    cfg = apply_overrides(cfg, args.overrides)
    s = prepare(args.src, args.out, cfg, workers=args.workers)
    print(f"{args.out}: {s['prepared']} of {s['clips']} clips prepared ({s['frames']} frames, backend "
          f"{', '.join(s['backend'])}), {s['skipped']} skipped (see skipped.csv)")
    if s["frames_per_s"]:
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in s["stage_s"].items())
        print(f"{s['frames_per_s']:.1f} frames/s over {s['wall_s']:.1f} s wall; worker time per stage: {stages}")
    return 0
