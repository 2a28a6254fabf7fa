"""Labelled face-crop sets for detectors: from real/fake folders or from a benchmark run's
``generated/frames.csv``; identity-disjoint, class-balanced splits; one loader that gives both
classes the same crop, resize and (optional) re-encoding, so no trivial cue such as file
format or size separates them.

A frame table is a DataFrame with columns ``path, label (0 real / 1 fake), identity, video,
setting, kind, frame`` (+ ``split`` once split). Real frames of a run have setting ``real``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from talkbench.contracts import FRAME_REQUIRED
from talkbench.data.crop import LANDMARK_MARGIN, to_square
from talkbench.detector.perturb import jpeg
from talkbench.errors import TalkbenchError
from talkbench.files import read_json
from talkbench.media import IMAGE_SUFFIXES, read_image

COLUMNS = ["path", "label", "identity", "video", "setting", "kind", "frame"]
REAL_SETTING = "real"


def _folder_rows(root: Path, label: int, setting: str) -> list[dict]:
    """Images under ``root``: ``root/<identity>/[<video>/]*.png`` or flat (one identity and
    one video per file, the safe assumption when nothing says two files share a person)."""
    if not root.is_dir():
        raise TalkbenchError(f"{root} is not a folder")
    rows: list[dict] = []
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() not in IMAGE_SUFFIXES or not p.is_file():
            continue
        rel = p.relative_to(root).parts
        identity = rel[0] if len(rel) > 1 else p.stem
        video = "/".join(rel[:-1]) if len(rel) > 1 else p.stem
        rows.append({"path": str(p), "label": label, "identity": identity, "video": video,
                     "setting": setting if label else REAL_SETTING, "kind": "", "frame": len(rows)})
    if not rows:
        raise TalkbenchError(f"no images under {root}")
    return rows


def from_folders(real: str | Path, fake: str | Path, setting: str = "fake") -> pd.DataFrame:
    """A frame table from a folder of real and a folder of fake images."""
    table = pd.DataFrame(_folder_rows(Path(real), 0, "") + _folder_rows(Path(fake), 1, setting), columns=COLUMNS)
    return table.assign(dataset="folders", footage="unknown", crop="image")


def run_footage(run: Path) -> str:
    """What the real frames of a benchmark run are: talkbench synth's rendered faces
    ("synthetic"), camera video ("video"), or "unknown" (from RUN/stages/data.json and the
    dataset's meta.json)."""
    stage = run / "stages" / "data.json"
    try:
        dataset = Path(read_json(stage)["result"]["dataset"])
        return {"synthetic": "synthetic", "videos": "video"}.get(read_json(dataset / "meta.json").get("source"),
                                                                 "unknown")
    except (OSError, KeyError, TypeError, ValueError):
        return "unknown"


def from_generated(path: str | Path) -> pd.DataFrame:
    """A frame table from ``RUN/generated/frames.csv`` (docs/CONTRACTS.md): every fake frame,
    and the real ground-truth frames of self-reenactment once each (setting ``real``)."""
    path = Path(path)
    csv = path if path.suffix == ".csv" else (path / "frames.csv" if (path / "frames.csv").is_file()
                                              else path / "generated" / "frames.csv")
    if not csv.is_file():
        raise TalkbenchError(f"no frames.csv at {path} (expected RUN/generated/frames.csv)")
    df = pd.read_csv(csv, keep_default_na=False)
    need = set(FRAME_REQUIRED) - {"mode", "T"}  # both are in the setting's name
    if missing := need - set(df.columns):
        raise TalkbenchError(f"{csv} lacks column(s) {', '.join(sorted(missing))}")
    base = csv.parent
    fake = pd.DataFrame({"path": [str(base / p) for p in df.fake_path], "label": 1,
                         "identity": df.identity.astype(str), "video": df.video.astype(str),
                         "setting": df.setting, "kind": df.kind, "frame": df.frame})
    # every setting writes its own copy of a held-out frame: one row per source frame
    self_rows = df[df.real_path != ""].drop_duplicates(["identity", "video", "frame"])
    real = pd.DataFrame({"path": [str(base / p) for p in self_rows.real_path], "label": 0,
                         "identity": self_rows.identity.astype(str), "video": self_rows.video.astype(str),
                         "setting": REAL_SETTING, "kind": "self", "frame": self_rows.frame})
    if real.empty:
        raise TalkbenchError(f"{csv} has no real frames (no self-reenactment rows with real_path)")
    table = pd.concat([real, fake], ignore_index=True)[COLUMNS]
    footage = run_footage(base.parent)
    return table.assign(dataset="talkbench", footage=np.where(table.label == 0, footage, "talkbench generator"),
                        crop="prepare")


IMPORTED_TABLE = "crops.csv"  # written by `talkbench detect import` (detector/importers/build.py)


def from_imported(path: str | Path) -> pd.DataFrame:
    """A frame table from an imported face-crop dataset (``OUT/crops.csv``): the dataset's
    own split is kept; ``setting`` is the manipulation method (``real`` for real videos)."""
    path = Path(path)
    csv = path if path.suffix == ".csv" else path / IMPORTED_TABLE
    df = pd.read_csv(csv, keep_default_na=False, dtype={"identity": str, "video": str})
    need = {"path", "label", "identity", "video", "method", "split", "dataset", "frame"}
    if missing := need - set(df.columns):
        raise TalkbenchError(f"{csv} lacks column(s) {', '.join(sorted(missing))}")
    meta = csv.parent / "meta.json"
    crop = read_json(meta).get("crop", "landmarks") if meta.is_file() else "landmarks"
    return pd.DataFrame({"path": [str(csv.parent / p) for p in df.path], "label": df.label.astype(int),
                         "identity": df.identity, "video": df.video,
                         "setting": [REAL_SETTING if lab == 0 else m for lab, m in zip(df.label, df.method)],
                         "kind": "", "frame": df.frame, "split": df.split, "dataset": df.dataset.astype(str),
                         "footage": "video", "crop": crop,
                         "margin": read_json(meta).get("margin", LANDMARK_MARGIN) if meta.is_file() else LANDMARK_MARGIN,
                         "frames_per_video": read_json(meta).get("frames_per_video", 0) if meta.is_file() else 0})


def from_data(path: str | Path) -> pd.DataFrame:
    """A frame table from whatever ``--data`` names: an imported dataset (``crops.csv``) or a
    benchmark run's generated frames (``frames.csv``)."""
    path = Path(path)
    if path.name == IMPORTED_TABLE or (path / IMPORTED_TABLE).is_file():
        return from_imported(path)
    return from_generated(path)


def keep_or_split(table: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The table with its dataset-given ``split`` kept, or split by identity when it has none."""
    if "split" in table.columns and set(table.split) <= {"train", "val", "test"} and len(table):
        return table
    return split_by_identity(table, seed=seed)


def split_by_identity(table: pd.DataFrame, fractions: Sequence[float] = (0.6, 0.2, 0.2), seed: int = 0,
                      names: Sequence[str] = ("train", "val", "test")) -> pd.DataFrame:
    """Add ``split`` ∈ ``names`` (train/val/test) so that no identity is in two splits.
    Identities are shuffled (seeded) and dealt out until each split holds about its fraction
    of rows."""
    ids = table.identity.unique()
    if len(ids) < len(names):
        raise TalkbenchError(f"need at least {len(names)} identities for {'/'.join(names)} splits, got {len(ids)}")
    rng = np.random.default_rng(seed)
    ids = ids[rng.permutation(len(ids))]
    counts = table.identity.value_counts().reindex(ids).to_numpy()
    bounds = np.cumsum(fractions)[:-1] / np.sum(fractions) * counts.sum()
    where = np.searchsorted(bounds, np.cumsum(counts) - counts / 2)
    # every split gets at least one identity: the last identities go to the empty splits
    for k in range(len(names)):
        if not (where == k).any():
            where[np.flatnonzero(np.bincount(where, minlength=len(names))[where] > 1)[-1]] = k
    split_of = dict(zip(ids, np.array(list(names))[where]))
    return table.assign(split=table.identity.map(split_of))


def select(table: pd.DataFrame, split: str | None = None, setting: str | None = None,
           balanced: bool = True, seed: int = 0) -> pd.DataFrame:
    """Rows of one split with the fakes of one setting (all when None) and the real frames;
    ``balanced`` subsamples the larger class to the size of the smaller (seeded)."""
    rows = table if split is None else table[table.split == split]
    if setting is not None:
        rows = rows[(rows.label == 0) | (rows.setting == setting)]
    real, fake = rows[rows.label == 0], rows[rows.label == 1]
    if real.empty or fake.empty:
        raise TalkbenchError(f"split '{split}', setting '{setting}': {len(real)} real and {len(fake)} fake frames; "
                             "need both")
    if balanced and len(real) != len(fake):
        small, large = (real, fake) if len(real) < len(fake) else (fake, real)
        large = _matching_identities(large, small.identity.value_counts(), seed)
        real, fake = (small, large) if small is real else (large, small)
    return pd.concat([real, fake]).sort_index()


def _matching_identities(rows: pd.DataFrame, counts: pd.Series, seed: int) -> pd.DataFrame:
    """``counts.sum()`` of ``rows`` (seeded), as many of each identity as ``counts`` has where
    it can, the rest at random: otherwise the class balance differs per identity, and a
    detector can score who is shown instead of whether it is fake."""
    rng = np.random.default_rng(seed)
    take = [rng.choice(ix, min(len(ix), int(counts.get(who, 0))), replace=False)
            for who, ix in rows.groupby("identity").groups.items()]
    chosen = np.concatenate(take)  # ``rows`` is never empty here (``select`` checks)
    rest = rows.index.difference(chosen).to_numpy()
    fill = rng.choice(rest, int(counts.sum()) - len(chosen), replace=False)
    return rows.loc[np.concatenate([chosen, fill])]


def load_crops(paths: Sequence[str | Path], size: int, jpeg_quality: int | None = None) -> np.ndarray:
    """N×size×size×3 uint8: every image decoded to RGB, centre-squared and resized the same
    way; with ``jpeg_quality`` both classes are also re-encoded identically."""
    out = np.empty((len(paths), size, size, 3), np.uint8)
    for i, p in enumerate(paths):
        img = to_square(read_image(p), size)
        out[i] = jpeg(img, jpeg_quality) if jpeg_quality else img
    return out
