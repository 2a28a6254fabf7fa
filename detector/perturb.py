"""Image degradations shared by training augmentation (Wang et al. 2020) and the robustness
sweep: JPEG re-encoding, Gaussian blur, down-scaling and Gaussian noise on uint8 RGB crops."""

from __future__ import annotations

import dataclasses
from typing import Callable

import cv2
import numpy as np

from talkbench.errors import TalkbenchError


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode with libjpeg (OpenCV) at ``quality`` (1–100)."""
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    out = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
    if out is None:
        raise TalkbenchError(f"JPEG encoding failed at quality {quality}")
    return out[..., ::-1].copy()


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` px (kernel ±3σ); σ = 0 is the identity."""
    if sigma <= 0:
        return img
    return cv2.GaussianBlur(img, (0, 0), sigmaX=float(sigma), borderType=cv2.BORDER_REFLECT_101)


def downscale(img: np.ndarray, factor: float) -> np.ndarray:
    """Shrink by ``factor`` (area filter) and bring back to the original size (bicubic): the
    detail a low-resolution upload loses."""
    if factor >= 1:
        return img
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def noise(img: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Additive Gaussian noise, ``sigma`` in units of the 0–255 range divided by 255."""
    if sigma <= 0:
        return img
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0.0, sigma * 255.0, img.shape), 0, 255).astype(np.uint8)


@dataclasses.dataclass(frozen=True)
class Condition:
    """One robustness condition: a degradation family and its strength."""

    perturbation: str  # jpeg | blur | downscale | noise
    level: float

    def apply(self, images: np.ndarray) -> np.ndarray:
        fn: Callable[[np.ndarray], np.ndarray]
        if self.perturbation == "jpeg":
            fn = lambda im: jpeg(im, int(self.level))  # noqa: E731
        elif self.perturbation == "blur":
            fn = lambda im: blur(im, self.level)  # noqa: E731
        elif self.perturbation == "downscale":
            fn = lambda im: downscale(im, self.level)  # noqa: E731
        elif self.perturbation == "noise":
            return np.stack([noise(im, self.level, seed=i) for i, im in enumerate(images)])
        else:
            raise TalkbenchError(f"unknown perturbation '{self.perturbation}'")
        return np.stack([fn(im) for im in images])


# The sweep of the issue: JPEG quality, blur σ, down-scale factor, noise σ (fraction of 255).
ROBUSTNESS_CONDITIONS: tuple[Condition, ...] = (
    *(Condition("jpeg", q) for q in (100, 90, 70, 50, 30)),
    *(Condition("blur", s) for s in (0, 1, 2, 3)),
    *(Condition("downscale", f) for f in (1, 0.5, 0.25)),
    *(Condition("noise", s) for s in (0, 0.01, 0.03, 0.05)),
)
