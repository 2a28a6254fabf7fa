"""Can a detector learn the watermark instead of the forgery? Measured on a run's frames.

The suite writes its experiment frames unmarked (``write_png(..., watermark=False)`` in the
benchmark's generate stage), so its detectors never see the mark. This measures the two
things that design rests on, with any registered detector trained the suite's way
(identity-disjoint train/val/test split):

1. design: trained on unmarked fakes, scored on the test fakes unmarked and on the same
   fakes marked — the AUCs must differ by less than their bootstrap 95 % CI;
2. the mark alone: real frames vs the same real frames marked, the only difference being
   the mark — the AUC says how learnable it is (≈ 0.5: not learnable by this detector).

    python -m talkbench.benchmarks.watermark_confound RUN [--detector mobilenetv3_64]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from talkbench import watermark as wm
from talkbench.config import bounded
from talkbench.detector.data import from_generated, load_crops, split_by_identity
from talkbench.detector.metrics import auc, bootstrap_auc
from talkbench.detector.registry import load_detector
from talkbench.detector.train import DetectorTrainConfig, train_detector


def _auc_ci(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float, float]:
    return (auc(labels, scores), *bootstrap_auc(labels, scores, n_boot=2000))


def _fit(name: str, x: np.ndarray, y: np.ndarray, split: np.ndarray, folder: Path, epochs: int):
    """A detector trained the suite's way (talkbench.detector.train: validation split, early stop)."""
    cfg = DetectorTrainConfig(detector=name, epochs=epochs)
    tr, va = split == "train", split == "val"
    return load_detector(train_detector(cfg, x[tr], y[tr], x[va], y[va], folder, progress=False))


def measure(run: Path, detector: str = "spectral_logreg", epochs: int = 10, size: int = 64,
            seed: int = 0) -> dict[str, tuple[float, float, float]]:
    table = split_by_identity(from_generated(run), seed=seed)
    images = load_crops(table.path.tolist(), size)
    marked = np.stack([wm.embed(x) for x in images])
    split, y = table.split.to_numpy(), table.label.to_numpy()
    test = split == "test"
    with tempfile.TemporaryDirectory() as d:
        det = _fit(detector, images, y, split, Path(d) / "design", epochs)
        fakes_marked = np.where((y == 1)[:, None, None, None], marked, images)
        out = {"trained unmarked, test fakes unmarked": _auc_ci(y[test], det.predict_proba(images[test])),
               "trained unmarked, test fakes marked": _auc_ci(y[test], det.predict_proba(fakes_marked[test]))}
        real = y == 0  # the mark alone: each real frame twice, unmarked (0) and marked (1)
        px = np.concatenate([images[real], marked[real]])
        py, ps = np.r_[np.zeros(real.sum()), np.ones(real.sum())], np.r_[split[real], split[real]]
        alone = _fit(detector, px, py, ps, Path(d) / "alone", epochs)
        out["mark alone: real vs the same real marked"] = _auc_ci(py[ps == "test"], alone.predict_proba(px[ps == "test"]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a benchmark run folder (RUN/generated/frames.csv)")
    ap.add_argument("--detector", default="spectral_logreg", help="a registered detector (talkbench detect list)")
    ap.add_argument("--epochs", type=bounded(int, 1), default=10, help="epochs for CNN detectors")
    ap.add_argument("--seed", type=int, default=0, help="identity split seed")
    args = ap.parse_args(argv)
    rows = measure(args.run, args.detector, args.epochs, seed=args.seed)
    print(f"| {args.detector} | AUC | 95 % CI |\n|---|---|---|")
    for name, (a, lo, hi) in rows.items():
        print(f"| {name} | {a:.3f} | {lo:.3f}–{hi:.3f} |")
    (a0, lo0, hi0), (a1, _, _) = rows["trained unmarked, test fakes unmarked"], rows["trained unmarked, test fakes marked"]
    print(f"difference with/without the mark: {abs(a1 - a0):.3f} (CI half-width {(hi0 - lo0) / 2:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
