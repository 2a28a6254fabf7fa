"""The study's web API through Flask's test client: trials, answers, bad input, restarts,
concurrent participants."""

from __future__ import annotations

import collections
import io
import sqlite3
import threading

import pytest
from PIL import Image

from talkbench.errors import TalkbenchError
from talkbench.media import read_image
from talkbench.study.app import create_app
from talkbench.study.trials import load_or_register


@pytest.fixture
def app(run_dir):
    return create_app(run_dir, trials_per_participant=6, attention_checks=1, seed=0)


def start(client) -> str:
    resp = client.post("/start", data={"csrf": client.application.extensions["talkbench_study"]["start_token"]})
    assert resp.status_code == 303
    return resp.headers["Location"].rsplit("/", 1)[1]


def study_files(run) -> list[str]:
    return sorted(str(p.relative_to(run)) for p in (run / "study").rglob("*") if p.suffix != ".sqlite-shm")


def test_pages_and_images(app, run_dir):
    client = app.test_client()
    index = client.get("/")
    assert index.status_code == 200 and b"one was generated" in index.data
    assert "default-src 'none'" in index.headers["Content-Security-Policy"]
    pid = start(client)
    page = client.get(f"/p/{pid}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Screen 1 of 7" in text and pid in text
    ids = [line.split("/image/")[1].split('"')[0] for line in text.splitlines() if "/image/" in line]
    reg = app.extensions["talkbench_study"]["registry"]
    assert len(ids) == 3 and all(i in reg.images for i in ids)
    for image_id in ids:
        resp = client.get(f"/image/{image_id}")
        assert resp.status_code == 200 and resp.mimetype == "image/png"
        with Image.open(io.BytesIO(resp.data)) as im:
            assert not im.text, "served images must not carry the provenance that gives the answer away"
            pixels = im.convert("RGB")
            assert pixels.tobytes() == read_image(run_dir / reg.images[image_id]).tobytes()


def test_answers_are_recorded_until_the_thank_you_page(app, run_dir, current_answer):
    client = app.test_client()
    pid = start(client)
    for n in range(7):
        assert f"Screen {n + 1} of 7" in client.get(f"/p/{pid}").get_data(as_text=True)
        idx, answer, _ = current_answer(run_dir, pid)
        choice = answer if n % 2 == 0 else (answer + 1) % 3
        resp = client.post(f"/p/{pid}/answer", data={"trial": idx, "choice": choice})
        assert resp.status_code == 303 and resp.headers["Location"] == f"/p/{pid}"
    done = client.get(f"/p/{pid}")
    assert b"Thank you" in done.data and pid.encode() in done.data
    con = sqlite3.connect(run_dir / "study" / "responses.sqlite")
    rows = con.execute("SELECT idx, choice, answer, correct, rt_ms FROM trials WHERE pid = ? ORDER BY idx", (pid,)).fetchall()
    assert [r[3] for r in rows] == [1, 0, 1, 0, 1, 0, 1]
    assert all(r[3] == int(r[1] == r[2]) and r[4] >= 0 for r in rows)


def test_bad_input_is_rejected_and_writes_nothing(app, run_dir, current_answer, db_rows):
    client = app.test_client()
    pid = start(client)
    client.get(f"/p/{pid}")
    idx, answer, _ = current_answer(run_dir, pid)
    assert client.post(f"/p/{pid}/answer", data={"trial": idx, "choice": answer}).status_code == 303
    client.get(f"/p/{pid}")
    before, files = db_rows(run_dir), study_files(run_dir)
    url = f"/p/{pid}/answer"
    cases = {
        "double answer": (url, {"data": {"trial": idx, "choice": 0}}, 409),
        "future trial": (url, {"data": {"trial": idx + 2, "choice": 0}}, 409),
        "unknown trial": (url, {"data": {"trial": 999, "choice": 0}}, 404),
        "unknown participant": ("/p/nobody/answer", {"data": {"trial": 1, "choice": 0}}, 404),
        "missing choice": (url, {"data": {"trial": idx + 1}}, 400),
        "choice out of range": (url, {"data": {"trial": idx + 1, "choice": 3}}, 400),
        "negative choice": (url, {"data": {"trial": idx + 1, "choice": -1}}, 400),
        "float choice": (url, {"data": {"trial": idx + 1, "choice": "1.0"}}, 400),
        "unicode digits": (url, {"data": {"trial": idx + 1, "choice": "\u0661"}}, 400),
        "trial path": (url, {"data": {"trial": "../1", "choice": 0}}, 400),
        "json body": (url, {"json": {"trial": idx + 1, "choice": 0}}, 400),
        "garbage body": (url, {"data": b"\xff\x00garbage", "content_type": "application/octet-stream"}, 400),
        "huge body": (url, {"data": {"trial": idx + 1, "choice": "0" * 10000}}, 413),
    }
    for name, (path, kwargs, status) in cases.items():
        assert client.post(path, **kwargs).status_code == status, name
    for path in ["/image/../../etc/passwd", "/image/..%2F..%2Fetc%2Fpasswd", "/image/%2Fetc%2Fpasswd",
                 "/image//etc/passwd", "/image/..", "/image/%2e%2e", "/image/registry.json",
                 "/image/" + "a" * 65, "/static/../study/registry.json", "/static/..%2f..%2fstudy%2fregistry.json",
                 f"/p/{pid}/../../etc/passwd", "/p/..%2f..%2fetc"]:
        resp = client.get(path)
        assert 400 <= resp.status_code < 500 and b"root:" not in resp.data and b"images" not in resp.data, path
    assert client.get("/start").status_code == 405
    assert db_rows(run_dir) == before and study_files(run_dir) == files


def test_restart_loses_nothing(app, run_dir, current_answer):
    client = app.test_client()
    pid = start(client)
    for _ in range(3):
        client.get(f"/p/{pid}")
        idx, answer, _ = current_answer(run_dir, pid)
        client.post(f"/p/{pid}/answer", data={"trial": idx, "choice": answer})
    fresh = create_app(run_dir, trials_per_participant=6, attention_checks=1, seed=0).test_client()
    assert "Screen 4 of 7" in fresh.get(f"/p/{pid}").get_data(as_text=True)
    idx, answer, _ = current_answer(run_dir, pid)
    assert idx == 3
    assert fresh.post(f"/p/{pid}/answer", data={"trial": 2, "choice": 0}).status_code == 409
    assert fresh.post(f"/p/{pid}/answer", data={"trial": idx, "choice": answer}).status_code == 303


def test_concurrent_participants(app, run_dir, current_answer):
    """Eight participants at once, half through a second app instance on the same database
    (as a second server process would be)."""
    n_people, errors, pids = 8, [], []
    apps = [app, create_app(run_dir, trials_per_participant=6, attention_checks=1, seed=0)]

    def participant(k):
        try:
            client = apps[k % 2].test_client()
            pid = start(client)
            pids.append(pid)
            while b"Thank you" not in (page := client.get(f"/p/{pid}")).data:
                assert page.status_code == 200
                idx, answer, _ = current_answer(run_dir, pid)
                assert client.post(f"/p/{pid}/answer", data={"trial": idx, "choice": answer}).status_code == 303
        except Exception as exc:  # re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=participant, args=(k,)) for k in range(n_people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    con = sqlite3.connect(run_dir / "study" / "responses.sqlite")
    numbers = [r[0] for r in con.execute("SELECT number FROM participants")]
    assert sorted(numbers) == list(range(n_people))
    assert con.execute("SELECT COUNT(*), SUM(correct) FROM trials WHERE choice IS NOT NULL").fetchone() == (56, 56)
    exposure = collections.Counter(con.execute("SELECT setting, identity FROM trials WHERE kind = 'test'").fetchall())
    assert len(exposure) == 12 and max(exposure.values()) - min(exposure.values()) <= 1


def test_simultaneous_double_click_records_once(app, run_dir, current_answer):
    client = app.test_client()
    pid = start(client)
    client.get(f"/p/{pid}")
    idx, answer, _ = current_answer(run_dir, pid)
    barrier, codes = threading.Barrier(6), []

    def click(choice):
        c = app.test_client()
        barrier.wait()
        codes.append(c.post(f"/p/{pid}/answer", data={"trial": idx, "choice": choice}).status_code)

    threads = [threading.Thread(target=click, args=(k % 3,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [303] + [409] * 5
    con = sqlite3.connect(run_dir / "study" / "responses.sqlite")
    assert con.execute("SELECT COUNT(*) FROM trials WHERE pid = ? AND choice IS NOT NULL", (pid,)).fetchone() == (1,)


def test_bad_settings_fail_at_start(run_dir):
    with pytest.raises(TalkbenchError):
        create_app(run_dir, trials_per_participant=0)
    load_or_register(run_dir)  # the failed start left a usable registry
