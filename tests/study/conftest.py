"""A small run directory in the benchmark runner's layout (docs/CONTRACTS.md, "Generated
frames"): per setting and clip, generated frames beside their ground-truth frames."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from talkbench.media import write_png
from talkbench.provenance import provenance

SETTINGS = (("FF", 1), ("FF", 8), ("FT", 8))
IDENTITIES = ("id00001", "id00002", "id00003", "id00004")
FRAMES = (3, 7, 11, 15, 19)
SIZE = 32


SKIN = ((224, 172, 140), (181, 129, 96), (240, 200, 170), (141, 96, 66))
BACKGROUND = ((70, 110, 160), (150, 170, 90), (120, 80, 130), (200, 150, 60))


def _face(identity: int, frame: int) -> np.ndarray:
    """A cartoon face per identity (skin, background) whose mouth and gaze move with the frame."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    img = np.zeros((SIZE, SIZE, 3)) + BACKGROUND[identity % 4]
    head = ((xx - 0.5) / 0.33) ** 2 + ((yy - 0.52) / 0.42) ** 2 < 1
    img[head] = SKIN[identity % 4]
    gaze = 0.03 * np.sin(frame)
    for ex in (0.38, 0.62):
        img[((xx - ex - gaze) / 0.06) ** 2 + ((yy - 0.42) / 0.04) ** 2 < 1] = (40, 30, 30)
    mouth = 0.02 + 0.04 * abs(np.sin(frame / 3))
    img[((xx - 0.5) / 0.14) ** 2 + ((yy - 0.7) / mouth) ** 2 < 1] = (150, 50, 60)
    return img.astype(np.uint8)


def _make_run(root: Path, settings=SETTINGS, identities=IDENTITIES, frames=FRAMES) -> Path:
    run = root / "run"
    gen = run / "generated"
    meta = provenance(generator="tests.study", config_fingerprint="0" * 16)
    rows = []
    for mode, t in settings:
        setting = f"{mode}_T{t}"
        for i, identity in enumerate(identities):
            video = f"vid{i}"
            clip = f"{setting}/self/{identity}__{video}"
            for f in frames:
                real = _face(i, f)
                fake = np.clip(real.astype(int) + 25, 0, 255).astype(np.uint8)
                write_png(gen / clip / f"{f:04d}_real.png", real)
                write_png(gen / clip / f"{f:04d}_fake.png", fake, meta)
                rows.append({"setting": setting, "mode": mode, "T": t, "kind": "self", "identity": identity,
                             "video": video, "frame": f, "fake_path": f"{clip}/{f:04d}_fake.png",
                             "real_path": f"{clip}/{f:04d}_real.png", "driver_identity": identity})
            rows.append({"setting": setting, "mode": mode, "T": t, "kind": "cross", "identity": identity,
                         "video": video, "frame": 0, "fake_path": f"{clip}/{frames[0]:04d}_fake.png",
                         "real_path": "", "driver_identity": identities[(i + 1) % len(identities)]})
    _write_frames_csv(run, rows)
    return run


def _write_frames_csv(run: Path, rows: list[dict]) -> None:
    path = run / "generated" / "frames.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _db_rows(run: Path) -> list[tuple]:
    """Every row of the study database (to prove that a rejected request wrote nothing)."""
    con = sqlite3.connect(run / "study" / "responses.sqlite")
    try:
        return (con.execute("SELECT * FROM participants ORDER BY pid").fetchall()
                + con.execute("SELECT * FROM trials ORDER BY pid, idx").fetchall())
    finally:
        con.close()


def _current_answer(run: Path, pid: str) -> tuple[int, int, str]:
    """(trial index, position of the odd image, kind) of a participant's current trial."""
    con = sqlite3.connect(run / "study" / "responses.sqlite")
    try:
        return con.execute("SELECT idx, answer, kind FROM trials WHERE pid = ? AND choice IS NULL "
                           "ORDER BY idx LIMIT 1", (pid,)).fetchone()
    finally:
        con.close()


@pytest.fixture
def run_dir(tmp_path) -> Path:
    return _make_run(tmp_path)


@pytest.fixture
def make_run():
    return _make_run


@pytest.fixture
def write_frames_csv():
    return _write_frames_csv


@pytest.fixture
def db_rows():
    return _db_rows


@pytest.fixture
def current_answer():
    return _current_answer
