"""Detectors by name, as timm does for models: a decorator registers a factory, and
:func:`create_detector` builds one. Registering modules are imported on first use, so
``import talkbench.detector.registry`` stays light.

Example::

    det = create_detector("resnet10t_64")          # small CNN for CPU, from scratch
    det = create_detector("efficientnet_b0", pretrained=True)  # ImageNet weights if cached
    probs = det.predict_proba(crops)                # crops: N×H×W×3 uint8
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable

from talkbench.detector.base import Detector
from talkbench.errors import TalkbenchError

_MODULES = ("talkbench.detector.timm_models", "talkbench.detector.spectral")
_REGISTRY: dict[str, Callable[..., Detector]] = {}


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
            ``detector.pretrained`` says so. Ignored by the spectral baseline.
        **kwargs: detector options (``input_size`` for timm models, ``size`` for spectral).
    """
    _load_all()
    if name not in _REGISTRY:
        raise TalkbenchError(f"unknown detector '{name}'; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](pretrained=pretrained, **kwargs)


def load_detector(path: str | Path) -> Detector:
    """Load a detector saved by ``Detector.save`` (timm: ``.pt``; spectral: ``.safetensors``;
    old pickled ``.joblib`` files are refused)."""
    path = Path(path)
    if not path.is_file():
        raise TalkbenchError(f"detector checkpoint {path} does not exist")
    if path.suffix in (".safetensors", ".joblib"):
        from talkbench.detector.spectral import SpectralDetector

        return SpectralDetector.load(path)
    from talkbench.detector.timm_models import TimmDetector

    return TimmDetector.load(path)
