"""The FID Inception network up to its 2048-d pool3 features, for inference only.

The architecture is the TF Inception graph 2015-12-05 that FID is defined on: Inception v3
(Szegedy et al., CVPR 2016) with the FID variants of its mixed blocks (average pools that
do not count padding; a max pool in the last block's pool branch). Parameter names follow
pytorch-fid's checkpoint (torchvision's ``Inception3`` names), so the same state dict loads.

Why our own definition rather than pytorch-fid's module: importing pytorch-fid imports
torchvision, and with it torch's compiler stack (~2 s per process), and builds ~24 M
randomly initialised parameters before loading the real ones — more than a third of FID's
end-to-end time on a small folder. Here batch norm and the input map 2x − 1 are folded into
the convolutions' weights at load time, and the network is built on the meta device and
takes the folded tensors as they are. ``tests/metrics/test_fid_reference.py`` checks the
features against pytorch-fid's own module.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3  # every batch norm of the graph (TF's default epsilon)
FIRST_CONV = "Conv2d_1a_3x3"  # unpadded: the input map can be folded into it exactly


class _Conv(nn.Module):
    """Convolution with its batch norm folded in (a bias), then ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int | tuple[int, int], stride: int = 1,
                 padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(x), inplace=True)


def _avg_pool(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class _MixedA(nn.Module):
    """35×35 block: 1×1, 5×5, double 3×3 and pooled branches."""

    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = _Conv(cin, 64, 1)
        self.branch5x5_1 = _Conv(cin, 48, 1)
        self.branch5x5_2 = _Conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = _Conv(cin, 64, 1)
        self.branch3x3dbl_2 = _Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _Conv(96, 96, 3, padding=1)
        self.branch_pool = _Conv(cin, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)),
                          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          self.branch_pool(_avg_pool(x))], 1)


class _ReductionB(nn.Module):
    """35×35 → 17×17 reduction."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = _Conv(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = _Conv(cin, 64, 1)
        self.branch3x3dbl_2 = _Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _Conv(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch3x3(x), self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          F.max_pool2d(x, 3, stride=2)], 1)


class _MixedC(nn.Module):
    """17×17 block with factorised 7×7 convolutions (1×7 and 7×1)."""

    def __init__(self, cin: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = _Conv(cin, 192, 1)
        self.branch7x7_1 = _Conv(cin, c7, 1)
        self.branch7x7_2 = _Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = _Conv(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = _Conv(cin, c7, 1)
        self.branch7x7dbl_2 = _Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = _Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = _Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = _Conv(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = _Conv(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        single = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        double = self.branch7x7dbl_1(x)
        for conv in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            double = conv(double)
        return torch.cat([self.branch1x1(x), single, double, self.branch_pool(_avg_pool(x))], 1)


class _ReductionD(nn.Module):
    """17×17 → 8×8 reduction."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = _Conv(cin, 192, 1)
        self.branch3x3_2 = _Conv(192, 320, 3, stride=2)
        self.branch7x7x3_1 = _Conv(cin, 192, 1)
        self.branch7x7x3_2 = _Conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _Conv(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _Conv(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seven = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), seven, F.max_pool2d(x, 3, stride=2)], 1)


class _MixedE(nn.Module):
    """8×8 block with split 1×3 / 3×1 outputs; FID's graph pools by average in the first
    and by maximum in the second of these blocks."""

    def __init__(self, cin: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = _Conv(cin, 320, 1)
        self.branch3x3_1 = _Conv(cin, 384, 1)
        self.branch3x3_2a = _Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = _Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = _Conv(cin, 448, 1)
        self.branch3x3dbl_2 = _Conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = _Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = _Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = _Conv(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch3x3_1(x)
        b = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool(x)
        return torch.cat([self.branch1x1(x), self.branch3x3_2a(a), self.branch3x3_2b(a),
                          self.branch3x3dbl_3a(b), self.branch3x3dbl_3b(b), self.branch_pool(pooled)], 1)


class FIDInception(nn.Module):
    """(B, 3, 299, 299) RGB in [0, 1] → (B, 2048) pool3 features, once loaded with
    ``fold_state_dict`` of the FID weights (the 2x − 1 map is in the first convolution)."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = _Conv(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = _Conv(32, 32, 3)
        self.Conv2d_2b_3x3 = _Conv(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = _Conv(64, 80, 1)
        self.Conv2d_4a_3x3 = _Conv(80, 192, 3)
        self.Mixed_5b = _MixedA(192, 32)
        self.Mixed_5c = _MixedA(256, 64)
        self.Mixed_5d = _MixedA(288, 64)
        self.Mixed_6a = _ReductionB(288)
        self.Mixed_6b = _MixedC(768, 128)
        self.Mixed_6c = _MixedC(768, 160)
        self.Mixed_6d = _MixedC(768, 160)
        self.Mixed_6e = _MixedC(768, 192)
        self.Mixed_7a = _ReductionD(768)
        self.Mixed_7b = _MixedE(1280, max_pool=False)
        self.Mixed_7c = _MixedE(2048, max_pool=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(F.max_pool2d(x, 3, stride=2)))
        x = F.max_pool2d(x, 3, stride=2)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c,
                      self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c):
            x = block(x)
        return x.mean(dim=(2, 3))


@torch.no_grad()
def fold_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """pytorch-fid's checkpoint (conv → batch norm, input in [−1, 1]) as ``FIDInception``'s
    state dict: each batch norm folded into its convolution (W' = W·s, b' = β − μ·s with
    s = γ / √(σ² + ε)), and the input map x → 2x − 1 folded into the first convolution
    (W'' = 2W', b'' = b' − ΣW'; exact because that convolution has no padding). The
    classifier (``fc``) is dropped: pool3 comes before it."""
    out: dict[str, torch.Tensor] = {}
    for key in state:
        if not key.endswith(".conv.weight"):
            continue
        prefix = key[: -len(".conv.weight")]
        scale = state[f"{prefix}.bn.weight"] * torch.rsqrt(state[f"{prefix}.bn.running_var"] + BN_EPS)
        weight = state[key] * scale.reshape(-1, 1, 1, 1)
        bias = state[f"{prefix}.bn.bias"] - state[f"{prefix}.bn.running_mean"] * scale
        if prefix == FIRST_CONV:
            bias = bias - weight.sum(dim=(1, 2, 3))
            weight = weight * 2
        out[f"{prefix}.conv.weight"], out[f"{prefix}.conv.bias"] = weight.float(), bias.float()
    return out


def build_fid_inception(state: dict[str, torch.Tensor]) -> FIDInception:
    """The network with pytorch-fid-format FID weights, eval mode, frozen. Built on the meta
    device (no random initialisation to throw away); a state dict that does not fit exactly
    (missing or extra convolutions, wrong shapes) raises from the strict load."""
    with torch.device("meta"):
        net = FIDInception()
    net.load_state_dict(fold_state_dict(state), strict=True, assign=True)
    return net.eval().requires_grad_(False)
