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
