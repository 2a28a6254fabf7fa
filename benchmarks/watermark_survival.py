"""What the pixel watermark survives: recovery rate by size × transformation, measured on
face crops of real videos, through the suite's own write path (talkbench.media.write_png).

Transformations: the PNG as written; metadata stripped (pixels re-saved by PIL with no
chunks and no manifest); JPEG at quality 90/75/50; resized ×0.5 (area) and saved as PNG;
an H.264 (crf 18) mp4 of the frame through talkbench.media.write_video. False positives:
the same crops unmarked, and after JPEG 75. talkbench.watermark.CLAIMS must hold only the
cells measured ≥ 95 % here.

    python -m talkbench.benchmarks.watermark_survival [--videos DIR] [--per-video 8] [--json OUT]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from PIL import Image

from talkbench.config import bounded
from talkbench import watermark as wm
from talkbench.data.crop import centre_square
from talkbench.errors import TalkbenchError
from talkbench.media import iter_video, read_image, read_video, write_png, write_video
from talkbench.progress import progress_bar
from talkbench.provenance import provenance

SIZES = (64, 128, 256)


def face_crops(videos: Path, per_video: int) -> list[np.ndarray]:
    """Centre square crops of evenly spaced frames (the shared videos are one face to camera)."""
    files = sorted(videos.glob("*.mp4"))
    if not files:
        raise TalkbenchError(f"no .mp4 videos in {videos} (set --videos or TALKBENCH_SHARED)")
    crops = []
    for f in files:
        taken = 0
        for i, (frame, _) in enumerate(iter_video(f)):
            if i % 15:
                continue
            crops.append(centre_square(frame))
            taken += 1
            if taken == per_video:
                break
    return crops


def _jpeg(q: int) -> Callable[[Path], np.ndarray]:
    def f(p: Path) -> np.ndarray:
        buf = io.BytesIO()
        Image.open(p).convert("RGB").save(buf, format="JPEG", quality=q)
        return np.asarray(Image.open(buf).convert("RGB"))
    return f


def _strip(p: Path) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(read_image(p)).save(buf, format="PNG")  # no text chunks, no caBX manifest
    return np.asarray(Image.open(buf).convert("RGB"))


def _half(p: Path) -> np.ndarray:
    img = read_image(p)
    h, w = img.shape[:2]
    buf = io.BytesIO()
    Image.fromarray(cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)).save(buf, format="PNG")
    return np.asarray(Image.open(buf).convert("RGB"))


def _h264(p: Path) -> np.ndarray:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "x.mp4"
        write_video(out, [read_image(p)], meta=None)  # pixels as they are: no second mark
        return read_video(out)[0][0]


TRANSFORMS: dict[str, Callable[[Path], np.ndarray]] = {
    "png": read_image, "metadata-strip": _strip, "jpeg90": _jpeg(90), "jpeg75": _jpeg(75),
    "jpeg50": _jpeg(50), "resize0.5": _half, "h264-crf18": _h264,
}


def measure(crops: list[np.ndarray], sizes=SIZES) -> dict:
    """{size: {"recovered": {transform: rate}, "false_positive": {...}, "psnr_db": x, "n": n}}."""
    meta = provenance("talkbench.benchmarks.watermark_survival", "")
    table = {}
    with tempfile.TemporaryDirectory() as d:
        for size in sizes:
            imgs = [cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA) for c in crops]
            hits = {t: 0 for t in TRANSFORMS}
            fp = {"png": 0, "jpeg75": 0}
            psnr = []
            for i, img in enumerate(progress_bar(imgs, desc=f"watermark {size}px", leave=False)):
                marked, plain = Path(d) / f"m{size}_{i}.png", Path(d) / f"p{size}_{i}.png"
                write_png(marked, img, meta)
                write_png(plain, img, meta, watermark=False)
                psnr.append(cv2.PSNR(img, read_image(marked)))
                for t, f in TRANSFORMS.items():
                    hits[t] += wm.detect(f(marked)).found
                for t in fp:
                    fp[t] += wm.detect(TRANSFORMS[t](plain)).found
            n = len(imgs)
            table[size] = {"n": n, "psnr_db": round(float(np.mean(psnr)), 1),
                           "recovered": {t: round(h / n, 3) for t, h in hits.items()},
                           "false_positive": {t: round(h / n, 3) for t, h in fp.items()}}
    return table


def markdown(table: dict) -> str:
    heads = list(TRANSFORMS)
    lines = [f"| {wm.METHOD} (step {wm.SCALE}) | n | PSNR dB | " + " | ".join(heads) + " | false pos. (png / jpeg75) |",
             "|---" * (len(heads) + 4) + "|"]
    for size, row in table.items():
        cells = [f"**{row['recovered'][t]:.0%}**" if row["recovered"][t] >= 0.95 else f"{row['recovered'][t]:.0%}"
                 for t in heads]
        fp = row["false_positive"]
        lines.append(f"| {size} px | {row['n']} | {row['psnr_db']} | " + " | ".join(cells)
                     + f" | {fp['png']:.0%} / {fp['jpeg75']:.0%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shared = Path(os.environ.get("TALKBENCH_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
    ap.add_argument("--videos", type=Path, default=shared / "data" / "videos", help="folder of face videos")
    ap.add_argument("--per-video", type=bounded(int, 1), default=8, help="frames taken from each video")
    ap.add_argument("--json", type=Path, help="also write the table here")
    args = ap.parse_args(argv)
    table = measure(face_crops(args.videos, args.per_video))
    print(markdown(table))
    if args.json:
        args.json.write_text(json.dumps(table, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
