"""Landmark images: palette per part, closed contours, sizes, batching, bad input."""

import numpy as np
import pytest

from talkbench.data import face3d
from talkbench.generator.landmark_image import PARTS, draw_landmarks, line_width, to_tensor_range


def _face(size: int) -> np.ndarray:
    xy = face3d.project(face3d.MEAN_POINTS, 0, 0, 0, size / 270.0, (size / 2, size / 2))
    return xy[:68].astype(np.float32)


@pytest.mark.parametrize("size", [64, 128, 256])
def test_every_part_drawn_in_its_colour_at_its_place(size):
    marks = _face(size)
    img = draw_landmarks(marks, size)
    assert img.shape == (size, size, 3) and img.dtype == np.uint8
    px = img.reshape(-1, 3).astype(np.float64)
    for name, lo, hi, closed, colour in PARTS:
        c = np.array(colour, np.float64)
        # anti-aliased strokes are the part's colour scaled by coverage: same direction in RGB
        cos = px @ c / (np.linalg.norm(px, axis=1) * np.linalg.norm(c) + 1e-9)
        hit = ((cos > 0.998) & (px @ c / (c @ c) > 0.4)).reshape(size, size)
        assert hit.sum() > 0, name
        ys, xs = np.nonzero(hit)
        pts = marks[lo:hi + 1]
        # every pixel of the part's colour lies within the part's bounding box (± the stroke)
        pad = line_width(size) + 1.5
        assert xs.min() >= pts[:, 0].min() - pad and xs.max() <= pts[:, 0].max() + pad, name
        assert ys.min() >= pts[:, 1].min() - pad and ys.max() <= pts[:, 1].max() + pad, name
    # background stays black
    assert (img.sum(-1) == 0).mean() > 0.8


def test_closed_eye_contour_joins_last_to_first_point():
    size = 256
    marks = np.zeros((68, 2), np.float32) - 100  # everything off-image ...
    eye = np.array([[60, 128], [90, 100], [130, 100], [160, 128], [130, 156], [90, 156]], np.float32)
    marks[36:42] = eye  # ... but the right eye
    img = draw_landmarks(marks, size)
    colour = np.array(dict((p[0], p[4]) for p in PARTS)["right_eye"], np.uint8)
    # the segment 41 -> 36 (closing the contour) passes through (75, 142)
    assert np.all(img[142, 73:78] == colour, axis=-1).any()


def test_batch_matches_single_and_nan_gives_black():
    marks = np.stack([_face(64), _face(64) + 3.0, np.full((68, 2), np.nan, np.float32)])
    batch = draw_landmarks(marks, 64)
    assert batch.shape == (3, 64, 64, 3)
    np.testing.assert_array_equal(batch[0], draw_landmarks(marks[0], 64))
    np.testing.assert_array_equal(batch[1], draw_landmarks(marks[1], 64))
    assert batch[2].max() == 0
    assert not np.array_equal(batch[0], batch[1])


def test_line_width_scales_with_size():
    assert line_width(256) == 2 and line_width(64) == 1 and line_width(512) == 4


def test_bad_shape_rejected():
    with pytest.raises(ValueError):
        draw_landmarks(np.zeros((5, 2)), 64)


def test_tensor_range():
    x = to_tensor_range(np.array([[[[0, 255, 127]]]], np.uint8))
    assert x.shape == (1, 3, 1, 1) and x.min() == -1.0 and x.max() == 1.0
