"""The 'fan' backend's loading and heatmap pipeline, exercised with tiny networks of
face-alignment's own formats (the real S3FD/2DFAN4 weights cannot be downloaded here)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.core.core_faces_helpers import PORTRAITS, load
from talkbench.errors import TalkbenchError
from talkbench.faces import available_backends, create_backend
from talkbench.faces.fan_backend import FanBackend, load_fan


class DotTracker(torch.nn.Module):
    """A heatmap 'network' with 2DFAN's signature, (B,3,256,256) in [0,1] -> (B,68,64,64):
    every heatmap peaks where the crop is brightest, so the landmarks must land on the dot."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.nn.functional.avg_pool2d(x.mean(1, keepdim=True), 4)
        return pooled.expand(-1, 68, -1, -1).contiguous()


@pytest.fixture
def dot_tracker(tmp_path):
    path = tmp_path / "2DFAN-dots.zip"
    torch.jit.script(DotTracker()).save(str(path))
    return path


@pytest.fixture
def tiny_fan(tmp_path):
    """A one-hourglass FAN state dict, saved as face-alignment 1.5 stores 2DFAN4."""
    torch.manual_seed(0)
    from face_alignment.models import FAN

    net = FAN(1).eval()
    with torch.no_grad():  # break the symmetry of fresh batch-norm statistics
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    path = tmp_path / "2DFAN1-0000000000.pth.tar"
    torch.save(net.state_dict(), path)
    return path


@pytest.mark.parametrize("dot", [(150, 90), (210, 160), (121, 201)])
def test_heatmap_peaks_map_back_to_pixels(dot_tracker, dot):
    torch.set_num_threads(1)
    img = np.zeros((300, 320, 3), np.uint8)
    x, y = dot
    img[y - 2:y + 3, x - 2:x + 3] = 255
    box = np.array([100, 80, 260, 240], np.float32)
    fan = FanBackend(device="cpu", landmarks_model=dot_tracker)
    lm = fan.landmarks([img, img], [box, None])
    assert lm[1] is None and lm[0].shape == (68, 2) and lm[0].dtype == np.float32
    # one heatmap cell is (w + h) / 195 * 200 / 64 ≈ 5 px here; decoding is to a quarter cell
    cell = (160 + 160) / 195 * 200 / 64
    assert np.abs(lm[0] - np.array(dot)).max() <= cell, (lm[0][:3], dot)
    assert fan.weights_used() == []  # an explicit model is not a registry asset


def test_matches_face_alignment_reference(tiny_fan, shared_images, monkeypatch, tmp_path):
    """Our batched pipeline gives exactly FaceAlignment.get_landmarks_from_image's points."""
    torch.set_num_threads(1)
    import face_alignment
    from face_alignment import api

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setitem(api.models_urls, "2DFAN-1", tiny_fan.as_uri())  # "downloaded" by its own code
    ref = face_alignment.FaceAlignment(face_alignment.LandmarksType.TWO_D, network_size=1, device="cpu",
                                       face_detector="dlib", compile=False)
    imgs = [load(shared_images, n, 320) for n in PORTRAITS[:2]]
    boxes = [np.array([60, 50, 250, 260], np.float32), np.array([40, 70, 200, 230], np.float32)]
    ours = FanBackend(device="cpu", landmarks_model=tiny_fan, batch_size=2).landmarks(imgs, boxes)
    for img, box, lm in zip(imgs, boxes, ours):
        # (float64 boxes, as its own detectors give: its torch transform rejects float32)
        expected = ref.get_landmarks_from_image(img, detected_faces=[box.astype(np.float64)])[0]
        np.testing.assert_allclose(lm, expected, atol=1e-4)
    assert load_fan(tiny_fan).num_modules == 1


def test_s3fd_detector_format(tmp_path):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    from face_alignment.detection.sfd.net_s3fd import s3fd

    path = tmp_path / "s3fd-test.pth"
    torch.save(s3fd().state_dict(), path)
    fan = FanBackend(device="cpu", detector_model=path, filter_threshold=0.0)
    rng = np.random.default_rng(0)
    dets = fan.detect([rng.integers(0, 255, (96, 128, 3), dtype=np.uint8), np.zeros((64, 64, 3), np.uint8)])
    for d in dets:
        assert d.boxes.shape == (len(d), 4) and d.scores.shape == (len(d),) and d.boxes.dtype == np.float32
        assert np.all(np.diff(d.scores) <= 0) and np.all((d.scores >= 0) & (d.scores <= 1))


def test_unavailable_without_weights(empty_weights):
    ok, why = FanBackend.availability("landmarks")
    assert not ok and "fan-2dfan4" in why and "talkbench weights download fan-2dfan4" in why
    assert available_backends("detect")["fan"][0] is False
    with pytest.raises(TalkbenchError, match="'fan' is unavailable.*fan-s3fd"):
        create_backend("fan", "detect")
    assert create_backend("auto", "landmarks").name == "dlib"
    with pytest.raises(TalkbenchError, match="fan-2dfan4.*not found"):
        FanBackend(device="cpu").landmarks([np.zeros((64, 64, 3), np.uint8)], [np.array([0, 0, 60, 60])])
