"""Cost of provenance per written file: the C2PA signature and the pixel watermark that
talkbench.media.write_png adds to every synthetic image.

Anchor: the same image saved by PIL as PNG with the same text chunks (what write_png did
before manifests and marks). Printed per size: ms per file for the anchor, for write_png
with the manifest only (``watermark=False``: the benchmark's generated frames) and with
manifest + watermark (exported files), as ratios to the anchor; and the reading side
(talkbench.provenance_cli.inspect). Repetitions are interleaved, so load on a shared CPU
hits all alike.

    python -m talkbench.benchmarks.perf.provenance [--reps 40]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from talkbench.config import bounded
from talkbench.media import write_png
from talkbench.provenance import provenance, to_tags
from talkbench.provenance_cli import inspect


def _anchor(path: Path, img: np.ndarray, meta: dict[str, str]) -> None:
    info = PngImagePlugin.PngInfo()
    for k, v in to_tags(meta).items():
        info.add_text(k, v)
    Image.fromarray(img).save(path, format="PNG", pnginfo=info)


def measure(size: int, reps: int, folder: Path) -> dict[str, float]:
    rng = np.random.default_rng(size)
    y, x = np.mgrid[0:size, 0:size] / size
    img = np.clip(np.stack([128 + 80 * np.sin(5 * x + c) * np.cos(3 * y) for c in range(3)], -1)
                  + rng.normal(0, 10, (size, size, 3)), 0, 255).astype(np.uint8)
    meta = provenance("talkbench.benchmarks.perf.provenance", "0" * 16, setting="FT_T8", mode="FT", T=8)
    ways = {"anchor": lambda p: _anchor(p, img, meta),
            "manifest": lambda p: write_png(p, img, meta, watermark=False),
            "manifest+mark": lambda p: write_png(p, img, meta),
            "read (provenance)": lambda p: inspect(folder / f"manifest+mark_{size}.png")}
    for name, f in ways.items():  # warm-up: imports, identity, signer
        f(folder / f"{name}_{size}.png")
    t = dict.fromkeys(ways, 0.0)
    for _ in range(reps):
        for name, f in ways.items():
            t0 = time.perf_counter()
            f(folder / f"{name}_{size}.png")
            t[name] += time.perf_counter() - t0
    return {k: 1000 * v / reps for k, v in t.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=bounded(int, 1), default=40)
    args = ap.parse_args(argv)
    print("| size | PIL PNG + chunks (anchor) | + C2PA manifest | + manifest + watermark | provenance read |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        for size in (64, 128, 256):
            ms = measure(size, args.reps, Path(d))
            a = ms["anchor"]
            print(f"| {size} px | {a:.2f} ms | {ms['manifest']:.2f} ms (×{ms['manifest'] / a:.1f}) | "
                  f"{ms['manifest+mark']:.2f} ms (×{ms['manifest+mark'] / a:.1f}) | {ms['read (provenance)']:.1f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
