"""Two folders, ``real/`` and ``fake/``, of videos and/or images: the escape hatch for any
other dataset. Each video file is a video; each folder of images is a video (its frames);
each loose image is a one-frame video. A clip's identity is the first folder under
``real/`` or ``fake/`` (``real/<person>/...``), or the clip itself when it lies directly
there (one identity per clip: the safe assumption when nothing says two share a person).
"""

from __future__ import annotations

from pathlib import Path

from talkbench.detector.importers import register_importer
from talkbench.detector.importers.base import REAL, ImportConfig, Listing, VideoItem
from talkbench.errors import TalkbenchError
from talkbench.media import IMAGE_SUFFIXES, VIDEO_SUFFIXES

CLASSES = {"real": 0, "fake": 1}
FAKE_METHOD = "fake"


def _clips(root: Path) -> list[tuple[Path, tuple[Path, ...] | None]]:
    """(source, explicit frames) per clip under ``root``."""
    out: list[tuple[Path, tuple[Path, ...] | None]] = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES:
            out.append((p, None))
        elif p.is_dir():
            images = tuple(sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES))
            if images:
                out.append((p, images))
        elif p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and p.parent == root:
            out.append((p, (p,)))
    return out


@register_importer("folders")
def discover(src: Path, cfg: ImportConfig) -> Listing:
    """real/ and fake/ folders of videos or images (any other dataset)."""
    if missing := [c for c in CLASSES if not (src / c).is_dir()]:
        raise TalkbenchError(f"{src} needs folders real/ and fake/ (missing: {', '.join(missing)})")
    items = []
    for cls, label in CLASSES.items():
        for source, frames in _clips(src / cls):
            rel = source.relative_to(src).as_posix()
            under = source.relative_to(src / cls).parts
            identity = under[0] if len(under) > 1 else Path(under[0]).stem
            items.append(VideoItem(source, rel, label, identity, FAKE_METHOD if label else REAL, frames=frames))
    return items, []
