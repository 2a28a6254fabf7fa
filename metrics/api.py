"""``compute_metrics``: every requested metric between two image sets in one streaming pass
per kind of work (Inception features, identity embeddings, paired pixels), each set read
and embedded once and shared by the metrics that need it.

A metric that cannot run here (missing weights, unavailable face backend) comes back as a
``MetricResult`` with ``status="unavailable"`` and the reason; with ``strict=True`` it
raises ``TalkbenchError`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from talkbench.errors import TalkbenchError
from talkbench.faces import FaceBackend, create_backend
from talkbench.metrics.base import Metric, MetricResult, PerImageMetric
from talkbench.metrics.csim import CSIM
from talkbench.metrics.feature_metric import FeatureDistanceMetric
from talkbench.metrics.fid import FID, KID
from talkbench.metrics.identity_fd import EMBEDDING_NAMES, IdentityFD, IdentityKID
from talkbench.metrics.inception import InceptionFeatures
from talkbench.metrics.inputs import ImageSet, ImageSource, Pairing, make_pairs
from talkbench.metrics.landmarks import LandmarkError
from talkbench.metrics.lpips_metric import LPIPS
from talkbench.metrics.pixel import L1, PSNR
from talkbench.metrics.ssim import SSIM


@dataclass
class _Context:
    backend: str
    paired: bool
    inception: Callable[[], InceptionFeatures]
    faces: Callable[[str], FaceBackend]
    lpips_trunk: dict | None


@dataclass(frozen=True)
class MetricSpec:
    """A metric users pick by name: how to build it, and its name when it cannot be built."""

    build: Callable[[_Context], Metric]
    fallback_name: Callable[[str], str]
    higher_is_better: bool
    needs_pairs: bool = False


REGISTRY: dict[str, MetricSpec] = {
    "fid": MetricSpec(lambda c: FID(c.inception()), lambda b: "FID", False),
    "kid": MetricSpec(lambda c: KID(c.inception()), lambda b: "KID", False),
    "ifd": MetricSpec(lambda c: IdentityFD(c.faces("embed")), lambda b: f"IFD-{EMBEDDING_NAMES.get(b, b)}", False),
    "ikid": MetricSpec(lambda c: IdentityKID(c.faces("embed")), lambda b: f"IKID-{EMBEDDING_NAMES.get(b, b)}", False),
    "csim": MetricSpec(lambda c: CSIM(c.faces("embed"), paired=c.paired), lambda b: f"CSIM-{EMBEDDING_NAMES.get(b, b)}", True),
    "ssim": MetricSpec(lambda c: SSIM(), lambda b: "SSIM", True, True),
    "psnr": MetricSpec(lambda c: PSNR(), lambda b: "PSNR", True, True),
    "l1": MetricSpec(lambda c: L1(), lambda b: "L1", False, True),
    "lpips": MetricSpec(lambda c: LPIPS("alex", c.lpips_trunk), lambda b: "LPIPS", False, True),
    "lpips-vgg": MetricSpec(lambda c: LPIPS("vgg", c.lpips_trunk), lambda b: "LPIPS-vgg", False, True),
    "landmarks": MetricSpec(lambda c: LandmarkError(c.faces("landmarks")), lambda b: f"NME-{b}", False, True),
}
DEFAULT_PAIRED = ("fid", "kid", "ssim", "psnr", "l1", "lpips", "csim", "landmarks", "ifd", "ikid")
DEFAULT_UNPAIRED = ("fid", "kid", "csim", "ifd", "ikid")


def compute_metrics(real: ImageSource, fake: ImageSource, metrics: Sequence[str] | None = None,
                    pairs: Pairing = "by-name", backend: str = "auto", strict: bool = False,
                    inception: InceptionFeatures | dict | None = None, lpips_trunk: dict | None = None,
                    batch_size: int = 32, progress: bool = False) -> list[MetricResult]:
    """Realism metrics of ``fake`` against ``real`` (folders, file lists or image arrays).

    ``pairs``: ``by-name`` (file stems, ignoring ``_fake``/``_real``), ``by-order`` or
    ``none`` (distribution metrics and unpaired CSIM only). ``backend``: face backend for
    CSIM, IFD/IKID and landmarks (``auto``, ``dlib``, ``insightface``, ``fan``).
    ``inception``: an extractor or an injected state dict (tests); ``lpips_trunk``:
    torchvision-format trunk weights (tests). Example::

        compute_metrics("runs/x/real", "runs/x/fake", ["ssim", "fid"], pairs="by-name")
    """
    if batch_size < 1:
        raise TalkbenchError(f"batch_size must be at least 1, got {batch_size}")
    real_set, fake_set = ImageSet.from_any(real, "real"), ImageSet.from_any(fake, "fake")
    names = list(metrics or (DEFAULT_UNPAIRED if pairs == "none" else DEFAULT_PAIRED))
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise TalkbenchError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    paired = pairs != "none"
    needs = [n for n in names if REGISTRY[n].needs_pairs]
    if needs and not paired:
        raise TalkbenchError(f"{', '.join(needs)} compare fake[i] with real[i]: use --pairs by-name or by-order")
    index_pairs = make_pairs(real_set, fake_set, pairs) if paired else []

    built, results = _build(names, _context(backend, paired, inception, lpips_trunk), backend, strict)
    inception_metrics = [m for m in built if isinstance(m, (FID, KID))]
    identity_metrics = [m for m in built if isinstance(m, (IdentityFD, IdentityKID, CSIM))]
    pixel_metrics = [m for m in built if isinstance(m, (PerImageMetric, LandmarkError))]

    if inception_metrics:
        extractor = inception_metrics[0].extractor
        for image_set, is_real in ((real_set, True), (fake_set, False)):
            feats, unreadable = extractor.features(image_set, progress=progress)
            for m in inception_metrics:
                m.update_features(feats, real=is_real)
                m.n_failed += unreadable
    if identity_metrics:
        _feed_identity(identity_metrics, real_set, fake_set, index_pairs, batch_size, progress)
    if pixel_metrics:
        _feed_pairs(pixel_metrics, real_set, fake_set, index_pairs, batch_size, progress)
    for m in built:
        results.extend(m.compute_all())
    return results


def _context(backend: str, paired: bool, inception, lpips_trunk) -> _Context:
    cache: dict = {}

    def get_inception() -> InceptionFeatures:
        if "inception" not in cache:
            cache["inception"] = inception if isinstance(inception, InceptionFeatures) else InceptionFeatures(inception)
        return cache["inception"]

    def get_faces(capability: str) -> FaceBackend:
        if capability not in cache:
            cache[capability] = create_backend(backend, capability=capability)
        return cache[capability]

    return _Context(backend, paired, get_inception, get_faces, lpips_trunk)


def _build(names: Sequence[str], ctx: _Context, backend: str, strict: bool) -> tuple[list[Metric], list[MetricResult]]:
    built, unavailable = [], []
    for name in names:
        spec = REGISTRY[name]
        try:
            built.append(spec.build(ctx))
        except (TalkbenchError, ImportError) as exc:
            display = spec.fallback_name(backend)
            if strict:
                raise TalkbenchError(f"{display} cannot be computed: {exc}") from None
            unavailable.append(MetricResult.unavailable(display, str(exc), spec.higher_is_better))
    return built, unavailable


def _embed_set(face: FaceBackend, image_set: ImageSet, batch_size: int, progress: bool) -> np.ndarray:
    """(n, d) identity embeddings of a whole set; NaN rows for unreadable files or no face."""
    from tqdm import tqdm

    out = []
    order = list(range(len(image_set)))
    for batch in tqdm(image_set.batches(order, batch_size), total=-(-len(order) // batch_size),
                      desc=f"identity embeddings ({image_set.label})", disable=not progress, leave=False):
        emb = np.full((len(batch), face.embedding_dim or 1), np.nan, np.float32)
        idx = [i for i, im in enumerate(batch) if im is not None]
        if idx:
            emb[idx] = face.embed([batch[i] for i in idx])
        out.append(emb)
    return np.concatenate(out)


def _feed_identity(metrics: list[Metric], real_set: ImageSet, fake_set: ImageSet,
                   pairs: list[tuple[int, int]], batch_size: int, progress: bool) -> None:
    face = metrics[0].face  # all share the context's one embedding backend
    real, fake = (_embed_set(face, s, batch_size, progress) for s in (real_set, fake_set))
    for m in metrics:
        if isinstance(m, CSIM):
            if m.paired:
                ri, fi = map(list, zip(*pairs))
                m.update_embeddings(fake[fi], real[ri])
            else:
                m.update_embeddings(fake, real)
        elif isinstance(m, FeatureDistanceMetric):
            m.update_features(real, real=True)
            m.update_features(fake, real=False)


@torch.inference_mode()
def _feed_pairs(metrics: list[Metric], real_set: ImageSet, fake_set: ImageSet,
                pairs: list[tuple[int, int]], batch_size: int, progress: bool) -> None:
    from tqdm import tqdm

    for start in tqdm(range(0, len(pairs), batch_size), desc="paired metrics", unit="batch",
                      disable=not progress, leave=False):
        chunk = pairs[start:start + batch_size]
        real = [real_set.load(i) for i, _ in chunk]
        fake = [fake_set.load(j) for _, j in chunk]
        for m in metrics:
            m.update(fake, real)
