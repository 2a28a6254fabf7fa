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
import math
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from talkbench.errors import TalkbenchError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")  # a config dataclass


@dataclasses.dataclass(frozen=True)
class Range:
    """Allowed values of a number: ``low``/``high`` bounds (None: unbounded), inclusive unless
    ``open_low``/``open_high``. NaN and infinities are never allowed."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    def __str__(self) -> str:
        lo = "" if self.low is None else f"{'>' if self.open_low else '>='} {self.low:g}"
        hi = "" if self.high is None else f"{'<' if self.open_high else '<='} {self.high:g}"
        return " and ".join(p for p in (lo, hi) if p) or "a finite number"

    def check(self, value: float, where: str) -> None:
        """Raise a one-line TalkbenchError naming ``where`` and this range when ``value`` is outside it."""
        ok = math.isfinite(value)
        if ok and self.low is not None:
            ok = value > self.low if self.open_low else value >= self.low
        if ok and self.high is not None:
            ok = value < self.high if self.open_high else value <= self.high
        if not ok:
            raise TalkbenchError(f"{where}: {value!r} is out of range; allowed: {self.__str__()}")


_AT_LEAST_1, _AT_LEAST_0, _POSITIVE = Range(1), Range(0), Range(0, open_low=True)
_FRACTION, _UNIT, _SHARE = Range(0, 1, open_high=True), Range(0, 1), Range(0, 1, open_low=True)

# The allowed range of every numeric config key, for every config parsed by ``from_dict``
# (YAML files, key=value overrides, suite sections): "Class.key" entries win over "key".
# Numbers absent here must still be finite.
LIMITS: dict[str, Range] = {
    "steps": _AT_LEAST_1, "batch_size": _AT_LEAST_1, "k": _AT_LEAST_1, "d_steps": _AT_LEAST_1,
    "epochs": _AT_LEAST_1, "patience": _AT_LEAST_1, "frames": _AT_LEAST_1, "min_frames": _AT_LEAST_1,
    "identities": _AT_LEAST_1, "videos": _AT_LEAST_1, "test_frames": _AT_LEAST_1,
    "checkpoint_every": _AT_LEAST_1, "log_every": _AT_LEAST_1, "sample_every": _AT_LEAST_1,
    "guard_patience": _AT_LEAST_1, "guard_after": _AT_LEAST_0, "guard_min_std": _AT_LEAST_0,
    "time_limit_min": _AT_LEAST_0, "threads": _AT_LEAST_0, "num_workers": _AT_LEAST_0, "seed": _AT_LEAST_0,
    "lr": _POSITIVE, "lr_g": _POSITIVE, "lr_d": _POSITIVE, "weight_decay": _AT_LEAST_0,
    "beta1": _FRACTION, "beta2": _FRACTION, "test_fraction": _FRACTION, "min_face_fraction": _UNIT,
    "glasses": _UNIT, "noise": _AT_LEAST_0, "clip_seconds": _POSITIVE, "margin": _POSITIVE,
    "size": Range(8, 2048), "crop_size": Range(8, 2048), "input_size": Range(16, 2048),
    "image_size": Range(16, 2048), "detect_size": Range(32, 8192), "supersample": Range(1, 8),
    "width": _AT_LEAST_1, "max_width": _AT_LEAST_1, "emb_dim": _AT_LEAST_1, "n_res": _AT_LEAST_0,
    "vgg19_weight": _AT_LEAST_0, "vggface_weight": _AT_LEAST_0, "fm_weight": _AT_LEAST_0,
    "mch_weight": _AT_LEAST_0, "adv_weight": _AT_LEAST_0, "pixel_l1": _AT_LEAST_0,
    "ft_steps": _AT_LEAST_1, "n_heldout": _AT_LEAST_1, "n_cross": _AT_LEAST_0, "max_people": _AT_LEAST_0,
    "n_sample_grids": _AT_LEAST_0, "occlusion": _UNIT, "light_change": _AT_LEAST_0, "inception_weight": _AT_LEAST_0,
    "inception_size": Range(75, 1024), "ft_epochs": _POSITIVE, "ft_min_steps": _AT_LEAST_0,
    "ft_lr_g": _POSITIVE, "ft_batch": _AT_LEAST_1, "ft_beta1": _FRACTION, "ft_average": _SHARE,
    "FineTuneConfig.epochs": _POSITIVE, "FineTuneConfig.average": _SHARE, "ChecksSection.people": _AT_LEAST_0,
    "min_steps": _AT_LEAST_0,
}


def limit_of(cls: type, key: str) -> Range | None:
    """The range ``LIMITS`` gives key ``key`` of config class ``cls`` (None: any finite number)."""
    return LIMITS.get(f"{cls.__name__}.{key}", LIMITS.get(key))


def bounded(tp: type, low: float | None = None, high: float | None = None, open_low: bool = False):
    """An argparse ``type=`` for a number option, e.g. ``type=bounded(int, 1)``: out-of-range or
    non-finite values are a usage error that states the allowed range."""
    import argparse

    rng = Range(low, high, open_low)

    def parse(text: str):
        try:
            value = tp(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {tp.__name__}") from None
        try:
            rng.check(value, "value")
        except TalkbenchError:
            raise argparse.ArgumentTypeError(f"{text} is out of range; allowed: {rng}") from None
        return value

    parse.__name__ = tp.__name__  # argparse names the type in its messages
    return parse


def int_list(low: int | None = None):
    """An argparse ``type=`` for a comma-separated list of integers, e.g. ``--shots 1,8,32``,
    each at least ``low``: anything else is a usage error, not a traceback."""
    import argparse

    item = bounded(int, low)

    def parse(text: str) -> list[int]:
        try:
            return [item(s.strip()) for s in text.split(",")]
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: a comma-separated list of integers ({exc})") from None

    parse.__name__ = "list of integers"
    return parse


def _check_number(cls: type, key: str, value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    rng = limit_of(cls, key) or Range()
    rng.check(value, f"config key '{where}'")


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
        raise TalkbenchError(f"config key '{where}': {value!r} fits none of {tp} ({'; '.join(errors)})")
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise TalkbenchError(f"config key '{where}': {value!r} is not one of {typing.get_args(tp)}")
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):  # a type hint is a class, never an instance
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
    for k, v in kwargs.items():
        _check_number(cls, k, v, prefix + k)
    return cls(**kwargs)


def _field_dataclass(cls: type | None, name: str) -> type | None:
    """The dataclass type of field ``name`` of dataclass ``cls``; None where the field is
    free-form (a plain dict, e.g. a suite's pass-through ``train`` section) or ``cls`` is."""
    if cls is None:
        return None
    tp = typing.get_type_hints(cls).get(name)
    return tp if isinstance(tp, type) and dataclasses.is_dataclass(tp) else None


def apply_overrides(cfg: T, overrides: list[str]) -> T:
    """Return a copy of ``cfg`` with ``a.b=value`` overrides applied (values parsed as YAML).
    In a dataclass section every key must exist; a free-form dict section (a suite's
    ``train``, ``detector.options`` ...) takes new keys and sub-sections, which its owning
    package's typed config checks later (``talkbench run default train.loss.pixel_l1=3``)."""
    data = to_dict(cfg)
    for item in overrides:
        if "=" not in item:
            raise TalkbenchError(f"override '{item}' is not of the form key=value")
        key, raw = item.split("=", 1)
        node = data
        typed: type | None = type(cfg)  # the section's dataclass; None inside a free-form dict
        parts = key.strip().split(".")
        for p in parts[:-1]:
            if typed is None and p not in node:
                node[p] = {}
            if not isinstance(node.get(p), dict):
                raise TalkbenchError(f"override '{item}': '{p}' is not a config section")
            node, typed = node[p], _field_dataclass(typed, p)
        if typed is not None and parts[-1] not in node:
            raise TalkbenchError(f"override '{item}': unknown key '{key}'; known: {', '.join(sorted(node))}")
        if isinstance(node.get(parts[-1]), str):  # a string key takes the text as is (YAML reads `off` as False)
            node[parts[-1]] = raw
            continue
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            value = raw  # not YAML: the plain string, checked against the key's type
        # a new key of a free-form section has no known type yet: YAML's booleans (true, off,
        # yes ...) stay text, which a bool key reads as a boolean and a str key as written
        node[parts[-1]] = raw if typed is None and isinstance(value, bool) else value
    return from_dict(type(cfg), data)


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None) -> T:
    """Defaults of ``cls``, updated from a YAML file (if given), then from overrides."""
    cfg = cls()
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise TalkbenchError(f"config file {path} does not exist")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise TalkbenchError(f"config file {path} is not valid YAML{where}: "
                                 f"{getattr(exc, 'problem', None) or exc}") from None
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
