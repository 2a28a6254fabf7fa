"""Real photos from ../shared, downsized so face tests stay fast on 2 cores."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from talkbench.media import read_image

GROUP = "insightface_t1_group.jpg"
PORTRAITS = ("liveportrait_s1.jpg", "liveportrait_s12.jpg", "liveportrait_s2.jpg", "tpsmm_source.png",
             "headgan_reference.png")


def load(folder: Path, name: str, max_side: int = 640) -> np.ndarray:
    img = read_image(folder / name)
    scale = max_side / max(img.shape[:2])
    if scale < 1:
        img = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    return img


def shifted_rescaled(img: np.ndarray, dx: int = 9, dy: int = -6, scale: float = 1.08) -> np.ndarray:
    """The same photo moved a little and enlarged a little (same size canvas)."""
    h, w = img.shape[:2]
    m = np.array([[scale, 0, dx - (scale - 1) * w / 2], [0, scale, dy - (scale - 1) * h / 2]], np.float32)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
