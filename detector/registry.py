"""Detectors by name, as timm does for models: a decorator registers a factory, and
:func:`create_detector` builds one. A second decorator registers a detector *kind* (a
:class:`Detector` subclass), which :func:`load_detector` picks by the file's ending. The
package's own kinds are imported on first use, so ``import talkbench.detector.registry``
stays light; a kind defined elsewhere registers when its module is imported.

Example::

    det = create_detector("resnet10t_64")          # small CNN for CPU, from scratch
    det = create_detector("efficientnet_b0", pretrained=True)  # ImageNet weights if cached
    probs = det.predict_proba(crops)                # crops: N×H×W×3 uint8
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable, TypeVar

from talkbench.detector.base import Detector
from talkbench.errors import TalkbenchError

_MODULES = ("talkbench.detector.timm_models", "talkbench.detector.spectral")
_REGISTRY: dict[str, Callable[..., Detector]] = {}
_KINDS: dict[str, type[Detector]] = {}
K = TypeVar("K", bound=type[Detector])


def register_kind(cls: K) -> K:
    """Class decorator: make a :class:`Detector` subclass a kind, whose files (ending in one
    of its ``suffixes``) :func:`load_detector` reads with ``cls.load``."""
    if cls.kind in _KINDS:
        raise ValueError(f"detector kind '{cls.kind}' registered twice")
    taken = {s: k for k, c in _KINDS.items() for s in c.suffixes}
    if clash := [s for s in cls.suffixes if s in taken]:
        raise ValueError(f"detector kind '{cls.kind}': file ending {clash[0]} belongs to kind '{taken[clash[0]]}'")
    _KINDS[cls.kind] = cls
    return cls


def register_detector(fn: Callable[..., Detector]) -> Callable[..., Detector]:
    """Function decorator: make ``fn(pretrained=False, **kwargs) -> Detector`` creatable by
    its function name."""
    if fn.__name__ in _REGISTRY:
        raise ValueError(f"detector '{fn.__name__}' registered twice")
    _REGISTRY[fn.__name__] = fn
    return fn


def _load_all() -> None:
    for module in _MODULES:
        importlib.import_module(module)


def detector_kinds() -> list[type[Detector]]:
    """Every registered kind, sorted by kind (registration order follows import order)."""
    _load_all()
    return [_KINDS[k] for k in sorted(_KINDS)]


def list_detectors() -> list[str]:
    """Every registered detector name, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def detector_doc(name: str) -> str:
    """The first line of a detector's docstring (for `talkbench detect list`)."""
    _load_all()
    return (_REGISTRY[name].__doc__ or "").strip().splitlines()[0]


def create_detector(name: str, pretrained: bool = False, **kwargs) -> Detector:
    """Build the detector registered as ``name``.

    Args:
        name: a name from :func:`list_detectors`.
        pretrained: start timm backbones from ImageNet weights when they are in the cache
            (``talkbench weights status``); without them the model starts from scratch and
            ``detector.pretrained`` says so; an architecture with no registered weights is an
            error. Ignored by the spectral baseline.
        **kwargs: detector options (``input_size`` for timm models, ``size`` for spectral).
    """
    _load_all()
    if name not in _REGISTRY:
        raise TalkbenchError(f"unknown detector '{name}'; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](pretrained=pretrained, **kwargs)


def load_detector(path: str | Path) -> Detector:
    """Load a detector saved by ``Detector.save``, with the kind whose ``suffixes`` the file
    name ends in (the longest such ending: timm ``.pt``, spectral ``.safetensors``; old
    pickled ``.joblib`` files are refused)."""
    path = Path(path)
    if not path.is_file():
        raise TalkbenchError(f"detector checkpoint {path} does not exist")
    endings = {s: k for k in detector_kinds() for s in k.suffixes}
    matches = [s for s in endings if path.name.endswith(s)]
    if not matches:
        raise TalkbenchError(f"{path} is not a detector file: known endings are {', '.join(endings)}")
    return endings[max(matches, key=len)].load(path)
