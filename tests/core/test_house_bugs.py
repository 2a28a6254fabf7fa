"""Bugs found while reading the code (issue: the house), each kept fixed by a test."""

from __future__ import annotations

import pytest

from talkbench.cli import build_parser
from talkbench.config import from_dict
from talkbench.errors import TalkbenchError


def _detect_args(*argv: str):
    return build_parser("detect").parse_args(["detect", *argv])


def test_detector_overrides_are_not_reset_by_flag_defaults(tmp_path):
    from talkbench.detector.cli import _train_config

    args = _detect_args("train", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "crop_size=128", "seed=3")
    cfg = _train_config(args)
    assert (cfg.crop_size, cfg.seed) == (128, 3)
    assert (args.crop_size, args.seed) == (128, 3)  # the crops are then loaded at that size
    flag = _train_config(_detect_args("train", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                                      "--crop-size", "96"))
    assert flag.crop_size == 96


def test_a_union_coercion_error_keeps_its_reasons():
    from talkbench.benchmarks.suite import FewShotSection

    with pytest.raises(TalkbenchError, match="not a valid int"):
        from_dict(FewShotSection, {"ft_steps": "many"})


@pytest.mark.parametrize("size", [48, 16, 0, 100])
def test_one_image_size_check_for_config_and_networks(size):
    from talkbench.generator.model import ModelConfig
    from talkbench.generator.networks import Generator

    with pytest.raises(TalkbenchError, match="power of two ≥ 32"):
        ModelConfig(image_size=size).resolved()
    with pytest.raises(TalkbenchError, match="power of two ≥ 32"):
        Generator(size, 8, 32, 32, 1)


def test_each_backend_name_gets_its_own_cached_backend(monkeypatch):
    """prepare's per-process backend cache once ignored ``name`` after the first call."""
    import talkbench.faces.registry as registry

    monkeypatch.setattr(registry, "_PROCESS_BACKENDS", {})
    monkeypatch.setattr(registry, "create_backend", lambda name, cap: f"backend:{name}")
    assert registry.process_backend("dlib") == "backend:dlib"
    assert registry.process_backend("fan") == "backend:fan"
    assert registry.process_backend("dlib") == "backend:dlib"


def test_synth_and_prepare_take_every_config_field_as_key_value(tmp_path):
    from talkbench.cli import main
    from talkbench.files import read_json

    out = tmp_path / "s"
    assert main(["synth", str(out), "occlusion=0.5", "noise=5", "--identities", "2", "--videos", "1", "--frames", "4",
                 "--test-frames", "4", "--test-fraction", "0.5", "--size", "32", "--workers", "1"]) == 0
    cfg = read_json(out / "meta.json")["config"]
    assert (cfg["occlusion"], cfg["noise"], cfg["size"]) == (0.5, 5.0, 32)
    prep = build_parser("prepare").parse_args(["prepare", "src", "out", "min_face_fraction=0.2"])
    assert prep.overrides == ["min_face_fraction=0.2"]
