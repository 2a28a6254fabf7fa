"""SSIM (Wang et al. 2004) matching ``skimage.metrics.structural_similarity`` with
``gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255``:
11×11 Gaussian window (σ = 1.5), K1 = 0.01, K2 = 0.03, data range 255 (uint8 input); the
SSIM map is averaged over the valid region (5 px border excluded, as skimage crops it) and
over the RGB channels. MS-SSIM is not implemented.

Why it is fast: skimage's valid region only depends on pixels of the same image, so many
images (or row strips of one huge image, with a 5-row halo) are stacked into one tall image
and each filtered map is one OpenCV ``sepFilter2D`` call. In the sum/difference form
u = x + y, v = x − y the SSIM of a pixel is

    (U − V + 2C1)(σu − σv + 2C2) / ((U + V + 2C1)(σu + σv + 2C2)),  U = μu², V = μv²,

four filtered maps instead of five. float32 throughout, made accurate by centring u near
its values (σ is shift-invariant; μu gets the shift back) — v of near-identical images is
already near 0, where skimage's float64 matters most; map sums accumulate in float64. Memory is bounded by pixels per
chunk (``CHUNK_VALUES``), not by images: an 8000×8000 pair is scored strip by strip.
"""

from __future__ import annotations

import cv2
import numpy as np

from talkbench.metrics.base import PerImageMetric

DATA_RANGE = 255.0
K1, K2, SIGMA, RADIUS = 0.01, 0.03, 1.5, 5
CHUNK_VALUES = 1 << 18  # pixel × channel values per chunk (1 MiB per float32 map): cache-sized


def gaussian_window(sigma: float = SIGMA, radius: int = RADIUS) -> np.ndarray:
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-x ** 2 / (2 * sigma ** 2))
    return g / g.sum()


_KERNEL = gaussian_window().astype(np.float32)


def _blur(a: np.ndarray) -> np.ndarray:
    return cv2.sepFilter2D(a, -1, _KERNEL, _KERNEL, borderType=cv2.BORDER_REFLECT)


def _strips(n: int, h: int, w: int, c: int) -> list[tuple[int, int, int]]:
    """(image, first row, end row) pieces of ≤ ``CHUNK_VALUES`` values, halo included: whole
    images when they fit, else row strips whose valid rows tile the image's valid rows."""
    valid = max(4 * RADIUS, CHUNK_VALUES // (w * c) - 2 * RADIUS)  # the halo stays a minor cost
    if valid >= h - 2 * RADIUS:
        return [(i, 0, h) for i in range(n)]
    return [(i, r - RADIUS, min(r + valid, h - RADIUS) + RADIUS)
            for i in range(n) for r in range(RADIUS, h - RADIUS, valid)]


def ssim_batch(fake: np.ndarray, real: np.ndarray, data_range: float = DATA_RANGE) -> np.ndarray:
    """Per-image SSIM of two N×H×W×C uint8 (or float in [0, data_range]) batches."""
    fake, real = np.asarray(fake), np.asarray(real)
    if fake.shape != real.shape:
        raise ValueError(f"shape mismatch {fake.shape} vs {real.shape}")
    if fake.ndim == 3:
        fake, real = fake[..., None], real[..., None]
    n, h, w, c = fake.shape
    if min(h, w) < 2 * RADIUS + 1:
        raise ValueError(f"SSIM needs images of at least {2 * RADIUS + 1} px, got {(h, w)}")
    if c > 4:
        raise ValueError(f"SSIM takes at most 4 channels, got {c}")
    sums = np.zeros(n, np.float64)
    chunk: list[tuple[int, int, int]] = []
    used = 0
    for strip in _strips(n, h, w, c) + [None]:
        size = 0 if strip is None else (strip[2] - strip[1]) * w * c
        if chunk and (strip is None or used + size > CHUNK_VALUES):
            _ssim_chunk(fake, real, chunk, sums, data_range)
            chunk, used = [], 0
        if strip is not None:
            chunk.append(strip)
            used += size
    return sums / ((h - 2 * RADIUS) * (w - 2 * RADIUS) * c)


def _ssim_chunk(fake: np.ndarray, real: np.ndarray, strips: list[tuple[int, int, int]],
                sums: np.ndarray, data_range: float) -> None:
    """Add the SSIM-map sums over the valid pixels of ``strips`` (stacked into one tall
    image) to ``sums``."""
    fx = np.concatenate([fake[i, a:b] for i, a, b in strips])
    fy = np.concatenate([real[i, a:b] for i, a, b in strips])
    flat_x, flat_y = fx.reshape(len(fx), -1), fy.reshape(len(fy), -1)
    # one pass each from the input dtype straight to float32 (OpenCV converts before it adds)
    u: np.ndarray = cv2.add(flat_x, flat_y, dtype=cv2.CV_32F).reshape(fx.shape)
    v: np.ndarray = cv2.subtract(flat_x, flat_y, dtype=cv2.CV_32F).reshape(fx.shape)
    # centre u per strip and channel (on a subsample: any shift near the values will do,
    # σ does not depend on it and μu gets it back exactly)
    shift = np.empty((len(u), 1, u.shape[2]), np.float32)
    row = 0
    for _, a, b in strips:
        shift[row:row + b - a] = u[row:row + b - a:4, ::4].mean(axis=(0, 1))
        row += b - a
    u -= shift
    mu, mv = _blur(u), _blur(v)
    su, sv = _blur(cv2.multiply(u, u)), _blur(cv2.multiply(v, v, dst=u))
    su = cv2.subtract(su, cv2.multiply(mu, mu, dst=v), dst=su)
    big_v = cv2.multiply(mv, mv, dst=mv)
    sv = cv2.subtract(sv, big_v, dst=sv)
    mu += shift
    big_u = cv2.multiply(mu, mu, dst=mu)
    c1, c2 = 2 * (K1 * data_range) ** 2, 2 * (K2 * data_range) ** 2
    # addWeighted does a ± b + c in one pass
    num = cv2.addWeighted(big_u, 1.0, big_v, -1.0, c1, dst=v)
    den = cv2.addWeighted(big_u, 1.0, big_v, 1.0, c1, dst=big_u)
    num2 = cv2.addWeighted(su, 1.0, sv, -1.0, c2, dst=big_v)
    den2 = cv2.addWeighted(su, 1.0, sv, 1.0, c2, dst=su)
    num = cv2.multiply(num, num2, dst=num)
    den = cv2.multiply(den, den2, dst=den)
    smap = cv2.divide(num, den, dst=num)
    w = smap.shape[1]
    row = 0
    for i, a, b in strips:  # cv2.sum accumulates in float64
        sums[i] += sum(cv2.sumElems(smap[row + RADIUS:row + b - a - RADIUS, RADIUS:w - RADIUS]))
        row += b - a


class SSIM(PerImageMetric):
    """Mean SSIM over pairs (data range 255, Gaussian 11×11, σ = 1.5)."""

    name = "SSIM"
    higher_is_better = True
    bounds = (-1.0, 1.0)

    def score(self, fake: np.ndarray, real: np.ndarray) -> np.ndarray:
        return ssim_batch(fake, real)
