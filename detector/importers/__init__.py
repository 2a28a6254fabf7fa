"""Standard deepfake datasets as they ship → the labelled face-crop dataset the detectors
read (docs/CONTRACTS.md, "Imported face-crop dataset"). One module per layout, each
registering a ``discover(src, cfg)`` function by name, as backends and detectors are
registered; :func:`talkbench.detector.importers.build.import_dataset` does the rest (face
crops like `talkbench prepare`, splits, resume, skipped.csv) for every layout alike.

Adding a layout: write ``detector/importers/<name>.py`` with a ``@register_importer("<name>")``
function returning ``(items, skipped)``, and add it to ``_MODULES``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable

from talkbench.detector.importers.base import ImportConfig, Listing
from talkbench.errors import TalkbenchError

Discover = Callable[[Path, ImportConfig], Listing]
_MODULES = {
    "ffpp": "talkbench.detector.importers.ffpp",
    "celebdf": "talkbench.detector.importers.celebdf",
    "dfdc": "talkbench.detector.importers.dfdc",
    "deepfakebench": "talkbench.detector.importers.deepfakebench",
    "folders": "talkbench.detector.importers.folders",
}
_REGISTRY: dict[str, Discover] = {}


def register_importer(name: str) -> Callable[[Discover], Discover]:
    """Function decorator: make ``fn(src, cfg) -> (items, skipped)`` the layout ``name``."""
    def deco(fn: Discover) -> Discover:
        _REGISTRY[name] = fn
        return fn
    return deco


def list_importers() -> list[str]:
    return list(_MODULES)


def get_importer(name: str) -> Discover:
    if name not in _MODULES:
        raise TalkbenchError(f"unknown dataset format '{name}'; known: {', '.join(_MODULES)}")
    importlib.import_module(_MODULES[name])
    return _REGISTRY[name]


def importer_doc(name: str) -> str:
    """The first line of a layout's docstring (for `--help`)."""
    return (get_importer(name).__doc__ or "").strip().splitlines()[0]
