"""The three networks of Zakharov et al. (2019): embedder E, generator G (AdaIN driven by
ψ = P·ê) and projection discriminator D with one column per training video.

Resolutions scale with the image size S: E and D downsample S → 4 (log2(S) − 2 blocks) with
self-attention at S/8 (32×32 at 256 px, as in the paper); G encodes the landmark image
S → S/16 with instance-norm blocks, then AdaIN residual blocks and upsampling blocks back to
S, with self-attention at S/4 (64×64 at 256 px). Widths double from ``width`` up to
``max_width``; the embedding (and D's V) has ``emb_dim`` = 512 channels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from talkbench.errors import TalkbenchError
from talkbench.generator.blocks import AdaIN, ResBlockAdaIN, ResBlockDown, SelfAttention, conv3x3, sn


def _widths(width: int, max_width: int, n: int) -> list[int]:
    return [min(width * 2**i, max_width) for i in range(n)]


def levels(image_size: int) -> int:
    """Downsampling blocks S → 4 of E and D; the one check of the image sizes the networks take."""
    n = int(math.log2(image_size)) - 2 if image_size > 0 else -1
    if n < 3 or 2 ** (n + 2) != image_size:
        raise TalkbenchError(f"model.image_size must be a power of two ≥ 32, got {image_size}")
    return n


class Trunk(nn.Module):
    """E's (and D's) trunk: residual downsampling blocks S → 4, no normalisation,
    self-attention at S/8. Returns every block's output (D's feature-matching features)."""

    def __init__(self, image_size: int, width: int, max_width: int, emb_dim: int) -> None:
        super().__init__()
        widths = _widths(width, max_width, levels(image_size) - 1) + [emb_dim]
        layers: list[nn.Module] = []
        cin, res = 6, image_size
        for i, cout in enumerate(widths):
            layers.append(ResBlockDown(cin, cout, preactivation=i > 0))
            res //= 2
            if res == image_size // 8:
                layers.append(SelfAttention(cout))
            cin = cout
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
        h = torch.cat([x, y], dim=1)
        feats = []
        for layer in self.layers:
            h = layer(h)
            feats.append(h)
        return feats


def relu_sum_pool(h: torch.Tensor) -> torch.Tensor:
    """ReLU, then global sum pooling (BigGAN / SNGAN projection-discriminator order).

    The other order, ReLU of the sum, zeroes a whole channel whenever its spatial sum is
    negative; observed here: every channel of D's V went negative within 40 steps, the score
    became the bias alone and D never recovered (hinge exactly 2, real = fake score)."""
    return F.relu(h).sum(dim=(2, 3))


class Embedder(nn.Module):
    """E(x, y) → ê ∈ R^emb_dim per frame: trunk, ReLU, global sum pooling."""

    def __init__(self, image_size: int, width: int, max_width: int, emb_dim: int = 512) -> None:
        super().__init__()
        self.trunk = Trunk(image_size, width, max_width, emb_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return relu_sum_pool(self.trunk(x, y)[-1])

    def embed_video(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(B, K, 3, S, S) frames and landmark images → (B, emb_dim), the mean over K."""
        b, k = x.shape[:2]
        e = self(x.flatten(0, 1), y.flatten(0, 1))
        return e.view(b, k, -1).mean(dim=1)


class Generator(nn.Module):
    """G(y, ψ): landmark image → frame; all AdaIN scales/biases are slices of ψ = P·ê."""

    def __init__(self, image_size: int, width: int, max_width: int, emb_dim: int = 512,
                 n_res: int = 5) -> None:
        super().__init__()
        levels(image_size)
        widths = _widths(width, max_width, 4)
        enc: list[nn.Module] = []
        cin, res = 3, image_size
        for i, cout in enumerate(widths):
            enc.append(ResBlockDown(cin, cout, norm=True, preactivation=i > 0))
            res //= 2
            if res == image_size // 4:
                enc.append(SelfAttention(cout))
            cin = cout
        self.encoder = nn.ModuleList(enc)
        dec: list[nn.Module] = [ResBlockAdaIN(cin, cin, up=False) for _ in range(n_res)]
        for cout in list(reversed(widths[:-1])) + [widths[0]]:
            dec.append(ResBlockAdaIN(cin, cout, up=True))
            res *= 2
            if res == image_size // 4:
                dec.append(SelfAttention(cout))
            cin = cout
        self.decoder = nn.ModuleList(dec)
        self.out_norm = AdaIN(cin)
        self.out_conv = conv3x3(cin, 3)
        self.adains = [m for m in self.modules() if isinstance(m, AdaIN)]
        self.n_adain = sum(m.n_params for m in self.adains)
        self.projection = sn(nn.Linear(emb_dim, self.n_adain))  # P: one matrix, ê → ψ

    def psi(self, e: torch.Tensor) -> torch.Tensor:
        """ψ = P·ê, the AdaIN parameters of a person (B, n_adain)."""
        return self.projection(e)

    def forward(self, y: torch.Tensor, e: torch.Tensor | None = None, psi: torch.Tensor | None = None) -> torch.Tensor:
        if (e is None) == (psi is None):
            raise ValueError("pass exactly one of e (embedding) or psi (AdaIN parameters)")
        if psi is None:
            assert e is not None  # checked above: exactly one of them is given
            psi = self.psi(e)
        if psi.shape[0] == 1 and y.shape[0] > 1:
            psi = psi.expand(y.shape[0], -1)
        offset = 0
        for m in self.adains:
            m.psi = psi[:, offset:offset + m.n_params]
            offset += m.n_params
        try:
            h = y
            for layer in self.encoder:
                h = layer(h)
            for layer in self.decoder:
                h = layer(h)
            return torch.tanh(self.out_conv(F.relu(self.out_norm(h))))
        finally:
            for m in self.adains:
                m.psi = None


class Discriminator(nn.Module):
    """Projection discriminator: V(x, y) from E's trunk plus one residual block at 4×4, ReLU
    and sum pooling; score r = V·(W_i + w0) + b, W holding one row per training video."""

    def __init__(self, image_size: int, width: int, max_width: int, n_videos: int, emb_dim: int = 512) -> None:
        super().__init__()
        self.trunk = Trunk(image_size, width, max_width, emb_dim)
        self.extra = ResBlockDown(emb_dim, emb_dim, down=False)
        # W starts non-negative and at the scale of an untrained ê (≈ 0.7 per entry): L_MCH pulls
        # ê towards W, and tiny or negative targets drive the ReLU'd embedding to all zeros
        # (an embedder collapse observed with W ~ N(0, 0.02²): ê ≡ 0, G ignores identity).
        self.W = nn.Parameter(torch.randn(n_videos, emb_dim).abs())
        self.w0 = nn.Parameter(torch.zeros(emb_dim))
        self.b = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor, y: torch.Tensor, video: torch.Tensor | None = None,
                w: torch.Tensor | None = None) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
        """Score, features (for feature matching) and the projection rows used.

        ``video`` indexes W (meta-learning: rows W_i + w0); a few-shot model passes its own
        column ``w`` (w' = w0 + ê_new, then fine-tuned) instead.
        """
        feats = self.trunk(x, y)
        h = self.extra(feats[-1])
        feats.append(h)
        v = relu_sum_pool(h)
        if w is None:
            if video is None:
                raise ValueError("pass the video indices or a projection column w")
            rows = self.W[video]
            w = rows + self.w0
        else:
            rows = w.expand(v.shape[0], -1) if w.dim() == 1 else w
            w = rows
        score = (v * w.to(v.dtype)).sum(dim=1) + self.b
        return score, feats, rows
