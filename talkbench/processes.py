"""Worker processes that end when their parent does. A killed parent (SIGKILL, OOM killer)
runs no cleanup, and pool workers blocked on their task queue would otherwise run on as
orphans, holding CPU, memory and open files."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent() -> None:
    """Make this process receive SIGKILL when its parent exits (Linux: ``prctl``; elsewhere a
    daemon thread that polls the parent id). Use as a pool ``initializer``."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # the parent died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def run_resumable(jobs: Sequence[Any], key: Callable[[Any], str], marker: Callable[[Any], Path],
                  work: Callable[[Any], dict[str, Any]], workers: int = 1, desc: str = "", unit: str = "item",
                  progress: bool = True, start_method: str | None = None) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Outcomes by ``key(job)`` of a resumable batch (``talkbench prepare``, ``detect
    import``): a job whose ``marker(job)`` JSON exists was finished by an earlier run and is
    read back; the rest run through ``work`` (which records its marker atomically), in
    ``workers`` processes that die with the parent, started by ``start_method`` (the
    platform's default when None; "spawn" where the parent holds torch threads, which a
    forked child must not inherit). Returns (outcomes, keys of the jobs run now)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from talkbench.progress import progress_bar

    from talkbench.files import read_json

    results: dict[str, dict[str, Any]] = {}
    todo = []
    for job in jobs:
        if marker(job).is_file():
            results[key(job)] = read_json(marker(job))
        else:
            todo.append(job)
    with progress_bar(total=len(jobs), initial=len(jobs) - len(todo), desc=desc, unit=unit, enabled=progress) as bar:
        if workers <= 1 or len(todo) <= 1:
            for job in todo:
                results[key(job)] = work(job)
                bar.update()
        else:
            context = multiprocessing.get_context(start_method)
            with ProcessPoolExecutor(min(workers, len(todo)), context, initializer=die_with_parent) as pool:
                futures = {pool.submit(work, job): job for job in todo}
                for fut in as_completed(futures):
                    results[key(futures[fut])] = fut.result()
                    bar.update()
    return results, [key(job) for job in todo]


def workers_within_memory(wanted: int, bytes_each: float) -> int:
    """``wanted`` workers, or fewer where the memory available now would not hold that many
    at ``bytes_each`` apiece (never fewer than one): a many-core machine with little memory
    runs its pool slower instead of meeting the OOM killer."""
    import psutil

    return max(1, min(wanted, int(psutil.virtual_memory().available // bytes_each)))
