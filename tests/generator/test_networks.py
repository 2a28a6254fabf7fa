"""Shapes, spectral norm, AdaIN wiring and parameter counts of E, G, D."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

import torch.nn.functional as F

from talkbench.generator.blocks import AdaIN, SelfAttention, conv3x3_avgpool, upsample_conv3x3
from talkbench.generator.model import ModelConfig, build_model
from tests.generator.conftest import tiny_model_config


@pytest.mark.parametrize("size", [32, 64, 128])
def test_shapes_at_every_size(size):
    model = build_model(ModelConfig(preset="cpu64", image_size=size, width=4, max_width=16, emb_dim=24, n_res=1), 5)
    x, y = torch.rand(2, 3, 3, size, size) * 2 - 1, torch.rand(2, 3, 3, size, size) * 2 - 1
    e = model.E.embed_video(x, y)
    assert e.shape == (2, 24) and (e >= 0).all()  # ReLU after sum pooling
    fake = model.G(y[:, 0], e)
    assert fake.shape == (2, 3, size, size) and fake.abs().max() <= 1  # tanh output
    score, feats, rows = model.D(fake, y[:, 0], torch.tensor([0, 4]))
    assert score.shape == (2,) and rows.shape == (2, 24)
    assert feats[-1].shape == (2, 24, 4, 4) and feats[-2].shape == (2, 24, 4, 4)  # extra block at 4×4
    # self-attention at S/8 in E/D and S/4 in G (the paper's 32×32 and 64×64 at 256 px)
    resolutions = {}
    for name, net in (("E", model.E), ("G", model.G)):
        hooks = [m.register_forward_hook(lambda m, i, o, n=name: resolutions.setdefault(n, set()).add(o.shape[-1]))
                 for m in net.modules() if isinstance(m, SelfAttention)]
        model.E(x[:, 0], y[:, 0]) if name == "E" else model.G(y[:, 0], e)
        for h in hooks:
            h.remove()
    assert resolutions == {"E": {size // 8}, "G": {size // 4}}


@pytest.mark.parametrize("bias", [True, False])
def test_folded_pool_and_upsample_convolutions_are_the_plain_ones(bias):
    """The blocks fold avg-pool and ×2 nearest upsampling into their 3×3 convolutions; the
    reference is the plain composition, values and gradients (float64, odd channel counts,
    non-square input)."""
    torch.manual_seed(0)
    conv = nn.Conv2d(5, 7, 3, padding=1, bias=bias).double()
    x = torch.randn(2, 5, 8, 12, dtype=torch.double, requires_grad=True)
    cases = ((F.avg_pool2d(conv(x), 2), conv3x3_avgpool(conv, x)),
             (conv(F.interpolate(x, scale_factor=2, mode="nearest")), upsample_conv3x3(conv, x)))
    for plain, folded in cases:
        assert folded.shape == plain.shape
        torch.testing.assert_close(folded, plain, rtol=0, atol=1e-12)
        g_plain = torch.autograd.grad((plain * plain.detach()).sum(), [x, conv.weight], retain_graph=True)
        g_fold = torch.autograd.grad((folded * plain.detach()).sum(), [x, conv.weight], retain_graph=True)
        for a, b in zip(g_fold, g_plain):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


def test_spectral_norm_on_every_conv_and_linear():
    model = build_model(tiny_model_config(), 3)
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) > 30
    assert all(parametrize.is_parametrized(m, "weight") for m in layers)
    w = model.G.projection.parametrizations.weight.original
    model.train()
    model.G.projection(torch.randn(1, w.shape[1]))  # one power iteration
    sigma = torch.linalg.matrix_norm(model.G.projection.weight.detach(), ord=2)
    assert sigma == pytest.approx(1.0, abs=0.25)


def test_adain_parameters_all_come_from_P():
    model = build_model(tiny_model_config(), 3)
    adains = [m for m in model.G.modules() if isinstance(m, AdaIN)]
    assert sum(m.n_params for m in adains) == model.G.n_adain == model.G.projection.out_features
    assert not any(p for m in adains for p in m.parameters())  # AdaIN itself holds no weights
    y = torch.rand(2, 3, 32, 32) * 2 - 1
    e = torch.rand(2, 32)
    model.eval()
    assert torch.equal(model.G(y, e), model.G(y, psi=model.G.psi(e)))
    assert not torch.allclose(model.G(y, e), model.G(y, e * 3))  # the embedding drives the output
    with pytest.raises(ValueError):
        model.G(y)


def test_projection_discriminator_uses_video_columns():
    model = build_model(tiny_model_config(), 4).eval()
    x, y = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    s0, _, _ = model.D(x, y, torch.tensor([0]))
    with torch.no_grad():
        model.D.W[1] += 1.0
    s0_again, _, _ = model.D(x, y, torch.tensor([0]))
    s1, _, _ = model.D(x, y, torch.tensor([1]))
    sw, _, _ = model.D(x, y, w=model.D.W[1] + model.D.w0)
    assert torch.equal(s0, s0_again) and not torch.allclose(s0, s1)
    assert torch.allclose(s1, sw)


def test_paper_preset_parameter_counts():
    counts = build_model(ModelConfig(preset="paper"), 1).parameter_counts()
    # the paper recalls ≈ 15M / 38M / 20M
    assert counts["E"] == pytest.approx(15e6, rel=0.1)
    assert counts["G"] == pytest.approx(38e6, rel=0.1)
    assert counts["D"] == pytest.approx(20e6, rel=0.1)


def test_bad_image_size_is_an_error():
    from talkbench.errors import TalkbenchError

    with pytest.raises(TalkbenchError):
        build_model(ModelConfig(image_size=100), 2)


@pytest.mark.slow
def test_paper_preset_trains_and_fine_tunes_a_step_at_256_px():
    """The paper's networks still build, take a meta-learning step and an FT step at 256 px
    on the CPU (batch 1, K = 1), with finite losses and weights that move."""
    from talkbench.generator.ft_config import FineTuneConfig
    from talkbench.generator.fewshot import fine_tune
    from talkbench.generator.losses import ContentLoss, LossConfig
    from talkbench.generator.train import make_optimizers, meta_step
    from talkbench.generator.train_config import TrainConfig

    torch.manual_seed(0)
    cfg = TrainConfig(model=ModelConfig(preset="paper"), batch_size=1, k=1,
                      loss=LossConfig(vgg19="off", vggface="off"))
    model = build_model(cfg.model, 2)
    opt_g, opt_d = make_optimizers(model, cfg)
    r = lambda *s: torch.rand(*s) * 2 - 1  # noqa: E731
    batch = {"shots": r(1, 1, 3, 256, 256), "shot_landmarks": r(1, 1, 3, 256, 256), "target": r(1, 3, 256, 256),
             "target_landmarks": r(1, 3, 256, 256), "video_index": torch.tensor([1])}
    before = model.G.out_conv.parametrizations.weight.original.detach().clone()
    losses, fake = meta_step(model.E, model.G, model.D, batch, ContentLoss(cfg.loss), cfg, opt_g, opt_d,
                             torch.device("cpu"))
    assert fake.shape == (1, 3, 256, 256) and all(math.isfinite(v) for v in losses.values())
    assert not torch.equal(before, model.G.out_conv.parametrizations.weight.original)
    x, y = r(2, 3, 256, 256), r(2, 3, 256, 256)
    psi, log = fine_tune(model.G, model.D, model.G.psi(torch.ones(1, 512)), torch.zeros(512), x, y,
                         FineTuneConfig(steps=1, batch_size=1), cfg, cfg.loss, torch.device("cpu"))
    assert psi.shape == (1, model.G.n_adain) and math.isfinite(log["g_total_last"][0])
