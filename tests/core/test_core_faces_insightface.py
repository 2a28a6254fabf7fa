"""The 'insightface' backend: the real SCRFD-500M detector from ../shared on real photos, and
ArcFace's loading/alignment/normalisation with a tiny ONNX model of ArcFace's signature."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.core.core_faces_helpers import GROUP, PORTRAITS, iou, load, shifted_rescaled
from talkbench.faces import create_backend
from talkbench.faces.insightface_backend import InsightFaceBackend, five_points


class TinyArcFace(torch.nn.Module):
    """(B,3,112,112) -> (B,512), like w600k_*.onnx, small enough to build in a test."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 8, stride=8)
        self.fc = torch.nn.Linear(8 * 14 * 14, 512)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.tanh(self.conv(x)).flatten(1))


@pytest.fixture(scope="module")
def tiny_arcface(tmp_path_factory):
    torch.manual_seed(0)
    net = TinyArcFace().eval()
    path = tmp_path_factory.mktemp("arcface") / "w600k_tiny.onnx"
    torch.onnx.export(net, torch.zeros(1, 3, 112, 112), str(path), input_names=["data"], output_names=["fc1"],
                      dynamic_axes={"data": {0: "batch"}, "fc1": {0: "batch"}}, dynamo=False)
    return net, path


def test_scrfd_finds_the_faces(shared_weights, shared_images):
    backend = create_backend("auto", "detect")
    assert backend.name == "insightface"
    group = load(shared_images, GROUP, 1280)
    det = backend.detect([group])[0]
    assert len(det) >= 5 and backend.weights_used() == ["buffalo_sc"]
    assert np.all(np.diff(det.scores) <= 0) and det.scores.min() >= 0.5
    assert np.all(det.boxes[:, :2] >= -5) and np.all(det.boxes[:, 2] <= group.shape[1] + 5)
    # every face dlib finds is one of SCRFD's
    dlib_boxes = create_backend("dlib", "detect").detect([group])[0].boxes
    for box in dlib_boxes:
        assert max(iou(box, b) for b in det.boxes) > 0.3
    portraits = [load(shared_images, n, 480) for n in PORTRAITS]
    for name, d in zip(PORTRAITS, backend.detect(portraits)):
        assert len(d) >= 1, name
    assert len(backend.detect([np.zeros((200, 200, 3), np.uint8)])[0]) == 0


def test_arcface_alignment_and_normalisation(shared_weights, shared_images, tiny_arcface):
    from insightface.utils.face_align import norm_crop

    net, path = tiny_arcface
    backend = InsightFaceBackend(rec_model=path)
    img = load(shared_images, PORTRAITS[0], 480)
    lm68 = create_backend("dlib", "landmarks").landmarks_auto([img])[0]
    blank = np.zeros((160, 160, 3), np.uint8)
    emb = backend.embed([img, img, blank, shifted_rescaled(img)], landmarks=[lm68, None, None, None])
    assert emb.shape == (4, 512) and emb.dtype == np.float32
    assert np.isnan(emb[2]).all()
    np.testing.assert_allclose(np.linalg.norm(emb[[0, 1, 3]], axis=1), 1.0, atol=1e-5)
    # the reference: insightface's norm_crop of the BGR image, RGB, (x - 127.5) / 127.5, net, L2
    crop = norm_crop(np.ascontiguousarray(img[..., ::-1]), five_points(lm68), 112)[..., ::-1]
    x = torch.from_numpy((crop.astype(np.float32) - 127.5) / 127.5).permute(2, 0, 1)[None]
    with torch.no_grad():
        ref = net(x)[0].numpy()
    np.testing.assert_allclose(emb[0], ref / np.linalg.norm(ref), atol=1e-4)
    # SCRFD keypoints and dlib-derived points align the same face nearly the same way
    assert emb[0] @ emb[1] > 0.9 and emb[1] @ emb[3] > 0.9


def test_pack_resolution_and_boxes(shared_weights, shared_images, tiny_arcface, tmp_path, monkeypatch):
    """A complete pack under $TALKBENCH_WEIGHTS makes 'auto' embed with insightface."""
    assert InsightFaceBackend.availability("embed")[0] is False
    assert "w600k" in InsightFaceBackend.availability("embed")[1] or "buffalo" in InsightFaceBackend.availability("embed")[1]
    pack = tmp_path / "insightface/models/buffalo_sc"
    pack.mkdir(parents=True)
    (pack / "det_500m.onnx").symlink_to(shared_weights / "insightface/models/buffalo_sc/det_500m.onnx")
    (pack / "w600k_mbf.onnx").symlink_to(tiny_arcface[1])
    monkeypatch.setenv("TALKBENCH_WEIGHTS", str(tmp_path))
    assert InsightFaceBackend.availability()[0]
    backend = create_backend("auto", "embed")
    assert backend.name == "insightface"
    group = load(shared_images, GROUP, 1280)
    boxes = list(backend.detect([group])[0].boxes[:2]) + [np.array([0, 0, 20, 20], np.float32)]
    emb = backend.embed([group] * 3, boxes=boxes)
    assert not np.isnan(emb[:2]).any() and np.isnan(emb[2]).all()  # a box with no face: NaN row
    assert backend.weights_used() == ["buffalo_sc"]
