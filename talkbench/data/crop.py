"""The face crop, written once for every consumer: `talkbench prepare` and `talkbench detect
import` (one landmark-framed square per clip), the few-shot CLIs' raw inputs
(`talkbench.generator.face_input`) and the detector's box-framed crops of files it scores
(`talkbench.detector.data`, `talkbench.detector.predict`). Generator, detector and metrics
thus see faces framed alike.

Two framings:
- landmark-framed (`crop_box`, `clip_square`, `crop_to_landmarks`, `track_faces`): a square of
  side (1 + margin) × the landmarks' bounding box, centred 10 % of its height above the box
  centre (the framing of the synthetic data); one square for a whole clip, the median of the
  per-frame squares, so the crop does not jitter;
- box-framed (`face_crop`, `face_crops`): a square of side (1 + margin) × a detector box's
  longer side, centred on the box.
Faces are searched on a copy shrunk to ``detect_size`` (`largest_faces`): detection cost
grows with pixels and talking-head faces are large; crops and landmarks come from full size.
"""

from __future__ import annotations

import time
from typing import Sequence

import cv2
import numpy as np

from talkbench.data.clips import Skip
from talkbench.faces.base import FaceBackend

LANDMARK_MARGIN = 0.85  # landmark-framed crops (prepare, detect import, detectors trained on them)
BOX_MARGIN = 0.4  # box-framed crops (the detector's face crop of files it scores)
TRACK_STAGES = ("detect", "landmarks", "write")


def largest_faces(backend: FaceBackend, images: Sequence[np.ndarray] | np.ndarray,
                  detect_size: int | None) -> list[np.ndarray | None]:
    """Largest face box per image in full-size coordinates, searched on a copy whose longest
    side is at most ``detect_size`` (None: on the images as they are)."""
    if detect_size is None:
        return backend.largest_faces(list(images))
    small, scales = [], []
    for im in images:
        h, w = im.shape[:2]
        s = min(1.0, detect_size / max(h, w))
        small.append(im if s == 1.0 else cv2.resize(im, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA))
        scales.append(s)
    return [None if b is None else b / s for b, s in zip(backend.largest_faces(small), scales)]


def square(frame: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """The ``side``-px square of ``frame`` at (x0, y0), edge-replicated where it leaves the frame."""
    h, w = frame.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - w, y0 + side - h)
    if pad:
        frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return frame[y0 + pad:y0 + pad + side, x0 + pad:x0 + pad + side]


def cut(frame: np.ndarray, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    """The ``side``-px square at (x0, y0) (edge-replicated), area-resized to ``size``."""
    return cv2.resize(square(frame, x0, y0, side), (size, size), interpolation=cv2.INTER_AREA)


def crop_box(landmarks: np.ndarray, margin: float) -> np.ndarray:
    """(cx, cy, side) of the square crop around one frame's landmarks (68, 2)."""
    lo, hi = landmarks.min(0), landmarks.max(0)
    w, h = hi - lo
    return np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2 - 0.1 * h, (1 + margin) * max(w, h)])


def clip_square(points: np.ndarray, margin: float) -> tuple[int, int, int]:
    """(x0, y0, side) of one square for a clip's landmarks (N, 68, 2): the median of the
    frames' `crop_box`, at least 8 px."""
    cx, cy, side = np.median([crop_box(m, margin) for m in points], axis=0)
    side = max(int(round(side)), 8)
    return int(round(cx - side / 2)), int(round(cy - side / 2)), side


def crop_to_landmarks(frames: Sequence[np.ndarray], points: np.ndarray, size: int,
                      margin: float) -> tuple[np.ndarray, np.ndarray]:
    """(crops N×S×S×3, landmarks N×68×2 in crop pixels) of frames whose full-frame landmarks
    ``points`` (N, 68, 2, float64) are known, all cut with one `clip_square`."""
    x0, y0, side = clip_square(points, margin)
    crops = np.stack([cut(f, x0, y0, side, size) for f in frames])
    k = size / side  # area resize: source pixel centre u → (u - x0 + 0.5) · k − 0.5
    return crops, ((points - [x0, y0] + 0.5) * k - 0.5).astype(np.float32)


def track_faces(frames: np.ndarray, be: FaceBackend, size: int, margin: float, detect_size: int,
                min_frames: int, min_face_fraction: float) -> tuple[np.ndarray, np.ndarray, list[int], dict]:
    """(crops N×S×S×3, landmarks N×68×2 in crop pixels, indices of the frames kept, seconds
    per stage) of one clip's frames: faces detected on shrunk copies, 68 landmarks on the full
    frames, one landmark-framed square; raises `Skip` when too few frames show a face."""
    timing = dict.fromkeys(TRACK_STAGES, 0.0)
    t = time.perf_counter()
    boxes = largest_faces(be, frames, detect_size)
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
    crops, local = crop_to_landmarks([frames[i] for i in keep], pts, size, margin)
    timing["write"] = time.perf_counter() - t
    return crops, local, keep, timing


def centre_square(img: np.ndarray) -> np.ndarray:
    """The largest centred square of an image."""
    h, w = img.shape[:2]
    s = min(h, w)
    return img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]


def to_square(img: np.ndarray, size: int) -> np.ndarray:
    """Centre square crop resized to size×size (area filter down, bicubic up)."""
    img = centre_square(img)
    s = img.shape[0]
    if s == size:
        return np.ascontiguousarray(img)
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA if s > size else cv2.INTER_CUBIC)


def face_crop(image: np.ndarray, box: np.ndarray, size: int, margin: float = BOX_MARGIN) -> np.ndarray:
    """A square crop centred on a face box, side (1 + margin) × the box's longer side,
    edge-replicated where it leaves the image, resized to size×size."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1) * (1 + margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    return to_square(square(image, left, top, max(1, int(round(side)))), size)


def face_crops(images: Sequence[np.ndarray], backend: FaceBackend, size: int, margin: float = BOX_MARGIN,
               detect_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(crops of each image's largest face, found mask); faces are searched as `largest_faces`
    does. Images without a face get a zero crop and ``found=False`` so callers can report
    them instead of scoring them."""
    boxes = largest_faces(backend, images, detect_size)
    crops = np.zeros((len(images), size, size, 3), np.uint8)
    for i, (img, box) in enumerate(zip(images, boxes)):
        if box is not None:
            crops[i] = face_crop(img, box, size, margin)
    return crops, np.array([b is not None for b in boxes])
