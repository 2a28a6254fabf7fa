"""FaceForensics++: original_sequences/{youtube,actors}/<c>/videos and manipulated_sequences/<method>/<c>/videos.

Real YouTube videos are named ``000``–``999``; a fake ``<target>_<source>.mp4`` puts one
person's face into the other's video, so both people of a pair stay in one split. With
``splits=DIR`` the official ``train.json``/``val.json``/``test.json`` (lists of
``["071", "054"]`` pairs) decide the split; videos they do not list are skipped, and a
listed video missing on disk is counted in skipped.csv. The actors' originals and
DeepFakeDetection fakes (``01__scene.mp4``, ``01_02__scene__ID.mp4``) are grouped by actor.
"""

from __future__ import annotations

import json
from pathlib import Path

from talkbench.detector.importers import register_importer
from talkbench.detector.importers.base import (REAL, SPLITS, ImportConfig, Listing, VideoItem, group_people,
                                              selected_methods)
from talkbench.errors import TalkbenchError
from talkbench.media import VIDEO_SUFFIXES

METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures", "FaceShifter", "DeepFakeDetection")
REAL_SOURCES = ("youtube", "actors")
COMPRESSIONS = ("raw", "c23", "c40")


def _videos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()) if folder.is_dir() else []


def read_splits(folder: Path) -> dict[str, str]:
    """YouTube id → split from the official split files (each a JSON list of id pairs)."""
    split_of: dict[str, str] = {}
    for split in SPLITS:
        path = folder / f"{split}.json"
        if not path.is_file():
            raise TalkbenchError(f"no {split}.json in {folder} (FF++ splits: train.json, val.json, test.json)")
        try:
            pairs = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise TalkbenchError(f"cannot read {path}: {exc}") from None
        if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise TalkbenchError(f"{path} is not a list of [id, id] pairs")
        for a, b in pairs:
            for vid in (str(a), str(b)):
                if split_of.setdefault(vid, split) != split:
                    raise TalkbenchError(f"{path}: id {vid} is also in {split_of[vid]}.json")
    return split_of


def _people(stem: str, method: str) -> tuple[str, ...]:
    """The people a video shows: YouTube ids ('071', '054') or actor ids ('actor01')."""
    if "__" in stem:  # actors / DeepFakeDetection: 01__scene or 01_02__scene__ID
        return tuple(f"actor{p}" for p in stem.split("__")[0].split("_"))
    return tuple(stem.split("_")) if method != REAL else (stem,)


@register_importer("ffpp")
def discover(src: Path, cfg: ImportConfig) -> Listing:
    """FaceForensics++ (original_sequences/, manipulated_sequences/; official splits with --splits)."""
    if not (src / "original_sequences").is_dir():
        raise TalkbenchError(f"{src} is not a FaceForensics++ folder: no original_sequences/")
    if cfg.compression not in COMPRESSIONS:
        raise TalkbenchError(f"compression must be one of {', '.join(COMPRESSIONS)}, not {cfg.compression!r}")
    c = cfg.compression
    found: list[tuple[Path, str, int]] = []  # (file, method, label)
    for source in REAL_SOURCES:
        found += [(p, REAL, 0) for p in _videos(src / "original_sequences" / source / c / "videos")]
    for method in selected_methods(cfg, METHODS):
        found += [(p, method, 1) for p in _videos(src / "manipulated_sequences" / method / c / "videos")]
    if not any(lab == 0 for _, _, lab in found):
        raise TalkbenchError(f"no real videos in {src}/original_sequences/{{youtube,actors}}/{c}/videos")
    group = group_people([_people(p.stem, method) for p, method, _ in found])
    split_of = read_splits(Path(cfg.splits)) if cfg.splits else None
    items, skipped = [], []
    for p, method, label in found:
        rel = p.relative_to(src).as_posix()
        people = _people(p.stem, method)
        split = None
        if split_of is not None:
            splits = {split_of.get(x) for x in people}
            if None in splits or len(splits) != 1:
                skipped.append((rel, "not in the official splits" if None in splits else "its people are in two splits"))
                continue
            split = splits.pop()
        video = f"{method if label else 'real_' + ('actors' if '__' in p.stem else 'youtube')}__{p.stem}"
        items.append(VideoItem(p, rel, label, group[people[0]], method, split, video=video))
    if split_of is not None:  # listed videos absent on disk are counted, not silently dropped
        present = {p.stem for p, method, _ in found if method == REAL}
        skipped += [(f"original_sequences/youtube/{c}/videos/{vid}.mp4",
                     f"listed in splits/{split}.json but absent") for vid, split in sorted(split_of.items())
                    if vid not in present]
    return items, skipped
