"""Fetching registry assets through each library's own download code, into the cache that
library reads (or ``$TALKBENCH_WEIGHTS``), then checking them with the registry's checksums.

Failures (no network, bad checksum, nothing to download) come back as one sentence each,
never as a traceback: ``download(name)`` returns ``(ok, message)``.
"""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlparse

from talkbench.weights import WeightAsset, download_root, get_asset, locate

# Network and file-system failures of urllib (torch.hub), requests (insightface) and
# huggingface_hub (timm) all derive from OSError; torch.hub reports a hash mismatch as a
# RuntimeError.
_FETCH_ERRORS: tuple[type[BaseException], ...] = (OSError, RuntimeError)


def downloadable(asset: WeightAsset) -> bool:
    return asset.cache in ("torch-hub", "insightface", "timm")


def _fetch_torch_hub(asset: WeightAsset) -> None:
    from torch.hub import download_url_to_file

    target = download_root(asset) / asset.files[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    # torch.hub writes to a temporary file, checks the sha256 prefix, then renames.
    download_url_to_file(asset.url, str(target), hash_prefix=asset.sha256[0] or None, progress=True)


def _fetch_insightface(asset: WeightAsset) -> None:
    from insightface.utils.storage import download

    models_dir = download_root(asset)  # <root>/models, as insightface lays it out
    # force: a pack folder holding only some files (e.g. just the detector) is re-fetched.
    download("models", asset.name, force=True, root=str(models_dir.parent))


def _fetch_timm(asset: WeightAsset) -> None:
    import timm
    from timm.models._hub import download_from_hf

    model = asset.files[0].split("/")[0]
    cfg = timm.models.get_pretrained_cfg(model)
    if cfg is None or not getattr(cfg, "hf_hub_id", None):
        raise RuntimeError(f"timm {timm.__version__} has no Hugging Face weights for '{model}'")
    download_from_hf(cfg.hf_hub_id, "model.safetensors")


def _host(asset: WeightAsset) -> str:
    if asset.cache == "timm":
        from huggingface_hub.constants import ENDPOINT

        return urlparse(ENDPOINT).hostname or ""
    return urlparse(asset.url).hostname or ""


def _unreachable(host: str) -> str | None:
    """Why ``host`` cannot be reached, or None. Checked first so that an offline machine
    fails at once instead of waiting out huggingface_hub's retries with back-off."""
    if not host:  # file:// mirrors
        return None
    try:
        socket.getaddrinfo(host, 443)
    except OSError as exc:
        return f"no network: cannot resolve {host} ({exc.strerror or exc})"
    return None


_FETCHERS = {"torch-hub": _fetch_torch_hub, "insightface": _fetch_insightface, "timm": _fetch_timm}


def _reason(exc: BaseException) -> str:
    """The innermost cause of a failure, on one line: urllib, requests and urllib3 wrap the
    socket error that says what really happened (e.g. the name does not resolve)."""
    inner, seen = exc, set()
    while id(inner) not in seen:
        seen.add(id(inner))
        nxt = getattr(inner, "reason", None) or inner.__cause__ or inner.__context__ or \
            next((a for a in inner.args if isinstance(a, BaseException)), None)
        if not isinstance(nxt, BaseException):
            break
        inner = nxt
    text = " ".join(str(inner).split()) or type(inner).__name__
    return f"{type(inner).__name__}: {text}"[:240]


def destination(asset: WeightAsset) -> Path:
    """Where a download of ``asset`` lands: timm always uses the Hugging Face hub cache."""
    if asset.cache == "timm":
        from huggingface_hub.constants import HF_HUB_CACHE

        return Path(HF_HUB_CACHE)
    return download_root(asset)


def download(name: str, force: bool = False) -> tuple[bool, str]:
    """Fetch one asset unless it is present and intact; (ok, one-line message)."""
    asset = get_asset(name)
    before = locate(name)
    if before.status == "present" and not force:
        return True, f"{name}: already present at {', '.join(str(p) for p in before.paths)}"
    if before.status == "convertible":
        from talkbench.weights import convert

        after = convert(name)
        return True, f"{name}: ok, converted into {after.paths[0]} ({after.source})"
    if not downloadable(asset):
        return False, f"{name}: cannot be downloaded automatically; {asset.fetch_command}"
    if before.status == "corrupt":
        for path in before.paths:
            Path(path).unlink(missing_ok=True)
    where = destination(asset)
    offline = _unreachable(_host(asset))
    if offline:
        return False, f"{name}: download into {where} failed ({offline})"
    try:
        _FETCHERS[asset.cache](asset)
    except _FETCH_ERRORS as exc:
        return False, f"{name}: download from {asset.url or asset.library} into {where} failed ({_reason(exc)})"
    after = locate(name)
    if after.status == "corrupt":
        return False, f"{name}: downloaded but the checksum does not match ({after.detail})"
    if after.status == "missing":
        return False, (f"{name}: the download finished but {', '.join(asset.files)} is still not in "
                       f"{', '.join(str(p) for p in after.searched)}")
    return True, f"{name}: ok, {', '.join(str(p) for p in after.paths)}"
