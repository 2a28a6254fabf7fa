"""One torch thread for the adversarial tests (their tiny generator: the root conftest's ``checkpoint``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield
