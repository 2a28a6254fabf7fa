"""What every detector offers, whatever it is inside: fake probabilities for face crops,
and a file it can be saved to and loaded from."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import ClassVar

import numpy as np


class Detector(abc.ABC):
    """A real-vs-fake classifier of face crops (N×H×W×3 uint8 RGB → P(fake) per crop)."""

    kind: ClassVar[str]  # "timm" | "spectral"
    name: str  # registry name
    pretrained: bool  # started from ImageNet weights (recorded in detection.csv)
    crop_size: int | None = None  # face-crop size of its training data: predict crops the same way
    domain: dict | None = None  # what it was trained on (talkbench.detector.domain); None in older files

    @abc.abstractmethod
    def predict_proba(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """(N,) float probabilities that each crop is fake."""

    @abc.abstractmethod
    def save(self, path: Path) -> Path:
        """Write the trained detector atomically; returns the file written."""

    def describe(self) -> dict:
        """Plain data for manifests and results."""
        return {"detector": self.name, "kind": self.kind, "pretrained": self.pretrained, "crop_size": self.crop_size}
