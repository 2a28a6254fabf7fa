"""`talkbench detect`: train, evaluate and apply forgery detectors.

    talkbench detect list
    talkbench detect train --data RUN [--detector resnet10t_64] [--setting FT_T8] --out DIR [key=value ...]
    talkbench detect eval  --checkpoint DIR/detector.pt --data RUN --results RUN/results [--robustness]
    talkbench detect cross --data RUN --out DIR --results RUN/results [--detector spectral_logreg]
    talkbench detect predict FILE_OR_FOLDER... --checkpoint DIR/detector.pt --out DIR
    talkbench detect import FORMAT SRC OUT [--splits DIR] [--compression c23] [--methods A,B] [--frames 32]
    talkbench detect cross --datasets ffpp=OUT1 celebdf=OUT2 run=RUN/generated --detectors a,b --out DIR --results DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from talkbench.config import bounded, load_config, to_dict
from talkbench.errors import TalkbenchError

TABLE_FILE = "splits.csv"  # the labelled frame table with its identity split, kept with a detector


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="registered detectors", description="Registered detectors.")

    tr = sub.add_parser("train", help="train a detector on real vs fake face crops",
                        description="Train a detector (AdamW, cosine schedule, Wang et al. augmentation, early stopping "
                                    "on validation AUC; resumable). Config keys: "
                                    + ", ".join(to_dict(_train_cfg_cls()())) + ".")
    _data_args(tr)
    tr.add_argument("--detector", help="registry name (see `talkbench detect list`); default resnet10t_64")
    tr.add_argument("--setting", default="all", help="train on fakes of this setting only (default: all)")
    tr.add_argument("--pretrained", action="store_true", help="start from ImageNet weights when cached")
    tr.add_argument("--config", type=Path, help="YAML file with training config keys")
    tr.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    tr.add_argument("--out", type=Path, required=True, help="folder for the detector, logs and splits")
    tr.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. epochs=5 lr=3e-4")

    ev = sub.add_parser("eval", help="evaluate a trained detector: metrics, curves, robustness",
                        description="Frame- and video-level AUC/AP/EER/accuracy with bootstrap CIs, ROC/PR curves and "
                                    "(optionally) the robustness sweep, written as results CSVs and PNGs.")
    ev.add_argument("--checkpoint", type=Path, required=True, help="detector.pt or detector.safetensors")
    _data_args(ev, required=False)
    ev.add_argument("--results", type=Path, required=True, help="results folder (detection.csv, roc/, ...)")
    ev.add_argument("--split", default="test", choices=["test", "val", "train", "all"],
                    help="frames to score when the checkpoint's folder holds splits.csv (default test); "
                         "data given with --data/--real/--fake is scored whole")
    ev.add_argument("--train-setting", help="label for train_setting in the results (default: from the folder)")
    ev.add_argument("--robustness", action="store_true", help="also run the robustness sweep")
    ev.add_argument("--bootstrap", type=bounded(int, 0), default=1000, help="bootstrap resamples for AUC CIs (default 1000)")

    cr = sub.add_parser("cross", help="train per setting, test on every setting: AUC matrix + heatmaps",
                        description="Cross-setting evaluation: one detector per training setting, each tested on "
                                    "every setting; detection.csv, robustness and cross_setting/ heatmaps.")
    _data_args(cr)
    cr.add_argument("--detector", help="registry name; default resnet10t_64")
    cr.add_argument("--settings", help="comma-separated training settings (default: every setting)")
    cr.add_argument("--out", type=Path, required=True, help="folder for the trained detectors")
    cr.add_argument("--results", type=Path, required=True, help="results folder")
    cr.add_argument("--no-robustness", action="store_true", help="skip the robustness sweep")
    cr.add_argument("--bootstrap", type=bounded(int, 0), default=1000, help="bootstrap resamples for AUC CIs")
    cr.add_argument("--datasets", nargs="+", metavar="NAME=PATH",
                    help="cross-DATASET matrix instead: imported datasets (`detect import`) and/or RUN/generated; "
                         "train on each one's train split, test on every one's test split → cross_dataset.csv")
    cr.add_argument("--detectors", help="with --datasets: comma-separated registry names (default: --detector)")
    cr.add_argument("--train-datasets", help="with --datasets: train only on these (comma-separated names)")
    cr.add_argument("overrides", nargs="*", metavar="key=value", help="training config overrides")

    pr = sub.add_parser("predict", help="fake probability per image/video (and per video frame)",
                        description="Score images and videos: faces found with a face backend and cropped like the "
                                    "training data; writes predictions.csv, frames.csv and predictions.json.")
    pr.add_argument("inputs", nargs="+", type=Path, help="image/video files or folders")
    pr.add_argument("--checkpoint", type=Path, required=True, help="detector.pt or detector.safetensors")
    pr.add_argument("--out", type=Path, required=True, help="output folder")
    pr.add_argument("--face-backend", default="auto", help="face backend for detection, or 'none' when the "
                                                           "inputs are already face crops (default auto)")
    pr.add_argument("--detect-size", type=bounded(int, 32), default=320,
                    help="search for faces on frames shrunk to at most this many pixels (default 320)")
    pr.add_argument("--every", type=bounded(int, 1), default=1, help="videos: score every n-th frame")
    pr.add_argument("--max-frames", type=bounded(int, 1), default=300, help="videos: at most this many scored frames")
    pr.add_argument("--threshold", type=bounded(float, 0.0, 1.0), default=0.5,
                    help="verdict 'fake' when a file's mean P(fake) is at least this (default 0.5) → verdicts.csv")
    _import_parser(sub)


def _import_parser(sub) -> None:
    from talkbench.detector.importers import importer_doc, list_importers
    from talkbench.detector.importers.base import ImportConfig

    d = ImportConfig()
    im = sub.add_parser("import", help="a standard deepfake dataset on disk → labelled face crops for --data",
                        description="Turn a dataset as it ships into the labelled face-crop dataset that "
                                    "`detect train|eval|cross --data OUT` read: N evenly spaced frames per video, "
                                    "faces cropped like `talkbench prepare`, the dataset's own splits where it has "
                                    "them; resumable, parallel; unusable videos listed in OUT/skipped.csv. Formats: "
                                    + "; ".join(f"{n}: {importer_doc(n)}" for n in list_importers()))
    im.add_argument("format", choices=list_importers(), help="dataset layout")
    im.add_argument("src", type=Path, help="the dataset folder (deepfakebench: its JSON file)")
    im.add_argument("out", type=Path, help="output folder (crops/, crops.csv, meta.json, skipped.csv)")
    im.add_argument("--name", help="dataset name in the results (default: the format)")
    im.add_argument("--frames", type=bounded(int, 1), default=d.frames, help=f"frames per video, evenly spaced (default {d.frames})")
    im.add_argument("--size", type=bounded(int, 16, 4096), default=d.size, help=f"face-crop size in px (default {d.size})")
    im.add_argument("--face-backend", default=d.backend,
                    help="landmarks backend (auto|dlib|fan), or 'none' when the frames are already face crops")
    im.add_argument("--compression", default=d.compression, help="FF++/DeepfakeBench: raw, c23 or c40 (default c23)")
    im.add_argument("--methods", default="", help="FF++: comma-separated manipulation methods (default: all)")
    im.add_argument("--splits", type=Path, help="FF++: folder with the official train/val/test.json")
    im.add_argument("--root", type=Path, help="deepfakebench: folder the JSON's frame paths are relative to")
    im.add_argument("--seed", type=int, default=0, help="seed of the identity split of unsplit videos")
    im.add_argument("--workers", type=bounded(int, 1, 64), default=2, help="parallel processes (default 2)")


def _train_cfg_cls():
    from talkbench.detector.train import DetectorTrainConfig

    return DetectorTrainConfig


def _data_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--data", type=Path, help="a run folder, RUN/generated or a frames.csv, or a dataset made by "
                                             "`detect import` (docs/CONTRACTS.md)")
    p.add_argument("--real", type=Path, help="folder of real face images (with --fake)")
    p.add_argument("--fake", type=Path, help="folder of fake face images (with --real)")
    p.add_argument("--crop-size", type=bounded(int, 8, 2048), default=64, help="face crops are resized to this (default 64)")
    p.add_argument("--jpeg", type=bounded(int, 1, 100), help="re-encode both classes as JPEG of this quality")
    p.add_argument("--seed", type=int, default=0, help="seed of the identity split and class balancing")
    p.set_defaults(data_required=required)


def _frame_table(args: argparse.Namespace) -> pd.DataFrame | None:
    from talkbench.detector.data import from_data, from_folders

    if args.data is not None:
        return from_data(args.data)
    if args.real is not None and args.fake is not None:
        return from_folders(args.real, args.fake)
    if args.real is not None or args.fake is not None:
        raise TalkbenchError("give both --real and --fake")
    if args.data_required:
        raise TalkbenchError("give the data: --data RUN, or --real DIR --fake DIR")
    return None


def _load(table: pd.DataFrame, args: argparse.Namespace) -> np.ndarray:
    from talkbench.progress import progress_bar

    from talkbench.detector.data import load_crops

    paths = list(table.path)
    chunks = [load_crops(paths[i:i + 256], args.crop_size, args.jpeg)
              for i in progress_bar(range(0, len(paths), 256), desc="load crops", unit="×256")]
    return np.concatenate(chunks)


def _split_table(args: argparse.Namespace, out: Path) -> pd.DataFrame:
    from talkbench.detector.data import keep_or_split
    from talkbench.files import atomic_path

    table = keep_or_split(_frame_table(args), seed=args.seed).reset_index(drop=True)
    with atomic_path(out / TABLE_FILE) as tmp:
        table.to_csv(tmp, index=False)
    return table


def run(args: argparse.Namespace) -> int:
    return {"list": _list, "train": _train, "eval": _eval, "cross": _cross, "predict": _predict,
            "import": _import}[args.action](args)


def _list(args: argparse.Namespace) -> int:
    from talkbench.detector.registry import detector_doc, list_detectors

    for name in list_detectors():
        print(f"{name:18s} {detector_doc(name)}")
    return 0


def _train_config(args: argparse.Namespace):
    """The flags first, then the user's key=value overrides, so ``crop_size=128`` is not reset
    by the flag's default (the flags' values are defaults for the overrides)."""
    overrides = [f"crop_size={args.crop_size}", f"seed={args.seed}"]
    if args.detector:
        overrides.append(f"detector={args.detector}")
    if getattr(args, "pretrained", False):
        overrides.append("pretrained=true")
    cfg = load_config(_train_cfg_cls(), getattr(args, "config", None), overrides + list(args.overrides))
    args.crop_size, args.seed = cfg.crop_size, cfg.seed  # the crops are loaded at the size the config says
    return cfg


def _train(args: argparse.Namespace) -> int:
    from talkbench.detector.experiment import train_setting_detector
    from talkbench.runs import RunDir

    cfg = _train_config(args)
    run_dir = RunDir(args.out)
    run_dir.start(cfg, seed=cfg.seed, device=cfg.device)
    table = _split_table(args, args.out)
    det = train_setting_detector(_load(table, args), table, cfg, args.setting, args.out)
    run_dir.record_weights(det.weight_assets())
    run_dir.finish(detector=det.describe(), train_setting=args.setting)
    print(f"detector: {args.out}; {det.describe()}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from talkbench.detector.data import select
    from talkbench.detector.evaluate import evaluate_detector, robustness_sweep, write_robustness
    from talkbench.detector.registry import load_detector

    det = load_detector(args.checkpoint)
    table = _frame_table(args)
    split: str | None = None
    if table is None:
        saved = args.checkpoint.parent / TABLE_FILE
        if not saved.is_file():
            raise TalkbenchError(f"no data given and no {TABLE_FILE} beside {args.checkpoint}")
        table = pd.read_csv(saved, keep_default_na=False, dtype={"identity": str, "video": str})
        split = None if args.split == "all" else args.split
    else:
        table = table.reset_index(drop=True)
    train_setting = args.train_setting or _saved_setting(args.checkpoint)
    images = _load(table, args)
    rows = evaluate_detector(det, images, table, train_setting, args.results, split=split, n_boot=args.bootstrap,
                             seed=args.seed)
    if args.robustness:
        own = train_setting if train_setting in set(table.setting) else None  # else: every fake setting
        test = select(table, split, own, seed=args.seed)
        write_robustness(robustness_sweep(det, images, test, train_setting), args.results)
    print(rows.drop(columns=["pretrained"]).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"results: {args.results}")
    return 0


def _saved_setting(checkpoint: Path) -> str:
    """The train setting recorded by `detect train` in the checkpoint's run manifest."""
    from talkbench.files import read_json

    manifest = checkpoint.parent / "manifest.json"
    return str(read_json(manifest).get("train_setting", "unknown")) if manifest.is_file() else "unknown"


