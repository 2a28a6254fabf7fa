"""`talkbench prepare` on the real videos in ../shared: crops hold the face, bad clips are
skipped with reasons, reruns resume, and the result loads as episodes and few-shot cases."""

import numpy as np
import pandas as pd
import pytest

from talkbench.cli import main
from talkbench.data.clips import sample_indices
from talkbench.data.dataset import FaceDataset
from talkbench.data.prepare import PrepareConfig, discover, prepare
from talkbench.errors import TalkbenchError
from talkbench.generator.episodes import MetaEpisodes, few_shot_cases
from talkbench.media import read_video, write_png, write_video

pytestmark = pytest.mark.slow  # ~10 s of CPU; more wall time on a busy machine


_MEMO: dict = {}  # one preparation serves every test (shared_videos is function-scoped)


@pytest.fixture
def source(tmp_path_factory, shared_videos):
    if "source" in _MEMO:
        return _MEMO["source"]
    shared = shared_videos
    src = _MEMO["source"] = tmp_path_factory.mktemp("src")
    for video in sorted(shared.glob("*.mp4"))[:6]:
        (src / video.name).symlink_to(video)
    (src / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    rng = np.random.default_rng(0)
    noise = [np.clip(128 + 20 * rng.standard_normal((96, 96, 3)), 0, 255).astype(np.uint8) for _ in range(12)]
    write_video(src / "noface.mp4", noise, fps=10)
    write_video(src / "short.mp4", noise[:3], fps=10)
    frames, _ = read_video(sorted(shared.glob("*.mp4"))[-1], max_frames=12)  # a clip as a folder of frames
    (src / "person_x" / "clip1").mkdir(parents=True)
    for i, frame in enumerate(frames):
        write_png(src / "person_x" / "clip1" / f"{i:04d}.png", frame)
    return src


@pytest.fixture
def prepared(source, tmp_path_factory):
    if "prepared" not in _MEMO:
        out = tmp_path_factory.mktemp("prep") / "ds"
        cfg = PrepareConfig(frames=10, size=64, min_frames=4, test_fraction=0.3)
        _MEMO["prepared"] = out, cfg, prepare(source, out, cfg, workers=2, progress=False)
    return _MEMO["prepared"]


def test_sample_indices_even():
    assert list(sample_indices(100, 5)) == [0, 25, 50, 74, 99]
    assert list(sample_indices(3, 5)) == [0, 1, 2]


def test_discover_layouts(tmp_path):
    (tmp_path / "id001" / "vidA").mkdir(parents=True)
    (tmp_path / "id001" / "vidA" / "00001.mp4").write_bytes(b"")
    (tmp_path / "frames_clip").mkdir()
    (tmp_path / "frames_clip" / "0001.png").write_bytes(b"")
    (tmp_path / "solo.mp4").write_bytes(b"")
    clips = {c.video: c.identity for c in discover(tmp_path)}
    assert clips == {"id001__vidA__00001": "id001", "frames_clip": "frames_clip", "solo": "solo"}
    with pytest.raises(TalkbenchError):
        discover(tmp_path / "missing")


def test_crops_hold_the_face(prepared, shared_videos):
    out, cfg, summary = prepared
    ds = FaceDataset(out)
    assert ds.source == "videos" and ds.size == 64
    assert summary["prepared"] == 7 and summary["backend"] == ["dlib"]
    assert ds.identity("person_x__clip1") == "person_x"
    assert ds.meta["config"]["backend_used"] == ["dlib"]
    for video in ds.videos():
        frames, marks = ds.load(video)
        assert frames.shape[1:] == (64, 64, 3) and len(frames) >= 4
        assert (marks >= -1).all() and (marks <= 65).all()  # landmarks inside the crop
        iod = np.linalg.norm(marks[:, 36] - marks[:, 45], axis=1)
        assert ((iod > 12) & (iod < 32)).all()  # a face ~ half the crop wide, as the margin says
        # the crop is not uniform: a face has contrast where its landmarks are
        assert frames.std() > 10
    assert set(ds.index.identity[ds.index.split == "train"]).isdisjoint(ds.index.identity[ds.index.split == "test"])


def test_bad_clips_skipped_with_reasons(prepared):
    out, _, summary = prepared
    skipped = pd.read_csv(out / "skipped.csv").set_index("source")["reason"]
    assert summary["skipped"] == 3
    assert "corrupt" in skipped["corrupt.mp4"]
    assert skipped["noface.mp4"].startswith("no face")
    assert skipped["short.mp4"].startswith("too short")


def test_stage_timing_and_resume(prepared, source):
    out, cfg, summary = prepared
    assert summary["frames_per_s"] > 0 and all(summary["stage_s"][k] > 0 for k in ("decode", "detect", "landmarks", "write"))
    index = (out / "index.csv").read_text()
    again = prepare(source, out, cfg, workers=1, progress=False)
    assert again["run_clips"] == 0 and again["prepared"] == summary["prepared"]
    assert (out / "index.csv").read_text() == index
    with pytest.raises(TalkbenchError, match="another config"):
        prepare(source, out, PrepareConfig(frames=11, min_frames=4), progress=False)


def test_prepared_data_feeds_episodes(prepared):
    ds = FaceDataset(prepared[0])
    item = MetaEpisodes(ds, k=4)[0]
    assert item["shots"].shape == (4, 3, 64, 64)
    cases = few_shot_cases(ds, shots=(1, 4), n_heldout=4, n_cross=2)
    assert cases and all(c.heldout_frames.shape == (4, 64, 64, 3) for c in cases)


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["prepare", str(tmp_path / "missing"), str(tmp_path / "out")]) == 2
    assert "is not a folder" in capsys.readouterr().err
