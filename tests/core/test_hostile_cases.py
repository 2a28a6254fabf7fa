"""Every command against hostile-but-realistic input (tests/hostile_cases.py): none may end in a
traceback, a misleading error, a wrong success or code execution. Run with the rest, it also
catches the cases that break when some other part changes (the script itself broke on
channels_last checkpoints, unnoticed, while it was only run by hand)."""

from __future__ import annotations

import pytest

from tests.conftest import shared_path
from tests.hostile_cases import BAD, run_cases

pytestmark = [pytest.mark.slow,
              # torch's weights-only unpickler meeting the planted payload: the refusal is the point
              pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")]


def test_no_hostile_input_ends_badly():
    shared_path("data", "videos")  # the prepare, import and kill cases read the shared videos
    rows = run_cases()
    assert len(rows) > 60  # the cases ran (73 without the disk cases, 2026-12-05)
    bad = [f"{kind}: {name}: {detail[:300]}" for name, kind, detail in rows if kind in BAD]
    assert not bad, "\n".join(bad)
