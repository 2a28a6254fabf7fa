"""Performance of the data hot paths, each beside its anchor measured in the same run:

- landmark rasterisation (`draw_landmarks`) at 64/128/256 px vs a plain per-segment
  `cv2.line` loop drawing the same strokes, and vs copying the same output bytes (memcpy);
- the synthetic renderer at 64/128 px vs its unavoidable per-frame floor (background copy,
  area downsample, lighting and noise at the same sizes, no drawing);
- the training loader (`MetaEpisodes` through a torch DataLoader, 0 and 2 workers) vs raw
  `np.load` (memory-mapped) of the same frames.

    python -m talkbench.benchmarks.perf.data [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch

from talkbench.data.dataset import FaceDataset, frames_path
from talkbench.data.synth import SynthConfig, make_identity, make_video, render_dataset, render_video
from talkbench.generator.episodes import MetaEpisodes
from talkbench.generator.landmark_image import _PATHS, draw_landmarks, line_width


def _rate(fn: Callable[[], int], min_s: float = 0.5) -> float:
    """Items per second of ``fn`` (returns the items it did), repeated for at least ``min_s``."""
    fn()  # warm-up
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_s:
        n += fn()
    return n / elapsed


def _row(name: str, value: float, anchor_name: str, anchor: float) -> None:
    print(f"{name:<34} {value:>10.0f} frames/s | {anchor_name:<30} {anchor:>10.0f} frames/s | ratio {value / anchor:.2f}")


def _segment_loop(marks: np.ndarray, size: int) -> np.ndarray:
    """The anchor: the same strokes drawn one `cv2.line` per segment."""
    out = np.zeros((len(marks), size, size, 3), np.uint8)
    width = line_width(size)
    fixed = np.round(marks * 16).astype(np.int32)
    for n in range(len(marks)):
        for idx_list, closed, colour in _PATHS:
            for idx in idx_list:
                seq = list(idx) + ([idx[0]] if closed else [])
                for a, b in zip(seq[:-1], seq[1:]):
                    cv2.line(out[n], tuple(fixed[n, a]), tuple(fixed[n, b]), colour, width, cv2.LINE_AA, 4)
    return out


def bench_landmarks(marks64: np.ndarray, min_s: float) -> None:
    for size in (64, 128, 256):
        marks = marks64 * size / 64
        ours = _rate(lambda: len(draw_landmarks(marks, size)), min_s)
        loop = _rate(lambda: len(_segment_loop(marks, size)), min_s)
        src = np.ones((len(marks), size, size, 3), np.uint8)
        dst = np.empty_like(src)
        def copy() -> int:
            np.copyto(dst, src)
            return len(src)

        memcpy = _rate(copy, min_s)
        _row(f"draw_landmarks {size}px", ours, "per-segment cv2.line loop", loop)
        _row(f"draw_landmarks {size}px", ours, "memcpy of the output bytes", memcpy)


def bench_renderer(min_s: float) -> None:
    for size in (64, 128):
        cfg = SynthConfig(size=size)
        rng = np.random.default_rng(0)
        ident = make_identity(rng, cfg)
        video = make_video(rng, 32, size, cfg)
        ours = _rate(lambda: len(render_video(ident, video, size, cfg.supersample, rng)[0]), min_s)

        def floor() -> int:
            for i in range(32):
                small = cv2.resize(video.background.copy(), (size, size), interpolation=cv2.INTER_AREA)
                lit = small * video.light.frame(i, size) + video.noise[:size, :size]
                np.clip(lit, 0, 255, out=lit).astype(np.uint8)
            return 32

        _row(f"synth render {size}px (1 process)", ours, "per-frame floor (no drawing)", _rate(floor, min_s))


def bench_loader(root: Path, min_s: float) -> None:
    ds = FaceDataset(root)
    episodes = MetaEpisodes(ds, k=8)
    per_item = episodes.k + 1
    picks = [(v, np.append(*episodes.pick(i))) for i, v in enumerate(episodes.video_ids)]

    def raw() -> int:
        for video, idx in picks:
            np.asarray(np.load(frames_path(root, video), mmap_mode="r")[idx])
        return len(picks) * per_item

    anchor = _rate(raw, min_s)
    for workers in (0, 2):
        loader = torch.utils.data.DataLoader(episodes, batch_size=8, shuffle=True, num_workers=workers,
                                             persistent_workers=workers > 0)

        def epoch() -> int:
            return sum(len(b["video_index"]) for b in loader) * per_item

        _row(f"MetaEpisodes loader, {workers} workers", _rate(epoch, min_s), "raw np.load (mmap) same frames", anchor)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings (for a smoke run)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    min_s = 0.3 if args.quick else 2.0
    with tempfile.TemporaryDirectory() as tmp:
        root = render_dataset(Path(tmp) / "ds", SynthConfig(identities=24, videos=2, frames=32, size=64),
                              workers=1, progress=False)
        marks = np.concatenate([FaceDataset(root).load(v)[1] for v in FaceDataset(root).videos()[:4]])[:100]
        print(f"talkbench data benchmarks ({torch.get_num_threads()} torch thread, batches of {len(marks)} faces)")
        bench_landmarks(marks, min_s)
        bench_renderer(min_s)
        bench_loader(root, min_s)


if __name__ == "__main__":
    main()
