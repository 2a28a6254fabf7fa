"""What a detector was trained on, stored in its file, and the check `detect predict` makes
with it: a detector trained only on talkbench's synthetic cartoon faces has never seen real
footage, and one trained on real datasets has never seen talkbench's generated faces — its
probabilities outside that domain are not evidence, and the user is told so."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from talkbench.data.crop import LANDMARK_MARGIN
from talkbench.media import IMAGE_SUFFIXES, read_png_provenance, read_video_provenance

SYNTHETIC = "synthetic"  # real-class footage: talkbench synth's rendered faces
VIDEO = "video"  # real-class footage: camera video (prepared or imported datasets)


def training_domain(train: pd.DataFrame, crop_size: int) -> dict:
    """The domain record of a detector trained on the rows ``train`` of a frame table (its
    optional ``dataset``, ``footage``, ``crop``, ``margin`` and ``frames_per_video`` columns
    say where the frames came from; see :mod:`talkbench.detector.data`)."""
    def values(name: str, default, rows: pd.DataFrame = train) -> list:
        found = rows[name].dropna().tolist() if name in rows.columns else []
        return found or [default]

    per_video = [v for v in values("frames_per_video", 0) if v] or [int(train.groupby("video").size().median())]
    return {"datasets": sorted(set(map(str, values("dataset", "unknown")))),
            "methods": sorted(set(train.loc[train.label == 1, "setting"].astype(str))),
            "real_footage": sorted(set(map(str, values("footage", "unknown", train[train.label == 0])))),
            "crop": str(values("crop", "image")[0]), "margin": float(values("margin", LANDMARK_MARGIN)[0]),
            "crop_size": int(crop_size), "frames_per_video": int(per_video[0]),
            "n_videos": int(train.video.nunique()), "n_frames": int(len(train))}


def infer_domain(checkpoint: Path) -> dict | None:
    """For a detector file made before domains were recorded: the domain of the benchmark run
    it sits in (``RUN/detection/models/<detector>__<setting>/``), read from the run's data
    stage; None when it is not inside a run."""
    from talkbench.detector.data import run_footage

    for run in list(Path(checkpoint).resolve().parents)[:5]:
        if (run / "stages" / "data.json").is_file():
            setting = Path(checkpoint).parent.name.rpartition("__")[2]
            return {"datasets": ["talkbench"], "methods": [setting] if setting else [],
                    "real_footage": [run_footage(run)], "crop": "prepare", "margin": LANDMARK_MARGIN,
                    "crop_size": 0, "frames_per_video": 0, "n_videos": 0, "n_frames": 0,
                    "inferred_from": str(run / "stages" / "data.json")}
    return None


def describe(domain: dict | None) -> str:
    """One line for the user."""
    if not domain:
        return "trained on: not recorded in this detector file"
    if "inferred_from" in domain:
        return (f"trained on (not recorded in the file; inferred from {domain['inferred_from']}): talkbench's "
                f"generated fakes ({', '.join(domain['methods'])}) vs real frames that are {domain['real_footage'][0]}")
    return (f"trained on: datasets {', '.join(domain['datasets'])}; fake methods {', '.join(domain['methods'])}; "
            f"real footage {', '.join(domain['real_footage'])}; {domain['crop']} crops of {domain['crop_size']} px; "
            f"{domain['n_videos']} videos, ~{domain['frames_per_video']} frames each")


def is_synthetic(path: Path) -> bool:
    """Whether a file says (in its talkbench provenance) that it is machine-generated."""
    try:
        meta = read_png_provenance(path) if path.suffix.lower() in IMAGE_SUFFIXES else read_video_provenance(path)
    except Exception:  # no or unreadable metadata: not marked synthetic
        return False
    return meta.get("synthetic") == "true"


def outside_domain(domain: dict | None, files: Sequence[Path]) -> dict[str, str]:
    """file → why it lies outside what the detector was trained on (absent: inside, or unknown)."""
    if not domain:
        return {}
    footage = set(domain.get("real_footage", []))
    out = {}
    for f in files:
        synthetic = is_synthetic(Path(f))
        if footage == {SYNTHETIC} and not synthetic:
            out[str(f)] = ("real footage, but the detector was trained only on talkbench's synthetic faces "
                           "and has never seen real footage")
        elif SYNTHETIC not in footage and synthetic and "talkbench" not in domain.get("datasets", []):
            out[str(f)] = "talkbench-generated media, but the detector was never trained on talkbench's fakes"
    return out
