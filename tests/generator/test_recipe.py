"""The CPU recipe's levers: D's pooling cannot die, where L_MCH's gradient goes, the FT
schedule grows with T, and the generator checks' statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from talkbench.benchmarks.generator_checks import nearest_shot_frames, paired_checks
from talkbench.generator.ft_config import FineTuneConfig
from talkbench.generator.fewshot import fine_tune
from talkbench.generator.losses import ContentLoss, LossConfig
from talkbench.generator.model import build_model
from talkbench.generator.networks import relu_sum_pool
from talkbench.generator.steps import gan_step
from tests.generator.conftest import tiny_model_config


def test_relu_then_sum_keeps_a_channel_whose_sum_is_negative():
    """ReLU(sum) zeroes a channel with a negative spatial sum (D died that way); sum(ReLU)
    keeps its positive positions, so D still gets a gradient."""
    h = torch.tensor([[[[3.0, -5.0], [-1.0, -1.0]]]], requires_grad=True)  # sum = -4
    v = relu_sum_pool(h)
    assert v.item() == pytest.approx(3.0)
    v.sum().backward()
    assert h.grad.abs().sum() > 0
    assert torch.relu(h.detach().sum()).item() == 0.0  # the old order: dead


def _gen_step(mch_to_embedder: bool) -> torch.Tensor:
    """The embedder's gradient after one step in which only L_MCH acts on it."""
    torch.manual_seed(0)
    model = build_model(tiny_model_config(), n_videos=2)
    cfg = LossConfig(vgg19="off", vggface="off", pixel_l1=0.0, fm_weight=0.0, adv_weight=0.0, mch_weight=10.0,
                     mch_to_embedder=mch_to_embedder)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    opt_e = torch.optim.SGD(model.E.parameters(), lr=0.0)
    opt_d = torch.optim.SGD(model.D.parameters(), lr=0.0)
    video = torch.tensor([0, 1])

    def generate():
        e = model.E(x, x)
        return model.G(x, e), e

    gan_step(generate, lambda a, b: model.D(a, b, torch.cat([video, video])), x, x, ContentLoss(cfg), cfg,
             opt_e, opt_d)
    grads = [p.grad for p in model.E.parameters() if p.grad is not None]
    return torch.stack([g.abs().sum() for g in grads]).sum() if grads else torch.tensor(0.0)


def test_mch_gradient_goes_to_the_embedder_only_when_asked():
    assert _gen_step(True) > 0
    assert _gen_step(False) == 0


def _ft_groups(monkeypatch, ft: FineTuneConfig, train_cfg=None, t: int = 4) -> list[tuple[dict, dict]]:
    """Run ``fine_tune`` on T blank frames with the adversarial step stubbed out; per step,
    the settings (lr, betas) of G's and D's optimisers as that step saw them."""
    from talkbench.generator.train_config import TrainConfig

    model = build_model(tiny_model_config(), n_videos=1)
    groups = []

    def fake_step(gen, disc, xb, yb, content, loss, opt_g, opt_d, *rest):
        groups.append((dict(opt_g.param_groups[0]), dict(opt_d.param_groups[0])))
        return {"g_total": 0.0}, torch.zeros(1, 3, 32, 32) + torch.linspace(-1, 1, 32)

    monkeypatch.setattr("talkbench.generator.fewshot.gan_step", fake_step)
    x = torch.zeros(t, 3, 32, 32)
    fine_tune(model.G, model.D, torch.zeros(1, model.G.n_adain), torch.zeros(32), x, x, ft,
              train_cfg or TrainConfig(), LossConfig(vgg19="off", vggface="off"), torch.device("cpu"))
    return groups


@pytest.mark.parametrize("t,expected", [(1, 24), (8, 24), (32, 40)])
def test_ft_schedule_is_epochs_over_the_shots_with_a_floor(t, expected, monkeypatch):
    """max(min_steps, ⌈epochs·T / batch⌉): T = 32 gets more steps than T = 8."""
    assert len(_ft_groups(monkeypatch, FineTuneConfig(epochs=10, min_steps=24), t=t)) == expected


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_ft_learning_rates_follow_the_schedule(schedule, monkeypatch):
    """cosine: G's and D's rates start at theirs and anneal towards 0 over the FT steps."""
    groups = _ft_groups(monkeypatch, FineTuneConfig(steps=10, lr_g=1e-3, lr_d=2e-4, lr_schedule=schedule))
    g, d = np.array([(gg["lr"], dd["lr"]) for gg, dd in groups]).T
    assert len(g) == 10 and g[0] == pytest.approx(1e-3) and d[0] == pytest.approx(2e-4)
    if schedule == "constant":
        assert (g == g[0]).all() and (d == d[0]).all()
    else:
        expected = 0.5 * (1 + np.cos(np.pi * np.arange(10) / 10))
        np.testing.assert_allclose(g, 1e-3 * expected, rtol=1e-6)
        np.testing.assert_allclose(d, 2e-4 * expected, rtol=1e-6)


