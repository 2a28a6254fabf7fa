"""Hostile requests against the study server (issue 12, item 7): writes from another site
are refused, /start needs its form's token, and a study takes a bounded number of people."""

from __future__ import annotations

import sqlite3

import pytest

from talkbench.errors import TalkbenchError
from talkbench.study.app import create_app, db_path


def _token(client) -> str:
    return client.application.extensions["talkbench_study"]["start_token"]


def _participants(run) -> int:
    if not db_path(run).is_file():
        return 0
    with sqlite3.connect(db_path(run)) as con:
        return con.execute("SELECT COUNT(*) FROM participants").fetchone()[0]


@pytest.fixture
def client(run_dir):
    return create_app(run_dir, trials_per_participant=6, attention_checks=1, seed=0, max_participants=3).test_client()


def test_start_from_another_site_is_refused(client, run_dir):
    cases = {
        "no token": ({}, {}),
        "wrong token": ({"csrf": "x" * 32}, {}),
        "foreign Origin": ({"csrf": _token(client)}, {"Origin": "http://evil.example"}),
        "foreign Referer": ({"csrf": _token(client)}, {"Referer": "http://evil.example/page"}),
        "other port": ({"csrf": _token(client)}, {"Origin": "http://localhost:9999"}),
        "cross-site fetch": ({"csrf": _token(client)}, {"Sec-Fetch-Site": "cross-site"}),
    }
    for name, (data, headers) in cases.items():
        resp = client.post("/start", data=data, headers=headers)
        assert resp.status_code == 403, name
    assert _participants(run_dir) == 0
    ok = client.post("/start", data={"csrf": _token(client)}, headers={"Origin": "http://localhost"})
    assert ok.status_code == 303 and _participants(run_dir) == 1


def test_answer_from_another_site_is_refused(client, run_dir, current_answer):
    pid = client.post("/start", data={"csrf": _token(client)}).headers["Location"].rsplit("/", 1)[1]
    client.get(f"/p/{pid}")
    idx, answer, _ = current_answer(run_dir, pid)
    evil = client.post(f"/p/{pid}/answer", data={"trial": idx, "choice": answer},
                       headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403
    with sqlite3.connect(db_path(run_dir)) as con:
        assert con.execute("SELECT COUNT(*) FROM trials WHERE choice IS NOT NULL").fetchone()[0] == 0
    assert client.post(f"/p/{pid}/answer", data={"trial": idx, "choice": answer}).status_code == 303


def test_participant_cap(client, run_dir):
    codes = [client.post("/start", data={"csrf": _token(client)}).status_code for _ in range(6)]
    assert codes == [303, 303, 303, 403, 403, 403]
    assert _participants(run_dir) == 3
    assert b"full" in client.post("/start", data={"csrf": _token(client)}).data


def test_cap_must_be_positive(run_dir):
    with pytest.raises(TalkbenchError, match="max_participants"):
        create_app(run_dir, max_participants=0)
