"""The suites' cross_dataset stage: present only when ``detector.datasets`` names imported
datasets; trains on this run's fakes and on each import, tests on all of them."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd

from talkbench.benchmarks.stage_runner import StageContext
from talkbench.benchmarks.stages.cross_dataset import cross_dataset_stage
from talkbench.benchmarks.suite import load_suite
from talkbench.benchmarks.suite_stages import build_stages
from talkbench.detector.importers.base import ImportConfig
from talkbench.detector.importers.build import import_dataset
from talkbench.media import write_png
from talkbench.provenance import provenance


def _face(rng) -> np.ndarray:
    return cv2.resize(rng.integers(0, 255, (16, 16, 3), np.uint8), (48, 48), interpolation=cv2.INTER_CUBIC)


def _blurred(img: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), 2.0)


def _generated_run(run, rng) -> None:
    gen, rows = run / "generated", []
    for p in range(6):
        for f in range(4):
            d = f"FF_T1/self/p{p}__v0"
            real = _face(rng)
            write_png(gen / d / f"{f:04d}_fake.png", _blurred(real), provenance("test", "0" * 16), watermark=False)
            write_png(gen / d / f"{f:04d}_real.png", real)
            rows.append({"setting": "FF_T1", "mode": "FF", "T": 1, "kind": "self", "identity": f"p{p}", "video": "v0",
                         "frame": f, "fake_path": f"{d}/{f:04d}_fake.png", "real_path": f"{d}/{f:04d}_real.png",
                         "driver_identity": ""})
    pd.DataFrame(rows).to_csv(gen / "frames.csv", index=False)


def _imported(root, out, rng) -> None:
    for p in range(6):
        for f in range(4):
            real = _face(rng)
            write_png(root / "real" / f"q{p}" / "clip" / f"{f}.png", real)
            write_png(root / "fake" / f"q{p}" / "clip" / f"{f}.png", _blurred(real), provenance("test", "0" * 16), watermark=False)
    import_dataset("folders", root, out, ImportConfig(frames=4, size=48, backend="none"), workers=1, progress=False)


def test_stage_only_with_datasets_and_its_matrix(tmp_path, rng):
    assert "cross_dataset" not in [s.name for s in build_stages(load_suite("quick"))]
    _imported(tmp_path / "src", tmp_path / "imp", rng)
    cfg = load_suite("quick", [f"detector.datasets={{mine: {tmp_path / 'imp'}}}", "detector.options={crop_size: 48}"])
    names = [s.name for s in build_stages(cfg)]
    assert names.index("cross_dataset") == len(names) - 2 and "cross_dataset" in build_stages(cfg)[-1].deps
    run = tmp_path / "run"
    _generated_run(run, rng)
    out = cross_dataset_stage(StageContext(run, "cross_dataset", "f" * 16, False), cfg)
    assert out["datasets"] == ["talkbench", "mine"]
    rows = pd.read_csv(run / "results" / "cross_dataset.csv")
    assert len(rows) == 2 * 2 * 2
    assert (run / "results" / "cross_dataset" / "spectral_logreg__video.csv").is_file()
    frame = rows[rows.level == "frame"].set_index(["train_dataset", "test_dataset"]).auc
    assert frame["talkbench", "talkbench"] > 0.8 and frame["mine", "mine"] > 0.8
