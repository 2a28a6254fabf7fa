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
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from talkbench.config import to_dict
from talkbench.errors import TalkbenchError
from talkbench.faces import FaceBackend, create_backend
from talkbench.files import read_json, write_json, write_text
from talkbench.generator.dataset import (VideoRecord, safe_name, split_identities, write_index,
                                         write_video_arrays)
from talkbench.media import IMAGE_SUFFIXES, VIDEO_SUFFIXES, list_images, read_image
from talkbench.processes import die_with_parent

STAGES = ("decode", "detect", "landmarks", "write")


@dataclasses.dataclass
class PrepareConfig:
    """How clips become dataset videos. ``margin``: the crop side is (1 + margin) × the
    landmarks' bounding box, centred 10 % of its height above the box centre (the framing of
    the synthetic data); ``detect_size``: frames are downscaled to this longest side for
    detection only; ``min_frames``: clips with fewer usable frames are skipped."""

    frames: int = 48
    size: int = 64
    margin: float = 0.85
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


class Skip(Exception):
    """A clip that cannot be used; the message is the reason written to skipped.csv."""


def sample_indices(total: int, n: int) -> np.ndarray:
    """``n`` frame numbers spread evenly over ``total`` frames (all of them when fewer)."""
    if total <= n:
        return np.arange(total)
    return np.unique(np.round(np.linspace(0, total - 1, n)).astype(int))


def read_clip(path: Path, n: int) -> np.ndarray:
    """N evenly sampled RGB frames of a video file or an image folder (decoding stops after
    the last frame needed; only sampled frames are converted to RGB)."""
    if path.is_dir():
        files = list_images(path)
        return np.stack([read_image(files[i]) for i in sample_indices(len(files), n)]) if files else np.zeros((0, 1, 1, 3), np.uint8)
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise Skip("no video stream")
            stream = container.streams.video[0]
            total = stream.frames
            if total <= 0:  # container does not say: count by demuxing (no decoding)
                total = sum(1 for p in container.demux(stream) if p.size)
                container.seek(0)
            wanted = sample_indices(total, n)
            want = set(wanted.tolist())
            stream.thread_type = "AUTO"
            frames = []
            for i, frame in enumerate(container.decode(stream)):
                if i in want:
                    frames.append(frame.to_ndarray(format="rgb24"))
                if i >= wanted[-1]:
                    break
    except av.error.FFmpegError as exc:
        raise Skip(f"corrupt or unreadable video: {exc}") from None
    if not frames:
        raise Skip("corrupt or unreadable video: no decodable frames")
    if len(frames) < len(wanted):  # the stream ends before the frames its header announces
        raise Skip(f"truncated video: {len(frames)} of {len(wanted)} sampled frames decodable "
                   f"(the container announces {total} frames)")
    return np.stack(frames)


def crop_box(landmarks: np.ndarray, margin: float) -> np.ndarray:
    """(cx, cy, side) of the square crop around one frame's landmarks (68, 2)."""
    lo, hi = landmarks.min(0), landmarks.max(0)
    w, h = hi - lo
    return np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2 - 0.1 * h, (1 + margin) * max(w, h)])


def cut(frame: np.ndarray, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    """The ``side``-px square at (x0, y0) (edge-replicated where it leaves the frame), resized."""
    h, w = frame.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - w, y0 + side - h)
    if pad:
        frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    roi = frame[y0 + pad:y0 + pad + side, x0 + pad:x0 + pad + side]
    return cv2.resize(roi, (size, size), interpolation=cv2.INTER_AREA)


_BACKEND: FaceBackend | None = None


def _backend(name: str) -> FaceBackend:
    global _BACKEND
    if _BACKEND is None:
        _BACKEND = create_backend(name, "landmarks")
    return _BACKEND


