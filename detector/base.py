"""What every detector offers, whatever it is inside: fake probabilities for face crops, how
it is trained, and a file it is saved to and loaded from. A detector *kind* is a subclass
registered with :func:`talkbench.detector.registry.register_kind`; training, loading and the
CLI go through these methods only, so a new kind needs no edit anywhere else."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ClassVar

import numpy as np

from talkbench.errors import TalkbenchError

if TYPE_CHECKING:
    import torch

    from talkbench.detector.train import DetectorTrainConfig

LogitFn = Callable[["torch.Tensor"], "torch.Tensor"]  # float N×3×H×W RGB in [0, 1] → (N,) fake logits


class Detector(abc.ABC):
    """A real-vs-fake classifier of face crops (N×H×W×3 uint8 RGB → P(fake) per crop)."""

    kind: ClassVar[str]  # "timm" | "spectral" | ...: one registered class per kind
    suffixes: ClassVar[tuple[str, ...]]  # file endings :meth:`load` reads; training saves to the first
    name: str  # registry name
    pretrained: bool  # started from ImageNet weights (recorded in detection.csv)
    crop_size: int | None = None  # face-crop size of its training data: predict crops the same way
    domain: dict | None = None  # what it was trained on (talkbench.detector.domain); None in older files

    @abc.abstractmethod
    def predict_proba(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """(N,) float probabilities that each crop is fake."""

    @abc.abstractmethod
    def train(self, cfg: DetectorTrainConfig, xtr: np.ndarray, ytr: np.ndarray, xva: np.ndarray, yva: np.ndarray,
              out_dir: Path, resume: bool, progress: bool) -> dict:
        """Train on crops ``xtr`` with labels ``ytr`` (1 = fake), choosing the model by the
        validation crops; leave the chosen one saved at :meth:`file_in` ``(out_dir)`` and return
        the summary for ``train.json`` (``best_val_auc`` first). ``resume``: continue an
        interrupted run in ``out_dir`` where the kind can."""

    @abc.abstractmethod
    def save(self, path: Path) -> Path:
        """Write the trained detector atomically; returns the file written."""

    @classmethod
    @abc.abstractmethod
    def load(cls, path: Path) -> Detector:
        """The detector saved at ``path`` (a file ending in one of :attr:`suffixes`); refuses
        anything else with a :class:`~talkbench.errors.TalkbenchError`."""

    @classmethod
    def file_in(cls, folder: Path) -> Path:
        """Where training leaves a detector of this kind in ``folder``."""
        return Path(folder) / f"detector{cls.suffixes[0]}"

    def logit_function(self) -> LogitFn:
        """The detector as a differentiable function of the pixels, frozen, for attacks
        (:mod:`talkbench.detector.differentiable`): ``sigmoid(f(x))`` is :meth:`predict_proba`
        of the same pixels. Kinds without one refuse."""
        raise TalkbenchError(f"detector kind '{self.kind}' has no differentiable form")

    def weight_assets(self) -> list[str]:
        """The :mod:`talkbench.weights` assets it started from (recorded in the run manifest)."""
        return []

    def describe(self) -> dict:
        """Plain data for manifests and results."""
        return {"detector": self.name, "kind": self.kind, "pretrained": self.pretrained, "crop_size": self.crop_size}
