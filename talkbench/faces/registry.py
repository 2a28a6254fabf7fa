"""Backends by name, and ``auto``: the most paper-faithful backend whose weights are here."""

from __future__ import annotations

import importlib

from talkbench.errors import TalkbenchError
from talkbench.faces.base import Capability, FaceBackend

# name -> module that defines (and registers) it; imported only when asked for.
_MODULES = {
    "fan": "talkbench.faces.fan_backend",
    "insightface": "talkbench.faces.insightface_backend",
    "dlib": "talkbench.faces.dlib_backend",
}
# `auto` preference per capability, strongest / paper-faithful first.
PREFERENCE: dict[Capability, tuple[str, ...]] = {
    "landmarks": ("fan", "dlib"),
    "embed": ("insightface", "dlib"),
    "detect": ("insightface", "fan", "dlib"),
}
_REGISTRY: dict[str, type[FaceBackend]] = {}


def register_backend(cls: type[FaceBackend]) -> type[FaceBackend]:
    """Class decorator: make a backend creatable by its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def backend_class(name: str) -> type[FaceBackend]:
    if name not in _MODULES and name not in _REGISTRY:
        raise TalkbenchError(f"unknown face backend '{name}'; known: auto, {', '.join(_MODULES)}")
    if name not in _REGISTRY:
        importlib.import_module(_MODULES[name])
    return _REGISTRY[name]


def available_backends(capability: Capability | None = None) -> dict[str, tuple[bool, str]]:
    """name -> (usable here for ``capability``, or for everything when None?, reason)."""
    out = {}
    for name in _MODULES:
        try:
            out[name] = backend_class(name).availability(capability)
        except ImportError as exc:
            out[name] = (False, f"cannot import: {exc}")
    return out


def create_backend(name: str = "auto", capability: Capability = "landmarks", **kwargs) -> FaceBackend:
    """Instantiate a backend. ``auto`` picks the first available one in PREFERENCE for the
    capability; the chosen backend's ``name`` says which it was."""
    if name == "auto":
        reasons = []
        for cand in PREFERENCE[capability]:
            try:
                ok, why = backend_class(cand).availability(capability)
            except ImportError as exc:
                ok, why = False, str(exc)
            if ok:
                return backend_class(cand)(**kwargs)
            reasons.append(f"{cand}: {why}")
        raise TalkbenchError(f"no face backend can do '{capability}' here ({'; '.join(reasons)})")
    cls = backend_class(name)
    if capability not in cls.capabilities:
        raise TalkbenchError(f"face backend '{name}' cannot do '{capability}' (it does {', '.join(cls.capabilities)})")
    ok, why = cls.availability(capability)
    if not ok:
        raise TalkbenchError(f"face backend '{name}' is unavailable: {why}")
    return cls(**kwargs)


_PROCESS_BACKENDS: dict[str, FaceBackend] = {}


def process_backend(name: str) -> FaceBackend:
    """One landmarks backend per name and worker process, created at first use (loading a
    backend's models costs seconds; a worker crops many clips)."""
    if name not in _PROCESS_BACKENDS:
        _PROCESS_BACKENDS[name] = create_backend(name, "landmarks")
    return _PROCESS_BACKENDS[name]
