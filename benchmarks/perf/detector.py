"""Detector hot paths, each beside its anchor, measured interleaved (the CPU is shared):

1. inference: crops → fake probabilities through the predict pipeline
   (``Detector.predict_proba``: uint8 → resize/normalise → forward → sigmoid → numpy) vs a
   bare timm forward on the same batches already as normalised tensors (goal ≥ 85 %);
   plus, with ``--video``, the whole path from video frames with dlib face detection, for scale;
2. training: images/s of the training step with and without the Wang augmentation vs a
   bare forward/backward/AdamW step on the same tensors;
3. spectral baseline: features/s vs the raw batched numpy FFT of the same images.

    python -m talkbench.benchmarks.perf.detector [--detector resnet10t_64] [--threads 1] [--video clip.mp4]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import TYPE_CHECKING, Callable

import numpy as np
import torch

from talkbench.config import bounded

if TYPE_CHECKING:
    from talkbench.detector.timm_models import TimmDetector


def _rate(fn: Callable[[], int], repeats: int) -> float:
    """Median items/s over ``repeats`` calls of ``fn`` (which returns the items it did)."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = fn()
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def _interleaved(a: Callable[[], int], b: Callable[[], int], repeats: int) -> tuple[float, float]:
    """Rates of a and b measured alternately, so load changes hit both alike."""
    ra, rb = [], []
    for _ in range(repeats):
        ra.append(_rate(a, 1))
        rb.append(_rate(b, 1))
    return statistics.median(ra), statistics.median(rb)


def _line(what: str, ours: float, anchor_name: str, anchor: float, unit: str = "images/s") -> None:
    print(f"{what:44s} {ours:9.1f} {unit}   {anchor_name:34s} {anchor:9.1f} {unit}   ratio {ours / anchor:5.2f}")


def _timm_detector(name: str) -> TimmDetector:
    """The registered detector ``name``, which these benchmarks need to be a timm network."""
    from talkbench.detector.registry import create_detector
    from talkbench.detector.timm_models import TimmDetector

    det = create_detector(name)
    if not isinstance(det, TimmDetector):
        raise SystemExit(f"detector '{name}' is a {det.kind} detector; this benchmark times timm networks")
    return det


def bench_inference(name: str, n: int, batch: int, repeats: int) -> None:
    det = _timm_detector(name)
    det.model.eval()
    crops = np.random.default_rng(0).integers(0, 255, (n, 64, 64, 3), np.uint8)
    tensors = [det.preprocess(crops[i:i + batch]) for i in range(0, n, batch)]

    def pipeline() -> int:
        det.predict_proba(crops, batch)
        return n

    @torch.inference_mode()
    def bare() -> int:
        for x in tensors:
            det.model(x)
        return n

    pipeline(), bare()  # warm-up
    ours, anchor = _interleaved(pipeline, bare, repeats)
    _line(f"inference {name} ({det.input_size} px, batch {batch})", ours, "bare timm forward", anchor)


def bench_face_front_end(name: str, video: str | None, frames: int = 16) -> None:
    """Whole predict path on real video frames (decode excluded): dlib face detection + crop +
    scoring, beside scoring the same faces as ready crops."""
    if video is None:
        print("predict with face detection: skipped (give --video FILE with a face in it)")
        return
    from talkbench.detector.predict import PredictOptions, Predictor
    from talkbench.detector.registry import create_detector
    from talkbench.media import read_video

    predictor = Predictor(create_detector(name), PredictOptions(face_backend="dlib"))
    clip, _ = read_video(video, max_frames=frames)
    crops, found = predictor.crops(list(clip))
    print(f"(faces found in {int(found.sum())}/{len(clip)} frames of {video}, {clip.shape[2]}×{clip.shape[1]})")

    def with_faces() -> int:
        predictor.score(*predictor.crops(list(clip)))
        return len(clip)

    def crops_only() -> int:
        predictor.detector.predict_proba(crops, 64)
        return len(clip)

    ours, anchor = _interleaved(with_faces, crops_only, 2)
    _line("predict incl. dlib face detection + crop", ours, "same faces as ready crops", anchor)


def bench_training(name: str, n: int, batch: int, repeats: int) -> None:
    from talkbench.detector.augment import WangAugment

    det = _timm_detector(name)
    det.model.train()
    opt = torch.optim.AdamW(det.model.parameters(), lr=1e-4)
    crops = np.random.default_rng(0).integers(0, 255, (n, 64, 64, 3), np.uint8)
    labels = torch.from_numpy(np.arange(n) % 2).float()
    tensors = [det.preprocess(crops[i:i + batch]) for i in range(0, n, batch)]
    aug, rng = WangAugment(), np.random.default_rng(0)

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(det.logits(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def ours(augment: bool) -> Callable[[], int]:
        def run() -> int:
            for i in range(0, n, batch):
                b = aug(crops[i:i + batch], rng) if augment else crops[i:i + batch]
                step(det.preprocess(b), labels[i:i + batch])
            return n
        return run

    def bare() -> int:
        for k, x in enumerate(tensors):
            step(x, labels[k * batch:(k + 1) * batch])
        return n

    bare()
    plain, anchor = _interleaved(ours(False), bare, repeats)
    _line(f"training step {name} (batch {batch})", plain, "bare fwd/bwd/AdamW on tensors", anchor)
    augmented, anchor = _interleaved(ours(True), bare, repeats)
    _line("training step + Wang augmentation", augmented, "bare fwd/bwd/AdamW on tensors", anchor)


def bench_spectral(n: int, repeats: int) -> None:
    from talkbench.detector.spectral import spectrum_features

    crops = np.random.default_rng(0).integers(0, 255, (n, 64, 64, 3), np.uint8)
    grey = crops.astype(np.float32).mean(-1)

    def ours() -> int:
        spectrum_features(crops)
        return n

    def fft() -> int:
        np.fft.fft2(grey)
        return n

    ours(), fft()
    f, anchor = _interleaved(ours, fft, repeats)
    _line("spectral features (64 px)", f, "raw numpy fft2 of the same images", anchor, "feats/s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--detector", default="resnet10t_64", help="timm detector from the registry")
    p.add_argument("--threads", type=bounded(int, 1), default=1, help="torch threads (default 1: the CPU is shared)")
    p.add_argument("--images", type=bounded(int, 1), default=256, help="images per measurement")
    p.add_argument("--batch", type=bounded(int, 1), default=64)
    p.add_argument("--repeats", type=bounded(int, 1), default=5)
    p.add_argument("--video", help="a video with a face, for the face-detection front end (optional)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s); medians of {args.repeats} interleaved runs")
    bench_inference(args.detector, args.images, args.batch, args.repeats)
    bench_training(args.detector, args.images // 2, 32, max(2, args.repeats // 2))
    bench_spectral(args.images * 4, args.repeats)
    bench_face_front_end(args.detector, args.video)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
