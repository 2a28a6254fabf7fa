"""Progress bars, and the one switch that turns them all off: ``TALKBENCH_NO_PROGRESS=1`` in
the environment, which ``--no-progress`` (an option of every ``talkbench`` command) sets for
the command, so worker processes inherit it. A caller's own ``progress=False`` (or ``--quiet``) also turns its bar off."""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

from tqdm.auto import tqdm

ENV = "TALKBENCH_NO_PROGRESS"


def progress_enabled(requested: bool = True) -> bool:
    """Whether to draw a bar: the caller asked for one and progress is not off for the session."""
    return requested and os.environ.get(ENV, "").strip().lower() in ("", "0", "false", "no")


@contextlib.contextmanager
def progress_off() -> Iterator[None]:
    """Progress bars off inside the block, in this process and the ones it starts
    (``--no-progress``); the environment is as before afterwards."""
    before = os.environ.get(ENV)
    os.environ[ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ[ENV]
        else:
            os.environ[ENV] = before


def progress_bar(iterable: Any = None, *, enabled: bool = True, **kwargs: Any) -> tqdm:
    """``tqdm(iterable, **kwargs)``, silent unless :func:`progress_enabled` (``enabled``)."""
    return tqdm(iterable, disable=not progress_enabled(enabled), **kwargs)
