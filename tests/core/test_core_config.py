"""Typed configs: YAML round-trip, key=value overrides, clear errors for typos and bad types."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import pytest
import yaml

from talkbench.config import apply_overrides, dump_yaml, fingerprint, from_dict, load_config, to_dict
from talkbench.errors import TalkbenchError


@dataclasses.dataclass
class Model:
    width: int = 32
    image_size: int = 64
    preset: Literal["cpu64", "cpu128", "paper"] = "cpu64"


@dataclasses.dataclass
class Train:
    steps: int = 100
    lr: float = 2e-4
    amp: bool = False
    out: Path = Path("runs/x")
    shots: tuple[int, ...] = (1, 8, 32)
    tag: str | None = None
    model: Model = dataclasses.field(default_factory=Model)


def test_yaml_round_trip(tmp_path):
    cfg = Train(steps=7, lr=0.5, amp=True, out=Path("a/b"), shots=(2, 4), tag="t", model=Model(width=8, preset="paper"))
    path = tmp_path / "c.yaml"
    path.write_text(dump_yaml(cfg))
    assert yaml.safe_load(path.read_text())["model"]["width"] == 8
    back = load_config(Train, path)
    assert back == cfg
    assert fingerprint(back) == fingerprint(cfg) != fingerprint(Train())


def test_partial_yaml_keeps_defaults(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  width: 16\n")
    cfg = load_config(Train, path)
    assert cfg.model.width == 16 and cfg.model.image_size == 64 and cfg.steps == 100


def test_overrides_nested_and_typed(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("steps: 5\n")
    cfg = load_config(Train, path, ["steps=9", "model.width=48", "amp=true", "shots=1,8", "tag=null",
                                    "model.preset=cpu128", "out=x/y"])
    assert (cfg.steps, cfg.model.width, cfg.amp, cfg.shots, cfg.tag) == (9, 48, True, (1, 8), None)
    assert cfg.model.preset == "cpu128" and cfg.out == Path("x/y") and isinstance(cfg.out, Path)
    assert to_dict(cfg)["out"] == "x/y"


@pytest.mark.parametrize("override, words", [
    ("stpes=3", ["unknown key", "stpes"]),
    ("model.depth=3", ["unknown key", "model.depth"]),
    ("steps.x=3", ["not a config section"]),
    ("steps=many", ["steps", "not a valid int"]),
    ("steps=1.5", ["steps", "not a valid int"]),
    ("amp=maybe", ["amp", "not a boolean"]),
    ("model.preset=huge", ["model.preset", "not one of"]),
    ("steps", ["key=value"]),
])
def test_bad_overrides_are_one_line_errors(override, words):
    with pytest.raises(TalkbenchError) as err:
        apply_overrides(Train(), [override])
    message = str(err.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_unknown_yaml_key_and_missing_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  widht: 3\n")
    with pytest.raises(TalkbenchError, match="model.widht"):
        load_config(Train, path)
    with pytest.raises(TalkbenchError, match="does not exist"):
        load_config(Train, tmp_path / "nope.yaml")
    with pytest.raises(TalkbenchError, match="expected a mapping"):
        from_dict(Train, {"model": 3})
