"""Landmark images: 68 facial landmarks rasterised as coloured polylines, the generator's
pose input (Zakharov et al. 2019). One colour per facial part, eyes and lips closed, line
width about 2 px at 256 px scaled with the image size. One palette everywhere, so a
landmark image drawn by the data pipeline, the runner or a user script means the same."""

from __future__ import annotations

import cv2
import numpy as np

# (name, first index, last index (inclusive), closed?, RGB colour)
PARTS: tuple[tuple[str, int, int, bool, tuple[int, int, int]], ...] = (
    ("jaw", 0, 16, False, (255, 255, 255)),
    ("right_brow", 17, 21, False, (255, 140, 0)),
    ("left_brow", 22, 26, False, (255, 215, 0)),
    ("nose", 27, 35, False, (0, 191, 255)),
    ("right_eye", 36, 41, True, (0, 255, 127)),
    ("left_eye", 42, 47, True, (50, 205, 50)),
    ("outer_lips", 48, 59, True, (255, 20, 147)),
    ("inner_lips", 60, 67, True, (186, 85, 211)),
)
# The nose is one part (one colour) drawn as two strokes: the bridge 27-30 and the base 31-35.
_NOSE_PATHS = (np.arange(27, 31), np.arange(31, 36))
_SHIFT = 4  # cv2 fixed-point bits: sub-pixel accurate lines
_SCALE = 1 << _SHIFT


def line_width(size: int) -> int:
    """Stroke width in pixels: ~2 px at 256 px, never below 1."""
    return max(1, int(round(2.0 * size / 256.0)))


def _paths() -> list[tuple[list[np.ndarray], bool, tuple[int, int, int]]]:
    out = []
    for name, lo, hi, closed, colour in PARTS:
        idx = list(_NOSE_PATHS) if name == "nose" else [np.arange(lo, hi + 1)]
        out.append((idx, closed, colour))
    return out


_PATHS = _paths()


def draw_landmarks(landmarks: np.ndarray, size: int, thickness: int | None = None) -> np.ndarray:
    """Rasterise landmarks (68, 2) or (N, 68, 2), (x, y) in pixels of a ``size``-px square
    image, to uint8 RGB (S, S, 3) or (N, S, S, 3) on black. NaN landmarks give a black image."""
    pts = np.asarray(landmarks, dtype=np.float64)
    single = pts.ndim == 2
    if single:
        pts = pts[None]
    if pts.ndim != 3 or pts.shape[1:] != (68, 2):
        raise ValueError(f"landmarks must be (68, 2) or (N, 68, 2), got {np.shape(landmarks)}")
    size = int(size)
    width = line_width(size) if thickness is None else int(thickness)
    out = np.zeros((len(pts), size, size, 3), np.uint8)
    fixed = np.round(pts * _SCALE)
    ok = np.isfinite(fixed).all(axis=(1, 2))
    # cv2 wants int32; clamp far-off points so the fixed-point coordinates cannot overflow.
    fixed = np.clip(np.nan_to_num(fixed), -(1 << 26), 1 << 26).astype(np.int32)
    for n in np.flatnonzero(ok):
        canvas = out[n]
        for idx_list, closed, colour in _PATHS:
            cv2.polylines(canvas, [fixed[n, idx] for idx in idx_list], closed, colour, width,
                          cv2.LINE_AA, _SHIFT)
    return out[0] if single else out


def to_tensor_range(images: np.ndarray) -> np.ndarray:
    """uint8 (..., S, S, 3) → float32 (..., 3, S, S) in [-1, 1], the generator's input range."""
    x = np.asarray(images, np.float32) / 127.5 - 1.0
    return np.moveaxis(x, -1, -3)
