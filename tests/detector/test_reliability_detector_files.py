"""Detector files cannot run code and cannot be silently corrupted (issue 12, items 1 and 3):
the spectral detector is stored as plain arrays (safetensors), a planted malicious pickle
runs nothing whatever it is named, and a flipped weight byte is refused by its checksum."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch

from talkbench.cli import main
from talkbench.detector.registry import create_detector, load_detector
from talkbench.errors import TalkbenchError


class _Payload:
    """Unpickling this creates ``marker``: stands in for any command a hostile file runs."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _crops(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise crops (real) and their nearest-neighbour up-sampled copies (fake)."""
    rng = np.random.default_rng(seed)
    real = rng.integers(0, 256, (n, 32, 32, 3), np.uint8)
    fake = rng.integers(0, 256, (n, 16, 16, 3), np.uint8).repeat(2, 1).repeat(2, 2)
    return np.concatenate([real, fake]), np.r_[np.zeros(n, int), np.ones(n, int)]


@pytest.fixture
def malicious(tmp_path) -> tuple[Path, Path]:
    """A joblib file whose unpickling creates a marker file; checked live before use."""
    marker, path = tmp_path / "pwned", tmp_path / "evil.joblib"
    joblib.dump({"kind": "spectral", "detector": _Payload(marker)}, path)
    joblib.load(path)  # the payload is real: plain joblib.load runs it
    assert marker.exists()
    marker.unlink()
    return path, marker


@pytest.mark.parametrize("name", ["evil.joblib", "detector.safetensors", "detector.pt", "detector.bin"])
def test_planted_pickle_runs_nothing(malicious, tmp_path, name):
    evil, marker = malicious
    path = tmp_path / name
    if path != evil:
        path.write_bytes(evil.read_bytes())
    with pytest.raises(TalkbenchError) as exc:
        load_detector(path)
    assert not marker.exists()
    assert "\n" not in str(exc.value) and str(path) in str(exc.value)
    if name.endswith(".joblib"):
        assert "pickle" in str(exc.value) and "retrain" in str(exc.value)


def test_cli_refuses_planted_pickle(malicious, tmp_path, capsys):
    evil, marker = malicious
    img = tmp_path / "face.png"
    from PIL import Image

    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(img)
    for argv in (["detect", "eval", "--checkpoint", str(evil), "--results", str(tmp_path / "r")],
                 ["detect", "predict", str(img), "--checkpoint", str(evil), "--out", str(tmp_path / "p")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert not marker.exists()
        assert err.count("\n") == 0 and "Traceback" not in err and "pickle" in err


@pytest.mark.parametrize("name", ["spectral_logreg", "spectral_svm"])
def test_safetensors_round_trip_matches_sklearn(name, tmp_path):
    x, y = _crops(40, 0)
    det = create_detector(name, size=32).fit(x, y)
    det.crop_size = 32
    path = det.save(tmp_path / "detector.safetensors")
    assert path.suffix == ".safetensors" and path.read_bytes()[:1] != b"\x80"  # no pickle protocol header
    xt, _ = _crops(10, 1)
    reference = det.pipeline.predict_proba(det.features(xt))[:, 1]
    loaded = load_detector(path)
    assert loaded.name == name and loaded.crop_size == 32 and loaded.size == 32
    np.testing.assert_allclose(loaded.predict_proba(xt), reference, rtol=0, atol=1e-6)  # sklearn works in float32
    np.testing.assert_allclose(det.predict_proba(xt), reference, rtol=0, atol=1e-6)  # sklearn works in float32


def _flip_last_weight_byte(path: Path) -> None:
    """Change one byte of the tensor data of a safetensors file (header left intact)."""
    blob = bytearray(path.read_bytes())
    header_len = struct.unpack("<Q", blob[:8])[0]
    assert len(blob) > 8 + header_len
    blob[-3] ^= 0x40
    path.write_bytes(bytes(blob))


def test_corrupted_spectral_weights_are_refused(tmp_path):
    x, y = _crops(20, 0)
    path = create_detector("spectral_logreg", size=32).fit(x, y).save(tmp_path / "d.safetensors")
    _flip_last_weight_byte(path)
    with pytest.raises(TalkbenchError, match="checksum"):
        load_detector(path)


def test_corrupted_timm_weights_are_refused(tmp_path):
    det = create_detector("resnet10t_64")
    path = det.save(tmp_path / "detector.pt")
    load_detector(path)  # intact: loads
    state = torch.load(path, weights_only=True)
    key = next(k for k, v in state["state_dict"].items() if v.is_floating_point() and v.numel() > 10)
    state["state_dict"][key].view(-1)[3] = 1e30  # a corrupt value with the stored checksum kept
    torch.save(state, path)
    with pytest.raises(TalkbenchError, match="checksum"):
        load_detector(path)


def test_spectral_file_is_plain_metadata(tmp_path):
    x, y = _crops(20, 0)
    path = create_detector("spectral_svm", size=32).fit(x, y).save(tmp_path / "d.safetensors")
    header_len = struct.unpack("<Q", path.read_bytes()[:8])[0]
    header = json.loads(path.read_bytes()[8:8 + header_len])
    assert header["__metadata__"]["format"] == "talkbench-spectral-detector"
    assert len(header["__metadata__"]["weights_sha256"]) == 64


def test_nan_probability_is_not_ok(tmp_path):
    from talkbench.detector.predict import PredictOptions, Predictor

    x, y = _crops(20, 0)
    det = create_detector("spectral_logreg", size=32).fit(x, y)
    det.params["coef"][:] = np.nan  # a model whose outputs are NaN
    predictor = Predictor(det, PredictOptions(face_backend="none"))
    with pytest.raises(TalkbenchError, match="non-finite"):
        predictor.score(x[:3], np.ones(3, bool))


def test_detect_train_numbers_and_refused_resume(tmp_path, capsys):
    from PIL import Image

    x, y = _crops(12, 0)
    for i, (img, label) in enumerate(zip(x, y)):
        folder = tmp_path / ("fake" if label else "real") / f"id{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / f"{i}.png")
    base = ["detect", "train", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"),
            "--crop-size", "32", "--out", str(tmp_path / "det")]
    assert main(base + ["epochs=0"]) == 2
    err = capsys.readouterr().err.strip()
    assert "'epochs': 0 is out of range; allowed: >= 1" in err and "does not exist" not in err
    (tmp_path / "det").mkdir(exist_ok=True)
    (tmp_path / "det" / "last.pt").write_bytes(b"PK\x03\x04 not a checkpoint")
    assert main(base + ["--resume", "epochs=1", "batch_size=4"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    last = err.splitlines()[-1]  # after the progress bar of loading crops
    assert last.startswith("talkbench detect: error:") and "last.pt" in last
