"""Real face crops from ../shared (dlib, offline) and visibly manipulated copies of them,
built once per session: the labelled data the detector tests learn from."""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from talkbench.data.crop import face_crop, face_crops
from talkbench.media import list_images, read_image, read_video

CROP = 64
FRAMES_PER_VIDEO = 16


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield


def _real_crops(images_dir: Path, videos_dir: Path) -> tuple[np.ndarray, pd.DataFrame]:
    """64 px crops of every face: one identity per video (frames spread over its first
    seconds) and per face of each photo."""
    from talkbench.faces import create_backend

    backend = create_backend("dlib", "detect", upsample=0)
    crops, rows = [], []
    for video in sorted(videos_dir.glob("*.mp4")):
        frames, _ = read_video(video, max_frames=FRAMES_PER_VIDEO * 4)
        frames = frames[::4]
        c, found = face_crops(frames, backend, CROP)
        crops.append(c[found])
        rows += [{"identity": video.stem, "video": video.stem, "frame": i} for i in np.flatnonzero(found)]
    photo_backend = create_backend("dlib", "detect", upsample=1)
    for path in list_images(images_dir):
        img = read_image(path)
        for k, box in enumerate(photo_backend.detect([img])[0].boxes):
            crops.append(face_crop(img, box, CROP)[None])
            rows.append({"identity": f"{path.stem}_{k}", "video": f"{path.stem}_{k}", "frame": 0})
    return np.concatenate(crops), pd.DataFrame(rows)


def manipulate(crops: np.ndarray, seed: int = 0) -> np.ndarray:
    """A generator-like forgery of each crop: detail lost (2× down-sampling), nearest-neighbour
    up-sampling (the checkerboard of transposed convolutions), and a small smooth warp."""
    rng = np.random.default_rng(seed)
    out = np.empty_like(crops)
    yy, xx = np.mgrid[0:CROP, 0:CROP].astype(np.float32)
    for i, img in enumerate(crops):
        small = cv2.resize(img, (CROP // 2, CROP // 2), interpolation=cv2.INTER_AREA)
        up = cv2.resize(small, (CROP, CROP), interpolation=cv2.INTER_NEAREST)
        amp, phase = rng.uniform(0.5, 1.5), rng.uniform(0, 2 * np.pi)
        mx = xx + amp * np.sin(yy / 9 + phase)
        my = yy + amp * np.cos(xx / 11 + phase)
        out[i] = cv2.remap(up, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out


@functools.lru_cache(maxsize=1)
def _cached_real_crops(images_dir: Path, videos_dir: Path) -> tuple[np.ndarray, pd.DataFrame]:
    return _real_crops(images_dir, videos_dir)


@pytest.fixture
def face_set(shared_images, shared_videos) -> tuple[np.ndarray, pd.DataFrame]:
    """(real crops, table with identity/video/frame); built once per session."""
    return _cached_real_crops(shared_images, shared_videos)


@pytest.fixture
def forgery_set(face_set) -> tuple[np.ndarray, pd.DataFrame]:
    """Real crops and their manipulated copies (same identities), split by identity."""
    from talkbench.detector.data import split_by_identity

    crops, table = face_set
    images = np.concatenate([crops, manipulate(crops)])
    labelled = pd.concat([table.assign(label=0, setting="real", kind=""),
                          table.assign(label=1, setting="fake", kind="")], ignore_index=True)
    return images, split_by_identity(labelled, seed=0)
