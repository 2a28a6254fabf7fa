"""SSIM (Wang et al. 2004) matching ``skimage.metrics.structural_similarity`` with
``gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255``:
11×11 Gaussian window (σ = 1.5), K1 = 0.01, K2 = 0.03, data range 255 (uint8 input); the
SSIM map is averaged over the valid region (5 px border excluded, as skimage crops it) and
over the RGB channels. MS-SSIM is not implemented.

Why it is fast: skimage's valid region never reaches the border (the 11-tap window of a
valid pixel lies inside the image), so no padding is needed, and one fused numba kernel
scores a whole batch. In the sum/difference form u = x + y, v = x − y the SSIM of a pixel is

    (U − V + 2C1)(σu − σv + 2C2) / ((U + V + 2C1)(σu + σv + 2C2)),  U = μu², V = μv²,

four filtered maps instead of five. The kernel works on vertical strips of the valid columns
(at most ``STRIP`` wide, channels interleaved), row by row:

- the horizontal pass goes first, on the row's u and v (float32, 2 arrays): its shifted,
  unaligned loads are then half as wide and half as many as they would be on the four
  float64 maps, and for grey and RGB images the tap offsets ±k·c are compile-time
  constants, so every load addresses off one pointer;
- it writes the four maps of the row into a ring of the strip's last 11 rows, each row
  twice (slots r mod 11 and r mod 11 + 11), so that the vertical window is always one
  contiguous slab at constant offsets;
- the vertical pass, the SSIM formula and the running sum follow on aligned loads from the
  ring, which stays in L1 (2 × 11 × 4 × 64 float64 = 45 KB, 64-byte aligned: unaligned
  it ran 1.4× slower here).

float64 like skimage, so the cancellation in σ = E[u²] − μ² (worst for bright flat or
saturated regions) costs nothing that matters; for uint8 images u, v, u², v² and the pair
sums of the symmetric taps are exact integers (kept in float32 below 2²⁴), and results
agree with skimage to ~1e-14. The kernels are compiled on first use and cached on disk by
numba (``cache=True``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from talkbench.metrics.base import PerImageMetric

DATA_RANGE = 255.0
K1, K2, SIGMA, RADIUS = 0.01, 0.03, 1.5, 5
SIZE = 2 * RADIUS + 1
STRIP = 64  # widest strip, in values (pixels × channels): its ring of 11 rows fits in L1
_ROW = 4 * STRIP  # one ring row: the strip's four maps u, v, u², v² after the horizontal pass
_ALIGN = 64  # bytes
# error_model="numpy": a float division by zero gives inf instead of raising, which lets
# LLVM vectorise the formula's loop; fastmath only reorders float64 sums (~1e-16 relative).
_kernel = numba.njit(cache=True, fastmath=True, error_model="numpy")
_inlined = numba.njit(cache=True, fastmath=True, error_model="numpy", inline="always")


def gaussian_window(sigma: float = SIGMA, radius: int = RADIUS) -> np.ndarray:
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-x ** 2 / (2 * sigma ** 2))
    return g / g.sum()


_HALF_WINDOW = gaussian_window()[RADIUS:].copy()  # centre tap, then taps 1..RADIUS (symmetric)


@_inlined
def _horizontal(ub: np.ndarray, vb: np.ndarray, g: np.ndarray, ring: np.ndarray, slot: int,
                width: int, c: int) -> None:
    """u, v, u², v² of one strip row, filtered horizontally, into ring slot and its twin.
    The symmetric taps' pairs are summed in the buffers' dtype: exact for uint8 images
    in float32 (integers below 2²⁴). Unsigned indices: numba then skips its
    negative-index wraparound, which would turn the shifted loads into gathers. Inlined into
    a kernel where ``c`` is a constant, so the tap offsets ±k·c are too."""
    at = np.uintp(slot * _ROW)
    for j in range(width):
        jc = np.uintp(j) + np.uintp(RADIUS * c)
        u, v = ub[jc], vb[jc]
        su, sv = g[0] * np.float64(u), g[0] * np.float64(v)
        suu, svv = g[0] * np.float64(u * u), g[0] * np.float64(v * v)
        for k in range(1, RADIUS + 1):
            lo, hi = jc - np.uintp(k * c), jc + np.uintp(k * c)
            u1, u2, v1, v2 = ub[lo], ub[hi], vb[lo], vb[hi]
            su += g[k] * np.float64(u1 + u2)
            sv += g[k] * np.float64(v1 + v2)
            suu += g[k] * np.float64(u1 * u1 + u2 * u2)
            svv += g[k] * np.float64(v1 * v1 + v2 * v2)
        p, q = at + np.uintp(j), at + np.uintp(j + SIZE * _ROW)
        ring[p], ring[p + np.uintp(STRIP)] = su, sv
        ring[p + np.uintp(2 * STRIP)], ring[p + np.uintp(3 * STRIP)] = suu, svv
        ring[q], ring[q + np.uintp(STRIP)] = su, sv
        ring[q + np.uintp(2 * STRIP)], ring[q + np.uintp(3 * STRIP)] = suu, svv


@_inlined
def _vertical_ssim_sum(ring: np.ndarray, first: int, width: int, valid: int, g: np.ndarray,
                       c1: float, c2: float) -> float:
    """Vertical pass of the 11-row slab starting at ring slot ``first``, and the sum of
    the SSIM formula over the first ``valid`` of its ``width`` columns."""
    total = 0.0
    centre = np.uintp((first + RADIUS) * _ROW)
    for j in range(width):
        jc = centre + np.uintp(j)
        fu, fv = g[0] * ring[jc], g[0] * ring[jc + np.uintp(STRIP)]
        fuu, fvv = g[0] * ring[jc + np.uintp(2 * STRIP)], g[0] * ring[jc + np.uintp(3 * STRIP)]
        for k in range(1, RADIUS + 1):
            lo, hi = jc - np.uintp(k * _ROW), jc + np.uintp(k * _ROW)
            fu += g[k] * (ring[lo] + ring[hi])
            fv += g[k] * (ring[lo + np.uintp(STRIP)] + ring[hi + np.uintp(STRIP)])
            fuu += g[k] * (ring[lo + np.uintp(2 * STRIP)] + ring[hi + np.uintp(2 * STRIP)])
            fvv += g[k] * (ring[lo + np.uintp(3 * STRIP)] + ring[hi + np.uintp(3 * STRIP)])
        big_u, big_v = fu * fu, fv * fv
        su, sv = fuu - big_u, fvv - big_v
        ssim = (big_u - big_v + c1) * (su - sv + c2) / ((big_u + big_v + c1) * (su + sv + c2))
        total += ssim if j < valid else 0.0  # a select: the padding columns never count
    return total


@_inlined
def _ssim_sums(x: np.ndarray, y: np.ndarray, c: int, g: np.ndarray, c1: float, c2: float,
               uv: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """SSIM-map sums over the valid pixels of each N×H×(W·C) pair. ``uv`` (2 × strip
    width + 2·5·c) holds a strip row's u and v; its width, a multiple of 8, sets the
    strips' width (the last strip is padded, and its padding masked)."""
    rc = RADIUS * c  # border width in values
    n, h, wc = x.shape
    width = uv.shape[1] - 2 * rc
    ub, vb = uv[0], uv[1]
    as_uv = uv.dtype.type  # before x − y: uint8 − uint8 would wrap around
    sums = np.zeros(n)
    for i in range(n):
        for start in range(0, wc - 2 * rc, width):
            valid = min(width, wc - 2 * rc - start)
            stop = min(start + width + 2 * rc, wc)
            for row in range(h):
                xr, yr = x[i, row, start:stop], y[i, row, start:stop]
                for j in range(xr.size):
                    a, b = as_uv(xr[j]), as_uv(yr[j])
                    ub[j], vb[j] = a + b, a - b
                _horizontal(ub, vb, g, ring, row % SIZE, width, c)
                if row >= 2 * RADIUS:
                    sums[i] += _vertical_ssim_sum(ring, (row + 1) % SIZE, width, valid, g, c1, c2)
    return sums


