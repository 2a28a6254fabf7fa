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
from talkbench.faces import Capability, FaceBackend, create_backend
from talkbench.metrics.base import PIXEL_BUDGET, Metric, MetricResult, PerImageMetric
from talkbench.metrics.csim import CSIM
from talkbench.metrics.feature_metric import FeatureDistanceMetric
from talkbench.metrics.fid import FID, KID, FIDInfinity
from talkbench.metrics.identity_fd import IdentityFD, IdentityFDInfinity, IdentityKID
from talkbench.metrics.inception import InceptionFeatures
from talkbench.metrics.inputs import ImageSet, ImageSource, Pairing, make_pairs
from talkbench.metrics.landmarks import LandmarkError
from talkbench.metrics.lpips_metric import LPIPS
from talkbench.metrics.pixel import L1, PSNR
from talkbench.metrics.ssim import SSIM


@dataclass
class BuildContext:
    """What a registered metric is built from: shared, lazily made feature extractors and
    face backends (callers that build several metrics load each once)."""

    backend: str
    paired: bool
    inception: Callable[[], InceptionFeatures]
    faces: Callable[[Capability], FaceBackend]
    lpips_trunk: dict | None
    common_n: int | None = None


@dataclass(frozen=True)
class MetricSpec:
    """A metric users pick by name: its class (the source of its direction, pairing, bounds
    and reported name) and how to build it. ``backend`` fixes the backend the metric's name
    carries where the spec chooses it (LPIPS's trunk); else it is the run's face backend."""

    cls: type[Metric]
    build: Callable[[BuildContext], Metric]
    backend: str | None = None

    @property
    def higher_is_better(self) -> bool:
        return self.cls.higher_is_better

    @property
    def needs_pairs(self) -> bool:
        """Compares fake[i] with real[i] only (CSIM, paired per instance, also runs unpaired)."""
        return bool(getattr(self.cls, "paired", False))

    @property
    def set_metric(self) -> bool:
        """A distance between the two sets' feature distributions: one value per set."""
        return issubclass(self.cls, FeatureDistanceMetric)

    def display_name(self, backend: str) -> str:
        """The name it is reported under with face backend ``backend``, built or not."""
        return self.cls.display_for(self.backend or backend)


REGISTRY: dict[str, MetricSpec] = {
    "fid": MetricSpec(FID, lambda c: FID(c.inception(), c.common_n)),
    "fid-inf": MetricSpec(FIDInfinity, lambda c: FIDInfinity(c.inception())),
    "kid": MetricSpec(KID, lambda c: KID(c.inception())),
    "ifd": MetricSpec(IdentityFD, lambda c: IdentityFD(c.faces("embed"), c.common_n)),
    "ifd-inf": MetricSpec(IdentityFDInfinity, lambda c: IdentityFDInfinity(c.faces("embed"))),
    "ikid": MetricSpec(IdentityKID, lambda c: IdentityKID(c.faces("embed"))),
    "csim": MetricSpec(CSIM, lambda c: CSIM(c.faces("embed"), paired=c.paired)),
    "ssim": MetricSpec(SSIM, lambda c: SSIM()),
    "psnr": MetricSpec(PSNR, lambda c: PSNR()),
    "l1": MetricSpec(L1, lambda c: L1()),
    "lpips": MetricSpec(LPIPS, lambda c: LPIPS("alex", c.lpips_trunk), backend="alex"),
    "lpips-vgg": MetricSpec(LPIPS, lambda c: LPIPS("vgg", c.lpips_trunk), backend="vgg"),
    "landmarks": MetricSpec(LandmarkError, lambda c: LandmarkError(c.faces("landmarks"))),
}
DEFAULT_PAIRED = ("fid", "fid-inf", "kid", "ssim", "psnr", "l1", "lpips", "csim", "landmarks", "ifd", "ifd-inf", "ikid")
DEFAULT_UNPAIRED = ("fid", "fid-inf", "kid", "csim", "ifd", "ifd-inf", "ikid")


