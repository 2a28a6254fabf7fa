"""Reading a run directory's result files (docs/CONTRACTS.md "Results") — the only input
of every report. Nothing here imports the generator, metrics or detector packages: a
report can be made on any machine from the files alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import yaml

from talkbench.errors import TalkbenchError
from talkbench.files import read_json

REALISM_COLUMNS = ["setting", "mode", "T", "kind", "metric", "backend", "value", "ci_low", "ci_high", "n",
                   "n_failed", "status", "reason", "higher_is_better"]
DETECTION_COLUMNS = ["detector", "train_setting", "test_setting", "level", "auc", "auc_ci_low", "auc_ci_high",
                     "ap", "eer", "acc", "balanced_acc", "tpr_at_1fpr", "n_real", "n_fake", "pretrained"]
ROBUSTNESS_COLUMNS = ["detector", "train_setting", "perturbation", "level", "auc"]
CROSS_DATASET_COLUMNS = ["detector", "train_dataset", "test_dataset", "level", "auc", "auc_ci_low", "auc_ci_high",
                         "ap", "eer", "acc", "balanced_acc", "tpr_at_1fpr", "n_real", "n_fake", "n_videos", "pretrained"]
USER_COLUMNS = ["setting", "mode", "T", "user", "ci_low", "ci_high", "n_trials", "n_participants", "n_excluded"]


@dataclasses.dataclass
class RunResults:
    """Everything a report shows about one run; absent files give empty tables."""

    path: Path
    label: str
    config: dict
    manifest: dict
    stages: dict[str, dict]
    realism: pd.DataFrame
    detection: pd.DataFrame
    robustness: pd.DataFrame
    user: pd.DataFrame
    roc: dict[tuple[str, str, str], pd.DataFrame]  # (detector, train, test) -> fpr, tpr, threshold
    samples: list[Path]
    cross_dataset: pd.DataFrame = dataclasses.field(default_factory=lambda: pd.DataFrame(columns=CROSS_DATASET_COLUMNS))
    train_manifest: dict = dataclasses.field(default_factory=dict)  # RUN/train/manifest.json (schedule, deviations)

    @property
    def settings(self) -> list[tuple[str, int]]:
        """(mode, T) present in any result, FF before FT, T ascending."""
        pairs = set()
        for df in (self.realism, self.user):
            if len(df):
                pairs |= {(str(m), int(t)) for m, t in zip(df["mode"], df["T"])}
        for name in self.detection.get("test_setting", []):
            pairs.add(split_setting(name))
        return sorted(pairs, key=lambda p: (p[0], p[1]))


def split_setting(name: str) -> tuple[str, int]:
    """``FT_T8`` -> ("FT", 8)."""
    try:
        mode, t = str(name).split("_T")
        return mode, int(t)
    except ValueError:
        raise TalkbenchError(f"setting name {name!r} is not of the form MODE_T<shots> (e.g. FF_T8)") from None


def _csv(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame(columns=columns)
    try:
        df = pd.read_csv(path, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TalkbenchError(f"{path} is not a readable CSV (damaged?): {' '.join(str(exc).split())}") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TalkbenchError(f"{path} lacks the column(s) {', '.join(missing)} (docs/CONTRACTS.md 'Results')")
    for col in ("reason", "backend", "status"):
        if col in df.columns:
            df[col] = df[col].fillna("").astype(str)
    return df


def load_run(path: str | Path, label: str | None = None) -> RunResults:
    """Read a run directory; a folder that is not a run is a one-line error."""
    path = Path(path)
    if not (path / "manifest.json").is_file() and not (path / "results").is_dir():
        raise TalkbenchError(f"{path} is not a run directory (no manifest.json or results/)")
    config = yaml.safe_load((path / "config.yaml").read_text()) if (path / "config.yaml").is_file() else {}
    manifest = read_json(path / "manifest.json") if (path / "manifest.json").is_file() else {}
    stages = {p.stem: read_json(p) for p in sorted((path / "stages").glob("*.json"))}
    res = path / "results"
    roc = {}
    for p in sorted((res / "roc").glob("*.csv")):
        parts = p.stem.split("__")
        if len(parts) == 3:
            roc[tuple(parts)] = pd.read_csv(p)
    return RunResults(
        path=path, label=label or path.name, config=config or {}, manifest=manifest, stages=stages,
        realism=_csv(res / "realism.csv", REALISM_COLUMNS),
        detection=_csv(res / "detection.csv", DETECTION_COLUMNS),
        robustness=_csv(res / "robustness.csv", ROBUSTNESS_COLUMNS),
        user=_csv(res / "user.csv", USER_COLUMNS),
        roc=roc,
        samples=sorted((path / "samples").glob("*.png")),
        cross_dataset=_csv(res / "cross_dataset.csv", CROSS_DATASET_COLUMNS),
        train_manifest=read_json(path / "train" / "manifest.json") if (path / "train" / "manifest.json").is_file() else {},
    )


def unique_labels(paths: list[Path]) -> list[str]:
    """Short labels for runs shown side by side (folder names, made unique)."""
    labels: list[str] = []
    for p in paths:
        base = Path(p).resolve().name
        label, i = base, 2
        while label in labels:
            label, i = f"{base} ({i})", i + 1
        labels.append(label)
    return labels
