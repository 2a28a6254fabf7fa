"""`talkbench reenact FEWSHOT_MODEL --driver SRC OUT`: drive a few-shot model with landmarks,
writing PNG frames and an mp4 (both with provenance)."""

from __future__ import annotations

import argparse
from pathlib import Path

from talkbench.config import bounded


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="few-shot model file from `talkbench fewshot`")
    parser.add_argument("out", type=Path, help="output folder: frames/NNNN.png, reenactment.mp4")
    parser.add_argument("--driver", type=Path, required=True,
                        help="landmarks .npy (N×68×2 in the model's crop pixels), a prepared dataset folder "
                             "(with --video) or a video file (faces found with the face backend)")
    parser.add_argument("--video", help="video id within a prepared dataset (default: its first test video)")
    parser.add_argument("--max-frames", type=bounded(int, 1), help="use at most this many driving frames")
    parser.add_argument("--fps", type=bounded(float, 0, 1000, open_low=True), help="frame rate of the mp4 (default: the driver's, else 25)")
    parser.add_argument("--side-by-side", action="store_true", help="mp4 shows driver | generated when the driver has frames")
    parser.add_argument("--backend", default="auto", help="face backend for a driving video (default auto)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from talkbench.progress import progress_bar

    from talkbench.generator.face_input import driver_landmarks
    from talkbench.generator.fewshot import FewShotModel
    from talkbench.media import write_png, write_video
    from talkbench.provenance import provenance

    model = FewShotModel.load(args.model, device=args.device)
    marks, fps, real = driver_landmarks(args.driver, model.size, args.video, args.backend, args.max_frames)
    meta = provenance(model.generator_name, model.config_fingerprint, driver=str(args.driver),
                      fewshot_model=args.model.name)
    batches = []
    for i in progress_bar(range(0, len(marks), 16), desc="reenact", unit="batch", enabled=not args.quiet):
        batches.append(model.generate(marks[i:i + 16]))
    frames = np.concatenate(batches)
    written = set()
    for i, f in enumerate(frames):
        write_png(args.out / "frames" / f"{i:04d}.png", f, {**meta, "frame": str(i)})
        written.add(f"{i:04d}.png")
    for stale in (args.out / "frames").glob("*.png"):  # an earlier, longer run's frames are not this one's
        if stale.name not in written:
            stale.unlink()
    shown = np.concatenate([real, frames], axis=2) if (args.side_by_side and real is not None) else frames
    write_video(args.out / "reenactment.mp4", shown, fps=args.fps or fps, meta=meta)
    print(f"{args.out}: {len(frames)} frames and reenactment.mp4 ({model.generator_name})")
    return 0
