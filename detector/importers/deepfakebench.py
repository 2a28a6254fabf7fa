"""DeepfakeBench's dataset JSON over already-extracted frames:
``{Dataset: {Label: {train|val|test: {video: {"label": Label, "frames": [path, ...]}}}}}``.

FaceForensics++ files add a compression level under the split (``{"c23": {video: ...}}``;
``compression=`` picks it). A label whose name says ``real`` (``FF-real``,
``CelebDFv2_real``, ``DFDC_Real``) is the real class; every other label is a fake method.
Relative frame paths are taken from ``root=`` (default: the JSON file's folder). A video
with no frames listed, or with listed frames missing on disk, is a counted skip — the
"empty JSON" and "never preprocessed" cases DeepfakeBench users meet.
"""

from __future__ import annotations

import json
from pathlib import Path

from talkbench.detector.importers import register_importer
from talkbench.detector.importers.base import REAL, SPLITS, ImportConfig, Listing, VideoItem
from talkbench.errors import TalkbenchError

COMPRESSIONS = ("raw", "c23", "c40")


def is_real_label(label: str) -> bool:
    return "real" in label.lower()


def _videos_of(node: dict, cfg: ImportConfig, where: str) -> dict:
    """The {video: entry} mapping under a split, through a compression level if present."""
    if node and set(node) <= set(COMPRESSIONS):
        if cfg.compression not in node:
            raise TalkbenchError(f"{where} has compression(s) {', '.join(node)}, not {cfg.compression!r}")
        return node[cfg.compression]
    return node


def _load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TalkbenchError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise TalkbenchError(f"{path} is empty or not a DeepfakeBench dataset JSON ({{Dataset: {{Label: ...}}}})")
    return data


@register_importer("deepfakebench")
def discover(src: Path, cfg: ImportConfig) -> Listing:
    """DeepfakeBench dataset JSON (SRC is the .json file; frames relative to --root)."""
    if src.is_dir():
        found = sorted(src.glob("*.json"))
        if len(found) != 1:
            raise TalkbenchError(f"give the DeepfakeBench JSON file itself ({len(found)} .json files in {src})")
        src = found[0]
    root = Path(cfg.root) if cfg.root else src.parent
    items, skipped = [], []
    for dataset, labels in _load(src).items():
        if not isinstance(labels, dict):
            raise TalkbenchError(f"{src}: {dataset!r} does not map labels to splits")
        for label, splits in labels.items():
            real = is_real_label(label)
            # {split: {video: ...}} as DeepfakeBench writes it, or {video: ...} without splits
            parts = splits.items() if set(splits) & set(SPLITS) else [(None, splits)]
            for split, node in parts:
                if split is not None and split not in SPLITS:
                    raise TalkbenchError(f"{src}: {dataset}/{label} has split {split!r}; expected train, val or test")
                for video, entry in _videos_of(node, cfg, f"{src}: {dataset}/{label}/{split}").items():
                    rel = f"{dataset}/{label}/{split or ''}/{video}"
                    frames = entry.get("frames") if isinstance(entry, dict) else None
                    if not frames:
                        skipped.append((rel, "no frames listed in the JSON (video never preprocessed?)"))
                        continue
                    paths = tuple(Path(f) if Path(f).is_absolute() else root / f for f in frames)
                    if n_missing := sum(not p.is_file() for p in paths):
                        skipped.append((rel, f"{n_missing} of {len(paths)} listed frames are absent under {root}"))
                        continue
                    items.append(VideoItem(paths[0].parent, rel, 0 if real else 1, str(video).split("_")[0],
                                           REAL if real else label, split, frames=paths,
                                           video=f"{label}__{video}"))
    return items, skipped
