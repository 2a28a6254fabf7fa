"""Typed configs: dataclasses that load from YAML, take ``key=value`` overrides and
serialise back, plus a stable fingerprint used to decide whether work is already done.

Example::

    cfg = load_config(TrainConfig, "train.yaml", ["steps=200", "model.width=32"])
    save_config(cfg, run_dir / "config.yaml")
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from talkbench.errors import TalkbenchError

T = TypeVar("T")


def to_dict(cfg: Any) -> Any:
    """Plain-data view of a (nested) dataclass, with paths as strings and tuples as lists."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, (list, tuple)):
        return [to_dict(v) for v in cfg]
    if isinstance(cfg, dict):
        return {str(k): to_dict(v) for k, v in cfg.items()}
    if isinstance(cfg, Path):
        return str(cfg)
    return cfg


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Convert plain data ``value`` to the annotated type ``tp`` (dataclasses, Optional,
    list/tuple/dict, Path, Literal and scalars), with a clear error naming the key."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except (TalkbenchError, TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise TalkbenchError(f"config key '{where}': {value!r} fits none of {tp}")
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise TalkbenchError(f"config key '{where}': {value!r} is not one of {typing.get_args(tp)}")
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise TalkbenchError(f"config key '{where}': expected a mapping, got {value!r}")
        return from_dict(tp, value, prefix=f"{where}.")
    if origin in (list, tuple):
        args = typing.get_args(tp)
        if isinstance(value, str):
            value = [v for v in value.split(",") if v != ""]
        if not isinstance(value, (list, tuple)):
            value = [value]
        if origin is tuple and args and args[-1] is not Ellipsis:
            return tuple(_coerce(v, a, where) for v, a in zip(value, args))
        item = args[0] if args else Any
        out = [_coerce(v, item, where) for v in value]
        return tuple(out) if origin is tuple else out
    if origin is dict:
        kt, vt = typing.get_args(tp) or (Any, Any)
        return {_coerce(k, kt, where): _coerce(v, vt, where) for k, v in dict(value).items()}
    if tp is Path:
        return Path(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on", "false", "no", "0", "off"):
            return value.lower() in ("true", "yes", "1", "on")
        raise TalkbenchError(f"config key '{where}': {value!r} is not a boolean")
    if tp in (int, float, str):
        try:
            if tp is int and isinstance(value, float) and not value.is_integer():
                raise ValueError
            return tp(value)
        except (TypeError, ValueError):
            raise TalkbenchError(f"config key '{where}': {value!r} is not a valid {tp.__name__}") from None
    return value


def from_dict(cls: type[T], data: dict, prefix: str = "") -> T:
    """Build dataclass ``cls`` from plain data; unknown keys are an error (typos must not pass)."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise TalkbenchError(f"unknown config key(s) {', '.join(prefix + u for u in unknown)}; "
                             f"known: {', '.join(sorted(names))}")
    kwargs = {k: _coerce(v, hints[k], prefix + k) for k, v in data.items()}
    return cls(**kwargs)


def apply_overrides(cfg: T, overrides: list[str]) -> T:
    """Return a copy of ``cfg`` with ``a.b=value`` overrides applied (values parsed as YAML)."""
    data = to_dict(cfg)
    for item in overrides:
        if "=" not in item:
            raise TalkbenchError(f"override '{item}' is not of the form key=value")
        key, raw = item.split("=", 1)
        node = data
        parts = key.strip().split(".")
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                raise TalkbenchError(f"override '{item}': '{p}' is not a config section")
            node = node[p]
        if parts[-1] not in node:
            raise TalkbenchError(f"override '{item}': unknown key '{key}'; known: {', '.join(sorted(node))}")
        node[parts[-1]] = yaml.safe_load(raw) if raw != "" else ""
    return from_dict(type(cfg), data)


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None) -> T:
    """Defaults of ``cls``, updated from a YAML file (if given), then from overrides."""
    cfg = cls()
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise TalkbenchError(f"config file {path} does not exist")
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, dict):
            raise TalkbenchError(f"config file {path} does not hold a mapping")
        merged = _deep_merge(to_dict(cfg), loaded)
        cfg = from_dict(cls, merged)
    return apply_overrides(cfg, overrides or [])


def _deep_merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for k, v in update.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def dump_yaml(cfg: Any) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def fingerprint(*parts: Any) -> str:
    """A stable 16-hex-digit digest of configs and other plain data (dict order ignored)."""
    blob = json.dumps([to_dict(p) for p in parts], sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
