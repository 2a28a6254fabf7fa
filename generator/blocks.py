"""Building blocks of the talking-head networks (Zakharov et al. 2019, after BigGAN/SAGAN):
spectrally normalised convolutions, residual down/up blocks, AdaIN and self-attention.

Every convolution and linear layer goes through :func:`sn` (spectral norm, as the paper
prescribes for E, G and D). AdaIN layers hold no parameters of their own: their scales and
biases are sliced out of the person-specific vector ψ = P·ê that the generator passes down.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def sn(module: nn.Module) -> nn.Module:
    """Spectral norm on ``module.weight`` (one power iteration per training forward)."""
    return spectral_norm(module)


def conv3x3(cin: int, cout: int, bias: bool = True) -> nn.Module:
    return sn(nn.Conv2d(cin, cout, 3, padding=1, bias=bias))


def conv1x1(cin: int, cout: int) -> nn.Module:
    return sn(nn.Conv2d(cin, cout, 1))


class AdaIN(nn.Module):
    """Instance norm whose per-channel scale and bias come from outside (a slice of ψ).

    The scale is applied as ``1 + γ`` so that ψ = 0 is the identity transform; with P's bias
    this is the same family as the paper's plain γ, but starts training from a sane point.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.psi: torch.Tensor | None = None  # (B, 2C), set by the generator for each forward

    @property
    def n_params(self) -> int:
        return 2 * self.channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.psi is None:
            raise RuntimeError("AdaIN used without ψ: call the generator with an embedding or ψ")
        gamma, beta = self.psi.to(x.dtype).chunk(2, dim=1)
        x = F.instance_norm(x, eps=1e-5)
        return x * (1 + gamma[:, :, None, None]) + beta[:, :, None, None]


class SelfAttention(nn.Module):
    """SAGAN self-attention: x + γ·attention(x), γ initialised to 0 (starts as identity)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        inner = max(channels // 8, 1)
        self.query = conv1x1(channels, inner)
        self.key = conv1x1(channels, inner)
        self.value = conv1x1(channels, max(channels // 2, 1))
        self.out = conv1x1(max(channels // 2, 1), channels)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)  # (B, N, c')
        k = self.key(x).flatten(2).transpose(1, 2)
        v = self.value(x).flatten(2).transpose(1, 2)
        att = F.scaled_dot_product_attention(q, k, v, scale=1.0)  # SAGAN: unscaled dot product
        att = att.transpose(1, 2).reshape(b, -1, h, w)
        return x + self.gamma * self.out(att)


class ResBlockDown(nn.Module):
    """BigGAN discriminator block: [norm] ReLU conv [norm] ReLU conv, avg-pool; 1×1 skip.

    ``norm=True`` (instance norm) is the generator's landmark encoder; the embedder and the
    discriminator use no normalisation. ``preactivation=False`` drops the leading ReLU of
    the first block, which sees raw pixels. ``down=False`` keeps the resolution (D's extra
    block at 4×4).
    """

    def __init__(self, cin: int, cout: int, *, norm: bool = False, preactivation: bool = True,
                 down: bool = True) -> None:
        super().__init__()
        self.norm = norm
        self.preactivation = preactivation
        self.down = down
        self.conv1 = conv3x3(cin, cout, bias=not norm)  # a bias before instance norm cancels out
        self.conv2 = conv3x3(cout, cout)
        self.skip = conv1x1(cin, cout) if (cin != cout or down) else None

    def _norm(self, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x, eps=1e-5) if self.norm else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self._norm(x)
        if self.preactivation:
            h = F.relu(h)
        h = self.conv1(h)
        h = self.conv2(F.relu(self._norm(h)))
        s = self.skip(x) if self.skip is not None else x
        if self.down:
            h, s = F.avg_pool2d(h, 2), F.avg_pool2d(s, 2)
        return h + s


class ResBlockAdaIN(nn.Module):
    """Generator residual block, optionally upsampling (×2 nearest): AdaIN ReLU [up] conv
    AdaIN ReLU conv, plus a ([up] 1×1 conv) skip. All normalisation parameters come from ψ."""

    def __init__(self, cin: int, cout: int, *, up: bool) -> None:
        super().__init__()
        self.up = up
        self.norm1 = AdaIN(cin)
        self.conv1 = conv3x3(cin, cout, bias=False)  # followed by AdaIN, which cancels a bias
        self.norm2 = AdaIN(cout)
        self.conv2 = conv3x3(cout, cout)
        self.skip = conv1x1(cin, cout) if (cin != cout or up) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.norm1(x))
        if self.up:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.norm2(self.conv1(h))))
        s = self.skip(x) if self.skip is not None else x
        return h + s
