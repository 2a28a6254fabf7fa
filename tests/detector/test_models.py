"""The registry: every detector builds, follows timm's data config, runs forward/backward,
saves and loads; the spectral features match a direct per-pixel computation."""


import numpy as np
import pytest
import timm
from timm.data import resolve_data_config

from talkbench.detector.registry import create_detector, list_detectors, load_detector
from talkbench.detector.spectral import spectrum_features
from talkbench.detector.timm_models import TimmDetector
from talkbench.errors import TalkbenchError

TIMM_NAMES = [n for n in list_detectors() if not n.startswith("spectral")]


def test_registry_has_the_issue_backbones():
    names = set(list_detectors())
    assert {"legacy_xception", "efficientnet_b0", "efficientnet_b4", "resnet50", "spectral_logreg",
            "spectral_svm"} <= names
    with pytest.raises(TalkbenchError, match="unknown detector"):
        create_detector("nope")


@pytest.mark.parametrize("name", TIMM_NAMES)
def test_timm_detector_config_forward_backward(name, empty_weights):
    det = create_detector(name)
    assert isinstance(det, TimmDetector) and det.pretrained is False
    ref = resolve_data_config({}, model=timm.create_model(det.arch, num_classes=1))
    assert det.mean.flatten().tolist() == pytest.approx(ref["mean"])
    assert det.std.flatten().tolist() == pytest.approx(ref["std"])
    if not name.endswith("_64"):
        assert det.input_size == ref["input_size"][-1]
    small = create_detector(name, input_size=64)  # forward at 64 px: the CPU-sized check
    x = small.preprocess(np.random.default_rng(0).integers(0, 255, (2, 48, 48, 3), np.uint8))
    assert x.shape == (2, 3, 64, 64)
    small.model.train()
    loss = small.logits(x).sum()
    loss.backward()
    assert all(p.grad is not None for p in small.model.parameters() if p.requires_grad)


def test_pretrained_without_weights_warns_and_records_scratch(empty_weights):
    with pytest.warns(UserWarning, match="not found"):
        det = create_detector("efficientnet_b0", pretrained=True)
    assert det.pretrained is False and det.describe()["pretrained"] is False


def test_save_load_round_trip(tmp_path, rng):
    det = create_detector("test_resnet_64")
    det.crop_size = 64
    x = rng.integers(0, 255, (3, 64, 64, 3), np.uint8)
    p = det.predict_proba(x)
    assert ((p > 0) & (p < 1)).all()
    loaded = load_detector(det.save(tmp_path / "d.pt"))
    np.testing.assert_allclose(loaded.predict_proba(x), p, rtol=1e-6)
    assert loaded.crop_size == 64 and loaded.name == "test_resnet_64"
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(TalkbenchError):
        load_detector(tmp_path / "bad.pt")


def test_spectrum_features_match_a_direct_computation(rng):
    imgs = rng.integers(0, 255, (3, 16, 16, 3), np.uint8)
    feats = spectrum_features(imgs)
    assert feats.shape == (3, 9)
    for img, f in zip(imgs, feats):
        grey = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        power = 20 * np.log10(np.abs(np.fft.fftshift(np.fft.fft2(grey))) + 1e-8)  # full plane
        sums, counts = np.zeros(9), np.zeros(9)
        for yy in range(16):
            for xx in range(16):
                r = int(round(np.hypot(xx - 8, yy - 8)))
                if r <= 8:
                    sums[r] += power[yy, xx]
                    counts[r] += 1
        np.testing.assert_allclose(f, sums / counts, rtol=1e-4, atol=1e-3)
    with pytest.raises(TalkbenchError):
        create_detector("spectral_logreg").predict_proba(imgs)


def test_detector_never_imports_the_generator():
    import subprocess
    import sys

    modules = ["cli", "data", "evaluate", "experiment", "predict", "registry", "spectral", "timm_models", "train"]
    code = ("import sys\n" + "".join(f"import talkbench.detector.{m}\n" for m in modules)
            + "from talkbench.detector.registry import list_detectors; list_detectors()\n"
            + "assert not [m for m in sys.modules if m.startswith('talkbench.generator')], 'generator imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