@pytest.mark.parametrize("beta1, expected", [(None, 0.0), (0.9, 0.9)])
def test_ft_adam_beta1_is_the_ft_configs_else_the_meta_learning_runs(beta1, expected, monkeypatch):
    """FT's two Adam optimisers take ``FineTuneConfig.beta1``; None keeps the meta-learning run's (0 here)."""
    from talkbench.generator.train_config import TrainConfig

    groups = _ft_groups(monkeypatch, FineTuneConfig(steps=2, beta1=beta1), TrainConfig(beta1=0.0, beta2=0.99))
    assert [(gg["betas"], dd["betas"]) for gg, dd in groups] == [((expected, 0.99), (expected, 0.99))] * 2


@pytest.mark.parametrize("average", [None, 0.25, 1.0])
def test_ft_returns_the_polynomial_average_of_g_and_psi_when_asked(average, monkeypatch):
    """With ``average=f``, FT hands back the polynomial-decay average (η = 1/f − 1) of G's
    weights and ψ' over its steps, not the last step's (f = 1: the plain mean of the steps);
    without, the last step's."""
    from talkbench.generator.train_config import TrainConfig

    model = build_model(tiny_model_config(), n_videos=1)
    start = {}

    def fake_step(gen, disc, xb, yb, content, loss, opt_g, opt_d, *rest):
        params = opt_g.param_groups[0]["params"]
        start.setdefault("values", [p.detach().clone() for p in params])
        with torch.no_grad():
            for p in params:
                p.fill_(len(start.setdefault("steps", [])) + 1.0)  # the weights after step s are all s
        start["steps"].append(None)
        return {"g_total": 0.0}, torch.zeros(1, 3, 32, 32) + torch.linspace(-1, 1, 32)

    monkeypatch.setattr("talkbench.generator.fewshot.gan_step", fake_step)
    x = torch.zeros(4, 3, 32, 32)
    psi = fine_tune(model.G, model.D, torch.zeros(1, model.G.n_adain), torch.zeros(32), x, x,
                    FineTuneConfig(steps=6, average=average), TrainConfig(), LossConfig(vgg19="off", vggface="off"),
                    torch.device("cpu"))[0]
    if average is None:
        expected = [torch.full_like(v, 6.0) for v in start["values"]]
    else:
        eta = 1 / average - 1
        weights = np.array([1.0])  # a_1 = w_1; then a_s = (1 − r) a_{s−1} + r w_s, r = (η + 1) / (s + η)
        for s in range(2, 7):
            r = (eta + 1) / (s + eta)
            weights = np.append(weights * (1 - r), r)
        assert weights.sum() == pytest.approx(1.0) and (average != 1.0 or np.allclose(weights, 1 / 6))
        expected = [torch.full_like(v, float(weights @ np.arange(1, 7))) for v in start["values"]]
    got = [p.detach() for p in model.G.parameters()] + [psi]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)
    if average is not None:
        assert psi.flatten()[0] < 6.0


@pytest.mark.parametrize("bad", [0.0, 1.5, float("nan")])
def test_ft_average_outside_zero_to_one_is_refused(bad):
    from talkbench.errors import TalkbenchError

    with pytest.raises(TalkbenchError, match="FineTuneConfig.average.*allowed: > 0 and <= 1"):
        FineTuneConfig(average=bad)


def test_nearest_shot_frame_is_the_one_with_the_closest_landmarks():
    shots = np.stack([np.full((4, 4, 3), i, np.uint8) for i in range(3)])
    marks = np.stack([np.full((68, 2), 10.0 * i, np.float32) for i in range(3)])
    targets = np.stack([np.full((68, 2), 19.0, np.float32), np.full((68, 2), 1.0, np.float32)])
    picked = nearest_shot_frames(shots, marks, targets)
    assert picked[:, 0, 0, 0].tolist() == [2, 0]


def _people(a_minus_b: float, spread: float = 0.01, n: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        base = 0.5 + rng.normal(0, 0.05)
        d = a_minus_b + rng.normal(0, spread)
        for method, ssim in (("FF", base + d), ("FF-other-ê", base), ("FF-mean-ê", base), ("FT", base + d),
                             ("nearest-shot", base)):
            rows.append({"method": method, "T": 8, "identity": f"p{i}", "ssim": ssim, "l1": 1 - ssim,
                         "id_sim": ssim, "face_rate": 1.0, "n_frames": 8})
    return pd.DataFrame(rows)


def test_paired_checks_hold_only_when_the_ci_excludes_zero_in_the_right_direction():
    better = paired_checks(_people(0.05)).set_index(["check", "metric"])
    assert better.loc[("own_vs_other", "ssim"), "holds"] and better.loc[("own_vs_other", "l1"), "holds"]
    assert better.loc[("own_vs_other", "ssim"), "diff"] == pytest.approx(0.05, abs=0.01)
    worse = paired_checks(_people(-0.05)).set_index(["check", "metric"])
    assert not worse["holds"].any()
    noise = paired_checks(_people(0.0, spread=0.05)).set_index(["check", "metric"])
    assert not noise.loc[("ft_vs_nearest_shot", "ssim"), "holds"]
