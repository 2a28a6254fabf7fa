"""SHA-256 of the weights inside every checkpoint and detector file, written with the file
and checked when it is loaded. Zip and safetensors containers do not check their payload,
so a flipped byte in a weight would otherwise load fine and render black frames.

Example::

    state = {"G": g.state_dict(), "psi": psi, "step": 10}
    stamp_weights(state, ("G", "psi"))           # adds state["weights_sha256"]
    torch.save(state, path)
    ...
    state = load_tagged(path, "checkpoint", ("G", "psi"))  # raises on a foreign file or mismatch
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from talkbench.errors import TalkbenchError
from talkbench.files import load_torch_file

KEY = "weights_sha256"
log = logging.getLogger(__name__)


def _update(h: "hashlib._Hash", name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for k in sorted(value, key=str):
            _update(h, f"{name}.{k}", value[k])
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _update(h, f"{name}.{i}", v)
        return
    import torch  # lazily: the spectral detector's files hold only numpy arrays

    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value)
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    else:  # plain scalars and strings (optimizer hyper-parameters, names)
        h.update(f"{name}|{value!r}|".encode())


def weights_sha256(weights: Mapping[str, Any]) -> str:
    """Hex SHA-256 over every tensor/array of ``weights`` (nested mappings and lists allowed):
    name, dtype, shape and bytes, in sorted-name order, so it does not depend on dict order."""
    h = hashlib.sha256()
    _update(h, "", weights)
    return h.hexdigest()


def stamp_weights(state: dict, keys: Iterable[str]) -> dict:
    """Store the checksum of ``state[k] for k in keys`` as ``state["weights_sha256"]``."""
    state[KEY] = weights_sha256({k: state[k] for k in keys})
    return state


def verify_weights(state: Mapping[str, Any], keys: Iterable[str], path: str | Path) -> None:
    """Refuse ``path`` when its weights do not match the checksum it was written with.

    A file without a checksum (written before talkbench stored one) is accepted with a
    one-line warning, since nothing can be verified either way."""
    expected = state.get(KEY)
    keys = list(keys)
    missing = [k for k in keys if k not in state]
    if missing:
        raise TalkbenchError(f"{path} lacks {', '.join(missing)}: not a complete talkbench file")
    if expected is None:
        log.warning("%s carries no weights checksum (older file); its weights cannot be verified", path)
        return
    if weights_sha256({k: state[k] for k in keys}) != expected:
        raise TalkbenchError(f"{path}: the weights do not match the checksum stored with them "
                             "(file corrupted or edited); re-create it")


def load_tagged(path: str | Path, what: str, weights: Iterable[str], is_kind: Callable[[dict], bool] = lambda s: True,
                not_kind: str = "") -> dict:
    """A file talkbench wrote with ``stamp_weights`` (checkpoints, models, detectors), read the
    one safe way: ``weights_only`` load (a foreign or truncated file is a one-line error naming
    ``what``), then ``is_kind`` (its format tag or keys; else ``not_kind`` is the error), then
    the checksum of its ``weights``."""
    state = load_torch_file(path, what)
    if not isinstance(state, dict) or not is_kind(state):
        raise TalkbenchError(not_kind or f"{path} is not a talkbench {what}")
    verify_weights(state, weights, path)
    return state
