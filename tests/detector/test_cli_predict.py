"""`talkbench detect` end to end: train/eval on folders, predict on a real photo and a real
video, --help everywhere, one-line errors on bad input."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from talkbench.cli import main
from talkbench.detector.data import select
from talkbench.detector.evaluate import DETECTION_COLUMNS
from talkbench.detector.registry import create_detector


@pytest.mark.parametrize("action", ["list", "train", "eval", "cross", "predict"])
def test_help(action, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["detect", action, "--help"])
    assert exc.value.code == 0 and "usage" in capsys.readouterr().out


def test_list(capsys):
    assert main(["detect", "list"]) == 0
    assert "spectral_logreg" in capsys.readouterr().out


def test_train_then_eval_on_folders(forgery_set, tmp_path, capsys):
    images, table = forgery_set
    for i, row in table.iterrows():
        folder = tmp_path / ("fake" if row.label else "real") / row.identity
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[i]).save(folder / f"{i}.png")
    out, res = tmp_path / "det", tmp_path / "results"
    assert main(["detect", "train", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"),
                 "--detector", "spectral_logreg", "--out", str(out)]) == 0
    assert (out / "detector.safetensors").is_file() and (out / "manifest.json").is_file()
    assert main(["detect", "eval", "--checkpoint", str(out / "detector.safetensors"), "--results", str(res),
                 "--bootstrap", "100", "--robustness"]) == 0
    rob = pd.read_csv(res / "robustness.csv")
    assert len(rob) == 16 and rob.auc.between(0, 1).all() and (res / "robustness.png").is_file()
    det = pd.read_csv(res / "detection.csv")
    assert list(det.columns) == DETECTION_COLUMNS and det.auc.min() >= 0.9
    assert det.train_setting.iloc[0] == "all"
    splits = pd.read_csv(out / "splits.csv")
    assert det.n_real.iloc[0] == (select(splits, "test").label == 0).sum()
    assert main(["detect", "eval", "--checkpoint", str(tmp_path / "missing.pt"), "--results", str(res)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_predict_image_and_video(forgery_set, shared_images, shared_videos, tmp_path):
    images, table = forgery_set
    tr = select(table, "train")
    det = create_detector("spectral_logreg").fit(images[tr.index.to_numpy()], tr.label.to_numpy())
    det.crop_size = 64
    ckpt = det.save(tmp_path / "detector.safetensors")
    noise = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (80, 80, 3), np.uint8)).save(noise)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    photo, video = shared_images / "liveportrait_s1.jpg", shared_videos / "liveportrait_d18.mp4"
    out = tmp_path / "pred"
    assert main(["detect", "predict", str(photo), str(video), str(noise), str(broken), "--checkpoint", str(ckpt),
                 "--out", str(out), "--face-backend", "dlib", "--every", "10", "--max-frames", "4"]) == 0
    files = pd.read_csv(out / "predictions.csv", keep_default_na=False)
    assert list(files.file) == [str(photo), str(video), str(noise), str(broken)]
    status = dict(zip(files.file, files.status))
    assert status[str(photo)] == "ok" and status[str(video)] == "ok"
    assert status[str(noise)] == "no_face" and status[str(broken)].startswith("error")
    ok = files[files.status == "ok"]
    assert ok.prob_fake.astype(float).between(0, 1).all()
    frames = pd.read_csv(out / "frames.csv")
    assert list(frames.frame) == [0, 10, 20, 30] and frames.face_found.all()
    assert frames.prob_fake.mean() == pytest.approx(float(ok.prob_fake.iloc[1]))
    blob = json.loads((out / "predictions.json").read_text())
    assert blob["face_backend"] == "dlib" and len(blob["frames"]) == 4


def test_cross_on_a_run_layout(forgery_set, tmp_path, capsys):
    """`detect cross --data RUN` on the runner's generated/frames.csv layout (two settings)."""
    from talkbench.detector.perturb import blur
    from talkbench.media import write_png
    from talkbench.provenance import provenance

    images, table = forgery_set
    gen = tmp_path / "run" / "generated"
    real = table[table.label == 0]
    rows = []
    for setting in ("FF_T1", "FT_T8"):
        for (i, row), fake in zip(real.iterrows(), images[table.label.to_numpy() == 1]):
            d = f"{setting}/self/{row.identity}__{row.video}"
            img = fake if setting == "FF_T1" else blur(images[i], 1.0)
            write_png(gen / d / f"{row.frame:04d}_fake.png", img, provenance("test", "0" * 16))
            write_png(gen / d / f"{row.frame:04d}_real.png", images[i])
            rows.append({"setting": setting, "mode": setting[:2], "T": int(setting[4:]), "kind": "self",
                         "identity": row.identity, "video": row.video, "frame": row.frame,
                         "fake_path": f"{d}/{row.frame:04d}_fake.png", "real_path": f"{d}/{row.frame:04d}_real.png",
                         "driver_identity": ""})
    pd.DataFrame(rows).to_csv(gen / "frames.csv", index=False)
    res = tmp_path / "run" / "results"
    assert main(["detect", "cross", "--data", str(tmp_path / "run"), "--detector", "spectral_logreg",
                 "--out", str(tmp_path / "dets"), "--results", str(res), "--bootstrap", "50"]) == 0
    det = pd.read_csv(res / "detection.csv")
    assert len(det) == 8 and set(det.train_setting) == {"FF_T1", "FT_T8"}
    assert (res / "cross_setting" / "spectral_logreg__frame.png").is_file()
    rob = pd.read_csv(res / "robustness.csv")
    assert set(rob.perturbation) == {"jpeg", "blur", "downscale", "noise"} and len(rob) == 32
    assert "FF_T1" in capsys.readouterr().out
