"""Evaluation outputs follow docs/CONTRACTS.md: detection.csv, roc/*.csv, robustness.csv and
the cross-setting matrix, computed on real faces vs two strengths of manipulation."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from talkbench.detector.evaluate import (
    DETECTION_COLUMNS, ROBUSTNESS_COLUMNS, auc_matrix, detection_rows, evaluate_detector, robustness_sweep,
    video_scores,
)
from talkbench.detector.experiment import cross_setting
from talkbench.detector.data import select
from talkbench.detector.metrics import bootstrap_auc
from talkbench.detector.perturb import Condition, blur
from talkbench.detector.registry import create_detector
from talkbench.detector.train import DetectorTrainConfig


def test_detection_rows_frame_and_video_level():
    rng = np.random.default_rng(0)
    scored = pd.DataFrame({"label": np.repeat([0, 1], 40), "setting": np.repeat(["real", "FF_T1"], 40),
                           "kind": "self", "video": np.tile(np.repeat(["a", "b", "c", "d"], 10), 2),
                           "prob": rng.uniform(size=80)})
    scored.loc[scored.label == 1, "prob"] += 0.3
    rows = pd.DataFrame(detection_rows(scored, "det", "FF_T1", "FF_T1", False, n_boot=200))
    assert list(rows.columns) == DETECTION_COLUMNS
    frame, video = rows.iloc[0], rows.iloc[1]
    assert frame.level == "frame" and frame.auc == pytest.approx(roc_auc_score(scored.label, scored.prob))
    v = video_scores(scored)
    assert len(v) == 8  # a video's real and fake frames are separate units
    assert video.auc == pytest.approx(roc_auc_score(v.label, v.prob)) and video.n_real == 4
    assert frame.auc_ci_low < frame.auc < frame.auc_ci_high


def test_frame_level_interval_resamples_videos_not_frames():
    """Frames of one video share its score: 3 real and 3 fake videos of 20 frames each hold 6
    independent units, not 120. Resampling frames one by one gave an interval a fraction as
    wide, which let the report call two settings different on 2 test people."""
    rng = np.random.default_rng(1)
    effect = {"r0": 0.2, "r1": 0.5, "r2": 0.7, "f0": 0.4, "f1": 0.6, "f2": 0.9}
    videos = np.repeat(list(effect), 20)
    scored = pd.DataFrame({"label": [int(v[0] == "f") for v in videos], "setting": "FT_T8", "kind": "self",
                           "video": videos, "prob": [effect[v] for v in videos] + rng.normal(0, 0.01, videos.size)})
    frame = pd.DataFrame(detection_rows(scored, "det", "FT_T8", "FT_T8", False, n_boot=500)).iloc[0]
    naive_low, naive_high = bootstrap_auc(scored.label.to_numpy(), scored.prob.to_numpy(), 500)
    assert frame.auc_ci_low <= frame.auc <= frame.auc_ci_high
    assert frame.auc_ci_high - frame.auc_ci_low > 2 * (naive_high - naive_low)


@pytest.fixture
def two_settings(forgery_set):
    """Fakes of 'FF_T1' (the up-sampled copies) and 'FF_T8' (a milder forgery: blur σ 0.8)."""
    images, table = forgery_set
    real = table[table.label == 0]
    mild = np.stack([blur(im, 0.8) for im in images[real.index.to_numpy()]])
    images = np.concatenate([images, mild])
    table = pd.concat([table.assign(setting=np.where(table.label == 1, "FF_T1", "real")),
                       real.assign(label=1, setting="FF_T8")], ignore_index=True)
    return images, table


def test_evaluate_writes_contract_files(two_settings, tmp_path):
    images, table = two_settings
    tr = select(table, "train", "FF_T1")
    det = create_detector("spectral_logreg").fit(images[tr.index.to_numpy()], tr.label.to_numpy())
    rows = evaluate_detector(det, images, table, "FF_T1", tmp_path, n_boot=100)
    assert set(rows.test_setting) == {"FF_T1", "FF_T8"} and set(rows.level) == {"frame", "video"}
    on_disk = pd.read_csv(tmp_path / "detection.csv")
    assert list(on_disk.columns) == DETECTION_COLUMNS and len(on_disk) == 4
    evaluate_detector(det, images, table, "FF_T1", tmp_path, n_boot=100)  # re-run replaces, not appends
    assert len(pd.read_csv(tmp_path / "detection.csv")) == 4
    roc = pd.read_csv(tmp_path / "roc" / "spectral_logreg__FF_T1__FF_T8.csv")
    assert list(roc.columns) == ["fpr", "tpr", "threshold"] and roc.fpr.is_monotonic_increasing
    assert (tmp_path / "roc" / "spectral_logreg__FF_T1__FF_T1.png").stat().st_size > 1000
    assert (tmp_path / "pr" / "spectral_logreg__FF_T1__FF_T1.csv").is_file()


def test_robustness_sweep_auc_drops_under_destructive_perturbations(two_settings):
    images, table = two_settings
    tr = select(table, "train", "FF_T1")
    det = create_detector("spectral_logreg").fit(images[tr.index.to_numpy()], tr.label.to_numpy())
    conds = [Condition("blur", 0), Condition("downscale", 0.25), Condition("jpeg", 30)]
    rob = robustness_sweep(det, images, select(table, "test", "FF_T1"), "FF_T1", conds, progress=False)
    assert list(rob.columns) == ROBUSTNESS_COLUMNS and len(rob) == 3
    clean, down = rob.auc.iloc[0], rob.auc.iloc[1]
    assert clean >= 0.95 and down < clean - 0.1  # down-scaling by 4 erases the up-sampling trace


def test_cross_setting_matrix(two_settings, tmp_path):
    images, table = two_settings
    cfg = DetectorTrainConfig(detector="spectral_logreg")
    detection = cross_setting(images, table, cfg, tmp_path / "models", tmp_path / "results", n_boot=50,
                              progress=False)
    m = auc_matrix(detection, "spectral_logreg")
    assert list(m.index) == ["FF_T1", "FF_T8"] and list(m.columns) == ["FF_T1", "FF_T8"]
    assert m.loc["FF_T1", "FF_T1"] >= 0.95
    assert np.isfinite(m.to_numpy()).all()
    res = tmp_path / "results"
    assert (res / "cross_setting" / "spectral_logreg__frame.png").is_file()
    assert set(pd.read_csv(res / "robustness.csv").train_setting) == {"FF_T1", "FF_T8"}
    assert (res / "robustness.png").is_file()
    # finished detectors are not retrained on a re-run
    stamp = (tmp_path / "models" / "spectral_logreg__FF_T1" / "detector.safetensors").stat().st_mtime_ns
    cross_setting(images, table, cfg, tmp_path / "models", res, robustness=False, n_boot=10, progress=False)
    assert (tmp_path / "models" / "spectral_logreg__FF_T1" / "detector.safetensors").stat().st_mtime_ns == stamp
