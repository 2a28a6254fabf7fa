"""Generator hot paths beside the machine's measured limit:

- meta-learning step (E on B·K shots, G, D, losses, both Adam updates) at 64 and 128 px:
  images/s (targets per second), the step's FLOPs (torch.utils.flop_counter) and the
  achieved fraction of this machine's measured limit, timed in the same run, interleaved
  with the steps (the CPU may be shared): on the CPU a dense 3×3 conv (fp32, channels_last),
  on CUDA (``--device cuda``, bf16 autocast as training runs there) a dense bf16 matmul;
- few-shot FT time for T = 1, 8, 32 (per step, no content network, in the default suite's FT batches,
  and for the default suite's FT schedule);
- generation frames/s of a few-shot model.

    python -m talkbench.benchmarks.perf.generator [--sizes 64,128] [--batch 4] [--threads N] [--compile]
    python -m talkbench.benchmarks.perf.generator --device cuda --sizes 256 --batch 8 --k 8 --steps 10
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from talkbench.config import bounded, int_list
from talkbench.device import configure_threads, select_device
from talkbench.generator.checkpoint import save_checkpoint
from talkbench.generator.fewshot import build_fewshot
from talkbench.generator.losses import LossConfig
from talkbench.generator.model import ModelConfig, Preset, build_model
from talkbench.generator.train import Process, Trainer, make_optimizers
from talkbench.generator.train_config import TrainConfig

PRESET: dict[int, Preset] = {64: "cpu64", 128: "cpu128", 256: "paper"}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], object], device: torch.device) -> float:
    _sync(device)
    t = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - t


def conv_anchor(repeats: int = 3, device: torch.device = torch.device("cpu")) -> float:
    """The device's measured limit in FLOP/s (best of ``repeats``): on the CPU a dense 3×3 conv,
    128 → 128 channels, 8×64×64, fp32 channels_last; on CUDA an 8192³ bf16 matmul."""
    with torch.no_grad():
        if device.type == "cuda":
            a = torch.randn(8192, 8192, device=device, dtype=torch.bfloat16)
            op: Callable[[], object] = lambda: a @ a  # noqa: E731
            flops = 2 * 8192**3
        else:
            conv = torch.nn.Conv2d(128, 128, 3, padding=1).to(memory_format=torch.channels_last)
            x = torch.randn(8, 128, 64, 64).to(memory_format=torch.channels_last)
            op = lambda: conv(x)  # noqa: E731
            flops = 2 * 8 * 64 * 64 * 128 * 128 * 9
        op()
        return flops / min(_timed(op, device) for _ in range(repeats))


def _batch(size: int, b: int, k: int) -> dict[str, torch.Tensor]:
    r = lambda *s: torch.rand(*s) * 2 - 1  # noqa: E731
    return {"shots": r(b, k, 3, size, size), "shot_landmarks": r(b, k, 3, size, size), "target": r(b, 3, size, size),
            "target_landmarks": r(b, 3, size, size), "video_index": torch.arange(b)}


def _trainer(size: int, batch: int, k: int, device: torch.device, compiled: bool) -> Trainer:
    """The training step exactly as `talkbench train` places it (one process), same seed."""
    cfg = TrainConfig(model=ModelConfig(preset=PRESET[size]), batch_size=batch, k=k, compile=compiled,
                      loss=LossConfig(vgg19="off", vggface="off"))
    torch.manual_seed(0)
    model = build_model(cfg.model, batch)
    opt_g, opt_d = make_optimizers(model, cfg)
    return Trainer.place(cfg, model, opt_g, opt_d, Process(0, 1, device), [str(i) for i in range(batch)],
                         Path(tempfile.gettempdir()) / "unused.pt")


def bench_train(size: int, batch: int, k: int, steps: int, device: torch.device = torch.device("cpu"),
                compiled: bool = False) -> None:
    """Eager step (and, with ``compiled``, the torch.compile step beside it), interleaved with
    the anchor so all see the same machine load."""
    data = _batch(size, batch, k)
    variants = {"eager": _trainer(size, batch, k, device, False)}
    if compiled:
        variants["compiled"] = _trainer(size, batch, k, device, True)
    with FlopCounterMode(display=False) as counter:
        variants["eager"].step(data)
    flops = counter.get_total_flops()
    if compiled:
        print(f"torch.compile: first step (compiling) {_timed(lambda: variants['compiled'].step(data), device):6.1f} s")
    times: dict[str, list[float]] = {name: [] for name in variants}
    anchors = []
    for _ in range(steps):
        for name, trainer in variants.items():
            times[name].append(_timed(lambda: trainer.step(data), device))
        anchors.append(conv_anchor(1, device))
    anchor = float(np.median(anchors))
    where = torch.cuda.get_device_name(device) + ", bf16 autocast" if device.type == "cuda" else \
        f"{torch.get_num_threads()} threads"
    anchor_name = "bf16 matmul anchor" if device.type == "cuda" else "dense conv anchor"
    preset = variants["eager"].cfg.model.preset
    for name, ts in times.items():
        dt = float(np.median(ts))
        achieved = flops / dt
        print(f"train step {size:3d} px ({preset}, batch {batch}, K={k}, {where}, {name}): "
              f"{batch / dt:7.2f} images/s  {dt:6.3f} s/step  {flops / 1e9:7.1f} GFLOP/step  "
              f"{achieved / 1e9:8.1f} GFLOP/s   {anchor_name} {anchor / 1e9:8.1f} GFLOP/s   "
              f"ratio {achieved / anchor:5.2f}")


def bench_fewshot(size: int, shots: tuple[int, ...], ft_steps: int, frames: int,
                  device: torch.device = torch.device("cpu")) -> None:
    from talkbench.benchmarks.suite import fine_tune_config, load_suite

    suite_ft = fine_tune_config(load_suite("default"))
    model = build_model(ModelConfig(preset=PRESET[size]), 4)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "ckpt.pt"
        save_checkpoint(ckpt, model, None, None, 0, TrainConfig(model=model.cfg), ["a", "b", "c", "d"])
        base = rng.uniform(0.3 * size, 0.7 * size, (68, 2)).astype(np.float32)
        for t in shots:
            imgs = rng.integers(0, 256, (t, size, size, 3), dtype=np.uint8)
            marks = base + rng.normal(0, 1, (t, 68, 2)).astype(np.float32)
            ft = dataclasses.replace(suite_ft, steps=ft_steps)
            t0 = time.perf_counter()
            fs = build_fewshot(ckpt, imgs, marks, "FT", device=device, ft=ft, loss=LossConfig(vgg19="off", vggface="off"))
            dt = time.perf_counter() - t0
            default_steps = suite_ft.steps_for(t)
            print(f"few-shot FT {size} px T={t:2d}: {dt:6.2f} s for {ft_steps} steps of {min(ft.batch_size, t)} "
                  f"({dt / ft_steps:5.2f} s/step); the default suite's {default_steps} steps ≈ "
                  f"{dt / ft_steps * default_steps:7.1f} s")
        drive = base + rng.normal(0, 1, (frames, 68, 2)).astype(np.float32)
        fs.generate(drive[:4])
        t0 = time.perf_counter()
        fs.generate(drive)
        dt = time.perf_counter() - t0
        print(f"generation {size} px: {frames / dt:7.1f} frames/s (landmark rasterising + G, batch 32)")


def _device(text: str) -> torch.device:
    try:
        return select_device(text)
    except RuntimeError as exc:  # torch's own message lists the device types it knows
        raise argparse.ArgumentTypeError(str(exc).splitlines()[0]) from None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int_list(1), default="64,128",
                   help=f"comma-separated image sizes, of {', '.join(map(str, PRESET))} (default %(default)s)")
    p.add_argument("--batch", type=bounded(int, 1), default=4, help="videos per training step (default %(default)s)")
    p.add_argument("--k", type=bounded(int, 1), default=8, help="shot frames per video for E (default %(default)s)")
    p.add_argument("--steps", type=bounded(int, 1), default=3, help="timed training steps per size")
    p.add_argument("--ft-steps", type=bounded(int, 0), default=3, help="timed FT steps per T (0: skip FT and generation)")
    p.add_argument("--frames", type=bounded(int, 1), default=64, help="frames generated for the frames/s figure")
    p.add_argument("--threads", type=bounded(int, 1), help="intra-op threads (default: all cores or $TALKBENCH_THREADS)")
    p.add_argument("--compile", action="store_true",
                   help="also time the torch.compile training step (train compile=true) beside the eager one")
    p.add_argument("--device", default="cpu", type=_device, help="cpu (default), cuda, cuda:N or auto: where everything is timed")
    args = p.parse_args(argv)
    if any(s not in PRESET for s in args.sizes):
        p.error(f"--sizes: give sizes among {', '.join(map(str, PRESET))}, e.g. 64,128")
    configure_threads(args.threads)
    device = args.device
    for size in args.sizes:
        bench_train(size, args.batch, args.k, args.steps, device, args.compile)
    if args.ft_steps:
        bench_fewshot(args.sizes[0], (1, 8, 32), args.ft_steps, args.frames, device)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
