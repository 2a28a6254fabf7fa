"""Dataset reading, meta-learning episodes and few-shot cases on a tiny synthetic dataset."""

import numpy as np
import pytest
import torch

from talkbench.data.dataset import FaceDataset
from talkbench.data.synth import tiny_dataset
from talkbench.errors import TalkbenchError
from talkbench.generator.episodes import MetaEpisodes, few_shot_cases
from talkbench.generator.landmark_image import draw_landmarks


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> FaceDataset:
    return FaceDataset(tiny_dataset(tmp_path_factory.mktemp("tiny") / "ds"))


def test_dataset_format(tiny):
    assert tiny.size == 32 and tiny.source == "synthetic"
    idx = tiny.index
    assert list(idx.columns) == ["identity", "video", "n_frames", "size", "split", "source"]
    assert set(idx.split) == {"train", "test"}
    assert not set(idx[idx.split == "train"].identity) & set(idx[idx.split == "test"].identity)
    assert (idx[idx.split == "test"].n_frames >= 40).all()
    for video in tiny.videos():
        frames, marks = tiny.load(video)
        assert frames.dtype == np.uint8 and frames.shape == (tiny.n_frames(video), 32, 32, 3)
        assert marks.dtype == np.float32 and marks.shape == (len(frames), 68, 2)
    assert tiny.meta["provenance"]["generator"] == "talkbench-synth"


def test_not_a_dataset(tmp_path):
    with pytest.raises(TalkbenchError, match="meta.json"):
        FaceDataset(tmp_path)


def test_meta_episode_contents(tiny):
    ep = MetaEpisodes(tiny, k=8, seed=3)
    assert len(ep) == len(tiny.videos("train"))
    item = ep[1]
    assert item["shots"].shape == (8, 3, 32, 32) and item["shot_landmarks"].shape == (8, 3, 32, 32)
    assert item["target"].shape == (3, 32, 32) and item["target_landmarks"].shape == (3, 32, 32)
    assert item["video_index"].item() == 1 and item["video_index"].dtype == torch.int64
    for key in ("shots", "shot_landmarks", "target", "target_landmarks"):
        assert item[key].dtype == torch.float32 and item[key].min() >= -1 and item[key].max() <= 1
    shots_idx, target_idx = ep.pick(1)
    assert target_idx not in shots_idx and len(set(shots_idx)) == 8
    frames, marks = tiny.load(tiny.videos("train")[1])
    expect = torch.from_numpy(frames[target_idx]).permute(2, 0, 1).float() / 127.5 - 1
    torch.testing.assert_close(item["target"], expect)
    expect_lm = torch.from_numpy(draw_landmarks(marks[target_idx], 32)).permute(2, 0, 1).float() / 127.5 - 1
    torch.testing.assert_close(item["target_landmarks"], expect_lm)
    # deterministic per (seed, epoch); a new epoch draws other frames
    again = MetaEpisodes(tiny, k=8, seed=3)[1]
    torch.testing.assert_close(item["shots"], again["shots"])
    ep.set_epoch(1)
    assert not np.array_equal(ep.pick(1)[0], shots_idx) or ep.pick(1)[1] != target_idx


def test_meta_episodes_batch_through_dataloader(tiny):
    loader = torch.utils.data.DataLoader(MetaEpisodes(tiny, k=4), batch_size=3, shuffle=True)
    batch = next(iter(loader))
    assert batch["shots"].shape == (3, 4, 3, 32, 32) and batch["video_index"].shape == (3,)


def test_few_shot_cases(tiny):
    cases = few_shot_cases(tiny, shots=(1, 8, 32), n_heldout=8, n_cross=5, seed=0)
    test_videos = tiny.videos("test")
    assert len(cases) == 3 * len(test_videos)
    by_video = {}
    for c in cases:
        by_video.setdefault(c.video, []).append(c)
        assert c.shot_frames.shape == (c.T, 32, 32, 3) and c.shot_landmarks.shape == (c.T, 68, 2)
        assert c.heldout_frames.shape == (8, 32, 32, 3) and c.cross_landmarks.shape == (5, 68, 2)
        assert not set(c.shot_index) & set(c.heldout_index)
        assert c.cross_identity != c.identity
        frames, marks = tiny.load(c.video)
        np.testing.assert_array_equal(c.heldout_frames, frames[c.heldout_index])
        np.testing.assert_array_equal(c.shot_landmarks, marks[c.shot_index])
    for video, cs in by_video.items():
        assert [c.T for c in cs] == [1, 8, 32]
        # same held-out frames for every T; nested shots
        assert all(np.array_equal(c.heldout_index, cs[0].heldout_index) for c in cs)
        assert set(cs[0].shot_index) <= set(cs[1].shot_index) <= set(cs[2].shot_index)
    again = few_shot_cases(tiny, shots=(1, 8, 32), n_heldout=8, n_cross=5, seed=0)
    assert all(np.array_equal(a.shot_index, b.shot_index) and a.cross_video == b.cross_video for a, b in zip(cases, again))
    other = few_shot_cases(tiny, shots=(1, 8, 32), n_heldout=8, n_cross=5, seed=1)
    assert any(not np.array_equal(a.heldout_index, b.heldout_index) for a, b in zip(cases, other))


def test_few_shot_needs_enough_frames(tiny):
    with pytest.raises(TalkbenchError, match="frames"):
        few_shot_cases(tiny, shots=(1, 64))
