"""Detector kinds are an extension point: a kind defined here, outside the package, trains,
saves, loads and predicts through the public entry points and the CLI; --pretrained on an
architecture without registered ImageNet weights is a one-line error."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import talkbench.detector.registry as registry
from talkbench.cli import main
from talkbench.detector.base import Detector
from talkbench.detector.metrics import auc
from talkbench.detector.registry import (
    create_detector, list_detectors, load_detector, register_detector, register_kind,
)
from talkbench.detector.train import DetectorTrainConfig, detector_file, train_detector
from talkbench.errors import TalkbenchError
from talkbench.files import read_json, write_json
from talkbench.weights import TIMM_BACKBONES


@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations made by a test vanish after it (the registry is process-wide). The
    package's own kinds are loaded first, so they are in the copies."""
    list_detectors()
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))


def _define_mean_grey_kind() -> type[Detector]:
    """A one-parameter kind: P(fake) = sigmoid(slope · (mean grey − midpoint)), fitted from the
    class means; saved as JSON. Registered with the public decorators only."""

    @register_kind
    class MeanGrey(Detector):
        kind = "mean_grey"
        suffixes = (".meangrey.json",)

        def __init__(self, name: str) -> None:
            self.name, self.pretrained = name, False
            self.mid, self.slope = 0.0, 0.0
            self.trained_with: dict = {}

        def train(self, cfg, xtr, ytr, xva, yva, out_dir, resume, progress):
            grey = xtr.reshape(len(xtr), -1).mean(1)
            real, fake = grey[ytr == 0].mean(), grey[ytr == 1].mean()
            self.mid, self.slope = float(real + fake) / 2, float(np.sign(fake - real)) / 8
            self.trained_with = {"lr": cfg.lr, "resume": resume}
            self.save(self.file_in(out_dir))
            return {"best_val_auc": auc(yva, self.predict_proba(xva)), "midpoint": self.mid}

        def predict_proba(self, images, batch_size=64):
            grey = np.asarray(images, np.float64).reshape(len(images), -1).mean(1)
            return 1 / (1 + np.exp(-self.slope * (grey - self.mid)))

        def save(self, path):
            write_json(path, {"name": self.name, "mid": self.mid, "slope": self.slope, "crop_size": self.crop_size,
                              "domain": self.domain, "trained_with": self.trained_with})
            return Path(path)

        @classmethod
        def load(cls, path):
            state = read_json(path)
            det = cls(state["name"])
            det.mid, det.slope, det.crop_size, det.domain = state["mid"], state["slope"], state["crop_size"], state["domain"]
            det.trained_with = state["trained_with"]
            return det

    @register_detector
    def mean_grey_test(pretrained: bool = False, **kwargs) -> Detector:
        """Mean grey level → sigmoid (a kind defined in a test)."""
        return MeanGrey("mean_grey_test")

    return MeanGrey


def _crops(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Dark real crops and brighter fakes (first half real, second half fake)."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    x = rng.integers(0, 120, (n, 16, 16, 3)) + 60 * y[:, None, None, None]
    return x.astype(np.uint8), y


def test_a_kind_defined_outside_the_package_trains_saves_loads_predicts(scratch_registry, tmp_path):
    kind = _define_mean_grey_kind()
    assert "mean_grey_test" in list_detectors() and kind in registry.detector_kinds()
    (xtr, ytr), (xva, yva), (xte, yte) = _crops(40, 0), _crops(20, 1), _crops(20, 2)
    cfg = DetectorTrainConfig(detector="mean_grey_test", crop_size=16, lr=0.25)
    path = train_detector(cfg, xtr, ytr, xva, yva, tmp_path, progress=False, domain={"datasets": ["unit"]})
    assert path == tmp_path / "detector.meangrey.json" == detector_file(tmp_path)
    summary = read_json(tmp_path / "train.json")
    assert summary["kind"] == "mean_grey" and summary["detector"] == "mean_grey_test"
    assert summary["best_val_auc"] == 1.0 and summary["n_train"] == 40 and "midpoint" in summary
    det = load_detector(path)
    assert type(det) is kind and det.crop_size == 16 and det.domain == {"datasets": ["unit"]}
    assert det.trained_with == {"lr": 0.25, "resume": False}  # the config reached the kind's train
    p = det.predict_proba(xte)
    assert auc(yte, p) == 1.0 and ((p > 0) & (p < 1)).all()
    with pytest.raises(TalkbenchError, match="kind 'mean_grey' has no differentiable form"):
        det.logit_function()  # the base class's answer for kinds that attacks cannot use
    with pytest.raises(ValueError, match="registered twice"):
        register_kind(kind)


def _folders(root: Path) -> list[str]:
    """``--real DIR --fake DIR`` of 8 people with 3 crops each per class."""
    x, y = _crops(48, 3)
    for i, (img, label) in enumerate(zip(x, y)):
        folder = root / ("fake" if label else "real") / f"person{i % 8}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / f"{i}.png")
    return ["--real", str(root / "real"), "--fake", str(root / "fake"), "--crop-size", "16"]


def test_the_cli_trains_and_predicts_with_a_new_kind(scratch_registry, tmp_path):
    _define_mean_grey_kind()
    out = tmp_path / "det"
    assert main(["detect", "train", *_folders(tmp_path), "--detector", "mean_grey_test", "--out", str(out)]) == 0
    manifest = read_json(out / "manifest.json")
    assert manifest["detector"]["kind"] == "mean_grey" and manifest["weights"] == []  # no weight assets
    assert main(["detect", "predict", str(tmp_path / "fake" / "person0"), "--checkpoint",
                 str(out / "detector.meangrey.json"), "--face-backend", "none", "--out", str(tmp_path / "pred")]) == 0
    files = pd.read_csv(tmp_path / "pred" / "predictions.csv")
    assert (files.status == "ok").all() and (files.prob_fake > 0.5).all()


def test_a_file_of_no_kind_is_refused(tmp_path):
    path = tmp_path / "detector.bin"
    path.write_bytes(b"\0" * 8)
    with pytest.raises(TalkbenchError, match=r"not a detector file: known endings are \.safetensors, \.joblib, \.pt$"):
        load_detector(path)


def test_a_kind_may_not_take_another_kinds_file_ending(scratch_registry):
    class Clash(Detector):
        kind, suffixes = "clash", (".pt",)

    with pytest.raises(ValueError, match="file ending .pt belongs to kind 'timm'"):
        register_kind(Clash)


def test_pretrained_without_registered_weights_is_an_error(capsys, tmp_path):
    with pytest.raises(TalkbenchError) as exc:
        create_detector("test_resnet_64", pretrained=True)
    msg = str(exc.value)
    assert "'test_resnet'" in msg and "test_resnet_64" in msg and "\n" not in msg
    assert all(arch in msg for arch in TIMM_BACKBONES)
    assert main(["detect", "train", *_folders(tmp_path), "--detector", "resnet10t_64", "--pretrained",
                 "--out", str(tmp_path / "det")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # the lines before: the crop-loading bar
    assert "no ImageNet weights" in err and "'resnet10t'" in err and "efficientnet_b0" in err and "Traceback" not in err
