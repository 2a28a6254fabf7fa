"""face-alignment (Bulat & Tzimiropoulos, 2017): the S3FD face detector and the 2DFAN4
68-point heatmap network — the landmark network the few-shot talking-head paper used.

We build on the library's own pieces (``SFDDetector``, ``models.FAN``, ``utils.crop`` and
``utils.get_preds_fromhm``) rather than ``FaceAlignment`` itself, because that class
downloads at construction and crops one image at a time; here every face of a batch of
images goes through the network in one forward pass, with the same crop, flip averaging and
heatmap decoding as ``FaceAlignment.get_landmarks_from_image``.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from talkbench.faces.base import Capability, Detections, FaceBackend
from talkbench.faces.registry import register_backend
from talkbench.files import load_torch_file
from talkbench.weights import locate, resolve

_ASSETS: dict[str, str] = {"detect": "fan-s3fd", "landmarks": "fan-2dfan4"}


def _is_torchscript(path: Path) -> bool:
    """TorchScript archives (face-alignment <= 1.4 shipped 2DFAN4 as one) hold a code/ folder."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any(name.split("/", 1)[-1].startswith("code/") for name in zf.namelist())


def load_fan(path: str | Path, device: str = "cpu"):
    """The 2DFAN heatmap network from ``path``: a state dict for face-alignment's ``FAN``
    (what face-alignment 1.5 downloads; the number of stacked hourglasses is read from the
    keys) or a TorchScript archive (the format of face-alignment <= 1.4)."""
    import torch

    path = Path(path)
    if _is_torchscript(path):
        net = torch.jit.load(str(path), map_location=device)
    else:
        from face_alignment.models import FAN

        state = load_torch_file(path, "FAN weights")
        stacks = sum(1 for key in state if re.fullmatch(r"l\d+\.weight", key))
        net = FAN(stacks)
        net.load_state_dict(state)
        net.to(device)
    return net.eval()


@register_backend
class FanBackend(FaceBackend):
    """S3FD detection + 2DFAN4 landmarks (iBUG 68 order), on GPU when there is one."""

    name = "fan"
    capabilities = ("detect", "landmarks")

    def __init__(self, device: str = "auto", flip_input: bool = True, batch_size: int = 16,
                 filter_threshold: float = 0.5, detector_model: str | Path | None = None,
                 landmarks_model: str | Path | None = None) -> None:
        """``flip_input``: average the heatmaps of the crop and its mirror image (as
        face-alignment does by default); ``batch_size``: face crops per forward pass;
        ``filter_threshold``: S3FD score below which detections are dropped;
        ``detector_model`` / ``landmarks_model``: explicit weight files instead of the
        registry's ``fan-s3fd`` / ``fan-2dfan4`` (loaded lazily, at first use)."""
        from talkbench.device import select_device

        self.device = str(select_device(device))
        self.flip_input = flip_input
        self.batch_size = batch_size
        self.filter_threshold = filter_threshold
        self._paths: dict[str, Path | None] = {
            "detect": Path(detector_model) if detector_model else None,
            "landmarks": Path(landmarks_model) if landmarks_model else None,
        }
        self._detector: Any = None  # face-alignment's SFDDetector once loaded (untyped)
        self._net: Any = None  # the FAN network, loaded on first use
        self._weights: list[str] = []

    requires = ("face_alignment",)
    install_hint = "pip install face-alignment"

    @classmethod
    def weights_availability(cls, capability: Capability | None) -> tuple[bool, str]:
        needed = [_ASSETS[c] for c in ((capability,) if capability else cls.capabilities)]
        for name in needed:
            res = locate(name)
            if res.status != "present":
                return False, f"weights '{name}' {res.status}: `{res.asset.fetch_command}`"
        return True, f"weights {', '.join(needed)} present"

    def weights_used(self) -> list[str]:
        return list(self._weights)

    def _weight_path(self, capability: str) -> Path:
        explicit = self._paths[capability]
        if explicit is not None:
            return explicit
        self._weights.append(_ASSETS[capability])
        return resolve(_ASSETS[capability]).paths[0]

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        if self._detector is None:
            from face_alignment.detection.sfd.sfd_detector import SFDDetector

            self._detector = SFDDetector(self.device, path_to_detector=str(self._weight_path("detect")),
                                         filter_threshold=self.filter_threshold)
        out = []
        for img in images:
            found = self._detector.detect_from_image(np.ascontiguousarray(img).copy())
            found = np.asarray(found, np.float32).reshape(-1, 5)
            order = np.argsort(-found[:, 4])
            out.append(Detections(found[order, :4], found[order, 4]))
        return out

    def landmarks(self, images: Sequence[np.ndarray], boxes: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
        import torch
        from face_alignment.utils import CENTER_Y_OFFSET, REFERENCE_SCALE, crop, flip, get_preds_fromhm

        if self._net is None:
            self._net = load_fan(self._weight_path("landmarks"), self.device)
        jobs, crops = [], []
        for i, (img, box) in enumerate(zip(images, boxes)):
            if box is None:
                continue
            x1, y1, x2, y2 = (float(v) for v in box[:4])
            # face-alignment's framing of a detector box: centre moved up by 12 % of the
            # height, scale = (w + h) / 195 (its S3FD reference scale).
            center = np.array([(x1 + x2) / 2.0, (y1 + y2) / 2.0 - (y2 - y1) * CENTER_Y_OFFSET])
            scale = (x2 - x1 + y2 - y1) / REFERENCE_SCALE
            jobs.append((i, center, scale))
            crops.append(crop(np.ascontiguousarray(img), center, scale).transpose(2, 0, 1).astype(np.float32) / 255.0)
        out: list[np.ndarray | None] = [None] * len(images)
        if not jobs:
            return out
        heatmaps = []
        with torch.inference_mode():
            batch_all = torch.from_numpy(np.stack(crops))
            for start in range(0, len(crops), self.batch_size):
                batch = batch_all[start:start + self.batch_size].to(self.device)
                hm = self._last(self._net(batch))
                if self.flip_input:
                    hm = hm + flip(self._last(self._net(flip(batch))), is_label=True)
                heatmaps.append(hm.float().cpu())
        heatmaps_np = torch.cat(heatmaps).numpy()
        for k, (i, center, scale) in enumerate(jobs):
            _, pts_img, _ = get_preds_fromhm(heatmaps_np[k:k + 1], center, scale)
            out[i] = pts_img.reshape(68, 2).astype(np.float32)
        return out

    @staticmethod
    def _last(output):
        """FAN returns one heatmap stack per hourglass; the last is the prediction."""
        return output[-1] if isinstance(output, (list, tuple)) else output