def _cross(args: argparse.Namespace) -> int:
    from talkbench.detector.evaluate import auc_matrix
    from talkbench.detector.experiment import cross_setting

    if args.datasets:
        return _cross_datasets(args)
    cfg = _train_config(args)
    table = _split_table(args, args.out)
    settings = args.settings.split(",") if args.settings else None
    detection = cross_setting(_load(table, args), table, cfg, args.out, args.results, settings,
                              robustness=not args.no_robustness, n_boot=args.bootstrap)
    print(auc_matrix(detection, cfg.detector).to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"results: {args.results}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from talkbench.detector.domain import describe, infer_domain, outside_domain
    from talkbench.detector.predict import PredictOptions, Predictor, verdicts
    from talkbench.detector.registry import load_detector
    from talkbench.files import atomic_path, write_json

    predictor = Predictor(load_detector(args.checkpoint),
                          PredictOptions(face_backend=args.face_backend, every=args.every, max_frames=args.max_frames,
                                         detect_size=args.detect_size))
    domain = predictor.detector.domain or infer_domain(args.checkpoint)
    print(describe(domain))
    files, frames = predictor.predict(args.inputs)
    outside = outside_domain(domain, [Path(f) for f in files.file])
    verdict = verdicts(files, args.threshold, outside)
    for df, name in ((files, "predictions.csv"), (frames, "frames.csv"), (verdict, "verdicts.csv")):
        with atomic_path(args.out / name) as tmp:
            df.to_csv(tmp, index=False)
    if domain is None:
        print("warning: this detector file does not record what it was trained on; its probabilities cannot be "
              "checked against its training data")
    for why in sorted(set(outside.values())):
        n = sum(v == why for v in outside.values())
        print(f"warning: {n} of {len(files)} input(s) are outside the training domain: {why}")
    write_json(args.out / "predictions.json", {
        "detector": predictor.detector.describe(), "training_domain": domain, "outside_domain": outside,
        "face_backend": predictor.backend.name if predictor.backend else "none",
        "files": files.replace({np.nan: None}).to_dict("records"),
        "frames": frames.replace({np.nan: None}).to_dict("records")})
    print(files.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _import(args: argparse.Namespace) -> int:
    from talkbench.detector.importers.base import ImportConfig
    from talkbench.detector.importers.build import import_dataset

    cfg = ImportConfig(frames=args.frames, size=args.size, backend=args.face_backend, compression=args.compression,
                       methods=args.methods, splits=str(args.splits or ""), root=str(args.root or ""), seed=args.seed)
    summary = import_dataset(args.format, args.src, args.out, cfg, name=args.name, workers=args.workers)
    print(f"imported {summary['imported']} of {summary['videos']} videos ({summary['frames']} face crops; "
          f"{summary['skipped']} skipped, reasons in {args.out / 'skipped.csv'}); by split: {summary['by_split']}")
    print(f"dataset: {args.out}  (use: talkbench detect train --data {args.out} ...)")
    return 0


def _cross_datasets(args: argparse.Namespace) -> int:
    from talkbench.detector.cross_dataset import cross_dataset, dataset_matrix, load_datasets, parse_datasets
    from talkbench.files import atomic_path

    cfg = _train_config(args)
    detectors = args.detectors.split(",") if args.detectors else [cfg.detector]
    images, table = load_datasets(parse_datasets(args.datasets), args.crop_size, args.jpeg, args.seed)
    with atomic_path(args.out / TABLE_FILE) as tmp:
        table.to_csv(tmp, index=False)
    train = args.train_datasets.split(",") if args.train_datasets else None
    rows = cross_dataset(images, table, cfg, detectors, args.out, args.results, train, n_boot=args.bootstrap)
    for det in detectors:
        print(f"{det}: video-level AUC, train (rows) × test (columns) dataset")
        print(dataset_matrix(rows, det).to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"results: {args.results / 'cross_dataset.csv'}")
    return 0
