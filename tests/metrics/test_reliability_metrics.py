"""`talkbench metrics` on hostile input (issue 12, items 2-3): tiny images and bad batch sizes
are one-line errors, 16-bit PNGs are read at their real brightness, reals without a fake
partner are reported."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from talkbench.cli import main
from talkbench.errors import TalkbenchError
from talkbench.media import read_image
from talkbench.metrics.api import compute_metrics


def _png(path, array) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_one_pixel_image_is_a_clear_error(tmp_path, capsys):
    _png(tmp_path / "r" / "a.png", np.zeros((1, 1, 3), np.uint8))
    _png(tmp_path / "f" / "a.png", np.full((1, 1, 3), 9, np.uint8))
    assert main(["metrics", "--real", str(tmp_path / "r"), "--fake", str(tmp_path / "f"),
                 "--metrics", "ssim", "psnr"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "1×1 px" in err and "at least 16×16" in err


def test_batch_size_must_be_positive(tmp_path):
    img = np.zeros((2, 32, 32, 3), np.uint8)
    with pytest.raises(TalkbenchError, match="batch_size"):
        compute_metrics(img, img, ["psnr"], pairs="by-order", batch_size=-3)


def test_sixteen_bit_grey_png_keeps_its_brightness(tmp_path):
    grey16 = (np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)  # 0 … 65520, mean ≈ 32760
    _png(tmp_path / "g16.png", grey16)
    with Image.open(tmp_path / "g16.png") as im:
        assert im.mode.startswith("I")
    img = read_image(tmp_path / "g16.png")
    assert img.dtype == np.uint8 and img.shape == (64, 64, 3)
    np.testing.assert_allclose(img[..., 0].astype(float), grey16 / 257.0, atol=0.51)
    assert (img == 255).mean() < 0.01  # PIL's convert("RGB") reads 99.9 % of it as white


def test_reals_without_partner_are_reported(tmp_path, caplog):
    rng = np.random.default_rng(0)
    for i in range(24):
        _png(tmp_path / "r" / f"{i:04d}_real.png", rng.integers(0, 256, (32, 32, 3), np.uint8))
    for i in range(10):
        _png(tmp_path / "f" / f"{i:04d}_fake.png", rng.integers(0, 256, (32, 32, 3), np.uint8))
    results = compute_metrics(tmp_path / "r", tmp_path / "f", ["psnr"], pairs="by-name")
    assert results[0].n == 10
    assert "14 of 24 real images have no fake" in caplog.text
