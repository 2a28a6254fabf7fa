"""Device selection and seeding, the one place runs decide where and how randomly to work."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
from typing import Iterator

import numpy as np
import torch


def select_device(preference: str = "auto") -> torch.device:
    """Return the device to run on: ``auto`` picks cuda > mps > cpu; anything else is taken
    as given (``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""
    if preference != "auto":
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices) so a run is repeatable."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def cpu_threads() -> int:
    """The cores a run may use: $TALKBENCH_THREADS, else all of them."""
    return int(os.environ.get("TALKBENCH_THREADS", "0")) or os.cpu_count() or 1


def configure_threads(threads: int | None = None) -> int:
    """Use ``threads`` intra-op threads (default: :func:`cpu_threads`)."""
    n = threads or cpu_threads()
    torch.set_num_threads(n)
    return n


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block on ``threads`` intra-op threads, then restore the count."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def compile_module(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``torch.compile(module)`` (inductor), refused up front where it cannot build: on the CPU
    inductor writes C++ and needs a compiler ($CXX, g++, clang++ or c++), and without one it
    would fail at the first step, after the run had started."""
    from talkbench.errors import TalkbenchError

    if device.type == "cpu" and not any(shutil.which(c) for c in (os.environ.get("CXX", ""), "g++", "clang++", "c++") if c):
        raise TalkbenchError("compile=true needs a C++ compiler on the CPU (torch.compile's inductor writes C++): "
                             "install g++ or clang++ (or set $CXX), or train with compile=false")
    return torch.compile(module)  # type: ignore[return-value]


def describe_device(device: torch.device) -> dict:
    """A JSON-able description for manifests and `talkbench doctor`."""
    info: dict = {"type": device.type}
    if device.type == "cuda":
        idx = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(idx)
        info.update(name=props.name, memory_gib=round(props.total_memory / 2**30, 1),
                    capability=f"{props.major}.{props.minor}", count=torch.cuda.device_count())
    elif device.type == "cpu":
        info.update(threads=torch.get_num_threads(), cores=os.cpu_count())
    return info
