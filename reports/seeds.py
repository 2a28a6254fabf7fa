"""Seed replicates: runs of one suite that differ only in ``seed`` (``talkbench run SUITE
--seeds N`` writes them as ``OUT/seed-<s>/``), aggregated into one :class:`RunResults` whose
values are the mean over seeds with a 95 % Student-t CI *across seeds* (n = seeds), each
keeping the within-run CI over people beside it (``within``), so a reader sees both sources
of variance. Every table, plot and finding then reads the aggregate like any run."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd

from talkbench.contracts import CROSS_DATASET_KEY, DETECTION_KEY, REALISM_KEY, ROBUSTNESS_KEY
from talkbench.reports.results import RunResults
from talkbench.reports.tables import detector_test_people, fmt

SEED_DIR_PREFIX = "seed-"
_IGNORED = ("seed", "seeds")  # what may differ between replicates


def seed_dirs(path: Path) -> list[Path]:
    """``path/seed-*/`` run folders (a ``--seeds`` run's parent), in seed order."""
    found = [p for p in path.glob(f"{SEED_DIR_PREFIX}*") if (p / "manifest.json").is_file() or (p / "results").is_dir()]
    return sorted(found, key=lambda p: int(p.name.removeprefix(SEED_DIR_PREFIX)) if
                  p.name.removeprefix(SEED_DIR_PREFIX).isdigit() else math.inf)


def seed_of(run: RunResults) -> int | None:
    seed = run.manifest.get("seed", run.config.get("seed"))
    return int(seed) if seed is not None else None


def are_replicates(runs: list[RunResults]) -> bool:
    """Two or more runs whose configs agree apart from the seed, with distinct seeds."""
    if len(runs) < 2 or not all(r.config for r in runs):
        return False
    strip = [{k: v for k, v in r.config.items() if k not in _IGNORED} for r in runs]
    seeds = [seed_of(r) for r in runs]
    return all(s == strip[0] for s in strip) and None not in seeds and len(set(seeds)) == len(seeds)


def t_interval(values: np.ndarray, bounds: tuple[float, float] = (-math.inf, math.inf)
               ) -> tuple[float, float | None, float | None]:
    """Mean and 95 % Student-t CI; no interval from fewer than two values."""
    from scipy import stats

    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, None, None
    half = float(stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / math.sqrt(len(values)))
    return mean, max(mean - half, bounds[0]), min(mean + half, bounds[1])


def _within(g: pd.DataFrame, low: str, high: str, unit: str) -> str:
    """The within-run CI half-width, mean over the seeds whose interval rests on two or more
    people (a seed's interval from one person is no interval)."""
    people = g["n_people"].astype(float) if "n_people" in g else pd.Series(np.nan, index=g.index)
    usable = g[~(people < 2)]
    half = ((usable[high].astype(float) - usable[low].astype(float)) / 2).dropna()
    if len(half):
        return f"within-run ±{fmt(float(half.mean()))} ({unit})"
    return f"within-run: no interval (n = {int(people.max())} per seed)" if people.notna().any() else ""


def _aggregate(df: pd.DataFrame, keys: list[str], value: str, low: str, high: str, unit: str,
               bounds: tuple[float, float] = (-math.inf, math.inf), ok: pd.Series | None = None) -> pd.DataFrame:
    """One row per ``keys`` group: ``value`` = mean over seeds, ``low``/``high`` = across-seed CI,
    ``n_units`` = seeds that measured it, ``within`` = the mean within-run CI half-width
    (over ``unit``; rows from a seed with ``n_people`` < 2 left out)."""
    if not len(df):
        return df
    df = df.copy()
    df["_ok"] = True if ok is None else ok.values
    rows = []
    for key, g in df.groupby(keys, sort=False, dropna=False):
        good = g[g["_ok"] & g[value].notna()]
        row = g.iloc[0].to_dict()
        if len(good):
            mean, lo, hi = t_interval(good[value].astype(float).to_numpy(), bounds)
            row.update({value: mean, low: lo, high: hi, "n_units": len(good), "unit": "seeds",
                        "within": _within(good, low, high, unit)})
            for col in ("status", "reason"):
                if col in row:
                    row[col] = "ok" if col == "status" else ""
        else:
            row.update({"n_units": 0, "unit": "seeds", "within": ""})
        rows.append(row)
    return pd.DataFrame(rows).drop(columns="_ok")


def aggregate(runs: list[RunResults], label: str) -> RunResults:
    """The replicates as one run: realism, detection, cross-dataset and robustness results
    averaged over seeds (sections read from run files, e.g. adversarial, stay the first seed's)."""
    first = runs[0]
    realism = pd.concat([r.realism for r in runs], ignore_index=True)
    realism = _aggregate(realism, REALISM_KEY, "value", "ci_low", "ci_high",
                         "people", ok=realism["status"].astype(str) == "ok") if len(realism) else first.realism
    detection = pd.concat([r.detection.assign(n_people=detector_test_people(r)) for r in runs], ignore_index=True)
    detection = _aggregate(detection, DETECTION_KEY, "auc", "auc_ci_low",
                           "auc_ci_high", "bootstrap over test frames", (0.0, 1.0))
    cross_dataset = pd.concat([r.cross_dataset for r in runs], ignore_index=True)
    cross_dataset = _aggregate(cross_dataset, CROSS_DATASET_KEY, "auc",
                               "auc_ci_low", "auc_ci_high", "bootstrap over videos", (0.0, 1.0))
    robustness = pd.concat([r.robustness for r in runs], ignore_index=True)
    if len(robustness):
        robustness = robustness.groupby(ROBUSTNESS_KEY, as_index=False,
                                        sort=False)["auc"].mean()
    manifest = {**first.manifest, "seeds": [seed_of(r) for r in runs]}
    return dataclasses.replace(first, label=label, manifest=manifest, stages={}, realism=realism, detection=detection,
                               robustness=robustness, cross_dataset=cross_dataset)
