"""A clip's face crops, the way `talkbench prepare` cuts them: sample N frames evenly,
detect the face on a downscaled copy (for speed), find its 68 landmarks on the full frame,
and cut one square crop for the whole clip (the median of the per-frame crops, so the crop
does not jitter). Shared by `talkbench prepare` (generator data) and `talkbench detect
import` (detector data), so generator and detector see faces framed alike.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from talkbench.faces.base import FaceBackend
from talkbench.media import list_images, read_image

TRACK_STAGES = ("detect", "landmarks", "write")


class Skip(Exception):
    """A clip that cannot be used; the message is the reason written to skipped.csv."""


def sample_indices(total: int, n: int) -> np.ndarray:
    """``n`` frame numbers spread evenly over ``total`` frames (all of them when fewer)."""
    if total <= n:
        return np.arange(total)
    return np.unique(np.round(np.linspace(0, total - 1, n)).astype(int))


def read_frames(files: Sequence[Path], n: int) -> np.ndarray:
    """N evenly sampled images of an ordered list of frame files, as N×H×W×3 RGB."""
    if not files:
        return np.zeros((0, 1, 1, 3), np.uint8)
    frames = [read_image(files[i]) for i in sample_indices(len(files), n)]
    if len({f.shape for f in frames}) > 1:
        raise Skip("frames of different sizes")
    return np.stack(frames)


def read_clip(path: Path, n: int) -> np.ndarray:
    """N evenly sampled RGB frames of a video file or an image folder (decoding stops after
    the last frame needed; only sampled frames are converted to RGB)."""
    if path.is_dir():
        return read_frames(list_images(path), n)
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


def track_faces(frames: np.ndarray, be: FaceBackend, size: int, margin: float, detect_size: int,
                min_frames: int, min_face_fraction: float) -> tuple[np.ndarray, np.ndarray, list[int], dict]:
    """(crops N×S×S×3, landmarks N×68×2 in crop pixels, indices of the frames kept, seconds
    per stage) of one clip's frames; raises `Skip` when too few frames show a face."""
    timing = dict.fromkeys(TRACK_STAGES, 0.0)
    t = time.perf_counter()
    h, w = frames.shape[1:3]
    s = min(1.0, detect_size / max(h, w))
    small = [cv2.resize(f, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA) for f in frames] if s < 1 else list(frames)
    boxes = [b if b is None else b / s for b in be.largest_faces(small)]
    timing["detect"] = time.perf_counter() - t
    keep = [i for i, b in enumerate(boxes) if b is not None]
    if len(keep) < max(min_frames, min_face_fraction * len(frames)):
        raise Skip(f"no face: found in {len(keep)} of {len(frames)} sampled frames")
    t = time.perf_counter()
    marks = be.landmarks([frames[i] for i in keep], [boxes[i] for i in keep])
    timing["landmarks"] = time.perf_counter() - t
    pairs = [(i, m) for i, m in zip(keep, marks) if m is not None]
    if len(pairs) < min_frames:
        raise Skip(f"no face: landmarks on {len(pairs)} of {len(frames)} sampled frames")
    t = time.perf_counter()
    keep = [i for i, _ in pairs]
    pts = np.stack([m for _, m in pairs]).astype(np.float64)
    cx, cy, side = np.median([crop_box(m, margin) for m in pts], axis=0)
    side = max(int(round(side)), 8)
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    crops = np.stack([cut(frames[i], x0, y0, side, size) for i in keep])
    k = size / side  # area resize: source pixel centre u → (u - x0 + 0.5) · k − 0.5
    local = ((pts - [x0, y0] + 0.5) * k - 0.5).astype(np.float32)
    timing["write"] = time.perf_counter() - t
    return crops, local, keep, timing


_BACKENDS: dict[str, FaceBackend] = {}


def process_backend(name: str) -> FaceBackend:
    """One landmarks backend per worker process, created at first use."""
    if name not in _BACKENDS:
        from talkbench.faces.registry import create_backend

        _BACKENDS[name] = create_backend(name, "landmarks")
    return _BACKENDS[name]
