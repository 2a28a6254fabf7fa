"""DFDC: train/<part>/metadata.json (``{"x.mp4": {"label": "REAL"|"FAKE", "original": ...}}``)
beside the part's videos, and test/labels.csv (``filename,label``, 1 = fake) with the test videos.

A fake is grouped with the real video it was made from (``original``), so the two never sit
in different splits. A part without metadata.json, a listed video missing on disk, a video
the metadata does not list, or an unknown label is a counted skip; an unreadable
metadata.json or labels.csv is an error naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from talkbench.detector.importers import register_importer
from talkbench.detector.importers.base import REAL, ImportConfig, Listing, VideoItem
from talkbench.errors import TalkbenchError
from talkbench.media import VIDEO_SUFFIXES

METHOD = "DFDC"  # DFDC does not say which of its methods made a fake
LABELS = {"REAL": 0, "FAKE": 1}


def _videos(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.rglob("*")) if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()}


def _read_metadata(path: Path) -> dict:
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TalkbenchError(f"cannot read {path}: {exc}") from None
    if not isinstance(meta, dict) or not all(isinstance(v, dict) for v in meta.values()):
        raise TalkbenchError(f"{path} is not DFDC metadata ({{\"x.mp4\": {{\"label\": ...}}}})")
    return meta


def _train_part(src: Path, part: Path) -> Listing:
    on_disk = _videos(part)
    rel = lambda name: (part / name).relative_to(src).as_posix()  # noqa: E731
    if not (part / "metadata.json").is_file():
        return [], [(rel(name), f"no metadata.json in {part.relative_to(src)}") for name in on_disk]
    items, skipped = [], []
    for name, entry in _read_metadata(part / "metadata.json").items():
        label = LABELS.get(str(entry.get("label", "")).upper())
        if label is None:
            skipped.append((rel(name), f"label {entry.get('label')!r} is not REAL or FAKE"))
        elif name not in on_disk:
            skipped.append((rel(name), "listed in metadata.json but absent"))
        else:
            original = Path(str(entry.get("original") or name)).stem if label else Path(name).stem
            items.append(VideoItem(on_disk[name], rel(name), label, original, METHOD if label else REAL))
    listed = {it.source.name for it in items} | {Path(s).name for s, _ in skipped}
    skipped += [(rel(name), "not in metadata.json") for name in on_disk if name not in listed]
    return items, skipped


def _test(src: Path) -> Listing:
    path = src / "test" / "labels.csv"
    try:
        labels = pd.read_csv(path, dtype={"filename": str})
    except (OSError, ValueError) as exc:
        raise TalkbenchError(f"cannot read {path}: {exc}") from None
    if missing := {"filename", "label"} - set(labels.columns):
        raise TalkbenchError(f"{path} lacks column(s) {', '.join(sorted(missing))} (expected filename,label)")
    on_disk = _videos(src / "test")
    items, skipped = [], []
    for name, label in zip(labels.filename, labels.label):
        rel = f"test/{name}"
        if str(label) not in ("0", "1"):
            skipped.append((rel, f"label {label!r} is not 0 or 1"))
        elif name not in on_disk:
            skipped.append((rel, "listed in test/labels.csv but absent"))
        else:
            lab = int(label)
            items.append(VideoItem(on_disk[name], on_disk[name].relative_to(src).as_posix(), lab, f"test_{Path(name).stem}",
                                   METHOD if lab else REAL, "test"))
    return items, skipped


@register_importer("dfdc")
def discover(src: Path, cfg: ImportConfig) -> Listing:
    """DFDC (train/<part>/metadata.json, test/labels.csv)."""
    parts = sorted(p for p in (src / "train").iterdir() if p.is_dir()) if (src / "train").is_dir() else []
    has_test = (src / "test" / "labels.csv").is_file()
    if not parts and not has_test:
        raise TalkbenchError(f"{src} is not a DFDC folder: no train/<part>/ folders and no test/labels.csv")
    if parts and not any((p / "metadata.json").is_file() for p in parts):
        raise TalkbenchError(f"no metadata.json in any of {src / 'train'}/*/ (DFDC's labels); cannot label the videos")
    items, skipped = [], []
    for part in parts:
        its, sk = _train_part(src, part)
        items += its
        skipped += sk
    if has_test:
        its, sk = _test(src)
        items += its
        skipped += sk
    return items, skipped
