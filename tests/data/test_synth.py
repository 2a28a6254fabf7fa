"""The synthetic renderer: deterministic, landmarks where the pixels are, faces dlib finds,
the dataset format, resumable CLI."""

import hashlib

import numpy as np
import pytest

from talkbench.cli import main
from talkbench.data import face3d
from talkbench.data.dataset import FaceDataset, frames_path
from talkbench.data.face_check import check_faces
from talkbench.data.synth import (SynthConfig, make_identity, make_video, render_dataset, render_video,
                                       tiny_dataset)
from talkbench.errors import TalkbenchError


def _video(seed: int, size: int = 128, n: int = 12, noise: float = 0.0):
    cfg = SynthConfig(size=size, noise=noise)
    rng = np.random.default_rng(seed)
    ident = make_identity(rng, cfg)
    video = make_video(rng, n, size, cfg)
    return ident, video, render_video(ident, video, size, cfg.supersample, rng)


def test_deterministic_by_seed():
    _, _, (f1, l1) = _video(1, size=64, noise=3.0)
    _, _, (f2, l2) = _video(1, size=64, noise=3.0)
    _, _, (f3, _) = _video(2, size=64, noise=3.0)
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_array_equal(l1, l2)
    assert np.abs(f1.astype(int) - f3).mean() > 10


def test_landmarks_match_pixels():
    ident, video, (frames, marks) = _video(5)
    skin = np.array(ident.skin)
    for i, (img, lm) in enumerate(zip(frames, marks)):
        # inside the face (between nose bridge and cheek) the colour is close to the skin tone
        cheek = np.round(0.5 * lm[29] + 0.5 * lm[2]).astype(int)
        light = video.light.frame(i, len(img))[cheek[1], cheek[0]]
        assert np.abs(img[cheek[1], cheek[0]].astype(float) - skin * light).max() < 60
        # the pupil region is darker than the cheek, the brows darker than the forehead above them
        eye = np.round(lm[36:42].mean(0)).astype(int)
        assert img[eye[1] - 1:eye[1] + 2, eye[0] - 1:eye[0] + 2].mean() < img[cheek[1], cheek[0]].mean()
    # open mouths are dark inside
    gaps = marks[:, 66, 1] - marks[:, 62, 1]
    i = int(np.argmax(gaps))
    assert gaps[i] > 3
    mid = np.round((marks[i, 62] + marks[i, 66]) / 2).astype(int)
    assert frames[i][mid[1], mid[0]].mean() < frames[i][cheek[1], cheek[0]].mean()


def test_light_change_varies_the_light_within_a_video_and_nothing_else():
    """light_change = 0 renders what the renderer rendered before the option existed (the
    hash of that frame stack); > 0 changes brightness and colour between frames of one video,
    smoothly, and leaves the people, their motion and the landmarks as they were."""
    def render(change: float, n: int = 48):
        cfg = SynthConfig(size=64, light_change=change)
        rng = np.random.default_rng([0, 3, 1])
        ident = make_identity(np.random.default_rng([0, 3]), cfg)
        return render_video(ident, make_video(rng, n, 64, cfg), 64, cfg.supersample, rng)

    assert hashlib.sha256(render(0.0, 12)[0].tobytes()).hexdigest()[:16] == "8d6612e216f73e03"
    (still, marks), (changing, marks_changing) = render(0.0), render(1.0)
    np.testing.assert_array_equal(marks, marks_changing)
    brightness = lambda f: f.reshape(len(f), -1).mean(1)  # noqa: E731
    assert np.std(brightness(changing)) > 5 * np.std(brightness(still))
    assert np.abs(np.diff(brightness(changing))).max() < 0.25 * np.ptp(brightness(changing))  # smooth, no flicker
    red_blue = lambda f: (f[..., 0].astype(float) - f[..., 2]).mean((1, 2))  # noqa: E731
    assert np.std(red_blue(changing)) > 3 * np.std(red_blue(still))  # the colour temperature moves too


def test_motion_is_smooth_and_varied():
    _, video, (_, marks) = _video(3, n=48)
    step = np.linalg.norm(np.diff(marks, axis=0), axis=-1).mean(1)
    assert step.max() < 8  # no jumps between consecutive frames (128 px)
    mouth = marks[:, 66, 1] - marks[:, 62, 1]
    assert mouth.max() - mouth.min() > 2  # the mouth opens and closes
    assert np.ptp(video.yaw) > 2


def test_identities_differ():
    cfg = SynthConfig()
    a, b = (make_identity(np.random.default_rng([0, i]), cfg) for i in (0, 1))
    assert np.abs(a.shape - b.shape).mean() > 1.0


def test_projection_centre_and_scale():
    xy = face3d.project(face3d.MEAN_POINTS, 0, 0, 0, 1.0, (100.0, 100.0))
    np.testing.assert_allclose(xy[33, 0], 100.0, atol=1e-6)  # the nose base centre is on the axis
    assert 80 < xy[45, 0] - xy[36, 0] < 110  # outer canthi ~94 mm apart, slightly enlarged by perspective


def test_dlib_finds_synthetic_faces(tmp_path):
    cfg = SynthConfig(identities=20, videos=1, frames=3, test_frames=3, size=128, seed=11)
    ds = FaceDataset(render_dataset(tmp_path / "ds", cfg, workers=1, progress=False))
    res = check_faces(ds, n_frames=30, backend="dlib")
    assert res.detection_rate >= 0.8, res.summary()
    assert res.nme_median < 0.12, res.summary()


def test_dataset_files_and_resume(tmp_path):
    out = tiny_dataset(tmp_path / "ds")
    ds = FaceDataset(out)
    assert ds.meta["provenance"]["synthetic"] == "true" and len(ds.meta["provenance"]["config_fingerprint"]) == 16
    video = ds.videos()[0]
    before = ds.load(video)[0].copy()
    frames_path(out, video).unlink()
    tiny_dataset(tmp_path / "ds")  # same config: re-renders what is missing, identically
    np.testing.assert_array_equal(FaceDataset(out).load(video)[0], before)
    with pytest.raises(TalkbenchError, match="another config"):
        tiny_dataset(tmp_path / "ds", seed=1)


def test_cli(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["synth", "--help"])
    assert "--identities" in capsys.readouterr().out
    assert main(["synth", str(tmp_path / "s"), "--identities", "3", "--videos", "1", "--frames", "4",
                 "--test-frames", "40", "--size", "32", "--workers", "1"]) == 0
    assert "3 identities" in capsys.readouterr().out
    assert main(["synth", str(tmp_path / "bad"), "--identities", "1"]) == 2
