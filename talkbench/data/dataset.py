"""The prepared face dataset on disk (docs/CONTRACTS.md, "Prepared face dataset"): read it
(`FaceDataset`) and write it (`write_video_arrays` per video, then `write_index`). Synthetic and real data share the format, so
everything downstream is agnostic to where the frames came from.

    DATASET/meta.json, index.csv, skipped.csv (prepare only),
    videos/<video>.frames.npy (uint8 N×S×S×3), videos/<video>.landmarks.npy (float32 N×68×2)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path, read_json, safe_name, write_json, write_text

FORMAT = "talkbench-faces"
VERSION = 1
INDEX_COLUMNS = ["identity", "video", "n_frames", "size", "split", "source"]
SPLITS = ("train", "test")
def frames_path(root: Path, video: str) -> Path:
    return Path(root) / "videos" / f"{video}.frames.npy"


def landmarks_path(root: Path, video: str) -> Path:
    return Path(root) / "videos" / f"{video}.landmarks.npy"


def split_identities(identities: Iterable[str], test_fraction: float, seed: int) -> dict[str, str]:
    """Identity-disjoint split: a seeded ``test_fraction`` of the (sorted, unique) identities
    are 'test', the rest 'train'; at least one of each when there are two or more."""
    ids = sorted(set(identities))
    if not 0.0 <= test_fraction < 1.0:
        raise TalkbenchError(f"test fraction must be in [0, 1), got {test_fraction}")
    n_test = int(round(test_fraction * len(ids)))
    if len(ids) >= 2 and test_fraction > 0:
        n_test = min(max(n_test, 1), len(ids) - 1)
    order = np.random.default_rng(seed).permutation(len(ids))
    test = {ids[i] for i in order[:n_test]}
    return {i: ("test" if i in test else "train") for i in ids}


@dataclasses.dataclass
class VideoRecord:
    """One row of index.csv."""

    identity: str
    video: str
    n_frames: int
    size: int
    split: str
    source: str


def write_video_arrays(root: Path, video: str, frames: np.ndarray, landmarks: np.ndarray) -> None:
    """Write one video's frames and landmarks atomically (landmarks last: their presence
    marks the video as finished, which is what resuming checks)."""
    frames = np.asarray(frames)
    landmarks = np.asarray(landmarks, np.float32)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3 or frames.shape[1] != frames.shape[2]:
        raise ValueError(f"frames must be uint8 N×S×S×3, got {frames.dtype} {frames.shape}")
    if landmarks.shape != (len(frames), 68, 2):
        raise ValueError(f"landmarks must be {len(frames)}×68×2, got {landmarks.shape}")
    for path, arr in ((frames_path(root, video), frames), (landmarks_path(root, video), landmarks)):
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, np.ascontiguousarray(arr))


def video_is_written(root: Path, video: str) -> bool:
    return frames_path(root, video).is_file() and landmarks_path(root, video).is_file()


def write_index(root: Path, records: Iterable[VideoRecord], size: int, source: str,
                config: dict[str, Any], provenance: dict[str, str] | None = None,
                skipped: list[tuple[str, str]] | None = None) -> None:
    """Write index.csv, meta.json (and skipped.csv when given) for the videos already on disk."""
    rows = [dataclasses.asdict(r) for r in records]
    index = pd.DataFrame(rows, columns=INDEX_COLUMNS).sort_values(["split", "identity", "video"])
    if index["video"].duplicated().any():
        raise ValueError("video ids must be unique across the dataset")
    if index.groupby("identity")["split"].nunique().gt(1).any():
        raise ValueError("an identity appears in both splits")
    write_text(Path(root) / "index.csv", index.to_csv(index=False))
    if skipped is not None:
        write_text(Path(root) / "skipped.csv", pd.DataFrame(skipped, columns=["source", "reason"]).to_csv(index=False))
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, "size": int(size), "source": source}
    if provenance is not None:
        meta["provenance"] = provenance
    meta["config"] = config
    meta["counts"] = {s: {"identities": int(index.loc[index.split == s, "identity"].nunique()),
                          "videos": int((index.split == s).sum()),
                          "frames": int(index.loc[index.split == s, "n_frames"].sum())} for s in SPLITS}
    write_json(Path(root) / "meta.json", meta)


class FaceDataset:
    """Read access to a prepared face dataset (synthetic or real)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        meta_file = self.root / "meta.json"
        if not meta_file.is_file():
            raise TalkbenchError(f"{self.root} is not a prepared face dataset (no meta.json); "
                                 "make one with `talkbench synth` or `talkbench prepare`")
        self.meta: dict[str, Any] = read_json(meta_file)
        if self.meta.get("format") != FORMAT or self.meta.get("version") != VERSION:
            raise TalkbenchError(f"{meta_file}: format {self.meta.get('format')!r} v{self.meta.get('version')} "
                                 f"is not {FORMAT} v{VERSION}")
        self.size = int(self.meta["size"])
        self.source = str(self.meta["source"])
        self.index = pd.read_csv(self.root / "index.csv", dtype={"identity": str, "video": str, "source": str},
                                 keep_default_na=False)
        missing = set(INDEX_COLUMNS) - set(self.index.columns)
        if missing:
            raise TalkbenchError(f"{self.root / 'index.csv'} lacks columns {sorted(missing)}")
        self._by_video = self.index.set_index("video")

    def __repr__(self) -> str:
        return (f"FaceDataset({str(self.root)!r}, size={self.size}, source={self.source!r}, "
                f"videos={len(self.index)}, identities={self.index.identity.nunique()})")

    def videos(self, split: str | None = None) -> list[str]:
        """Video ids of a split ('train' / 'test'; None: all), in index order (sorted)."""
        if split is None:
            return list(self.index["video"])
        if split not in SPLITS:
            raise TalkbenchError(f"split must be one of {SPLITS}, not {split!r}")
        return list(self.index.loc[self.index.split == split, "video"])

    def identity(self, video: str) -> str:
        return str(self._by_video.at[video, "identity"])

    def n_frames(self, video: str) -> int:
        return int(self._by_video.at[video, "n_frames"])

    def load(self, video: str, mmap: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(frames uint8 N×S×S×3, landmarks float32 N×68×2). ``mmap=True`` maps the frames
        read-only instead of reading them, for loaders that take a few frames per video."""
        if video not in self._by_video.index:
            raise TalkbenchError(f"video {video!r} is not in {self.root / 'index.csv'}")
        frames = np.load(frames_path(self.root, video), mmap_mode="r" if mmap else None)
        landmarks = np.load(landmarks_path(self.root, video))
        return frames, landmarks
