"""Responses in SQLite: one committed transaction per click, so a restart loses nothing.

WAL mode lets participants' requests read while one writes; each operation borrows a
connection from a small pool (one thread at a time per connection; reopening per request
would make SQLite checkpoint and drop the WAL on every close) and writes under
``BEGIN IMMEDIATE``, so two clicks on the same trial cannot both be recorded, whatever the
number of server threads or processes.
"""

from __future__ import annotations

import contextlib
import enum
import json
import queue
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from talkbench.study.trials import Trial

SCHEMA = """
CREATE TABLE IF NOT EXISTS participants (
    pid      TEXT PRIMARY KEY,
    number   INTEGER NOT NULL UNIQUE,
    created  REAL NOT NULL,
    n_trials INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    pid      TEXT NOT NULL REFERENCES participants(pid),
    idx      INTEGER NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('test', 'attention')),
    setting  TEXT,
    identity TEXT NOT NULL,
    video    TEXT NOT NULL,
    images   TEXT NOT NULL,             -- JSON list of three opaque image ids, display order
    answer   INTEGER NOT NULL,          -- position of the fake (or broken) image
    shown    REAL,                      -- first time the trial page was served
    choice   INTEGER CHECK (choice BETWEEN 0 AND 2),
    correct  INTEGER,
    answered REAL,
    rt_ms    REAL,
    PRIMARY KEY (pid, idx)
);
"""


class Outcome(enum.Enum):
    RECORDED = "recorded"
    NO_PARTICIPANT = "unknown participant"
    NO_TRIAL = "unknown trial"
    ALREADY_ANSWERED = "trial already answered"
    NOT_CURRENT = "not the current trial"


@dataclass(frozen=True)
class TrialRow:
    idx: int
    kind: str
    setting: str | None
    images: tuple[str, str, str]
    answer: int
    choice: int | None


class Store:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            con = self._idle.get_nowait()
        except queue.Empty:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA synchronous=FULL")
            con.execute("PRAGMA foreign_keys=ON")
        try:
            yield con
        finally:
            self._idle.put(con)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def create_participant(self, sample: Callable[[int, dict[tuple[str, str], int]], list[Trial]],
                           limit: int | None = None) -> str | None:
        """A new participant with the trials ``sample(number, exposure)`` draws; ``exposure``
        counts the test trials already handed out per (setting, identity), read in the same
        transaction, so concurrent participants still balance. None when the study already
        has ``limit`` participants (checked in that transaction too)."""
        pid = secrets.token_urlsafe(9)
        with self._write() as con:
            if limit is not None and con.execute("SELECT COUNT(*) FROM participants").fetchone()[0] >= limit:
                return None
            number = con.execute("SELECT COALESCE(MAX(number), -1) + 1 FROM participants").fetchone()[0]
            exposure = {(s, i): n for s, i, n in con.execute(
                "SELECT setting, identity, COUNT(*) FROM trials WHERE kind = 'test' GROUP BY setting, identity")}
            trials = sample(number, exposure)
            con.execute("INSERT INTO participants VALUES (?, ?, ?, ?)", (pid, number, time.time(), len(trials)))
            con.executemany(
                "INSERT INTO trials (pid, idx, kind, setting, identity, video, images, answer) VALUES (?,?,?,?,?,?,?,?)",
                [(pid, i, t.kind, t.setting, t.identity, t.video, json.dumps(list(t.images)), t.answer)
                 for i, t in enumerate(trials)])
        return pid

    def progress(self, pid: str) -> tuple[int, int] | None:
        """(answered, total) trials, or None for an unknown participant."""
        with self._connect() as con:
            row = con.execute("SELECT n_trials FROM participants WHERE pid = ?", (pid,)).fetchone()
            if row is None:
                return None
            done = con.execute("SELECT COUNT(*) FROM trials WHERE pid = ? AND choice IS NOT NULL", (pid,)).fetchone()[0]
        return done, row[0]

    def current_trial(self, pid: str) -> TrialRow | None:
        """The first unanswered trial (its first showing time recorded), None when all are done."""
        with self._write() as con:
            row = con.execute("SELECT idx, kind, setting, images, answer, choice FROM trials "
                              "WHERE pid = ? AND choice IS NULL ORDER BY idx LIMIT 1", (pid,)).fetchone()
            if row is None:
                return None
            con.execute("UPDATE trials SET shown = ? WHERE pid = ? AND idx = ? AND shown IS NULL", (time.time(), pid, row[0]))
        idx, kind, setting, images, answer, choice = row
        return TrialRow(idx, kind, setting, tuple(json.loads(images)), answer, choice)

    def record_answer(self, pid: str, idx: int, choice: int) -> Outcome:
        """Record one click; only the participant's current, already shown trial accepts it."""
        now = time.time()
        with self._write() as con:
            if con.execute("SELECT 1 FROM participants WHERE pid = ?", (pid,)).fetchone() is None:
                return Outcome.NO_PARTICIPANT
            row = con.execute("SELECT answer, shown, choice FROM trials WHERE pid = ? AND idx = ?", (pid, idx)).fetchone()
            if row is None:
                return Outcome.NO_TRIAL
            answer, shown, previous = row
            if previous is not None:
                return Outcome.ALREADY_ANSWERED
            current = con.execute("SELECT MIN(idx) FROM trials WHERE pid = ? AND choice IS NULL", (pid,)).fetchone()[0]
            if idx != current or shown is None:
                return Outcome.NOT_CURRENT
            con.execute("UPDATE trials SET choice = ?, correct = ?, answered = ?, rt_ms = ? WHERE pid = ? AND idx = ?",
                        (choice, int(choice == answer), now, (now - shown) * 1000.0, pid, idx))
        return Outcome.RECORDED

    def responses(self) -> list[dict]:
        """Every answered trial: pid, participant number and trial count, idx, kind, setting,
        identity, video, choice, answer, correct, rt_ms."""
        with self._connect() as con:
            cur = con.cursor()
            cur.row_factory = sqlite3.Row
            rows = cur.execute(
                "SELECT t.pid, p.number, p.n_trials, t.idx, t.kind, t.setting, t.identity, t.video, t.choice, t.answer, "
                "t.correct, t.rt_ms FROM trials t JOIN participants p USING (pid) "
                "WHERE t.choice IS NOT NULL ORDER BY p.number, t.idx").fetchall()
        return [dict(r) for r in rows]
