"""`talkbench detect import` per video, beside its anchor, measured interleaved (the CPU is
shared): frames/s of the whole import of a folder of videos (decode N evenly spaced
frames, face detection + landmarks, one crop per video, PNG writes, markers) vs the bare
face backend (``largest_faces`` + ``landmarks``) on the same already-decoded frames — the
part no importer can avoid. The ratio is the import's overhead (decode, crop, write).

    python -m talkbench.benchmarks.perf.dataset_import VIDEOS_DIR [--videos 4] [--frames 16] [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from talkbench.benchmarks.perf.detector import _interleaved, _line
from talkbench.config import bounded


def main(argv: list[str] | None = None) -> int:
    from talkbench.data.clips import read_clip
    from talkbench.data.crop import largest_faces
    from talkbench.detector.importers.base import ImportConfig
    from talkbench.detector.importers.build import import_dataset
    from talkbench.faces.registry import process_backend

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("videos", type=Path, help="folder of talking-head videos (e.g. ../shared/data/videos)")
    p.add_argument("--videos", dest="n", type=bounded(int, 1), default=4, help="videos to import (default 4)")
    p.add_argument("--frames", type=bounded(int, 1), default=16, help="frames per video (default 16)")
    p.add_argument("--repeats", type=bounded(int, 1), default=3)
    args = p.parse_args(argv)
    files = sorted(args.videos.glob("*.mp4"))[:args.n]
    if len(files) < 3:  # one identity per video; the import splits identities train/val/test
        raise SystemExit(f"need at least 3 videos in {args.videos}")
    cfg = ImportConfig(frames=args.frames, backend="dlib")
    work = Path(tempfile.mkdtemp(prefix="perf-import-"))
    for i, f in enumerate(files):  # a `folders` layout of links: half real, half "fake"
        cls = work / "src" / ("real" if i % 2 == 0 else "fake")
        cls.mkdir(parents=True, exist_ok=True)
        (cls / f.name).symlink_to(f.resolve())
    be = process_backend("dlib")
    decoded = [read_clip(f, args.frames) for f in files]
    n_frames = sum(len(c) for c in decoded)
    runs = iter(range(10 ** 6))

    def ours() -> int:
        out = work / f"out{next(runs)}"
        summary = import_dataset("folders", work / "src", out, cfg, workers=1, progress=False)
        shutil.rmtree(out)
        return summary["frames"]

    def anchor() -> int:
        for frames in decoded:
            be.landmarks(list(frames), largest_faces(be, frames, cfg.detect_size))
        return n_frames

    try:
        ours()  # warm-up: backend models loaded, files cached
        a, b = _interleaved(ours, anchor, args.repeats)
    finally:
        shutil.rmtree(work)
    print(f"{len(files)} videos × {args.frames} frames; medians of {args.repeats} interleaved runs")
    _line("import (decode, faces, crop, PNG, markers)", a, "bare dlib detect + landmarks", b, "frames/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
