"""The report's cross-dataset matrix, from results/cross_dataset.csv as `detect cross
--datasets` writes it (docs/CONTRACTS.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from talkbench.detector.cross_dataset import CROSS_DATASET_COLUMNS, dataset_rows
from talkbench.reports.build import build_report
from talkbench.reports.results import CROSS_DATASET_COLUMNS as READ_COLUMNS


def _scored(rng, shift: float) -> pd.DataFrame:
    videos = np.repeat(np.arange(12), 4)
    label = (videos >= 6).astype(int)
    prob = 1 / (1 + np.exp(-(rng.normal(size=48) + shift * label)))
    return pd.DataFrame({"label": label, "setting": np.where(label, "fake", "real"), "kind": "",
                         "video": videos.astype(str), "prob": prob})


def test_report_shows_the_cross_dataset_matrix(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for train in ("ffpp", "celebdf"):
        for test in ("ffpp", "celebdf"):
            rows += dataset_rows(_scored(rng, 3.0 if train == test else 0.5), "resnet10t_64", train, test, False, 100)
    run = tmp_path / "run"
    (run / "results").mkdir(parents=True)
    pd.DataFrame(rows, columns=CROSS_DATASET_COLUMNS).to_csv(run / "results" / "cross_dataset.csv", index=False)
    assert READ_COLUMNS == CROSS_DATASET_COLUMNS
    assert {r["n_videos"] for r in rows} == {12}  # 6 real and 6 fake videos of 4 frames each
    out = build_report([run], tmp_path / "report")
    md = out["markdown"].read_text()
    assert "Cross-dataset AUC — resnet10t_64 (video level)" in md
    table = pd.read_csv(out["tables"] / "cross_dataset_auc_resnet10t_64_video_level.csv")
    diag = table[table.row == table.column].value
    off = table[table.row != table.column].value
    assert len(table) == 4 and diag.min() > off.max()
    findings = md.split("## Findings", 1)[1].split("\n## ", 1)[0]
    assert "### Cross-dataset generalisation (video level)" in findings
    assert "resnet10t_64 trained on ffpp: its own dataset" in findings
