"""The one face crop (talkbench.data.crop) gives the boxes and pixels the three copies it
replaced gave: the values below were computed with the code before the merge (prepare's
clips.track_faces, face_input.crop_faces, detector.data.face_crop, predict's shrunk search)."""

import hashlib

import numpy as np

from talkbench.data.clips import read_clip
from talkbench.data.crop import (clip_square, crop_box, crop_to_landmarks, cut, face_crop, face_crops, largest_faces,
                                 to_square, track_faces)
from tests.conftest import shared_path


def _h(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def _ring(dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    return np.stack([100 + 40 * np.cos(t) + dx, 70 + 55 * np.sin(t) + dy], 1)


def test_geometry_and_pixels_on_a_synthetic_frame():
    img = np.random.default_rng(0).integers(0, 256, (150, 200, 3), dtype=np.uint8)
    assert crop_box(_ring(), 0.85).tolist() == [100.0, 59.0, 203.5]
    assert _h(cut(img, -20, 10, 120, 32)) == "92a73108a54a639f"  # edge-replicated on the left
    assert _h(face_crop(img, np.array([150., 20., 210., 90.]), 32, 0.4)) == "0112d0401cf1a5ec"
    assert (_h(to_square(img, 64)), _h(to_square(img, 256))) == ("7f52c0e175d99470", "0801cec0dc9acc28")
    frames = np.random.default_rng(0).integers(0, 256, (3, 150, 200, 3), dtype=np.uint8)
    pts = np.stack([_ring(3 * j, -2 * j) for j in range(3)])
    assert clip_square(pts, 0.85) == (1, -45, 204)
    crops, local = crop_to_landmarks(list(frames), pts, 32, 0.85)
    assert (_h(crops), _h(local)) == ("4f1accbd6bf22015", "e6eccaf95fcd1d93")


def test_real_frames_with_dlib():
    from talkbench.faces import create_backend
    from talkbench.faces.registry import process_backend
    from talkbench.generator.face_input import crop_faces

    frames = read_clip(shared_path("data", "videos", "tpsmm_driving.mp4"), 4)  # 410×412: shrunk for detection
    assert _h(frames) == "421f6e04b8ba7d6e"
    crops, local, keep, _ = track_faces(frames, process_backend("dlib"), 64, 0.85, 224, 1, 0.0)
    assert (_h(crops), _h(local), keep) == ("44ce6b313211b8bf", "7848521d3704f1ce", [0, 1, 2, 3])
    c, m, k = crop_faces(list(frames), 64, "dlib")
    assert (_h(c), _h(m), k) == ("cb4fca78ae308005", "742b82d4772900b4", [0, 1, 2, 3])
    det = create_backend("dlib", "detect")
    boxes = largest_faces(det, list(frames), 320)
    assert np.allclose(np.array(boxes, np.float64), [[104.2875, 126.175, 303.85, 325.7375],
                                                     [45.0625, 151.925, 284.5375, 391.4],
                                                     [72.1, 151.925, 311.575, 391.4],
                                                     [72.1, 151.925, 311.575, 391.4]], atol=1e-4)
    shrunk, found = face_crops(list(frames), det, 64, 0.4, 320)  # what detector.predict crops
    assert (_h(shrunk), found.tolist()) == ("0cfa9c64c4321ba4", [True] * 4)
    assert _h(face_crops(list(frames), det, 64)[0]) == "9e03ee3fd0d9316c"
