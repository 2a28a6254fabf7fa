"""SSIM vs skimage, PSNR/L1 vs direct formulas, LPIPS vs the lpips package's own forward."""

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from talkbench.media import list_images, read_image
from talkbench.metrics.lpips_metric import LPIPS, build_lpips
from talkbench.metrics.pixel import L1, PSNR
from talkbench.metrics.ssim import SSIM, ssim_batch


def skimage_ssim(a, b):
    return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 channel_axis=-1, data_range=255)


def clip(a):
    return np.clip(a, 0, 255).astype(np.uint8)


def perturb(rng, img, amount=25):
    return clip(img.astype(int) + rng.integers(-amount, amount + 1, img.shape))


def test_ssim_matches_skimage_on_random_images(rng):
    real = rng.integers(0, 256, (5, 48, 40, 3), dtype=np.uint8)
    fake = perturb(rng, real)
    fake[0] = real[0]
    ours = ssim_batch(fake, real)
    ref = [skimage_ssim(f, r) for f, r in zip(fake, real)]
    np.testing.assert_allclose(ours, ref, atol=1e-4)
    assert ours[0] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("side", [64, 128, 256])
def test_ssim_within_1e5_of_skimage_at_benchmark_sizes(rng, side):
    """Random, near-identical (x, x ± 1, sparse ±2) and cancellation-prone pairs (flat offsets,
    saturated 0/255 blocks plus noise: σ = E[u²] − μ² of large values), batched in one call."""
    noise = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    real = np.asarray(Image.fromarray(noise).filter(ImageFilter.GaussianBlur(2)))
    blocks = np.kron(rng.integers(0, 2, (4, 4, 3)), np.ones((side // 4, side // 4, 1), np.int64)) * 255
    sparse = np.where(rng.random(real.shape) < 0.01, rng.choice([-2, 2], real.shape), 0)
    pairs = [(perturb(rng, real), real), (rng.integers(0, 256, real.shape, dtype=np.uint8), noise),
             (real, real), (perturb(rng, real, 1), real), (clip(real.astype(int) + sparse), real),
             (np.full_like(real, 200), np.full_like(real, 100)), (clip(blocks + 10), clip(blocks)),
             (perturb(rng, clip(blocks), 10), perturb(rng, clip(blocks), 10))]
    ours = ssim_batch(np.stack([f for f, _ in pairs]), np.stack([r for _, r in pairs]))
    for (fake, real), value in zip(pairs, ours):
        assert abs(value - skimage_ssim(fake, real)) <= 1e-5
    assert ours[2] == pytest.approx(1.0, abs=1e-12)
    floats = ssim_batch(np.stack([f for f, _ in pairs]).astype(np.float32), np.stack([r for _, r in pairs]))
    np.testing.assert_allclose(floats, ours, atol=1e-12)  # float input: the same values


@pytest.mark.parametrize("h, w, c", [(11, 11, 1), (13, 200, 3), (20, 23, 4), (30, 97, 1), (12, 26, 3)])
def test_ssim_strips_cover_every_valid_column_once(rng, h, w, c):
    """The kernel filters vertical strips of the valid columns and pads the last one: odd
    widths, one to nine strips, grey, RGB and RGBA must all equal skimage."""
    real = rng.integers(0, 256, (3, h, w, c), dtype=np.uint8)
    fake = perturb(rng, real, 40)
    fake[2, :, w // 2:] = 255  # the right-hand strips differ from the left-hand ones
    ours = ssim_batch(fake, real)
    ref = [structural_similarity(f, r, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 channel_axis=-1, data_range=255) for f, r in zip(fake, real)]
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_ssim_matches_skimage_on_real_photos(shared_images, rng):
    torch.set_num_threads(1)
    for path in list_images(shared_images):
        real = read_image(path)[::2, ::2].copy()  # half size keeps the test fast
        for fake in (np.roll(real, 2, axis=1), perturb(rng, real, 10)):
            assert ssim_batch(fake[None], real[None])[0] == pytest.approx(skimage_ssim(fake, real), abs=1e-4)


def test_pixel_metrics_against_references(rng):
    real = rng.integers(0, 256, (4, 20, 20, 3), dtype=np.uint8)
    fake = perturb(rng, real)
    psnr, l1 = PSNR(), L1()
    psnr.update(list(fake), list(real))
    l1.update(list(fake), list(real))
    ref_psnr = [peak_signal_noise_ratio(r, f, data_range=255) for f, r in zip(fake, real)]
    assert psnr.compute().value == pytest.approx(np.mean(ref_psnr), rel=1e-9)
    assert l1.compute().value == pytest.approx(np.abs(fake.astype(float) - real).mean(), rel=1e-9)
    r = psnr.compute()
    assert r.ci_low < r.value < r.ci_high and r.n == 4 and r.higher_is_better


def test_paired_metric_counts_unreadable_and_resizes_mismatched_fakes(rng):
    real = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(3)]
    big_fake = np.kron(real[1], np.ones((2, 2, 1), np.uint8))  # 64×64 copy of real[1]
    metric = SSIM()
    metric.update([real[0], big_fake, None], real)
    res = metric.compute()
    assert res.n == 2 and res.n_failed == 1
    # the fake is resized to its partner's size (bilinear), so a 2× copy scores close to 1
    assert metric.values[1] > 0.8


def alexnet_trunk(seed=0):
    import torchvision

    torch.manual_seed(seed)
    return torchvision.models.alexnet(weights=None).state_dict()


def test_lpips_matches_package_forward(rng):
    import lpips

    torch.set_num_threads(1)
    trunk = alexnet_trunk()
    real = rng.integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    fake = perturb(rng, real, 40)
    metric = LPIPS("alex", trunk=trunk)
    metric.update(list(fake), list(real))
    # Reference: the package's own model with the same random trunk copied in by torchvision index.
    ref_model = lpips.LPIPS(net="alex", pnet_rand=True, verbose=False).eval()
    import torchvision

    tv = torchvision.models.alexnet(weights=None)
    tv.load_state_dict(trunk)
    for slice_ in (ref_model.net.slice1, ref_model.net.slice2, ref_model.net.slice3, ref_model.net.slice4,
                   ref_model.net.slice5):
        for idx, module in slice_.named_children():
            module.load_state_dict(tv.features[int(idx)].state_dict())
    with torch.no_grad():
        ref = ref_model(torch.tensor(fake).permute(0, 3, 1, 2).float() / 255,
                        torch.tensor(real).permute(0, 3, 1, 2).float() / 255, normalize=True).flatten().numpy()
    np.testing.assert_allclose(metric.values, ref, rtol=1e-5, atol=1e-6)
    assert metric.compute().value > 0
    same = LPIPS("alex", trunk=trunk)
    same.update(list(real), list(real))
    assert same.compute().value == pytest.approx(0, abs=1e-6)


def test_lpips_without_weights_raises_weights_missing(empty_weights):
    from talkbench.errors import WeightsMissing

    with pytest.raises(WeightsMissing, match="alexnet"):
        build_lpips("alex")
