"""The result files' schema in code; docs/CONTRACTS.md ("Results") is the prose. Producers
(benchmarks, detector, study) write with these names and reports read with them, so a
column or the setting-name format changes in one place. Plain data and two functions: it
imports nothing else of talkbench but its error type."""

from __future__ import annotations

import re

from talkbench.errors import TalkbenchError

# A setting is a fine-tuning mode and a shot count: FF_T8 = feed-forward from 8 shots.
SETTING_PATTERN = re.compile(r"(\w+?)_T(\d+)")


def setting_name(mode: str, t: int) -> str:
    """("FT", 8) -> ``FT_T8``."""
    return f"{mode}_T{t}"


def split_setting(name: str) -> tuple[str, int]:
    """``FT_T8`` -> ("FT", 8); any other name is a one-line error."""
    m = SETTING_PATTERN.fullmatch(str(name))
    if m is None:
        raise TalkbenchError(f"setting name {name!r} is not of the form MODE_T<shots> (e.g. FF_T8)")
    return m.group(1), int(m.group(2))


# generated/frames.csv: one row per generated frame; a reader needs FRAME_REQUIRED
# (driver_identity, whose landmarks drove a cross-reenactment row, is informational).
FRAME_COLUMNS = ["setting", "mode", "T", "kind", "identity", "video", "frame", "fake_path", "real_path",
                 "driver_identity"]
FRAME_REQUIRED = FRAME_COLUMNS[:9]
# results/realism.csv: a reader needs these; runs written since also carry REALISM_EXTRA.
REALISM_REQUIRED = ["setting", "mode", "T", "kind", "metric", "backend", "value", "ci_low", "ci_high", "n",
                    "n_failed", "status", "reason", "higher_is_better"]
REALISM_EXTRA = ["n_people", "std", "n_real", "n_fake", "note"]
REALISM_COLUMNS = REALISM_REQUIRED + REALISM_EXTRA
# results/realism_vs_shots.csv: a metric at T_b minus at T_a on the same people (interval: t | jackknife).
SHOTS_COLUMNS = ["mode", "kind", "metric", "T_a", "T_b", "diff", "ci_low", "ci_high", "n_people", "interval",
                 "higher_is_better", "verdict"]
# results/realism_ft_vs_ff.csv: a metric of FT minus of FF at the same T, on the same people.
FT_VS_FF_COLUMNS = ["kind", "metric", "T", "diff", "ci_low", "ci_high", "n_people", "interval", "higher_is_better",
                    "verdict"]
# results/detection.csv, robustness.csv, cross_dataset.csv and user.csv.
DETECTION_COLUMNS = ["detector", "train_setting", "test_setting", "level", "auc", "auc_ci_low", "auc_ci_high",
                     "ap", "eer", "acc", "balanced_acc", "tpr_at_1fpr", "n_real", "n_fake", "pretrained"]
ROBUSTNESS_COLUMNS = ["detector", "train_setting", "perturbation", "level", "auc"]
CROSS_DATASET_COLUMNS = ["detector", "train_dataset", "test_dataset", "level", "auc", "auc_ci_low", "auc_ci_high",
                         "ap", "eer", "acc", "balanced_acc", "tpr_at_1fpr", "n_real", "n_fake", "n_videos", "pretrained"]
USER_COLUMNS = ["setting", "mode", "T", "user", "ci_low", "ci_high", "n_trials", "n_participants", "n_excluded"]
# The columns that identify a row of each file (one value per key; later runs replace it).
REALISM_KEY = REALISM_REQUIRED[:6]
DETECTION_KEY = DETECTION_COLUMNS[:4]
ROBUSTNESS_KEY = ROBUSTNESS_COLUMNS[:4]
CROSS_DATASET_KEY = CROSS_DATASET_COLUMNS[:4]
