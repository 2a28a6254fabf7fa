"""Loss values against hand computations; which content terms are active offline."""

from __future__ import annotations

import pytest
import torch

from talkbench.errors import WeightsMissing
from talkbench.generator.losses import (ContentLoss, LossConfig, d_hinge, embedding_match, feature_matching,
                                        g_adversarial, load_vggface)


def test_hinge_and_adversarial_by_hand():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-2.0, 0.0, 3.0])
    # real: max(0,1-r) = 0, 0.5, 2 → mean 0.8333; fake: max(0,1+r) = 0, 1, 4 → mean 1.6667
    assert d_hinge(real, fake).item() == pytest.approx(2.5)
    assert g_adversarial(fake).item() == pytest.approx(-1 / 3)


def test_feature_matching_and_embedding_match():
    a = [torch.zeros(2, 3), torch.ones(2, 2)]
    b = [torch.ones(2, 3), torch.ones(2, 2) * 3]
    assert feature_matching(a, b).item() == pytest.approx(1 + 2)
    assert embedding_match(torch.zeros(2, 4), torch.full((2, 4), 0.5)).item() == pytest.approx(0.5)


def test_offline_content_loss_is_pixel_l1(empty_weights):
    loss = ContentLoss(LossConfig())
    assert loss.parts == ["pixel_l1"]
    fake, real = torch.zeros(1, 3, 8, 8), torch.full((1, 3, 8, 8), 0.5)
    assert loss(fake, real)["pixel_l1"].item() == pytest.approx(10 * 0.5)
    assert ContentLoss(LossConfig(pixel_l1=0)).parts == []


def test_required_vgg_missing_is_a_clear_error(empty_weights):
    with pytest.raises(WeightsMissing, match="vgg19"):
        ContentLoss(LossConfig(vgg19="on"))


def test_vggface_from_a_converted_file(empty_weights, monkeypatch):
    """A state dict in the converted vgg_face_dag layout (conv1_1 … conv5_3 + fc) is found
    through the weights resolver, loaded in order and used with the paper's layers."""
    from torchvision.models.vgg import cfgs, make_layers

    convs = [m for m in make_layers(cfgs["D"]) if isinstance(m, torch.nn.Conv2d)]
    names = [f"conv{b}_{i}" for b, n in zip(range(1, 6), (2, 2, 3, 3, 3)) for i in range(1, n + 1)]
    state = {}
    for name, conv in zip(names, convs):
        state[f"{name}.weight"] = torch.randn_like(conv.weight) * 0.05
        state[f"{name}.bias"] = torch.zeros_like(conv.bias)
    state["fc8.weight"] = torch.randn(3, 4)  # fc layers are ignored
    path = empty_weights / "tw" / "vggface" / "vgg_face_dag.pth"
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    net = load_vggface(path)
    assert torch.equal(net.features[0].weight, state["conv1_1.weight"])
    feats = net(torch.zeros(1, 3, 32, 32))
    assert [f.shape[1] for f in feats] == [64, 128, 256, 512, 512]
    loss = ContentLoss(LossConfig(vgg19="off", vggface="auto"))
    assert loss.parts == ["vggface"]
    a, b = torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 32, 32) * 2 - 1
    assert loss(a, b)["vggface"].item() > 0 and loss(a, a)["vggface"].item() == 0
    bad = {k: v for k, v in state.items() if k != "conv5_3.weight"}
    torch.save(bad, path)
    from talkbench.errors import TalkbenchError
    with pytest.raises(TalkbenchError, match="conv layers"):
        load_vggface(path)


def test_vgg19_from_the_torch_hub_file(empty_weights, monkeypatch):
    """The torchvision checkpoint layout (features.N.weight + classifier) loads into the
    conv trunk; the resolver's checksum is bypassed because the file is random."""
    from torchvision.models.vgg import cfgs, make_layers

    import talkbench.generator.losses as losses

    trunk = make_layers(cfgs["E"])
    state = {f"features.{k}": v for k, v in trunk.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)
    path = empty_weights / "vgg19.pth"
    torch.save(state, path)
    net = losses.load_vgg19(path)
    assert torch.equal(net.features[0].weight, trunk[0].weight)
    assert [f.shape[1] for f in net(torch.zeros(1, 3, 32, 32))] == [64, 128, 256, 512, 512]


def test_cached_target_features_give_the_same_loss_in_any_batch():
    """Fine-tuning computes its T shots' content features once, in one batch, and slices them
    per step: the frozen network must give the loss that features computed from each step's
    own batch give, and the gradient must reach the fake only."""
    loss = ContentLoss(LossConfig(vgg19="off", vggface="off", inception="on"))
    assert "inception-fid" in loss.parts
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(6, 3, 64, 64, generator=gen) * 2 - 1
    fake = (torch.rand(3, 3, 64, 64, generator=gen) * 2 - 1).requires_grad_()
    idx = torch.tensor([4, 1, 2])
    shots = loss.target_features(real)
    assert not any(f.requires_grad for feats in shots.values() for f in feats)
    cached = loss(fake, real[idx], {name: [f[idx] for f in feats] for name, feats in shots.items()})
    direct = loss(fake, real[idx])
    assert cached.keys() == direct.keys() and cached["inception-fid"].item() > 0
    for name, value in direct.items():
        assert cached[name].item() == pytest.approx(value.item(), rel=1e-5)
    sum(cached.values()).backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
