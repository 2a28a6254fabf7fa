"""timm backbones with a single-logit head. Input size, interpolation and mean/std come from
timm's pretrained config of the architecture (``timm.data.resolve_data_config``), so a
pretrained backbone sees images the way it was trained; ``input_size`` overrides the size
(e.g. 64 px for CPU work on 64 px crops)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import timm
import torch
import torch.nn.functional as F
from timm.data import resolve_data_config

from talkbench.checksum import load_tagged, stamp_weights
from talkbench.detector.base import Detector, LogitFn
from talkbench.detector.registry import register_detector, register_kind
from talkbench.detector.timm_train import train_timm
from talkbench.errors import TalkbenchError
from talkbench.files import save_torch_file

if TYPE_CHECKING:
    from talkbench.detector.train import DetectorTrainConfig
from talkbench.weights import TIMM_BACKBONES, locate, missing_message


def _asset(arch: str) -> str:
    """The :mod:`talkbench.weights` asset of ``arch``'s ImageNet weights."""
    return f"timm-{arch}"


def _imagenet_weights(name: str, arch: str) -> Path | None:
    """The cached ImageNet weights file of ``arch``, or None with a warning saying why the
    detector starts from scratch instead (the results record ``pretrained=False``). An
    architecture with no registered weights is an error: asking for them is a mistake."""
    if arch not in TIMM_BACKBONES:
        raise TalkbenchError(f"no ImageNet weights are registered for architecture '{arch}' (detector '{name}'); "
                             f"pretrained detectors: {', '.join(TIMM_BACKBONES)}")
    res = locate(_asset(arch))
    if res.status != "present":
        warnings.warn(f"{missing_message(res)}; '{name}' starts from scratch", stacklevel=4)
        return None
    return res.paths[0]


@register_kind
class TimmDetector(Detector):
    kind = "timm"
    suffixes = (".pt",)

    def __init__(self, name: str, arch: str, pretrained: bool = False, input_size: int | None = None) -> None:
        self.name, self.arch = name, arch
        weights = _imagenet_weights(name, arch) if pretrained else None
        self.pretrained = weights is not None
        overlay = {"file": str(weights)} if weights is not None else None
        self.model = timm.create_model(arch, pretrained=self.pretrained, num_classes=1, pretrained_cfg_overlay=overlay)
        cfg = resolve_data_config({}, model=self.model)
        self.input_size = int(input_size or cfg["input_size"][-1])
        self.interpolation = "bicubic" if cfg["interpolation"] == "bicubic" else "bilinear"
        self.mean = torch.tensor(cfg["mean"], dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(cfg["std"], dtype=torch.float32).view(1, 3, 1, 1)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: torch.device | str) -> "TimmDetector":
        self.model.to(device)
        return self

    def preprocess(self, images: np.ndarray) -> torch.Tensor:
        """uint8 N×H×W×3 → normalised float N×3×S×S on the model's device (resize on device)."""
        if images.ndim != 4 or images.shape[-1] != 3:
            raise TalkbenchError(f"expected N×H×W×3 images, got shape {images.shape}")
        x = torch.from_numpy(np.ascontiguousarray(images)).to(self.device).permute(0, 3, 1, 2).float().div_(255)
        return self.normalize(x)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Float N×3×H×W RGB in [0, 1] on the model's device → the model's input (resized,
        mean/std-normalised). Differentiable in ``x``, so attacks share the exact preprocessing."""
        dev = self.device
        if x.shape[-2:] != (self.input_size, self.input_size):
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode=self.interpolation,
                              align_corners=False, antialias=True).clamp(0, 1)
        x = (x - self.mean.to(dev)) / self.std.to(dev)
        return x.contiguous(memory_format=torch.channels_last) if dev.type == "cuda" else x

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(N,) logits; bf16 autocast on CUDA."""
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=x.is_cuda):
            return self.model(x).float().squeeze(1)

    def logit_function(self) -> LogitFn:
        """Its own preprocessing (:meth:`normalize`) and forward pass; the model is frozen and
        follows the pixels' device."""
        self.model.eval()
        self.model.requires_grad_(False)

        def f(x: torch.Tensor) -> torch.Tensor:
            if self.device != x.device:
                self.to(x.device)
            return self.logits(self.normalize(x.float()))

        return f

    @torch.inference_mode()
    def predict_proba(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        self.model.eval()
        out = [torch.sigmoid(self.logits(self.preprocess(images[i:i + batch_size]))).cpu()
               for i in range(0, len(images), batch_size)]
        return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0)

    def state(self) -> dict:
        """Everything needed to rebuild it, loadable with ``torch.load(weights_only=True)``."""
        return stamp_weights({"kind": self.kind, "name": self.name, "arch": self.arch, "pretrained": self.pretrained,
                              "input_size": self.input_size, "crop_size": self.crop_size, "domain": self.domain,
                              "state_dict": self.model.state_dict()}, ["state_dict"])

    def train(self, cfg: DetectorTrainConfig, xtr: np.ndarray, ytr: np.ndarray, xva: np.ndarray, yva: np.ndarray,
              out_dir: Path, resume: bool, progress: bool) -> dict:
        """The epoch loop of :mod:`talkbench.detector.timm_train` (resumable from ``last.pt``)."""
        return train_timm(self, cfg, xtr, ytr, xva, yva, out_dir, resume, progress)

    def weight_assets(self) -> list[str]:
        return [_asset(self.arch)] if self.pretrained else []

    def save(self, path: Path) -> Path:
        save_torch_file(self.state(), path)
        return Path(path)

    @classmethod
    def from_state(cls, state: dict) -> "TimmDetector":
        det = cls(state["name"], state["arch"], pretrained=False, input_size=state["input_size"])
        det.model.load_state_dict(state["state_dict"])
        det.pretrained = bool(state["pretrained"])
        det.crop_size = state.get("crop_size")
        det.domain = state.get("domain")
        return det

    @classmethod
    def load(cls, path: Path) -> "TimmDetector":
        return cls.from_state(load_tagged(path, "detector checkpoint", ["state_dict"],
                                          lambda s: s.get("kind") == cls.kind, f"{path} is not a timm detector checkpoint"))

    def describe(self) -> dict:
        return {**super().describe(), "arch": self.arch, "input_size": self.input_size}


