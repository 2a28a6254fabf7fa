"""Media I/O: provenance survives PNG and mp4 round trips; any image reads as RGB uint8."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from talkbench.errors import TalkbenchError
from talkbench.media import (image_grid, read_image, read_png_provenance, read_video, read_video_provenance, write_png,
                             write_video)
from talkbench.provenance import provenance


def test_png_provenance_round_trip(tmp_path, rng):
    img = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
    meta = provenance(generator="fewshot-ft", config_fingerprint="0123456789abcdef", T=8)
    write_png(tmp_path / "a.png", img, meta)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), img)
    assert read_png_provenance(tmp_path / "a.png") == meta
    assert meta["synthetic"] == "true" and meta["T"] == "8"


def test_mp4_provenance_round_trip(tmp_path, rng):
    frames = [np.full((33, 47, 3), v, np.uint8) for v in (20, 120, 220)]
    meta = provenance(generator="fewshot-ff", config_fingerprint="fedcba9876543210")
    write_video(tmp_path / "a.mp4", frames, fps=25, meta=meta)
    video, fps = read_video(tmp_path / "a.mp4")
    assert video.shape[0] == 3 and video.shape[3] == 3 and fps == 25
    assert np.abs(video[:, :33, :47].astype(int).mean(axis=(1, 2, 3)) - [20, 120, 220]).max() < 4
    assert read_video_provenance(tmp_path / "a.mp4") == meta


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_any_image_reads_as_rgb(tmp_path, rng, mode):
    src = Image.fromarray(rng.integers(0, 255, (10, 12, 3), dtype=np.uint8)).convert(mode)
    src.save(tmp_path / "x.png")
    img = read_image(tmp_path / "x.png")
    assert img.shape == (10, 12, 3) and img.dtype == np.uint8


def test_unreadable_files_are_one_line_errors(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not a png")
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(TalkbenchError, match="cannot read image"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(TalkbenchError, match="bad.mp4"):
        read_video(tmp_path / "bad.mp4")


def test_image_grid_places_tiles_row_by_row():
    """The one sample-grid builder (training, evaluation, benchmark): rows × columns tiles."""
    tiles = [[np.full((4, 6, 3), 10 * r + c, np.uint8) for c in range(5)] for r in range(3)]
    grid = image_grid(tiles)
    assert grid.shape == (3 * 4, 5 * 6, 3) and grid.dtype == np.uint8
    assert grid[4 * 2 + 1, 6 * 3 + 2, 0] == 23 and grid[0, 0, 0] == 0 and grid[-1, -1, 2] == 24


def test_image_grid_rejects_ragged_input():
    a, b = np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8)
    with pytest.raises(TalkbenchError, match="one size"):
        image_grid([[a, b]])
    with pytest.raises(TalkbenchError, match="one length"):
        image_grid([[a, a], [a]])
    with pytest.raises(TalkbenchError, match="at least one tile"):
        image_grid([])
