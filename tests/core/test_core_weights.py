"""The weights resolver: present / missing / corrupt, search order, and downloads through
torch.hub's own code (a file:// URL stands in for the network)."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from talkbench import weights
from talkbench.errors import WeightsMissing
from talkbench.weights import ASSETS, WeightAsset, locate, resolve
from talkbench.weights_download import download


def _tiny_asset(monkeypatch, tmp_path, payload: bytes) -> WeightAsset:
    digest = hashlib.sha256(payload).hexdigest()[:10]
    name = f"tiny-{digest}.pth"
    source = tmp_path / "mirror" / name
    source.parent.mkdir()
    source.write_bytes(payload)
    asset = WeightAsset("tiny", "torchvision", "torch-hub", (name,), "tests", "MIT", 0.0,
                        source.as_uri(), (digest,))
    monkeypatch.setitem(ASSETS, "tiny", asset)
    return asset


def test_missing_message_names_file_paths_and_command(empty_weights):
    res = locate("fan-s3fd")
    assert res.status == "missing" and res.paths == []
    assert res.searched == [empty_weights / "tw/torch/hub/checkpoints/s3fd-619a316812.pth",
                            empty_weights / "torch/hub/checkpoints/s3fd-619a316812.pth"]
    with pytest.raises(WeightsMissing) as err:
        resolve("fan-s3fd")
    msg = str(err.value)
    assert "\n" not in msg
    assert "s3fd-619a316812.pth" in msg and str(res.searched[0]) in msg and str(res.searched[1]) in msg
    assert "`talkbench weights download fan-s3fd`" in msg


def test_insightface_pack_searched_in_both_caches(empty_weights):
    res = locate("buffalo_l")
    assert empty_weights / "tw/insightface/models/buffalo_l/w600k_r50.onnx" in res.searched
    assert empty_weights / "insightface/models/buffalo_l/det_10g.onnx" in res.searched


def test_present_checksum_and_search_order(empty_weights, monkeypatch, tmp_path):
    asset = _tiny_asset(monkeypatch, tmp_path, b"weights v1")
    lib_cache = empty_weights / "torch/hub/checkpoints"
    lib_cache.mkdir(parents=True)
    shutil.copy(tmp_path / "mirror" / asset.files[0], lib_cache)
    res = resolve("tiny")
    assert res.status == "present" and res.paths == [lib_cache / asset.files[0]]
    assert res.root == lib_cache
    # $TALKBENCH_WEIGHTS comes first
    ours = empty_weights / "tw/torch/hub/checkpoints"
    ours.mkdir(parents=True)
    shutil.copy(tmp_path / "mirror" / asset.files[0], ours)
    assert resolve("tiny").paths == [ours / asset.files[0]]


def test_corrupt_checksum(empty_weights, monkeypatch, tmp_path):
    asset = _tiny_asset(monkeypatch, tmp_path, b"weights v1")
    target = empty_weights / "torch/hub/checkpoints" / asset.files[0]
    target.parent.mkdir(parents=True)
    target.write_bytes(b"weights v2 (tampered)")
    res = locate("tiny")
    assert res.status == "corrupt" and asset.sha256[0] in res.detail and str(target) in res.detail
    with pytest.raises(WeightsMissing, match="corrupt.*talkbench weights download tiny"):
        resolve("tiny")


def test_real_detector_checksum_and_pack_subset(shared_weights, empty_weights, tmp_path, monkeypatch):
    monkeypatch.setenv("TALKBENCH_WEIGHTS", str(shared_weights))
    det = "buffalo_sc/det_500m.onnx"
    assert locate("buffalo_sc").status == "missing"  # the pack's recogniser is not there
    res = resolve("buffalo_sc", [det])
    assert res.status == "present" and res.paths[0].name == "det_500m.onnx"
    bad = tmp_path / "bad/insightface/models/buffalo_sc"
    bad.mkdir(parents=True)
    data = bytearray(res.paths[0].read_bytes())
    data[-1] ^= 0xFF
    (bad / "det_500m.onnx").write_bytes(bytes(data))
    monkeypatch.setenv("TALKBENCH_WEIGHTS", str(tmp_path / "bad"))
    assert locate("buffalo_sc", [det]).status == "corrupt"


def test_download_through_torch_hub_verifies(empty_weights, monkeypatch, tmp_path):
    asset = _tiny_asset(monkeypatch, tmp_path, b"weights v1")
    ok, msg = download("tiny")
    assert ok, msg
    target = empty_weights / "tw/torch/hub/checkpoints" / asset.files[0]
    assert target.read_bytes() == b"weights v1" and str(target) in msg
    assert download("tiny")[1].startswith("tiny: already present")
    # the mirror now serves other bytes: torch.hub's hash check refuses them, one line
    (tmp_path / "mirror" / asset.files[0]).write_bytes(b"evil")
    ok, msg = download("tiny", force=True)
    assert not ok and "\n" not in msg and "tiny" in msg


def test_download_unreachable_is_one_line(empty_weights, monkeypatch):
    # .invalid never resolves (RFC 2606): the same failure as a machine without network
    asset = WeightAsset("nowhere", "torchvision", "torch-hub", ("nowhere-0123abcd.pth",), "tests", "MIT", 0.0,
                        "https://weights.invalid/nowhere-0123abcd.pth", ("0123abcd",))
    monkeypatch.setitem(ASSETS, "nowhere", asset)
    ok, msg = download("nowhere")
    assert not ok and "\n" not in msg
    assert msg.startswith("nowhere: download into") and "cannot resolve weights.invalid" in msg
    assert not (empty_weights / "tw/torch/hub/checkpoints/nowhere-0123abcd.pth").exists()


def test_every_asset_is_declared_completely():
    for asset in ASSETS.values():
        assert asset.files and asset.licence and asset.needed_by and asset.library
        if asset.cache == "torch-hub":
            assert asset.url.endswith(asset.files[0]) and asset.sha256[0]
        if asset.library == "insightface":
            assert "non-commercial" in asset.licence
    assert weights.ASSETS["fan-2dfan4"].sha256 == ("11f355bf06",)
