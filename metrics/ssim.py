"""SSIM (Wang et al. 2004) matching ``skimage.metrics.structural_similarity`` with
``gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255``:
11×11 Gaussian window (σ = 1.5), K1 = 0.01, K2 = 0.03, data range 255 (uint8 input); the
SSIM map is averaged over the valid region (5 px border excluded, as skimage crops it) and
over the RGB channels. MS-SSIM is not implemented.

Why it is fast: skimage's valid region never reaches the border (the 11-tap window of a
valid pixel lies inside the image), so no padding is needed, and one fused numba kernel
scores a whole batch row by row: for each valid row the vertical pass fills four row
buffers (cache-resident, never full-size maps), then the horizontal pass, the SSIM formula
and the running sum follow in the same loop. In the sum/difference form u = x + y,
v = x − y the SSIM of a pixel is

    (U − V + 2C1)(σu − σv + 2C2) / ((U + V + 2C1)(σu + σv + 2C2)),  U = μu², V = μv²,

four filtered maps instead of five. float64 like skimage, so the cancellation in
σ = E[u²] − μ² (worst for bright flat or saturated regions) costs nothing that matters; for
uint8 images u, v, u², v² and the pair sums of the symmetric taps are exact integers (kept
in float32 below 2²⁴), and results agree with skimage to ~1e-14. The kernel is compiled on
first use and cached on disk by numba (``cache=True``).
"""

from __future__ import annotations

import numba
import numpy as np

from talkbench.metrics.base import PerImageMetric

DATA_RANGE = 255.0
K1, K2, SIGMA, RADIUS = 0.01, 0.03, 1.5, 5
# error_model="numpy": a float division by zero gives inf instead of raising, which lets
# LLVM vectorise the formula's loop; fastmath only reorders float64 sums (~1e-16 relative).
_kernel = numba.njit(cache=True, fastmath=True, error_model="numpy")


def gaussian_window(sigma: float = SIGMA, radius: int = RADIUS) -> np.ndarray:
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-x ** 2 / (2 * sigma ** 2))
    return g / g.sum()


_HALF_WINDOW = gaussian_window()[RADIUS:].copy()  # centre tap, then taps 1..RADIUS (symmetric)


@_kernel
def _vertical(us: np.ndarray, vs: np.ndarray, g: np.ndarray, mu: np.ndarray, mv: np.ndarray,
              muu: np.ndarray, mvv: np.ndarray) -> None:
    """Vertical 11-tap pass of u, v, u², v² for the centre row of the 11-row slabs ``us``,
    ``vs``, over all columns, into the row buffers. The symmetric taps' pairs are summed in
    the slabs' dtype: exact for uint8 images in float32 (integers below 2²⁴)."""
    for j in range(mu.size):
        u, v = us[RADIUS, j], vs[RADIUS, j]
        su, sv = g[0] * np.float64(u), g[0] * np.float64(v)
        suu, svv = g[0] * np.float64(u * u), g[0] * np.float64(v * v)
        for k in range(1, RADIUS + 1):
            u1, u2 = us[RADIUS - k, j], us[RADIUS + k, j]
            v1, v2 = vs[RADIUS - k, j], vs[RADIUS + k, j]
            su += g[k] * np.float64(u1 + u2)
            sv += g[k] * np.float64(v1 + v2)
            suu += g[k] * np.float64(u1 * u1 + u2 * u2)
            svv += g[k] * np.float64(v1 * v1 + v2 * v2)
        mu[j], mv[j], muu[j], mvv[j] = su, sv, suu, svv


@_kernel
def _horizontal_ssim_sum(mu: np.ndarray, mv: np.ndarray, muu: np.ndarray, mvv: np.ndarray, c: int,
                         g: np.ndarray, c1: float, c2: float) -> float:
    """Horizontal pass of the row buffers (channels interleaved, stride ``c``) and the sum of
    the SSIM formula over the row's valid pixels."""
    # unsigned indices: numba then skips its negative-index wraparound, which would turn the
    # shifted loads into gathers
    cc = np.uintp(c)
    total = 0.0
    for j in range(mu.size - 2 * RADIUS * c):
        jc = np.uintp(j) + np.uintp(RADIUS) * cc
        fu, fv, fuu, fvv = g[0] * mu[jc], g[0] * mv[jc], g[0] * muu[jc], g[0] * mvv[jc]
        for k in range(1, RADIUS + 1):
            lo, hi = jc - np.uintp(k) * cc, jc + np.uintp(k) * cc
            fu += g[k] * (mu[lo] + mu[hi])
            fv += g[k] * (mv[lo] + mv[hi])
            fuu += g[k] * (muu[lo] + muu[hi])
            fvv += g[k] * (mvv[lo] + mvv[hi])
        big_u, big_v = fu * fu, fv * fv
        su, sv = fuu - big_u, fvv - big_v
        total += (big_u - big_v + c1) * (su - sv + c2) / ((big_u + big_v + c1) * (su + sv + c2))
    return total


@_kernel
def _ssim_sums(x: np.ndarray, y: np.ndarray, c: int, g: np.ndarray, c1: float, c2: float,
               ring: np.ndarray) -> np.ndarray:
    """SSIM-map sums over the valid pixels of each N×H×(W·C) pair. ``ring`` (2 × 22 × W·C)
    holds u = x + y and v = x − y of the last 11 rows, each row twice (slots r mod 11 and
    r mod 11 + 11), so that the window is always one contiguous 11-row slab."""
    n, h, wc = x.shape
    size = 2 * RADIUS + 1
    mu, mv, muu, mvv = np.empty(wc), np.empty(wc), np.empty(wc), np.empty(wc)
    as_ring = ring.dtype.type  # before x − y: uint8 − uint8 would wrap around
    sums = np.zeros(n)
    for i in range(n):
        for row in range(h):
            slot = row % size
            xr, yr, u1, u2, v1, v2 = x[i, row], y[i, row], ring[0, slot], ring[0, slot + size], ring[1, slot], ring[1, slot + size]
            for j in range(wc):
                a, b = as_ring(xr[j]), as_ring(yr[j])
                u1[j] = u2[j] = a + b
                v1[j] = v2[j] = a - b
            if row >= 2 * RADIUS:
                first = (row + 1) % size
                _vertical(ring[0, first:first + size], ring[1, first:first + size], g, mu, mv, muu, mvv)
                sums[i] += _horizontal_ssim_sum(mu, mv, muu, mvv, c, g, c1, c2)
    return sums


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
    # two compiled variants only: uint8 images with a float32 ring, exact (x ± y and their
    # squares are integers below 2²⁴), and anything else as float64 throughout
    dtype, ring_dtype = (np.uint8, np.float32) if fake.dtype == real.dtype == np.uint8 else (np.float64, np.float64)
    x = np.ascontiguousarray(fake, dtype).reshape(n, h, w * c)
    y = np.ascontiguousarray(real, dtype).reshape(n, h, w * c)
    ring = np.empty((2, 2 * (2 * RADIUS + 1), w * c), ring_dtype)
    c1, c2 = 2 * (K1 * data_range) ** 2, 2 * (K2 * data_range) ** 2
    return _ssim_sums(x, y, c, _HALF_WINDOW, c1, c2, ring) / ((h - 2 * RADIUS) * (w - 2 * RADIUS) * c)


class SSIM(PerImageMetric):
    """Mean SSIM over pairs (data range 255, Gaussian 11×11, σ = 1.5)."""

    name = "SSIM"
    higher_is_better = True
    bounds = (-1.0, 1.0)

    def score(self, fake: np.ndarray, real: np.ndarray) -> np.ndarray:
        return ssim_batch(fake, real)
