"""Real video preparation (`talkbench prepare SRC OUT`): talking-head videos or folders of
frames → the prepared face dataset (docs/CONTRACTS.md).

Per clip: decode, sample N frames evenly, detect the face (on a downscaled copy, for speed)
and its 68 landmarks (on the full frame), cut one square crop for the whole clip (median
of the per-frame crops, so the crop does not jitter), resize to S, and store frames and
landmarks in crop coordinates. Bad clips (corrupt, no face, too short) are skipped with
their reason; finished clips are not redone on a rerun; clips run in parallel processes.

Layouts: any tree under SRC. Every video file and every folder holding images is a clip;
its identity is the first folder under SRC (VoxCeleb: ``id/video/utt.mp4``) or, for clips
directly in SRC, the clip itself (one identity per video).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import pandas as pd

from talkbench.config import to_dict
from talkbench.data.clips import Skip, read_clip, record_outcome
from talkbench.data.crop import LANDMARK_MARGIN, track_faces
from talkbench.data.dataset import VideoRecord, safe_name, split_identities, write_index, write_video_arrays
from talkbench.errors import TalkbenchError
from talkbench.faces.registry import process_backend
from talkbench.files import read_json, write_json, write_text
from talkbench.media import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from talkbench.processes import run_resumable

STAGES = ("decode", "detect", "landmarks", "write")


@dataclasses.dataclass
class PrepareConfig:
    """How clips become dataset videos. ``margin``: the crop side is (1 + margin) × the
    landmarks' bounding box (`talkbench.data.crop`); ``detect_size``: frames are downscaled
    to this longest side for detection only; ``min_frames``: clips with fewer usable frames
    are skipped."""

    frames: int = 48
    size: int = 64
    margin: float = LANDMARK_MARGIN
    backend: str = "auto"
    detect_size: int = 224
    min_frames: int = 8
    min_face_fraction: float = 0.5
    seed: int = 0
    test_fraction: float = 0.1


@dataclasses.dataclass
class Clip:
    identity: str
    video: str  # dataset video id
    path: Path
    rel: str  # path relative to SRC, the index's `source`


def discover(src: Path) -> list[Clip]:
    """Every video file and image folder under ``src`` as a clip (see the module docstring)."""
    src = Path(src)
    if not src.is_dir():
        raise TalkbenchError(f"{src} is not a folder of videos or frames")
    clips = []
    for path in sorted(src.rglob("*")):
        is_video = path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES
        is_frames = path.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir() if p.is_file())
        if not (is_video or is_frames):
            continue
        rel = path.relative_to(src)
        parts = rel.with_suffix("").parts if is_video else rel.parts
        identity = safe_name(parts[0])
        clips.append(Clip(identity, safe_name("__".join(parts)), path, rel.as_posix()))
    if not clips:
        raise TalkbenchError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) or image folders under {src}")
    if len({c.video for c in clips}) != len(clips):
        raise TalkbenchError(f"clip names under {src} collide once made file-safe; rename them")
    return clips


def process_clip(clip: Clip, cfg: PrepareConfig, out: Path) -> dict[str, Any]:
    """Prepare one clip into ``out``; returns its record and per-stage seconds.
    Raises `Skip` with the reason when the clip cannot be used."""
    t = time.perf_counter()
    frames = read_clip(clip.path, cfg.frames)
    decode_s = time.perf_counter() - t
    if len(frames) < cfg.min_frames:
        raise Skip(f"too short: {len(frames)} frames, need {cfg.min_frames}")
    be = process_backend(cfg.backend)
    crops, local, _, timing = track_faces(frames, be, cfg.size, cfg.margin, cfg.detect_size, cfg.min_frames,
                                          cfg.min_face_fraction)
    t = time.perf_counter()
    write_video_arrays(out, clip.video, crops, local)
    timing = {**timing, "decode": decode_s, "write": timing["write"] + time.perf_counter() - t}
    return {"n_frames": len(crops), "timing": timing, "backend": be.name, "weights": be.weights_used()}


def _marker(out: Path, clip: Clip) -> Path:
    return out / ".prepare" / f"{clip.video}.json"


def _run_one(args: tuple[Clip, PrepareConfig, Path]) -> dict[str, Any]:
    """Worker: prepare one clip and record the outcome (done or skipped) atomically."""
    clip, cfg, out = args
    return record_outcome(_marker(out, clip), lambda: process_clip(clip, cfg, out))


def prepare(src: str | Path, out: str | Path, cfg: PrepareConfig, workers: int = 2, progress: bool = True) -> dict[str, Any]:
    """Prepare every clip under ``src`` into ``out``; returns a summary (counts, frames/s,
    seconds per stage). Rerunning with the same config skips clips already done or skipped."""
    src, out = Path(src), Path(out)
    clips = discover(src)
    settings = out / ".prepare" / "config.json"
    if settings.is_file() and read_json(settings) != to_dict(cfg):
        raise TalkbenchError(f"{out} was prepared with another config ({settings}); choose a new folder")
    write_json(settings, to_dict(cfg))
    start = time.perf_counter()
    jobs = [(c, cfg, out) for c in clips]
    results, ran = run_resumable(jobs, lambda j: j[0].video, lambda j: _marker(out, j[0]), _run_one, workers,
                                   "prepare", "clip", progress)
    wall = time.perf_counter() - start
    new_frames = sum(results[video].get("n_frames", 0) for video in ran)
    return _finish(out, clips, results, cfg, wall, len(ran), new_frames)


def _finish(out: Path, clips: list[Clip], results: dict[str, dict[str, Any]], cfg: PrepareConfig,
            wall: float, n_run: int, new_frames: int) -> dict[str, Any]:
    """Write index.csv, skipped.csv and meta.json from the clips' outcomes; summarise."""
    splits = split_identities([c.identity for c in clips], cfg.test_fraction, cfg.seed)
    records, skipped = [], []
    timing = dict.fromkeys(STAGES, 0.0)
    backends, weights = set(), set()
    for clip in clips:
        r = results[clip.video]
        if r["status"] == "done":
            records.append(VideoRecord(clip.identity, clip.video, r["n_frames"], cfg.size, splits[clip.identity], clip.rel))
            for k in STAGES:
                timing[k] += r["timing"][k]
            backends.add(r["backend"])
            weights.update(r["weights"])
        else:
            skipped.append((clip.rel, r["reason"]))
    if not records:
        write_text(out / "skipped.csv", pd.DataFrame(skipped, columns=["source", "reason"]).to_csv(index=False))
        raise TalkbenchError(f"no usable clip: all {len(skipped)} were skipped (reasons in {out / 'skipped.csv'})")
    summary = {"clips": len(clips), "prepared": len(records), "skipped": len(skipped),
               "frames": sum(r.n_frames for r in records), "run_clips": n_run, "wall_s": round(wall, 3),
               "frames_per_s": round(new_frames / wall, 2) if new_frames else None,
               "stage_s": {k: round(v, 3) for k, v in timing.items()}, "backend": sorted(backends),
               "weights": sorted(weights)}
    write_index(out, records, cfg.size, "videos", config={**to_dict(cfg), "backend_used": sorted(backends),
                                                          "weights_used": sorted(weights)},
                skipped=skipped)
    return summary
