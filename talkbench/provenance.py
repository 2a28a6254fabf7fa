"""Provenance: every image or video the suite generates says it is synthetic and what made it.

The same key/value set goes into PNG text chunks and into video container metadata, so
``read_png_provenance`` / ``read_video_provenance`` recover it from any output file. The
same record also goes, signed, into each synthetic file's C2PA manifest (talkbench.credentials),
and exported pixels carry a watermark (talkbench.watermark); docs/provenance.md.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from talkbench import __version__

PREFIX = "talkbench:"


def provenance(generator: str, config_fingerprint: str, **extra: Any) -> dict[str, str]:
    """Metadata for one generated file: synthetic flag, what made it, with which config."""
    meta = {
        "synthetic": "true",
        "generator": generator,
        "software": f"talkbench {__version__}",
        "config_fingerprint": config_fingerprint,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "purpose": "deepfake detection research; this media is machine-generated",
    }
    meta.update({k: str(v) for k, v in extra.items()})
    return meta


def to_tags(meta: dict[str, str]) -> dict[str, str]:
    """Namespaced keys for file metadata (``talkbench:synthetic`` ...)."""
    return {PREFIX + k: v for k, v in meta.items()}


def from_tags(tags: dict[str, str]) -> dict[str, str]:
    return {k[len(PREFIX):]: v for k, v in tags.items() if k.startswith(PREFIX)}
