"""What a dataset layout hands to the import: the videos it found (label, identity, method,
split where the dataset fixes one) and the ones it had to skip, with the reason."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from talkbench.data.crop import LANDMARK_MARGIN
from talkbench.files import safe_name

REAL = "real"  # the method name of real videos
SPLITS = ("train", "val", "test")


@dataclasses.dataclass
class ImportConfig:
    """``frames``: frames per video, evenly spaced (DeepfakeBench's protocol uses 32);
    ``size``/``margin``/``backend``/``detect_size``/``min_face_fraction``: the face crop of
    `talkbench prepare` (one landmark-framed square per video; ``backend='none'`` takes
    ready-made crops as they are, centre-squared); ``compression``/``methods``/``splits``:
    FaceForensics++ selections; ``root``: the folder DeepfakeBench frame paths are relative to
    (default: the JSON file's folder)."""

    frames: int = 32
    size: int = 64
    margin: float = LANDMARK_MARGIN  # as `talkbench prepare`
    backend: str = "auto"
    detect_size: int = 224
    min_frames: int = 1
    min_face_fraction: float = 0.5
    seed: int = 0
    compression: str = "c23"
    methods: str = ""  # comma-separated; "" = every method on disk
    splits: str = ""  # FF++: folder with the official train.json / val.json / test.json
    root: str = ""  # deepfakebench: base folder of relative frame paths


@dataclasses.dataclass
class VideoItem:
    """One video (a file, a folder of frames, or an explicit list of frame files)."""

    source: Path
    rel: str  # as the dataset names it (relative to SRC): the `source` column and skipped.csv
    label: int  # 0 real, 1 fake
    identity: str  # the person, or the group of people that must stay in one split
    method: str  # manipulation method; "real" for real videos
    split: str | None = None  # fixed by the dataset's split files; None: assigned by identity
    frames: tuple[Path, ...] | None = None  # explicit frame files (DeepfakeBench JSON)
    video: str = ""  # unique, file-safe id; default from ``rel``

    def __post_init__(self) -> None:
        self.video = self.video or safe_name(Path(self.rel).with_suffix("").as_posix().replace("/", "__"))


Listing = tuple[list[VideoItem], list[tuple[str, str]]]  # (videos, [(source, reason)] skipped)


def selected_methods(cfg: ImportConfig, known: tuple[str, ...]) -> tuple[str, ...]:
    """The methods asked for with ``methods=`` (all known ones when empty); unknown → error."""
    from talkbench.errors import TalkbenchError

    if not cfg.methods:
        return known
    asked = tuple(m.strip() for m in cfg.methods.split(",") if m.strip())
    if bad := [m for m in asked if m not in known]:
        raise TalkbenchError(f"unknown method(s) {', '.join(bad)}; known: {', '.join(known)}")
    return asked


def group_people(videos: list[tuple[str, ...]]) -> dict[str, str]:
    """person → group id, where people shown together in any video share a group (so a
    face swap's target and source land in one split). Group id: its members, sorted, '+'-joined."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for people in videos:
        root(people[0])
        for other in people[1:]:
            parent[root(other)] = root(people[0])
    members: dict[str, list[str]] = {}
    for x in list(parent):
        members.setdefault(root(x), []).append(x)
    return {x: "+".join(sorted(members[root(x)])) for x in parent}
