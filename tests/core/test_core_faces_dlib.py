"""The offline dlib backend on real photos: detection, 68 landmarks, identity embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from tests.core.core_faces_helpers import GROUP, PORTRAITS, load, shifted_rescaled
from talkbench.errors import TalkbenchError
from talkbench.faces import create_backend


@pytest.fixture(scope="module")
def dlib_backend():
    return create_backend("dlib", "landmarks")


def test_group_photo_has_several_faces_with_landmarks_in_boxes(shared_images, dlib_backend):
    img = load(shared_images, GROUP, 1280)
    det = dlib_backend.detect([img])[0]
    assert len(det) >= 4, det.boxes
    assert np.all(np.diff(det.scores) <= 0)
    lms = dlib_backend.landmarks([img] * len(det), list(det.boxes))
    for box, lm in zip(det.boxes, lms):
        assert lm.shape == (68, 2) and lm.dtype == np.float32
        w, h = box[2] - box[0], box[3] - box[1]
        # every point within the box grown by 25 % (dlib boxes cut the chin), the eyes inside it
        assert np.all((lm[:, 0] > box[0] - w / 4) & (lm[:, 0] < box[2] + w / 4)), (box, lm)
        assert np.all((lm[:, 1] > box[1] - h / 4) & (lm[:, 1] < box[3] + h / 4)), (box, lm)
        eyes = lm[36:48]
        assert np.all((eyes >= box[:2]) & (eyes <= box[2:]))
        assert lm[36:42, 0].mean() < lm[42:48, 0].mean()  # iBUG order: subject's right eye on image left


def test_portraits_one_face_each(shared_images, dlib_backend):
    imgs = [load(shared_images, n, 480) for n in PORTRAITS[:3]]
    lms = dlib_backend.landmarks_auto(imgs)
    assert all(lm is not None and lm.shape == (68, 2) for lm in lms)
    assert dlib_backend.landmarks([imgs[0]], [None]) == [None]


def test_identity_embedding_separates_people(shared_images, dlib_backend):
    a, b = load(shared_images, PORTRAITS[0], 480), load(shared_images, PORTRAITS[1], 480)
    emb = dlib_backend.embed([a, shifted_rescaled(a), b, np.zeros((120, 120, 3), np.uint8)])
    assert emb.shape == (4, 128) and dlib_backend.weights_used() == ["dlib-landmarks68", "dlib-face-recognition"]
    np.testing.assert_allclose(np.linalg.norm(emb[:3], axis=1), 1.0, atol=1e-5)
    assert np.isnan(emb[3]).all()  # no face: a NaN row, never a made-up vector
    same, other = emb[0] @ emb[1], emb[0] @ emb[2]
    assert same > 0.95 and other < same - 0.05, (same, other)


def test_registry_errors_are_one_line():
    with pytest.raises(TalkbenchError, match="unknown face backend 'nope'"):
        create_backend("nope")
    with pytest.raises(TalkbenchError, match="cannot do 'embed'"):
        create_backend("fan", "embed")


def test_each_image_is_analysed_once(shared_images, dlib_backend, monkeypatch):
    """Detection and embedding are memoised by pixel content: a second look at the same
    frame (another metric, another setting) gives the same answer without running dlib."""
    from talkbench.faces import dlib_backend as module

    img = load(shared_images, PORTRAITS[0], 480)
    first_boxes, first_emb = dlib_backend.detect([img])[0].boxes, dlib_backend.embed([img])
    assert len(first_boxes) == 1 and np.isfinite(first_emb).all()

    def fail(*args, **kwargs):
        raise AssertionError("dlib ran again on an image it had analysed")

    monkeypatch.setattr(dlib_backend, "_detector", type("D", (), {"run": staticmethod(fail)})())
    monkeypatch.setattr(module, "face_descriptor", fail)
    assert np.array_equal(dlib_backend.detect([img.copy()])[0].boxes, first_boxes)
    assert np.array_equal(dlib_backend.embed([img.copy()]), first_emb)
    other = img.copy()
    other[0, 0] ^= 1  # one pixel differs: analysed afresh
    with pytest.raises(AssertionError, match="ran again"):
        dlib_backend.detect([other])
    assert module.image_digest(img) != module.image_digest(other)


def test_descriptors_from_worker_processes_equal_this_process(shared_images, monkeypatch):
    """dlib holds the GIL while it embeds, so a large batch goes to worker processes
    (dlib_pool): the same descriptors, bit for bit and in order, as computed here."""
    from talkbench.faces import dlib_pool
    from talkbench.faces.dlib_backend import face_descriptor

    backend = create_backend("dlib", "embed")
    images = [shifted_rescaled(load(shared_images, name, 200), dx, dy, 1.0)
              for name in PORTRAITS for dx, dy in ((0, 0), (4, 0), (0, 4), (-4, 0), (0, -4), (6, 6), (-6, -6))]
    found = [(img, tuple(float(v) for v in box)) for img, box in zip(images, backend.largest_faces(images))
             if box is not None]
    assert len(found) >= dlib_pool.MIN_FACES
    monkeypatch.setenv("TALKBENCH_THREADS", "2")
    try:
        pooled = dlib_pool.descriptors([img for img, _ in found], [box for _, box in found], 0)
        assert dlib_pool.running_workers() == 2  # the batch did go to the workers
    finally:
        dlib_pool.shutdown()
    here = [face_descriptor(img, box, 0) for img, box in found]
    assert len(pooled) == len(here) and all(np.array_equal(a, b) for a, b in zip(pooled, here))
    assert len({a.tobytes() for a in here}) >= 0.9 * len(here)  # distinct faces: the order is checked too


def test_broken_workers_fall_back_to_this_process_once_and_say_so(shared_images, monkeypatch, caplog):
    """Workers that cannot run (spawn re-running a user's unguarded script, a killed worker):
    the faces are embedded here, with a warning, and no pool is tried again."""
    from concurrent.futures.process import BrokenProcessPool

    from talkbench.faces import dlib_pool
    from talkbench.faces.dlib_backend import face_descriptor

    tried = []

    class Broken:
        def map(self, *args):
            tried.append(1)
            raise BrokenProcessPool("a child process terminated abruptly")

    backend = create_backend("dlib", "embed")
    img = load(shared_images, PORTRAITS[0], 200)
    box = tuple(float(v) for v in backend.largest_faces([img])[0])
    monkeypatch.setattr(dlib_pool, "_executor", lambda n: Broken())
    monkeypatch.setattr(dlib_pool, "_broken", "")
    monkeypatch.setenv("TALKBENCH_THREADS", "2")
    jobs = [img] * dlib_pool.MIN_FACES
    with caplog.at_level("WARNING", logger="talkbench"):
        first = dlib_pool.descriptors(jobs, [box] * len(jobs), 0)
        second = dlib_pool.descriptors(jobs, [box] * len(jobs), 0)
    expected = face_descriptor(img, box, 0)
    assert all(np.array_equal(d, expected) for d in first + second) and len(first) == len(jobs)
    assert tried == [1]  # not tried again after it broke
    assert "run in this process" in caplog.text and "__main__" in caplog.text
