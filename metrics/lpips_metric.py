"""LPIPS (Zhang et al. 2018) through the ``lpips`` package: AlexNet trunk by default, VGG16
as an option. The package ships its calibrated linear layers; the trunk's ImageNet
weights are torchvision's, resolved through ``talkbench.weights`` (``alexnet`` / ``vgg16``)
instead of downloaded. Inputs: uint8 RGB mapped to [-1, 1]; fakes resized to their real
partner's size (bilinear) when they differ."""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import torch

from talkbench.files import load_torch_file
from talkbench.metrics.base import PerImageMetric
from talkbench.weights import resolve

TRUNK_ASSETS = {"alex": "alexnet", "vgg": "vgg16"}


def trunk_state_dict(net: str) -> dict[str, torch.Tensor]:
    """torchvision's ImageNet weights for the trunk (raises WeightsMissing)."""
    res = resolve(TRUNK_ASSETS[net])
    return load_torch_file(res.paths[0], f"LPIPS {net} trunk weights")


def build_lpips(net: str = "alex", trunk: dict[str, torch.Tensor] | None = None) -> torch.nn.Module:
    """``lpips.LPIPS`` with its linear layers and the given torchvision-format trunk
    weights (``features.<i>.weight`` ...; default: the registry's)."""
    import lpips

    if net not in TRUNK_ASSETS:
        raise ValueError(f"LPIPS trunk must be one of {sorted(TRUNK_ASSETS)}, not {net!r}")
    trunk = trunk_state_dict(net) if trunk is None else trunk
    with warnings.catch_warnings(), contextlib.redirect_stdout(None):
        warnings.simplefilter("ignore", UserWarning)  # torchvision's `pretrained=` deprecation
        model = lpips.LPIPS(net=net, pnet_rand=True, verbose=False)
    # lpips slices torchvision's `features` keeping the indices: slice2.3.weight is features.3.weight
    mapped = {name: trunk["features." + name.split(".", 1)[1]] for name, _ in model.net.named_parameters()}
    model.net.load_state_dict(mapped)
    return model.eval()


def to_lpips_input(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(images, np.float32)).permute(0, 3, 1, 2) / 127.5 - 1


class LPIPS(PerImageMetric):
    """Mean LPIPS distance over pairs (lower is more similar)."""

    name = "LPIPS"
    higher_is_better = False
    bounds = (0.0, math.inf)

    def __init__(self, net: str = "alex", trunk: dict[str, torch.Tensor] | None = None, batch_size: int = 32) -> None:
        self.net = net
        self.model = build_lpips(net, trunk)
        self.batch_size = batch_size
        super().__init__()

    @classmethod
    def display_for(cls, backend: str) -> str:
        """``backend`` is the trunk: AlexNet (the default) is plain LPIPS."""
        return cls.name if backend in ("", "alex") else f"{cls.name}-{backend}"

    @property
    def backend(self) -> str:
        return self.net

    @torch.inference_mode()
    def score(self, fake: np.ndarray, real: np.ndarray) -> np.ndarray:
        out = [self.model(to_lpips_input(fake[s:s + self.batch_size]), to_lpips_input(real[s:s + self.batch_size]))
               for s in range(0, len(fake), self.batch_size)]
        return torch.cat(out).flatten().double().numpy()
