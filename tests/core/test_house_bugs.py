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
