"""`talkbench detect import FORMAT SRC OUT`: one dataset layout's videos → face crops on disk
with a labelled table (docs/CONTRACTS.md, "Imported face-crop dataset").

Per video: N frames evenly spaced, the face found and cropped exactly as `talkbench prepare`
does (:mod:`talkbench.data.crop`), each crop written as a PNG. Videos the dataset does not
split are split by identity (train/val, or train/val/test when the dataset names no test
set). Videos run in parallel processes; each finished (or skipped) video leaves a marker, so
a rerun does only what is left; unusable videos go to ``skipped.csv`` with their reason.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from talkbench import __version__
from talkbench.config import to_dict
from talkbench.detector.importers import get_importer
from talkbench.detector.importers.base import ImportConfig, VideoItem
from talkbench.errors import TalkbenchError
from talkbench.files import read_json, write_json, write_text
from talkbench.processes import run_resumable

FORMAT = "talkbench-detect-crops"
VERSION = 1
TABLE = "crops.csv"
CROP_COLUMNS = ["path", "label", "identity", "video", "method", "split", "dataset", "frame", "source"]
SKIPPED_COLUMNS = ["source", "reason"]


def assign_splits(items: list[VideoItem], seed: int) -> None:
    """Give every video without a dataset-fixed split one, identity-disjointly: train/val
    (80/20) when the dataset fixes a test set, else train/val/test (60/20/20)."""
    from talkbench.detector.data import split_by_identity

    todo = [it for it in items if it.split is None]
    if not todo:
        return
    fixed = {it.split for it in items if it.split is not None}
    names, fractions = (("train", "val"), (0.8, 0.2)) if "test" in fixed else (("train", "val", "test"), (0.6, 0.2, 0.2))
    split = split_by_identity(pd.DataFrame({"identity": [it.identity for it in todo]}), fractions, seed, names).split
    for it, s in zip(todo, split):
        it.split = s


def _marker(out: Path, item: VideoItem) -> Path:
    return out / ".import" / f"{item.video}.json"


def import_video(item: VideoItem, cfg: ImportConfig, out: Path, dataset: str) -> dict[str, Any]:
    """Crop one video into ``out/crops/<video>/<k>.png`` (k: position among the sampled
    frames); returns the kept positions. Raises `Skip` with the reason when unusable."""
    from talkbench.data.clips import Skip, read_clip, read_frames
    from talkbench.data.crop import to_square, track_faces
    from talkbench.faces.registry import process_backend
    from talkbench.media import write_png

    frames = read_frames(item.frames, cfg.frames) if item.frames is not None else read_clip(item.source, cfg.frames)
    if len(frames) < cfg.min_frames:
        raise Skip(f"too short: {len(frames)} frames, need {cfg.min_frames}")
    if cfg.backend == "none":
        crops, keep, backend, weights = np.stack([to_square(f, cfg.size) for f in frames]), list(range(len(frames))), "none", []
    else:
        be = process_backend(cfg.backend)
        crops, _, keep, _ = track_faces(frames, be, cfg.size, cfg.margin, cfg.detect_size, cfg.min_frames,
                                        cfg.min_face_fraction)
        backend, weights = be.name, be.weights_used()
    meta = {"synthetic": "false", "made_by": f"talkbench {__version__} detect import", "dataset": dataset,
            "source": item.rel, "label": "fake" if item.label else "real", "method": item.method,
            "purpose": "face crop of a dataset video, for deepfake detection research"}
    for k, crop in zip(keep, crops):
        write_png(out / "crops" / item.video / f"{k:04d}.png", crop, meta)
    return {"frames": [int(k) for k in keep], "backend": backend, "weights": weights}


def _run_one(job: tuple[VideoItem, ImportConfig, Path, str]) -> dict[str, Any]:
    """Worker: import one video and record the outcome (done or skipped) atomically."""
    from talkbench.data.clips import record_outcome

    item, cfg, out, dataset = job
    return record_outcome(_marker(out, item), lambda: import_video(item, cfg, out, dataset))


def import_dataset(fmt: str, src: str | Path, out: str | Path, cfg: ImportConfig, name: str | None = None,
                   workers: int = 2, progress: bool = True) -> dict[str, Any]:
    """Import every video of layout ``fmt`` under ``src`` into ``out``; returns a summary.
    Rerunning with the same config only does the videos not yet done or skipped."""
    src, out = Path(src), Path(out)
    if not src.exists():
        raise TalkbenchError(f"{src} does not exist")
    if cfg.frames < 1 or cfg.size < 8:
        raise TalkbenchError("frames must be at least 1 and size at least 8")
    items, listed_skips = get_importer(fmt)(src, cfg)
    if not items:
        raise TalkbenchError(f"no usable videos in {src} as '{fmt}' ({len(listed_skips)} skipped: "
                             + "; ".join(f"{s}: {r}" for s, r in listed_skips[:3]) + ")")
    if len({it.video for it in items}) != len(items):
        raise TalkbenchError(f"video names under {src} collide once made file-safe; rename them")
    assign_splits(items, cfg.seed)
    dataset = name or fmt
    settings = out / ".import" / "config.json"
    config = {**to_dict(cfg), "format": fmt, "src": str(src.resolve()), "dataset": dataset}
    if settings.is_file() and read_json(settings) != config:
        raise TalkbenchError(f"{out} was imported with another config or source ({settings}); choose a new folder")
    write_json(settings, config)
    start = time.perf_counter()
    jobs = [(it, cfg, out, dataset) for it in items]
    results, ran = run_resumable(jobs, lambda j: j[0].video, lambda j: _marker(out, j[0]), _run_one, workers,
                                 f"import {fmt}", "video", progress)
    return _finish(out, fmt, dataset, items, listed_skips, results, cfg, time.perf_counter() - start, len(ran))


def _finish(out: Path, fmt: str, dataset: str, items: list[VideoItem], listed_skips: list[tuple[str, str]],
            results: dict[str, dict[str, Any]], cfg: ImportConfig, wall: float, n_run: int) -> dict[str, Any]:
    """Write crops.csv, skipped.csv and meta.json from the videos' outcomes; summarise."""
    rows, skipped = [], list(listed_skips)
    backends, weights = set(), set()
    for it in items:
        r = results[it.video]
        if r["status"] != "done":
            skipped.append((it.rel, r["reason"]))
            continue
        backends.add(r["backend"])
        weights.update(r["weights"])
        rows += [{"path": f"crops/{it.video}/{k:04d}.png", "label": it.label, "identity": it.identity,
                  "video": it.video, "method": it.method, "split": it.split, "dataset": dataset, "frame": k,
                  "source": it.rel} for k in r["frames"]]
    write_text(out / "skipped.csv", pd.DataFrame(skipped, columns=SKIPPED_COLUMNS).to_csv(index=False))
    if not rows:
        raise TalkbenchError(f"no usable video: all {len(skipped)} were skipped (reasons in {out / 'skipped.csv'})")
    table = pd.DataFrame(rows, columns=CROP_COLUMNS)
    write_text(out / TABLE, table.to_csv(index=False))
    videos = table.drop_duplicates("video")
    counts = {f"{s}_{'fake' if lab else 'real'}": int(n) for (s, lab), n in videos.groupby(["split", "label"]).size().items()}
    meta = {"format": FORMAT, "version": VERSION, "dataset": dataset, "import_format": fmt, "size": cfg.size,
            "frames_per_video": cfg.frames, "crop": "centre" if cfg.backend == "none" else "landmarks",
            "margin": cfg.margin, "footage": "video", "methods": sorted(set(table.method) - {"real"}),
            "backend_used": sorted(backends), "weights_used": sorted(weights), "videos": counts,
            "config": to_dict(cfg)}
    write_json(out / "meta.json", meta)
    return {"videos": len(items) + len(listed_skips), "imported": int(videos.shape[0]), "skipped": len(skipped),
            "frames": len(table), "run_videos": n_run, "wall_s": round(wall, 2), "by_split": counts,
            "backend": sorted(backends)}
