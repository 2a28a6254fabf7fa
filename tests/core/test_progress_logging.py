"""The one progress switch (TALKBENCH_NO_PROGRESS, `--no-progress` on every command) and the
library's messages going through `logging`."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from talkbench.cli import main
from talkbench.media import write_png
from talkbench.progress import ENV, progress_bar, progress_enabled, progress_off


@pytest.mark.parametrize("value, on", [(None, True), ("", True), ("0", True), ("1", False), ("yes", False)])
def test_the_environment_turns_every_bar_off(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, value)
    assert progress_enabled() is on and progress_enabled(False) is False
    assert progress_bar(range(3)).disable is not on
    assert progress_bar(range(3), enabled=False).disable


def test_progress_off_restores_the_environment(monkeypatch):
    monkeypatch.setenv(ENV, "0")
    with progress_off():
        assert not progress_enabled()
    assert os.environ[ENV] == "0"
    monkeypatch.delenv(ENV)
    with progress_off():
        assert not progress_enabled()
    assert ENV not in os.environ


def test_no_progress_flag_is_honoured_by_any_command(tmp_path, capsys, monkeypatch):
    """`talkbench provenance` draws a bar for 20 files or more; --no-progress silences it."""
    monkeypatch.delenv(ENV, raising=False)
    files = []
    for i in range(20):
        files.append(tmp_path / f"{i}.png")
        write_png(files[-1], np.full((16, 16, 3), i, np.uint8))
    main(["provenance", *map(str, files)])
    assert "provenance: 100%" in capsys.readouterr().err
    main(["provenance", "--no-progress", *map(str, files)])
    assert "provenance:" not in capsys.readouterr().err
    assert ENV not in os.environ


def test_library_warnings_go_through_logging(tmp_path, caplog):
    from talkbench.checksum import verify_weights

    with caplog.at_level(logging.WARNING, logger="talkbench"):
        verify_weights({"w": np.zeros(2)}, ["w"], tmp_path / "old.pt")
    assert [r.name for r in caplog.records] == ["talkbench.checksum"] and "no weights checksum" in caplog.text
