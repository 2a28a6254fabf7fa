"""Memory is bounded by pixels, not by image counts (issue 12): a huge pair is scored row by
row with the same value as skimage gives, and the working set stays small."""

import tracemalloc

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from talkbench.metrics.pixel import L1, PSNR, l1_batch, psnr_batch
from talkbench.metrics.ssim import SSIM, ssim_batch


def skimage_ssim(a, b):
    return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 channel_axis=-1, data_range=255)


def smooth_pair(rng, h, w):
    """A smooth image (cheap to make at any size) and a near-identical copy (±1)."""
    import cv2

    small = rng.integers(0, 256, (h // 16 + 1, w // 16 + 1, 3), dtype=np.uint8)
    real = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    fake = np.clip(real.astype(np.int16) + rng.integers(-1, 2, real.shape), 0, 255).astype(np.uint8)
    return fake, real


def test_ssim_on_tall_and_wide_images_equals_skimage(rng):
    for h, w in ((300, 170), (23, 301)):
        fake, real = smooth_pair(rng, h, w)
        assert ssim_batch(fake[None], real[None])[0] == pytest.approx(skimage_ssim(fake, real), abs=1e-6)


def test_ssim_near_identical_and_flat_images_within_1e5_of_skimage(rng):
    fake, real = smooth_pair(rng, 64, 64)
    flat = np.full((64, 64, 3), 200, np.uint8)
    flat_near = flat.copy()
    flat_near[::7, ::5] = 201
    for f, r in ((fake, real), (flat_near, flat), (real, real)):
        assert abs(ssim_batch(f[None], r[None])[0] - skimage_ssim(f, r)) <= 1e-5



@pytest.mark.parametrize("side", [64, 128, 256])
def test_ssim_near_identical_photo_sizes_within_1e5_of_skimage(rng, side):
    """Where float32 cancellation of E[x²] − μ² bites: x itself, x ± 1 and x + rare ±2 noise."""
    _, real = smooth_pair(rng, side, side)
    noise = rng.integers(-1, 2, real.shape)
    sparse = np.where(rng.random(real.shape) < 0.01, rng.choice([-2, 2], real.shape), 0)
    pairs = [real, np.clip(real.astype(np.int16) + noise, 0, 255).astype(np.uint8),
             np.clip(real.astype(np.int16) + sparse, 0, 255).astype(np.uint8)]
    ours = ssim_batch(np.stack(pairs), np.stack([real] * 3))
    for fake, value in zip(pairs, ours):
        assert abs(value - skimage_ssim(fake, real)) <= 1e-5
    assert ours[0] == pytest.approx(1.0, abs=1e-6)

def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_does_not_grow_with_the_image(rng):
    """Peak traced memory of each pixel metric on a 1000² and a 2000² pair: about the same
    (row buffers or row blocks of a fixed size), and well below one float copy of the big pair."""
    pairs = {side: smooth_pair(rng, side, side) for side in (1000, 2000)}
    for make in (SSIM, PSNR, L1):
        peaks = {}
        for side, (fake, real) in pairs.items():
            metric = make()
            peaks[side] = _peak_bytes(lambda: (metric.update([fake], [real]), metric.compute()))
        big = pairs[2000][0].nbytes  # 12 MB; one float32 map of it: 48 MB
        assert peaks[2000] < 1.3 * peaks[1000] + (1 << 20) and peaks[2000] < 3 * big, \
            f"{make.name}: peak {peaks[1000] / 1e6:.1f} MB at 1000², {peaks[2000] / 1e6:.1f} MB at 2000²"
    fake, real = pairs[1000]
    d = fake.astype(np.float64) - real.astype(np.float64)  # the row-block sums agree with the formulas
    assert l1_batch(fake[None], real[None])[0] == pytest.approx(np.abs(d).mean(), rel=1e-9)
    assert psnr_batch(fake[None], real[None])[0] == pytest.approx(10 * np.log10(255 ** 2 / (d ** 2).mean()), rel=1e-9)