def process_clip(clip: Clip, cfg: PrepareConfig, out: Path) -> dict[str, Any]:
    """Prepare one clip into ``out``; returns its record and per-stage seconds.
    Raises `Skip` with the reason when the clip cannot be used."""
    timing = dict.fromkeys(STAGES, 0.0)
    t = time.perf_counter()
    frames = read_clip(clip.path, cfg.frames)
    timing["decode"] = time.perf_counter() - t
    if len(frames) < cfg.min_frames:
        raise Skip(f"too short: {len(frames)} frames, need {cfg.min_frames}")
    be = _backend(cfg.backend)
    t = time.perf_counter()
    h, w = frames.shape[1:3]
    s = min(1.0, cfg.detect_size / max(h, w))
    small = [cv2.resize(f, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA) for f in frames] if s < 1 else list(frames)
    boxes = [b if b is None else b / s for b in be.largest_faces(small)]
    timing["detect"] = time.perf_counter() - t
    keep = [i for i, b in enumerate(boxes) if b is not None]
    if len(keep) < max(cfg.min_frames, cfg.min_face_fraction * len(frames)):
        raise Skip(f"no face: found in {len(keep)} of {len(frames)} sampled frames")
    t = time.perf_counter()
    marks = be.landmarks([frames[i] for i in keep], [boxes[i] for i in keep])
    timing["landmarks"] = time.perf_counter() - t
    pairs = [(i, m) for i, m in zip(keep, marks) if m is not None]
    if len(pairs) < cfg.min_frames:
        raise Skip(f"no face: landmarks on {len(pairs)} of {len(frames)} sampled frames")
    t = time.perf_counter()
    keep = [i for i, _ in pairs]
    marks = np.stack([m for _, m in pairs]).astype(np.float64)
    cx, cy, side = np.median([crop_box(m, cfg.margin) for m in marks], axis=0)
    side = max(int(round(side)), 8)
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    crops = np.stack([cut(frames[i], x0, y0, side, cfg.size) for i in keep])
    k = cfg.size / side  # area resize: source pixel centre u → (u - x0 + 0.5) · k − 0.5
    local = ((marks - [x0, y0] + 0.5) * k - 0.5).astype(np.float32)
    write_video_arrays(out, clip.video, crops, local)
    timing["write"] = time.perf_counter() - t
    return {"n_frames": len(crops), "timing": timing, "backend": be.name, "weights": be.weights_used()}


def _marker(out: Path, clip: Clip) -> Path:
    return out / ".prepare" / f"{clip.video}.json"


def _run_one(args: tuple[Clip, PrepareConfig, Path]) -> dict[str, Any]:
    """Worker: prepare one clip and record the outcome (done or skipped) atomically."""
    clip, cfg, out = args
    try:
        result = {"status": "done", **process_clip(clip, cfg, out)}
    except (Skip, TalkbenchError) as exc:
        result = {"status": "skipped", "reason": str(exc)}
    except Exception as exc:  # one bad file must not end the job; the reason is recorded
        result = {"status": "skipped", "reason": f"{type(exc).__name__}: {exc}"}
    write_json(_marker(out, clip), result)
    return result


def prepare(src: str | Path, out: str | Path, cfg: PrepareConfig, workers: int = 2, progress: bool = True) -> dict[str, Any]:
    """Prepare every clip under ``src`` into ``out``; returns a summary (counts, frames/s,
    seconds per stage). Rerunning with the same config skips clips already done or skipped."""
    src, out = Path(src), Path(out)
    clips = discover(src)
    settings = out / ".prepare" / "config.json"
    if settings.is_file() and read_json(settings) != to_dict(cfg):
        raise TalkbenchError(f"{out} was prepared with another config ({settings}); choose a new folder")
    write_json(settings, to_dict(cfg))
    results: dict[str, dict[str, Any]] = {}
    todo = []
    for clip in clips:
        marker = _marker(out, clip)
        if marker.is_file():
            results[clip.video] = read_json(marker)
        else:
            todo.append(clip)
    start = time.perf_counter()
    with tqdm(total=len(clips), initial=len(clips) - len(todo), desc="prepare", unit="clip", disable=not progress) as bar:
        jobs = [(c, cfg, out) for c in todo]
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                results[job[0].video] = _run_one(job)
                bar.update()
        else:
            with ProcessPoolExecutor(min(workers, len(jobs)), initializer=die_with_parent) as pool:
                futures = {pool.submit(_run_one, job): job[0] for job in jobs}
                for fut in as_completed(futures):
                    results[futures[fut].video] = fut.result()
                    bar.update()
    wall = time.perf_counter() - start
    new_frames = sum(results[c.video].get("n_frames", 0) for c in todo)
    return _finish(out, clips, results, cfg, wall, len(todo), new_frames)


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
