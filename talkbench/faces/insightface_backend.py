"""insightface: SCRFD face detection and ArcFace identity embeddings (CSIM).

Models load through ``insightface.model_zoo.get_model`` (its ONNX router picks SCRFD or
ArcFace from the graph) from a model pack found by the weights registry. Embeddings use
insightface's own 5-point similarity alignment (``face_align.norm_crop``) to the 112×112
ArcFace template. insightface works on BGR images; this backend takes RGB like the others.
The models are licensed for non-commercial research only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from talkbench.faces.base import Capability, Detections, FaceBackend, l2_normalise
from talkbench.faces.registry import register_backend
from talkbench.weights import get_asset, locate, resolve

PACKS = ("buffalo_l", "buffalo_sc")  # preferred first; each pack's files are (detector, recogniser)
_ROLE = {"detect": 0, "embed": 1}


def five_points(landmarks68: np.ndarray) -> np.ndarray:
    """ArcFace's 5 points from iBUG-68 landmarks: eye centres (image left first), nose tip,
    mouth corners — so frames with known landmarks embed without a detector."""
    lm = np.asarray(landmarks68, np.float32)
    return np.stack([lm[36:42].mean(0), lm[42:48].mean(0), lm[30], lm[48], lm[54]])


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return inter / np.maximum(area(box) + area(boxes) - inter, 1e-9)


def _pack_with(role: str, pack: str | None = None) -> tuple[str, str]:
    """(pack, file) of the first pack whose ``role`` model is present (else the first
    candidate, so that resolving it raises the full missing-weights message)."""
    candidates = (pack,) if pack else PACKS
    for name in candidates:
        file = get_asset(name).files[_ROLE[role]]
        if locate(name, [file]).status == "present":
            return name, file
    return candidates[0], get_asset(candidates[0]).files[_ROLE[role]]


@register_backend
class InsightFaceBackend(FaceBackend):
    """SCRFD boxes + 5 keypoints; ArcFace 512-D embeddings of norm_crop-aligned faces."""

    name = "insightface"
    capabilities = ("detect", "embed")
    embedding_dim = 512

    def __init__(self, pack: str | None = None, det_size: tuple[int, int] = (640, 640),
                 det_thresh: float = 0.5, min_iou: float = 0.3,
                 det_model: str | Path | None = None, rec_model: str | Path | None = None) -> None:
        """``pack``: 'buffalo_l' or 'buffalo_sc' (default: the first one present);
        ``det_size``: SCRFD input size; ``det_thresh``: minimum detection score;
        ``min_iou``: a given box must overlap a detection this much to take its keypoints;
        ``det_model`` / ``rec_model``: explicit ONNX files instead of the pack's (loaded at
        first use)."""
        if pack is not None and pack not in PACKS:
            raise ValueError(f"insightface pack must be one of {PACKS}, not {pack!r}")
        self.pack = pack
        self.det_size = tuple(det_size)
        self.det_thresh = det_thresh
        self.min_iou = min_iou
        self._paths = {"detect": det_model, "embed": rec_model}
        self._models: dict[str, object] = {}
        self._weights: list[str] = []

    requires = ("insightface", "onnxruntime")
    install_hint = "pip install insightface onnxruntime"

    @classmethod
    def weights_availability(cls, capability: Capability | None) -> tuple[bool, str]:
        # Embedding an image without given landmarks detects first, so it needs both models.
        roles = ("detect",) if capability == "detect" else ("detect", "embed")
        found = []
        for role in roles:
            pack, file = _pack_with(role)
            res = locate(pack, [file])
            if res.status != "present":
                return False, f"{role}: weights '{pack}' {res.status} ({file}): `{res.asset.fetch_command}`"
            found.append(f"{pack}/{Path(file).name}")
        return True, f"{', '.join(found)} present (non-commercial licence)"

    def weights_used(self) -> list[str]:
        return list(dict.fromkeys(self._weights))

    def _model(self, role: str):
        """The SCRFD (role 'detect') or ArcFace (role 'embed') model, loaded once."""
        if role not in self._models:
            from insightface.model_zoo import get_model

            path = self._paths[role]
            if path is None:
                pack, file = _pack_with(role, self.pack)
                path = resolve(pack, [file]).paths[0]
                self._weights.append(pack)
            model = get_model(str(path))
            if role == "detect":
                model.prepare(-1, input_size=self.det_size, det_thresh=self.det_thresh)
            self._models[role] = model
        return self._models[role]

    def _detect_one(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n×5 boxes+scores, n×5×2 keypoints), most confident first."""
        det, kps = self._model("detect").detect(np.ascontiguousarray(img[..., ::-1]), max_num=0)
        order = np.argsort(-det[:, 4])
        return det[order], kps[order]

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        out = []
        for img in images:
            det, _ = self._detect_one(img)
            out.append(Detections(det[:, :4].astype(np.float32), det[:, 4].astype(np.float32)))
        return out

    def _keypoints(self, img: np.ndarray, box: np.ndarray | None, use_largest: bool) -> np.ndarray | None:
        det, kps = self._detect_one(img)
        if len(det) == 0:
            return None
        if use_largest:
            return kps[int(np.argmax((det[:, 2] - det[:, 0]) * (det[:, 3] - det[:, 1])))]
        if box is None:
            return None
        overlap = _iou(np.asarray(box, np.float32), det[:, :4])
        best = int(np.argmax(overlap))
        return kps[best] if overlap[best] >= self.min_iou else None

    def embed(self, images: Sequence[np.ndarray], boxes: Sequence[np.ndarray | None] | None = None,
              landmarks: Sequence[np.ndarray | None] | None = None) -> np.ndarray:
        """Given 68-point ``landmarks`` the 5 alignment points come from them (no detector);
        otherwise SCRFD's keypoints of the face matching each box (the largest face when no
        boxes are given)."""
        from insightface.utils.face_align import norm_crop

        rec = self._model("embed")
        size = rec.input_size[0]
        out = np.full((len(images), self.embedding_dim), np.nan, np.float32)
        rows, crops = [], []
        for i, img in enumerate(images):
            lm = landmarks[i] if landmarks is not None else None
            kps: np.ndarray | None
            if lm is not None:
                kps = five_points(lm)
            else:
                kps = self._keypoints(img, boxes[i] if boxes is not None else None, use_largest=boxes is None)
            if kps is None:
                continue
            rows.append(i)
            crops.append(norm_crop(np.ascontiguousarray(img[..., ::-1]), landmark=kps, image_size=size))
        if rows:
            feats = np.asarray(rec.get_feat(crops), np.float32).reshape(len(rows), -1)
            if feats.shape[1] != self.embedding_dim:
                raise ValueError(f"{rec.model_file} gives {feats.shape[1]}-D embeddings, expected {self.embedding_dim}")
            out[rows] = l2_normalise(feats)
        return out