def compute_metrics(real: ImageSource, fake: ImageSource, metrics: Sequence[str] | None = None,
                    pairs: Pairing = "by-name", backend: str = "auto", strict: bool = False,
                    inception: InceptionFeatures | dict | None = None, lpips_trunk: dict | None = None,
                    batch_size: int = 32, progress: bool = False, common_n: int | None = None,
                    groups: tuple[Sequence[str], Sequence[str]] | None = None) -> list[MetricResult]:
    """Realism metrics of ``fake`` against ``real`` (folders, file lists or image arrays).

    ``pairs``: ``by-name`` (file stems, ignoring ``_fake``/``_real``), ``by-order`` or
    ``none`` (distribution metrics and unpaired CSIM only). ``backend``: face backend for
    CSIM, IFD/IKID and landmarks (``auto``, ``dlib``, ``insightface``, ``fan``).
    ``inception``: an extractor or an injected state dict (tests); ``lpips_trunk``:
    torchvision-format trunk weights (tests). ``common_n``: FID and IFD on that many random
    samples per set, so that values from sets of different sizes compare (FID∞, KID and
    IKID always use every sample). ``groups``: whose frames the real and the fake images are
    (one label each, e.g. the person): FID and IFD then get a jackknife interval over the
    groups (people are the independent units of a few-shot test). Example::

        compute_metrics("runs/x/real", "runs/x/fake", ["ssim", "fid"], pairs="by-name")
    """
    if batch_size < 1:
        raise TalkbenchError(f"batch_size must be at least 1, got {batch_size}")
    real_set, fake_set = ImageSet.from_any(real, "real"), ImageSet.from_any(fake, "fake")
    if groups is not None and (len(groups[0]), len(groups[1])) != (len(real_set), len(fake_set)):
        raise TalkbenchError(f"groups: one label per image ({len(real_set)} real, {len(fake_set)} fake), "
                             f"got {len(groups[0])} and {len(groups[1])}")
    real_groups, fake_groups = groups if groups is not None else (None, None)
    names = list(metrics or (DEFAULT_UNPAIRED if pairs == "none" else DEFAULT_PAIRED))
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise TalkbenchError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    paired = pairs != "none"
    needs = [n for n in names if REGISTRY[n].needs_pairs]
    if needs and not paired:
        raise TalkbenchError(f"{', '.join(needs)} compare fake[i] with real[i]: use --pairs by-name or by-order")
    index_pairs = make_pairs(real_set, fake_set, pairs) if paired else []

    built, results = _build(names, _context(backend, paired, inception, lpips_trunk, common_n), backend, strict)
    inception_metrics = [m for m in built if isinstance(m, (FID, KID))]
    identity_metrics = [m for m in built if isinstance(m, (IdentityFD, IdentityKID, CSIM))]
    pixel_metrics = [m for m in built if isinstance(m, (PerImageMetric, LandmarkError))]
    fed = {id(m) for m in (*inception_metrics, *identity_metrics, *pixel_metrics)}
    own_features = [m for m in built if isinstance(m, FeatureDistanceMetric) and id(m) not in fed]
    unfed = [m.name for m in built if id(m) not in fed and not isinstance(m, FeatureDistanceMetric)]
    if unfed:  # a new kind of metric must say how it is fed here, not come back empty
        raise TalkbenchError(f"compute_metrics has no way to feed {', '.join(unfed)}: it is neither a "
                             "FeatureDistanceMetric nor a paired per-image metric")

    if inception_metrics:
        extractor = inception_metrics[0].extractor
        for image_set, is_real, labels in ((real_set, True, real_groups), (fake_set, False, fake_groups)):
            feats, unreadable = extractor.features(image_set, progress=progress)
            for m in inception_metrics:  # unreadable files leave no row, so the labels no longer align
                m.update_features(feats, real=is_real, groups=labels if not unreadable else None)
                m.n_failed += unreadable
    if identity_metrics:
        _feed_identity(identity_metrics, real_set, fake_set, index_pairs, batch_size, progress, groups)
    if pixel_metrics:
        _feed_pairs(pixel_metrics, real_set, fake_set, index_pairs, batch_size, progress)
    if own_features:
        _feed_own_features(own_features, real_set, fake_set, batch_size, progress)
    for metric in built:
        results.extend(metric.compute_all())
    return results


