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

# The layout of every network here (E, G, D, the content networks) and of the image batches
# they see, on every device: oneDNN (CPU) and cuDNN (CUDA) run NHWC convolutions natively, so
# nothing is reordered per call; the 64 px CPU training step measured 1.21× faster than NCHW
# (docs/generator.md).
MEMORY_FORMAT = torch.channels_last


def sn(module: nn.Module) -> nn.Module:
    """Spectral norm on ``module.weight`` (one power iteration per training forward)."""
    return spectral_norm(module)


def conv3x3(cin: int, cout: int, bias: bool = True) -> nn.Module:
    return sn(nn.Conv2d(cin, cout, 3, padding=1, bias=bias))


def conv1x1(cin: int, cout: int) -> nn.Module:
    return sn(nn.Conv2d(cin, cout, 1))


def _weight_bias(conv: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A convolution's (spectrally normalised: a parametrisation) weight and its bias."""
    w, b = conv.weight, conv.bias
    assert isinstance(w, torch.Tensor) and (b is None or isinstance(b, torch.Tensor))
    return w, b


def conv3x3_avgpool(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``avg_pool2d(conv(x), 2)`` for a padded 3×3 ``conv``, as one stride-2 4×4 convolution.

    Both are linear, so pooling folds into the kernel: w4[m, n] = ¼ Σ_{a,b∈{0,1}} w[m−a, n−b].
    Same function to float rounding, with 16/36 of the multiply-adds and no pooled map.
    """
    w, bias = _weight_bias(conv)
    w4 = (F.pad(w, (0, 1, 0, 1)) + F.pad(w, (1, 0, 0, 1)) + F.pad(w, (0, 1, 1, 0)) + F.pad(w, (1, 0, 1, 0))) / 4
    return F.conv2d(x, w4, bias, stride=2, padding=1)


def _fold_phase(w: torch.Tensor, dim: int, phase: int) -> torch.Tensor:
    """The 2-tap kernel along ``dim`` that a 3-tap kernel becomes on a ×2 nearest-upsampled
    axis, for output positions of parity ``phase``: (w₀, w₁+w₂) or (w₀+w₁, w₂)."""
    t0, t1, t2 = w.unbind(dim)
    return torch.stack((t0, t1 + t2) if phase == 0 else (t0 + t1, t2), dim)


def upsample_conv3x3(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``conv(interpolate(x, scale_factor=2, mode="nearest"))`` for a padded 3×3 ``conv``, computed
    on the low-resolution input (sub-pixel form).

    Each of the four output phases (row parity a, column parity b) of the upsampled
    convolution is a 2×2 convolution of ``x``: along each axis, phase 0 sees taps
    {−1: w₀, 0: w₁+w₂} and phase 1 sees {0: w₀+w₁, +1: w₂}. One convolution with the four
    phase kernels, then interleaving, gives the same function to float rounding with 16/36
    of the multiply-adds and no upsampled copy of ``x``.
    """
    w, bias = _weight_bias(conv)  # w: (Cout, Cin, 3, 3)
    cout = w.shape[0]
    kernels = [_fold_phase(_fold_phase(w, 2, a), 3, b) for a in (0, 1) for b in (0, 1)]  # 4 × (Cout, Cin, 2, 2)
    y = F.conv2d(F.pad(x, (1, 1, 1, 1)), torch.cat(kernels), None)  # (B, 4·Cout, H+1, W+1)
    h, wd = x.shape[-2:]
    phases = [y[:, i * cout:(i + 1) * cout, a:a + h, b:b + wd]
              for i, (a, b) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1)))]
    out = torch.stack(phases, 2).unflatten(2, (2, 2))  # (B, Cout, 2, 2, H, W)
    out = out.permute(0, 1, 4, 2, 5, 3).reshape(x.shape[0], cout, 2 * h, 2 * wd)
    if bias is not None:
        out = out + bias[:, None, None]
    return out


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
    The pooling is folded into the convolutions (:func:`conv3x3_avgpool`), the same function.

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
        h = F.relu(self._norm(self.conv1(h)))
        if not self.down:
            return self.conv2(h) + (self.skip(x) if self.skip is not None else x)
        # conv → pool computed as one strided conv; pool → 1×1 conv (linear maps commute)
        assert self.skip is not None  # a down block always has its 1×1 skip
        return conv3x3_avgpool(self.conv2, h) + self.skip(F.avg_pool2d(x, 2))


class ResBlockAdaIN(nn.Module):
    """Generator residual block, optionally upsampling (×2 nearest): AdaIN ReLU [up] conv
    AdaIN ReLU conv, plus a ([up] 1×1 conv) skip. All normalisation parameters come from ψ.
    The upsampling is folded into the convolutions (:func:`upsample_conv3x3`), the same function."""

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
        if not self.up:
            h = self.conv2(F.relu(self.norm2(self.conv1(h))))
            return h + (self.skip(x) if self.skip is not None else x)
        # upsample → conv in sub-pixel form; upsample → 1×1 conv as 1×1 conv → upsample
        h = self.conv2(F.relu(self.norm2(upsample_conv3x3(self.conv1, h))))
        assert self.skip is not None  # an up block always has its 1×1 skip
        return h + F.interpolate(self.skip(x), scale_factor=2, mode="nearest")
