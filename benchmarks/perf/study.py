"""Throughput of the study's hot path: one click = the trial page (first showing recorded)
plus the answer (one durable SQLite transaction), through the whole Flask app.

Anchor: the same two durable transactions (WAL, synchronous=FULL) issued bare with sqlite3
on the same disk, the machine's limit for a click that is saved before the reply. The ratio
is the share of that limit the app reaches; image serving (re-encoded once, then cached) is
reported beside a bare Flask route returning the same bytes.

    python -m talkbench.benchmarks.perf.study [--clicks 400]
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
from flask import Flask, Response

from talkbench.config import bounded
from talkbench.contracts import FRAME_COLUMNS, setting_name
from talkbench.media import write_png
from talkbench.study.app import create_app, db_path


def make_run(root: Path, people: int = 8, frames: int = 6, size: int = 64) -> Path:
    """A run directory in the runner's layout: two settings of random frames."""
    rng = np.random.default_rng(0)
    rows = []
    for mode, t in (("FF", 1), ("FT", 8)):
        setting = setting_name(mode, t)
        for p in range(people):
            for f in range(frames):
                for kind in ("fake", "real"):
                    rel = f"{setting}/self/p{p}__v{p}/{f:04d}_{kind}.png"
                    write_png(root / "generated" / rel, rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
                rows.append([setting, mode, t, "self", f"p{p}", f"v{p}", f,
                             f"{setting}/self/p{p}__v{p}/{f:04d}_fake.png", f"{setting}/self/p{p}__v{p}/{f:04d}_real.png", ""])
    with (root / "generated" / "frames.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FRAME_COLUMNS)
        w.writerows(rows)
    return root


def app_clicks(run: Path, clicks: int) -> float:
    """Clicks/s: GET the trial page, POST the right answer, until ``clicks`` are recorded."""
    app = create_app(run, trials_per_participant=40, attention_checks=0)
    client = app.test_client()
    con = sqlite3.connect(db_path(run))
    done, pid, t0 = 0, None, time.perf_counter()
    while done < clicks:
        if pid is None or done % 40 == 0:
            pid = client.post("/start").headers["Location"].rsplit("/", 1)[1]
        client.get(f"/p/{pid}")
        idx, answer = con.execute("SELECT idx, answer FROM trials WHERE pid = ? AND choice IS NULL ORDER BY idx LIMIT 1",
                                  (pid,)).fetchone()
        assert client.post(f"/p/{pid}/answer", data={"trial": idx, "choice": answer}).status_code == 303
        done += 1
    return clicks / (time.perf_counter() - t0)


def bare_clicks(path: Path, clicks: int) -> float:
    """The same two durable transactions per click, issued directly."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE t (idx INTEGER PRIMARY KEY, shown REAL, choice INTEGER, answered REAL)")
    con.executemany("INSERT INTO t (idx) VALUES (?)", [(i,) for i in range(clicks)])
    t0 = time.perf_counter()
    for i in range(clicks):
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE t SET shown = ? WHERE idx = ? AND shown IS NULL", (time.time(), i))
        con.execute("COMMIT")
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE t SET choice = 0, answered = ? WHERE idx = ? AND choice IS NULL", (time.time(), i))
        con.execute("COMMIT")
    return clicks / (time.perf_counter() - t0)


def images_per_s(run: Path, n: int) -> tuple[float, float]:
    """(study app, bare Flask route) images/s for the same cached bytes."""
    app = create_app(run)
    client = app.test_client()
    ids = list(app.extensions["talkbench_study"]["registry"].images)
    blobs = {i: client.get(f"/image/{i}").data for i in ids}  # warm the cache
    t0 = time.perf_counter()
    for k in range(n):
        client.get(f"/image/{ids[k % len(ids)]}")
    ours = n / (time.perf_counter() - t0)
    bare = Flask("bare")
    bare.add_url_rule("/image/<image_id>", "image", lambda image_id: Response(blobs[image_id], mimetype="image/png"))
    client = bare.test_client()
    t0 = time.perf_counter()
    for k in range(n):
        client.get(f"/image/{ids[k % len(ids)]}")
    return ours, n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=bounded(int, 1), default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp) / "run")
        ours = app_clicks(run, args.clicks)
        limit = bare_clicks(Path(tmp) / "bare.sqlite", args.clicks)
        img, img_bare = images_per_s(run, 4 * args.clicks)
    print(f"clicks (page + durable answer): app {ours:8.1f}/s   bare sqlite {limit:8.1f}/s   ratio {ours / limit:.2f}")
    print(f"images (cached, re-encoded):    app {img:8.1f}/s   bare Flask  {img_bare:8.1f}/s   ratio {img / img_bare:.2f}")


if __name__ == "__main__":
    main()
