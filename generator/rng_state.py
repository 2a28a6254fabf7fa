"""The process's random number generators (torch, CUDA, Python, NumPy's legacy global) as
plain tensors and lists, so a checkpoint holds them under ``weights_only=True`` loading and
``--resume`` continues from the very state the interrupted run had."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def rng_state() -> dict[str, Any]:
    """Every global generator's state, in types ``torch.load(weights_only=True)`` accepts."""
    np_state = np.random.get_state(legacy=True)
    if not isinstance(np_state, tuple):
        raise RuntimeError("numpy's legacy RNG state should be a tuple")
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
             "python_pos": random.getstate()[2] if random.getstate()[2] is not None else -1,
             "numpy": torch.from_numpy(np_state[1].astype(np.int64)), "numpy_pos": int(np_state[2])}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured (CUDA only where it was captured and is here)."""
    torch.set_rng_state(state["torch"])
    pos = state["python_pos"]
    random.setstate((3, tuple(state["python"]), None if pos == -1 else pos))
    # has_gauss = 0, cached_gaussian = 0.0: what numpy fills in for a 3-tuple state
    np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), int(state["numpy_pos"]), 0, 0.0))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
