"""FF/FT few-shot models, their files, and the fewshot / reenact commands."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from talkbench.cli import main
from talkbench.data.dataset import FaceDataset
from talkbench.generator.episodes import few_shot_cases
from talkbench.generator.ft_config import FineTuneConfig
from talkbench.generator.fewshot import FewShotModel, build_fewshot
from talkbench.media import read_png_provenance, read_video, read_video_provenance


@pytest.fixture(scope="module")
def case(tiny_faces):
    return few_shot_cases(FaceDataset(tiny_faces), shots=(4,), max_videos=1)[0]


def _l1(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(float) - b.astype(float)).mean())


def test_ff_and_ft_models(checkpoint, case, tmp_path):
    ff = build_fewshot(checkpoint, case.shot_frames, case.shot_landmarks, "FF", device="cpu")
    out = ff.generate(case.heldout_landmarks)
    assert out.shape == case.heldout_frames.shape and out.dtype == np.uint8
    assert np.array_equal(out, ff.generate(case.heldout_landmarks))  # deterministic
    assert ff.mode == "FF" and ff.shots == 4 and "FF T=4" in ff.generator_name

    ft = build_fewshot(checkpoint, case.shot_frames, case.shot_landmarks, "FT", device="cpu",
                       ft=FineTuneConfig(steps=25, lr_g=1e-3, lr_d=1e-3))
    before = _l1(ff.generate(case.shot_landmarks), case.shot_frames)
    after = _l1(ft.generate(case.shot_landmarks), case.shot_frames)
    assert not np.array_equal(ft.generate(case.heldout_landmarks), out)  # FT changed the person's model
    assert after < 0.8 * before, (before, after)  # and fits the shots better
    assert ft.info["ft"]["steps"] == 25 and ft.config_fingerprint != ff.config_fingerprint

    ft.save(tmp_path / "ft.pt")
    loaded = FewShotModel.load(tmp_path / "ft.pt")
    assert np.array_equal(loaded.generate(case.heldout_landmarks), ft.generate(case.heldout_landmarks))
    assert loaded.generator_name == ft.generator_name and loaded.config_fingerprint == ft.config_fingerprint


def test_bad_inputs_are_clear_errors(checkpoint, case, tmp_path):
    from talkbench.errors import TalkbenchError

    with pytest.raises(TalkbenchError, match="mode"):
        build_fewshot(checkpoint, case.shot_frames, case.shot_landmarks, "XX")
    with pytest.raises(TalkbenchError, match="uint8"):
        build_fewshot(checkpoint, case.shot_frames[:, :16], case.shot_landmarks)
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(TalkbenchError, match="cannot read"):
        FewShotModel.load(tmp_path / "junk.pt")


def test_fewshot_and_reenact_commands(checkpoint, tiny_faces, tmp_path, capsys):
    ds = FaceDataset(tiny_faces)
    video = ds.videos("test")[0]
    model = tmp_path / "person.pt"
    assert main(["fewshot", str(checkpoint), str(model), "--frames", str(tiny_faces), "--video", video,
                 "--shots", "2", "--quiet"]) == 0
    assert FewShotModel.load(model).shots == 2

    out = tmp_path / "reenact"
    other = ds.videos("test")[-1]
    assert main(["reenact", str(model), str(out), "--driver", str(tiny_faces), "--video", other,
                 "--max-frames", "5", "--quiet"]) == 0
    pngs = sorted((out / "frames").glob("*.png"))
    assert len(pngs) == 5
    meta = read_png_provenance(pngs[0])
    assert meta["synthetic"] == "true" and "FF T=2" in meta["generator"] and meta["config_fingerprint"]
    frames, _ = read_video(out / "reenactment.mp4")
    assert frames.shape[0] == 5
    assert read_video_provenance(out / "reenactment.mp4")["generator"] == meta["generator"]

    marks = ds.load(other)[1][:3]
    np.save(tmp_path / "drive.npy", marks)
    assert main(["reenact", str(model), str(tmp_path / "npy"), "--driver", str(tmp_path / "drive.npy"), "--quiet"]) == 0
    assert len(list((tmp_path / "npy" / "frames").glob("*.png"))) == 3

    np.save(tmp_path / "bad.npy", np.zeros((3, 5, 2)))
    assert main(["reenact", str(model), str(tmp_path / "bad"), "--driver", str(tmp_path / "bad.npy")]) == 2
    assert "68" in capsys.readouterr().err


def test_fewshot_from_raw_photo(checkpoint, shared_images, tmp_path):
    """A raw photo gets its landmarks and crop from the face backend (dlib, offline)."""
    folder = tmp_path / "person"
    folder.mkdir()
    shutil.copy(shared_images / "liveportrait_s1.jpg", folder)
    out = tmp_path / "person.pt"
    assert main(["fewshot", str(checkpoint), str(out), "--frames", str(folder), "--shots", "1",
                 "--backend", "dlib", "--quiet"]) == 0
    model = FewShotModel.load(out)
    assert "liveportrait_s1.jpg" in model.info["source"]