@_kernel
def _ssim_sums_by_channels(x: np.ndarray, y: np.ndarray, c: int, g: np.ndarray, c1: float, c2: float,
                           uv: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """``_ssim_sums`` inlined with the usual channel counts as constants, so that the
    horizontal pass's tap offsets ±k·c are constants (any other c works, a little slower).
    A literal argument (``numba.literally``) would do the same with one compiled kernel per
    c, but it dispatches through Python on every call, which cost more than the kernel."""
    if c == 3:
        return _ssim_sums(x, y, 3, g, c1, c2, uv, ring)
    if c == 1:
        return _ssim_sums(x, y, 1, g, c1, c2, uv, ring)
    return _ssim_sums(x, y, c, g, c1, c2, uv, ring)


def _strip_width(valid: int) -> int:
    """Width of equal strips covering ``valid`` values: at most STRIP, and a multiple of 8
    (one AVX-512 float64 vector), so that no scalar remainder loop runs."""
    strips = math.ceil(valid / STRIP)
    return math.ceil(math.ceil(valid / strips) / 8) * 8


def _aligned_ring() -> np.ndarray:
    """The ring (22 rows of the four maps), its start 64-byte aligned."""
    size = 2 * SIZE * _ROW
    buf = np.zeros(size + _ALIGN // 8)
    skip = (-buf.ctypes.data % _ALIGN) // 8
    return buf[skip:skip + size]


def ssim_batch(fake: np.ndarray, real: np.ndarray, data_range: float = DATA_RANGE) -> np.ndarray:
    """Per-image SSIM of two N×H×W×C uint8 (or float in [0, data_range]) batches."""
    fake, real = np.asarray(fake), np.asarray(real)
    if fake.shape != real.shape:
        raise ValueError(f"shape mismatch {fake.shape} vs {real.shape}")
    if fake.ndim == 3:
        fake, real = fake[..., None], real[..., None]
    n, h, w, c = fake.shape
    if min(h, w) < SIZE:
        raise ValueError(f"SSIM needs images of at least {SIZE} px, got {(h, w)}")
    # two compiled variants: uint8 images with float32 u, v, exact (x ± y and their squares
    # are integers below 2²⁴), and anything else as float64 throughout
    dtype, uv_dtype = (np.uint8, np.float32) if fake.dtype == real.dtype == np.uint8 else (np.float64, np.float64)
    x = np.ascontiguousarray(fake, dtype).reshape(n, h, w * c)
    y = np.ascontiguousarray(real, dtype).reshape(n, h, w * c)
    uv = np.zeros((2, _strip_width((w - 2 * RADIUS) * c) + 2 * RADIUS * c), uv_dtype)
    c1, c2 = 2 * (K1 * data_range) ** 2, 2 * (K2 * data_range) ** 2
    sums = _ssim_sums_by_channels(x, y, c, _HALF_WINDOW, c1, c2, uv, _aligned_ring())
    return sums / ((h - 2 * RADIUS) * (w - 2 * RADIUS) * c)


class SSIM(PerImageMetric):
    """Mean SSIM over pairs (data range 255, Gaussian 11×11, σ = 1.5)."""

    name = "SSIM"
    higher_is_better = True
    bounds = (-1.0, 1.0)

    def score(self, fake: np.ndarray, real: np.ndarray) -> np.ndarray:
        return ssim_batch(fake, real)