@register_detector
def legacy_xception(pretrained: bool = False, **kwargs) -> TimmDetector:
    """Xception (FaceForensics++ detector), 299 px."""
    return TimmDetector("legacy_xception", "legacy_xception", pretrained, **kwargs)


@register_detector
def xception41(pretrained: bool = False, **kwargs) -> TimmDetector:
    """Aligned Xception-41 (TF port), 299 px."""
    return TimmDetector("xception41", "xception41", pretrained, **kwargs)


@register_detector
def efficientnet_b0(pretrained: bool = False, **kwargs) -> TimmDetector:
    """EfficientNet-B0 (DFDC-style), 224 px."""
    return TimmDetector("efficientnet_b0", "efficientnet_b0", pretrained, **kwargs)


@register_detector
def efficientnet_b4(pretrained: bool = False, **kwargs) -> TimmDetector:
    """EfficientNet-B4 (DFDC winners' backbone), 320 px."""
    return TimmDetector("efficientnet_b4", "efficientnet_b4", pretrained, **kwargs)


@register_detector
def resnet50(pretrained: bool = False, **kwargs) -> TimmDetector:
    """ResNet-50 (Wang et al. 2020), 224 px."""
    return TimmDetector("resnet50", "resnet50", pretrained, **kwargs)


@register_detector
def resnet10t_64(pretrained: bool = False, **kwargs) -> TimmDetector:
    """ResNet-10-T at 64 px: the small, fast CPU default."""
    kwargs.setdefault("input_size", 64)
    return TimmDetector("resnet10t_64", "resnet10t", pretrained, **kwargs)


@register_detector
def mobilenetv3_64(pretrained: bool = False, **kwargs) -> TimmDetector:
    """MobileNetV3-Small-0.5 at 64 px: a tiny detector for CPU tests and quick runs."""
    kwargs.setdefault("input_size", 64)
    return TimmDetector("mobilenetv3_64", "mobilenetv3_small_050", pretrained, **kwargs)


@register_detector
def test_resnet_64(pretrained: bool = False, **kwargs) -> TimmDetector:
    """timm's 0.4 M-parameter test ResNet at 64 px: seconds per epoch on a CPU (tests, smoke runs)."""
    kwargs.setdefault("input_size", 64)
    return TimmDetector("test_resnet_64", "test_resnet", pretrained, **kwargs)
