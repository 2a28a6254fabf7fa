"""The interface every face backend implements. Images are H×W×3 uint8 RGB numpy arrays;
boxes are x1, y1, x2, y2 in pixels; landmarks are 68×2 (x, y) in pixels."""

from __future__ import annotations

import abc
import importlib
import dataclasses
from typing import ClassVar, Literal, Sequence

import numpy as np

Capability = Literal["detect", "landmarks", "embed"]
OUTER_EYE_CORNERS = (36, 45)  # iBUG 68 points: the landmark error's normaliser


@dataclasses.dataclass
class Detections:
    """Faces found in one image, most confident first."""

    boxes: np.ndarray  # (n, 4) float32
    scores: np.ndarray  # (n,) float32

    def __len__(self) -> int:
        return len(self.boxes)

    def largest(self) -> np.ndarray | None:
        """The box of largest area (the subject of a talking-head frame), or None."""
        if len(self) == 0:
            return None
        area = (self.boxes[:, 2] - self.boxes[:, 0]) * (self.boxes[:, 3] - self.boxes[:, 1])
        return self.boxes[int(np.argmax(area))]


class FaceBackend(abc.ABC):
    """Batched face analysis. Subclasses declare what they can do and the weights they use."""

    name: ClassVar[str]
    capabilities: ClassVar[tuple[Capability, ...]]
    embedding_dim: ClassVar[int | None] = None
    requires: ClassVar[tuple[str, ...]] = ()  # modules it imports (checked by availability)
    install_hint: ClassVar[str] = ""  # how to install them

    @classmethod
    def availability(cls, capability: Capability | None = None) -> tuple[bool, str]:
        """(usable here?, reason): imports succeed, the backend does ``capability`` and the
        weights it needs (all capabilities' when None) are present."""
        try:
            for module in cls.requires:
                importlib.import_module(module)
        except ImportError as exc:
            return False, f"{'/'.join(cls.requires)} not installed ({exc}); {cls.install_hint}"
        if capability is not None and capability not in cls.capabilities:
            return False, f"'{cls.name}' does not do '{capability}'"
        return cls.weights_availability(capability)

    @classmethod
    @abc.abstractmethod
    def weights_availability(cls, capability: Capability | None) -> tuple[bool, str]:
        """(present?, reason) for the weights ``capability`` needs (all capabilities' when None)."""

    @abc.abstractmethod
    def weights_used(self) -> list[str]:
        """Registry names of the assets loaded (for run manifests)."""

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        raise NotImplementedError(f"backend '{self.name}' does not detect faces")

    def landmarks(self, images: Sequence[np.ndarray], boxes: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
        """68×2 landmarks per image for the given box (None where the box is None or fails)."""
        raise NotImplementedError(f"backend '{self.name}' does not predict 68 landmarks")

    def embed(self, images: Sequence[np.ndarray], boxes: Sequence[np.ndarray | None] | None = None,
              landmarks: Sequence[np.ndarray | None] | None = None) -> np.ndarray:
        """(n, d) L2-normalised identity embeddings; a row of NaN where no face is found.
        Without boxes, each image's largest detected face is used."""
        raise NotImplementedError(f"backend '{self.name}' does not embed identities")

    def prefetch_embeddings(self, images: Sequence[np.ndarray]) -> None:
        """A hint that the embeddings of ``images`` (their largest faces) are asked for next,
        a few at a time: a backend that memoises them computes them now, in one batch it can
        spread over the cores (dlib); the others ignore it."""

    # Convenience built on the primitives -------------------------------------------------

    def largest_faces(self, images: Sequence[np.ndarray]) -> list[np.ndarray | None]:
        return [d.largest() for d in self.detect(images)]

    def landmarks_auto(self, images: Sequence[np.ndarray]) -> list[np.ndarray | None]:
        """Landmarks of each image's largest face (None where no face is found)."""
        return self.landmarks(images, self.largest_faces(images))


def l2_normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True).clip(min=1e-12)


def nme(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-frame NME of (n, 68, 2) predictions vs targets, normalised by the target's
    outer-eye-corner distance (here, below metrics and data, so both use this one)."""
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    iod = np.linalg.norm(target[:, OUTER_EYE_CORNERS[0]] - target[:, OUTER_EYE_CORNERS[1]], axis=-1)
    return np.linalg.norm(pred - target, axis=-1).mean(axis=1) / np.maximum(iod, 1e-6)