def _context(backend: str, paired: bool, inception, lpips_trunk, common_n: int | None = None) -> BuildContext:
    cache: dict = {}

    def get_inception() -> InceptionFeatures:
        if "inception" not in cache:
            cache["inception"] = inception if isinstance(inception, InceptionFeatures) else InceptionFeatures(inception)
        return cache["inception"]

    def get_faces(capability: Capability) -> FaceBackend:
        if capability not in cache:
            cache[capability] = create_backend(backend, capability=capability)
        return cache[capability]

    return BuildContext(backend, paired, get_inception, get_faces, lpips_trunk, common_n)


def _build(names: Sequence[str], ctx: BuildContext, backend: str, strict: bool) -> tuple[list[Metric], list[MetricResult]]:
    built, unavailable = [], []
    for name in names:
        spec = REGISTRY[name]
        try:
            built.append(spec.build(ctx))
        except (TalkbenchError, ImportError) as exc:
            display = spec.display_name(backend)
            if strict:
                raise TalkbenchError(f"{display} cannot be computed: {exc}") from None
            unavailable.append(MetricResult.unavailable(display, str(exc), spec.higher_is_better))
    return built, unavailable


def _embed_set(face: FaceBackend, image_set: ImageSet, batch_size: int, progress: bool) -> np.ndarray:
    """(n, d) identity embeddings of a whole set; NaN rows for unreadable files or no face."""
    from talkbench.progress import progress_bar

    out = []
    order = list(range(len(image_set)))
    for batch in progress_bar(image_set.batches(order, batch_size), total=-(-len(order) // batch_size),
                      desc=f"identity embeddings ({image_set.label})", enabled=progress, leave=False):
        emb = np.full((len(batch), face.embedding_dim or 1), np.nan, np.float32)
        idx = [i for i, im in enumerate(batch) if im is not None]
        if idx:
            emb[idx] = face.embed([batch[i] for i in idx])
        out.append(emb)
    return np.concatenate(out)


def _feed_identity(metrics: Sequence[IdentityFD | IdentityKID | CSIM], real_set: ImageSet, fake_set: ImageSet,
                   pairs: list[tuple[int, int]], batch_size: int, progress: bool,
                   groups: tuple[Sequence[str], Sequence[str]] | None = None) -> None:
    face = metrics[0].face  # all share the context's one embedding backend
    real, fake = (_embed_set(face, s, batch_size, progress) for s in (real_set, fake_set))
    for m in metrics:
        if isinstance(m, CSIM):
            if m.paired:
                ri, fi = map(list, zip(*pairs))
                m.update_embeddings(fake[fi], real[ri])
            else:
                m.update_embeddings(fake, real)
        elif isinstance(m, FeatureDistanceMetric):  # one row per image (NaN: no face), so labels align
            m.update_features(real, real=True, groups=groups[0] if groups else None)
            m.update_features(fake, real=False, groups=groups[1] if groups else None)


def _feed_own_features(metrics: Sequence[FeatureDistanceMetric], real_set: ImageSet, fake_set: ImageSet,
                       batch_size: int, progress: bool) -> None:
    """Set metrics on features of their own (neither Inception nor a face backend's): each
    embeds every batch itself; unreadable files count as failed."""
    from talkbench.progress import progress_bar

    for image_set, is_real in ((real_set, True), (fake_set, False)):
        order = list(range(len(image_set)))
        for batch in progress_bar(image_set.batches(order, batch_size), total=-(-len(order) // batch_size),
                          desc=f"features ({image_set.label})", enabled=progress, leave=False):
            for m in metrics:
                if is_real:
                    m.update(real=batch)
                else:
                    m.update(fake=batch)


@torch.inference_mode()
def _feed_pairs(metrics: Sequence[Metric], real_set: ImageSet, fake_set: ImageSet,
                pairs: list[tuple[int, int]], batch_size: int, progress: bool) -> None:
    from talkbench.progress import progress_bar

    real: list = []
    fake: list = []
    pixels = 0
    for n, (i, j) in enumerate(progress_bar(pairs, desc="paired metrics", unit="pair", enabled=progress, leave=False)):
        real.append(real_set.load(i))
        fake.append(fake_set.load(j))
        pixels += sum(im.shape[0] * im.shape[1] for im in (real[-1], fake[-1]) if im is not None)
        if len(real) == batch_size or pixels >= PIXEL_BUDGET or n == len(pairs) - 1:
            for m in metrics:  # a batch: batch_size pairs or PIXEL_BUDGET pixels, whichever comes first
                m.update(fake, real)
            real, fake, pixels = [], [], 0
