"""Fixture run directories for report tests: result files in the contract's format
(docs/CONTRACTS.md "Results"), with numbers made up by the test (realism improving with T,
AUC falling with T) — they test the report, not the models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from talkbench.files import write_json, write_text
from talkbench.media import write_png
from talkbench.provenance import provenance

SETTINGS = [(m, t) for m in ("FF", "FT") for t in (1, 8, 32)]
LPIPS_REASON = "LPIPS needs AlexNet weights alexnet-owt-7be5be79.pth; run `talkbench weights download alexnet`"


def write_fixture_run(path: Path, shift: float = 0.0, seed: int = 0) -> Path:
    """A complete run directory; ``shift`` moves every realism value (to compare runs)."""
    rng = np.random.default_rng(seed)
    rows = []
    for mode, t in SETTINGS:
        gain = np.log2(t) / 5 + (0.1 if mode == "FT" else 0.0)
        for kind in ("self", "cross"):
            vals = {"FID": (80 - 30 * gain + shift, False, "inception-random"),
                    "KID": (0.05 - 0.02 * gain, False, "inception-random"),
                    "SSIM": (0.5 + 0.2 * gain - shift / 100, True, ""), "PSNR": (18 + 4 * gain, True, ""),
                    "CSIM-dlib": (0.6 + 0.2 * gain, True, "dlib"), "NME": (0.12 - 0.05 * gain, False, "dlib"),
                    "L1": (0.2 - 0.05 * gain, False, "")}
            for metric, (v, hib, backend) in vals.items():
                if kind == "cross" and metric in ("SSIM", "PSNR", "L1"):
                    continue
                half = abs(v) * 0.05
                rows.append(dict(setting=f"{mode}_T{t}", mode=mode, T=t, kind=kind, metric=metric, backend=backend,
                                 value=v, ci_low=v - half, ci_high=v + half, n=24, n_failed=1, status="ok", reason="",
                                 higher_is_better=hib))
            if kind == "self":
                rows.append(dict(setting=f"{mode}_T{t}", mode=mode, T=t, kind=kind, metric="LPIPS", backend="alex",
                                 value=np.nan, ci_low=np.nan, ci_high=np.nan, n=0, n_failed=0, status="unavailable",
                                 reason=LPIPS_REASON, higher_is_better=False))
    res = path / "results"
    res.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(res / "realism.csv", index=False)
    det, rob = [], []
    names = [f"{m}_T{t}" for m, t in SETTINGS]
    for tr in names:
        for te in names:
            t_tr, t_te = int(tr.split("_T")[1]), int(te.split("_T")[1])
            auc = 0.98 - 0.05 * np.log2(t_te) / 5 - (0.0 if tr == te else 0.02 * abs(np.log2(t_tr) - np.log2(t_te)))
            det.append(dict(detector="spectral", train_setting=tr, test_setting=te, level="frame", auc=auc,
                            auc_ci_low=auc - 0.02, auc_ci_high=min(1.0, auc + 0.02), ap=auc, eer=1 - auc, acc=auc - 0.05,
                            balanced_acc=auc - 0.05, tpr_at_1fpr=auc - 0.3, n_real=96, n_fake=96, pretrained=False))
        for fam, levels in (("jpeg", (100, 90, 70, 50, 30)), ("blur", (0, 1, 2, 3))):
            for k, lv in enumerate(levels):
                rob.append(dict(detector="spectral", train_setting=tr, perturbation=fam, level=lv, auc=0.97 - 0.08 * k))
        fpr = np.linspace(0, 1, 21)
        tpr = np.clip(fpr ** (0.2 + 0.1 * int(tr.split("_T")[1]) / 32), 0, 1)
        (res / "roc").mkdir(exist_ok=True)
        pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": 1 - fpr}).to_csv(res / "roc" / f"spectral__{tr}__{tr}.csv",
                                                                           index=False)
    pd.DataFrame(det).to_csv(res / "detection.csv", index=False)
    pd.DataFrame([dict(setting=f"{m}_T{t}", mode=m, T=t, user=0.6 - 0.05 * np.log2(t), ci_low=0.5 - 0.05 * np.log2(t),
                       ci_high=0.7 - 0.05 * np.log2(t), n_trials=60, n_participants=5, n_excluded=1)
                  for m, t in SETTINGS]).to_csv(res / "user.csv", index=False)
    pd.DataFrame(rob).to_csv(res / "robustness.csv", index=False)
    for name in ("FF_T1", "FT_T32"):
        grid = rng.integers(0, 255, (3 * 64, 4 * 64, 3), dtype=np.uint8)
        write_png(path / "samples" / f"{name}__id00017.png", grid, provenance("fixture", "0" * 16))
    write_text(path / "config.yaml", "name: fixture\nseed: 0\n")
    write_json(path / "manifest.json", {"talkbench": "0.1.0", "command": ["talkbench", "run", "quick"],
                                        "config_fingerprint": "0123456789abcdef", "seed": 0,
                                        "device": {"type": "cpu", "threads": 2}, "versions": {"torch": "2.x"},
                                        "weights": [{"name": "dlib_landmarks68", "status": "present"}],
                                        "started": "2026-01-01T00:00:00+00:00", "finished": None})
    write_json(path / "stages" / "data.json", {"fingerprint": "f" * 16, "status": "done", "wall_s": 3.2,
                                               "finished": "2026-01-01T00:00:03+00:00"})
    return path


@pytest.fixture
def make_run():
    """Factory: ``make_run(path, shift=0.0, seed=0)`` writes a fixture run directory."""
    return write_fixture_run


@pytest.fixture
def fixture_run(tmp_path) -> Path:
    return write_fixture_run(tmp_path / "runA")


@pytest.fixture
def lpips_reason() -> str:
    return LPIPS_REASON
