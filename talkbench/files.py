"""Atomic file writes: finished work is never left half-written by a crash or a kill."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from talkbench.errors import TalkbenchError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


# what atomic_path names its temporaries: .NAME.PID.XXXXXXXX.tmpSUFFIX (older versions wrote no PID)
_TEMPORARY = re.compile(r"^\.(?P<name>.+?)(?:\.(?P<pid>\d+))?\.[a-z0-9_]{8}\.tmp")
_CLEANED: set[str] = set()  # folders already swept by this process


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporaries :func:`atomic_path` left in ``folder`` when their writer was
    killed (SIGKILL runs no cleanup): those named with the id of a process that no longer
    exists, and unnamed ones (older talkbench) over an hour old. Returns what was removed."""
    removed = []
    with os.scandir(folder) as entries:
        for entry in entries:
            m = _TEMPORARY.match(entry.name)
            if not m or not entry.is_file(follow_symlinks=False):
                continue
            try:
                pid = m.group("pid")
                stale = not _alive(int(pid)) if pid else time.time() - entry.stat().st_mtime > 3600
                if stale:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
            except FileNotFoundError:  # another process cleaned it first
                continue
    return removed


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``
    (atomic on POSIX), on failure removed. Temporaries of killed earlier writers in the same
    folder are removed first, so an interrupted checkpoint write does not stay on disk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if str(path.parent) not in _CLEANED:  # once per folder and process: writes stay O(1)
        remove_stale_temporaries(path.parent)
        _CLEANED.add(str(path.parent))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode())


def write_json(path: str | Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def read_json(path: str | Path) -> Any:
    """The JSON in ``path``; a damaged file is a one-line TalkbenchError naming it."""
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TalkbenchError(f"{path} is not valid JSON (damaged or not written by talkbench): {exc}") from None


def save_torch_file(obj: Any, path: str | Path) -> None:
    """``torch.save`` atomically, and byte for byte the same for the same object: torch names
    the zip's inner folder after the file it writes, so saving to the temporary path would
    put a random name into the file (and into its sha256, which manifests record); saved to
    a buffer the folder is always "archive". A full or failing disk is an OSError."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(path, buffer.getvalue())


def load_torch_file(path: str | Path, what: str) -> Any:
    """``torch.load(path, weights_only=True)`` on CPU: no pickled code can run, and a missing,
    truncated or foreign file becomes a one-line :class:`TalkbenchError` naming ``what``."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise TalkbenchError(f"{what} {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip errors of a truncated, foreign or hostile file
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise TalkbenchError(f"cannot read {what} {path}: {first}") from None
    return json.loads(Path(path).read_text())


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """A file-name-safe id from any string (identity or video names from a source tree)."""
    name = _SAFE.sub("_", text).strip("._")
    if not name:
        raise TalkbenchError(f"cannot make a file name from {text!r}")
    return name
