"""What the generator trains and is evaluated on, drawn from a `FaceDataset`:

- `MetaEpisodes`: meta-learning episodes (paper §3.2) — from one video, K frames with their
  landmark images plus a target frame and its landmark image;
- `few_shot_cases`: the few-shot protocol — per test video, T shot frames and held-out frames
  of the same video (self-reenactment, ground truth exists) plus driving landmarks of another
  identity (cross-reenactment). The held-out frames are the same for every T, and the shot
  sets are nested (the T=1 shot is among the T=8 shots ...), so settings compare like with like.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import torch

from talkbench.data.dataset import FaceDataset
from talkbench.errors import TalkbenchError
from talkbench.generator.landmark_image import draw_landmarks, to_tensor_range


class MetaEpisodes(torch.utils.data.Dataset):
    """One item per video of ``split`` (an epoch visits every video once). Item: dict with
    ``shots`` (K,3,S,S) and ``shot_landmarks`` (K,3,S,S), ``target`` and ``target_landmarks``
    (3,S,S), all float32 in [-1, 1], and ``video_index`` (int64, the video's position in
    ``dataset.videos(split)``, i.e. its column of the discriminator's W for 'train').

    Frames are drawn with an RNG seeded by (seed, epoch, index): deterministic, different
    every epoch once `set_epoch` is called, and independent of DataLoader worker order.
    The target is never one of the K shots (when the video has more than one frame)."""

    def __init__(self, dataset: FaceDataset, split: str = "train", k: int = 8, seed: int = 0) -> None:
        if k < 1:
            raise TalkbenchError(f"K must be at least 1, got {k}")
        self.dataset = dataset
        self.split = split
        self.k = int(k)
        self.seed = int(seed)
        self.epoch = 0
        self.video_ids = dataset.videos(split)
        if not self.video_ids:
            raise TalkbenchError(f"{dataset.root} has no '{split}' videos")

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.video_ids)

    def pick(self, index: int) -> tuple[np.ndarray, int]:
        """Frame indices of the K shots and of the target for item ``index``."""
        n = self.dataset.n_frames(self.video_ids[index])
        rng = np.random.default_rng([self.seed, self.epoch, index])
        if n > self.k:
            chosen = rng.choice(n, self.k + 1, replace=False)
            return np.sort(chosen[: self.k]), int(chosen[self.k])
        target = int(rng.integers(n))
        pool = np.delete(np.arange(n), target) if n > 1 else np.arange(n)
        return np.sort(rng.choice(pool, self.k, replace=True)), target

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        shots_idx, target_idx = self.pick(index)
        frames, landmarks = self.dataset.load(self.video_ids[index], mmap=True)
        idx = np.append(shots_idx, target_idx)
        images = to_tensor_range(np.asarray(frames[idx]))
        marks = to_tensor_range(draw_landmarks(landmarks[idx], self.dataset.size))
        return {
            "shots": torch.from_numpy(np.ascontiguousarray(images[: self.k])),
            "shot_landmarks": torch.from_numpy(np.ascontiguousarray(marks[: self.k])),
            "target": torch.from_numpy(np.ascontiguousarray(images[self.k])),
            "target_landmarks": torch.from_numpy(np.ascontiguousarray(marks[self.k])),
            "video_index": torch.tensor(index, dtype=torch.int64),
        }


@dataclasses.dataclass
class FewShotCase:
    """One (video, T) setting of the few-shot evaluation. Frames are uint8 RGB, landmarks
    float32 (x, y) pixels; the ``*_index`` fields are frame numbers within their video."""

    identity: str
    video: str
    T: int
    shot_frames: np.ndarray  # (T, S, S, 3)
    shot_landmarks: np.ndarray  # (T, 68, 2)
    heldout_frames: np.ndarray  # (H, S, S, 3)
    heldout_landmarks: np.ndarray  # (H, 68, 2)
    cross_landmarks: np.ndarray  # (C, 68, 2)
    cross_identity: str
    cross_video: str = ""
    shot_index: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    heldout_index: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    cross_index: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))


def few_shot_cases(dataset: FaceDataset, split: str = "test", shots: Sequence[int] = (1, 8, 32),
                   n_heldout: int = 8, n_cross: int = 8, seed: int = 0,
                   max_videos: int | None = None) -> list[FewShotCase]:
    """Cases for every video of ``split`` (first ``max_videos`` when given) × every T in
    ``shots``, ordered by video then T. Each video needs max(shots) + n_heldout frames.
    Cross-reenactment drivers come from another identity of the same split (from the other
    split when the split holds a single identity)."""
    shots = sorted({int(t) for t in shots})
    if not shots or shots[0] < 1 or n_heldout < 1 or n_cross < 0:
        raise TalkbenchError(f"need T >= 1 and n_heldout >= 1 (got shots={shots}, n_heldout={n_heldout})")
    videos = dataset.videos(split)[: max_videos]
    if not videos:
        raise TalkbenchError(f"{dataset.root} has no '{split}' videos")
    drivers = dataset.videos(split)
    if len({dataset.identity(v) for v in drivers}) < 2:
        drivers = dataset.videos(None)
    need = shots[-1] + n_heldout
    cases: list[FewShotCase] = []
    for vi, video in enumerate(videos):
        identity = dataset.identity(video)
        n = dataset.n_frames(video)
        if n < need:
            raise TalkbenchError(f"video {video} has {n} frames; T={shots[-1]} shots + {n_heldout} held-out "
                                 f"need {need} (prepare more frames per video, or use fewer shots)")
        rng = np.random.default_rng([seed, vi])
        order = rng.permutation(n)
        heldout_idx = np.sort(order[:n_heldout])
        shot_order = order[n_heldout:]
        others = [v for v in drivers if dataset.identity(v) != identity]
        if not others:
            raise TalkbenchError(f"{dataset.root} has no identity other than {identity} to drive cross-reenactment")
        cross_video = others[int(rng.integers(len(others)))]
        _, cross_marks = dataset.load(cross_video, mmap=True)
        cross_idx = np.sort(rng.choice(len(cross_marks), min(n_cross, len(cross_marks)), replace=False))
        frames, landmarks = dataset.load(video)
        for t in shots:
            shot_idx = np.sort(shot_order[:t])
            cases.append(FewShotCase(
                identity=identity, video=video, T=t,
                shot_frames=frames[shot_idx], shot_landmarks=landmarks[shot_idx],
                heldout_frames=frames[heldout_idx], heldout_landmarks=landmarks[heldout_idx],
                cross_landmarks=np.asarray(cross_marks[cross_idx]), cross_identity=dataset.identity(cross_video),
                cross_video=cross_video, shot_index=shot_idx, heldout_index=heldout_idx, cross_index=cross_idx))
    return cases
