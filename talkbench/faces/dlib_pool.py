"""dlib's face descriptors on every core. dlib holds the GIL while its ResNet runs (~60 ms a
face on one core, with no gain from batches or threads: measured), and the benchmark embeds
~1,000–1,600 new faces per stage, so the work is spread over worker processes. The workers
run the same dlib code on the same pixels, so the descriptors are bit for bit those of the
calling process (tested)."""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Sequence

import numpy as np

# Fewer new faces than this are embedded in the calling process: at ~60 ms a face, two workers
# would save under a second, and the first batch also pays their start (spawning, loading dlib's
# models; +0.25 s on perf.metrics' first 96 faces).
MIN_FACES = 32

_pool: ProcessPoolExecutor | None = None
_pool_workers = 0
_broken = ""  # why the workers could not run here: embed in this process from then on

log = logging.getLogger(__name__)


def workers() -> int:
    """Worker processes for descriptors: the cores this run may use (``$TALKBENCH_THREADS``,
    else all), and none inside a worker process (no pools within pools)."""
    from talkbench.device import cpu_threads

    return 1 if multiprocessing.parent_process() is not None else cpu_threads()


def _executor(n: int) -> ProcessPoolExecutor:
    """One pool per process, kept for the process's life (a stage embeds in many calls)."""
    global _pool, _pool_workers
    if _pool is None or _pool_workers != n:
        shutdown()
        from talkbench.processes import die_with_parent

        # spawn: the caller holds torch's threads, which a forked child must not inherit
        _pool = ProcessPoolExecutor(n, multiprocessing.get_context("spawn"), initializer=die_with_parent)
        _pool_workers = n
    return _pool


def running_workers() -> int:
    """Worker processes of this process's pool (0: none started)."""
    return _pool_workers if _pool is not None else 0


def shutdown() -> None:
    """Stop the pool's workers (they also stop when this process exits)."""
    global _pool, _pool_workers
    if _pool is not None:
        _pool.shutdown()
    _pool, _pool_workers = None, 0


def _describe(jobs: list[tuple[np.ndarray, tuple[float, ...]]], jitter: int) -> list[np.ndarray]:
    from talkbench.faces.dlib_backend import face_descriptor

    return [face_descriptor(img, box, jitter) for img, box in jobs]


def descriptors(images: Sequence[np.ndarray], boxes: Sequence[tuple[float, ...]], jitter: int) -> list[np.ndarray]:
    """dlib's 128-D descriptor of each (image, face box), in worker processes when there are
    enough faces and cores, else here."""
    global _broken
    jobs = list(zip(images, boxes))
    n = workers() if len(jobs) >= MIN_FACES and not _broken else 1
    if n <= 1:
        return _describe(jobs, jitter)
    k = n * 4  # chunks, interleaved so each holds about the same work
    out: list[np.ndarray] = [np.empty(0)] * len(jobs)
    try:
        for i, result in enumerate(_executor(n).map(_describe, [jobs[i::k] for i in range(k)], [jitter] * k)):
            out[i::k] = result
    except BrokenProcessPool as exc:  # e.g. a script without `if __name__ == "__main__":` re-run by spawn
        shutdown()
        _broken = str(exc) or type(exc).__name__
        log.warning("dlib's worker processes stopped (%s); face embeddings run in this process from now on "
                    "(a script that calls talkbench needs `if __name__ == \"__main__\":`)", _broken)
        return _describe(jobs, jitter)
    return out
