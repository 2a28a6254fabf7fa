"""Frames and landmarks for the few-shot CLIs from whatever the user has: a prepared
dataset video, a folder of raw images, a video file, or a landmarks ``.npy``.

Raw images and videos go through the same face pipeline as `talkbench prepare` (face
backend → 68 landmarks → one square crop around the face for the whole set, stable across
frames → resize to the model's size), so a few-shot model sees inputs like its training data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from talkbench.data.crop import LANDMARK_MARGIN, crop_to_landmarks
from talkbench.errors import TalkbenchError
from talkbench.media import VIDEO_SUFFIXES, list_images, read_image, read_video


def crop_faces(frames: list[np.ndarray], size: int, backend: str = "auto",
               margin: float = LANDMARK_MARGIN) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Crop every frame where a face is found: (crops uint8 N×S×S×3, landmarks N×68×2 in
    crop pixels, indices of the frames kept)."""
    from talkbench.faces import create_backend

    be = create_backend(backend, "landmarks")
    marks = be.landmarks_auto(frames)
    keep = [i for i, m in enumerate(marks) if m is not None]
    if not keep:
        raise TalkbenchError(f"no face found in any of the {len(frames)} frames (backend {be.name})")
    pts = np.stack([m for m in marks if m is not None]).astype(np.float64)
    crops, local = crop_to_landmarks([frames[i] for i in keep], pts, size, margin)
    return crops, local, keep


def evenly(n: int, k: int) -> np.ndarray:
    """``k`` indices spread evenly over ``range(n)``."""
    if k > n:
        raise TalkbenchError(f"asked for {k} frames but only {n} are available")
    return np.linspace(0, n - 1, k).round().astype(int)


def dataset_video(root: Path, video: str | None, split: str = "test") -> tuple[np.ndarray, np.ndarray, str]:
    """(frames, landmarks, video id) of a prepared dataset's video (default: its first
    ``split`` video)."""
    from talkbench.data.dataset import FaceDataset

    ds = FaceDataset(root)
    if video is None:
        videos = ds.videos(split) or ds.videos(None)
        video = videos[0]
    frames, landmarks = ds.load(video)
    return frames, landmarks, video


def is_dataset(path: Path) -> bool:
    return path.is_dir() and (path / "meta.json").is_file()


def shots_from(path: Path, size: int, shots: int, video: str | None = None,
               backend: str = "auto") -> tuple[np.ndarray, np.ndarray, str]:
    """T shot frames + landmarks from a prepared dataset video or a folder of raw images
    (evenly spaced when more are available); also a description of the source."""
    if is_dataset(path):
        frames, landmarks, vid = dataset_video(path, video)
        idx = evenly(len(frames), shots)
        return frames[idx], landmarks[idx], f"{path}:{vid} frames {idx.tolist()}"
    if path.is_dir():
        files = list_images(path)
        if not files:
            raise TalkbenchError(f"{path} holds no images")
        crops, marks, keep = crop_faces([read_image(f) for f in files], size, backend)
        idx = evenly(len(crops), shots)
        return crops[idx], marks[idx], f"{path}: {', '.join(files[keep[i]].name for i in idx)}"
    raise TalkbenchError(f"--frames {path}: expected a prepared dataset folder or a folder of images")


def driver_landmarks(path: Path, size: int, video: str | None = None, backend: str = "auto",
                     max_frames: int | None = None) -> tuple[np.ndarray, float, np.ndarray | None]:
    """Driving landmarks (N×68×2 in an S-px crop), frame rate, and the driver's frames
    (ground truth for self-reenactment; None for a .npy)."""
    if path.suffix == ".npy":
        try:
            marks = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:  # object arrays (pickles), truncated or not .npy
            raise TalkbenchError(f"{path}: not a numeric .npy array of landmarks ({exc})") from None
        if marks.dtype.kind not in "iuf":
            raise TalkbenchError(f"{path}: landmarks must be numbers, got dtype {marks.dtype}")
        if marks.ndim != 3 or marks.shape[1:] != (68, 2) or len(marks) == 0:
            raise TalkbenchError(f"{path}: landmarks must be N×68×2 with N >= 1, got {marks.shape}")
        return marks[:max_frames].astype(np.float32), 25.0, None
    if is_dataset(path):
        frames, marks, _ = dataset_video(path, video)
        if frames.shape[1] != size:  # the frames are no ground truth at another size
            return (marks * (size / frames.shape[1]))[:max_frames], 25.0, None
        return marks[:max_frames], 25.0, frames[:max_frames]
    if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
        frames, fps = read_video(path, max_frames)
        crops, marks, _ = crop_faces(list(frames), size, backend)
        return marks, fps, crops
    raise TalkbenchError(f"--driver {path}: expected a landmarks .npy, a prepared dataset folder or a video file")
