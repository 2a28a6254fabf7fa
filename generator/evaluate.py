"""Does the generator learn? Self-reenactment of held-out identities against baselines.

For each test video and T: build the FF / FT model from T shots, generate the held-out
frames from their landmarks, and score SSIM (skimage, Gaussian σ = 1.5, data range 255)
and L1 (mean absolute error on the [0, 1] scale) against the real frames. Baselines:
``identity`` returns the first shot frame unchanged for every held-out frame; ``untrained``
is FF with a freshly initialised model of the same configuration.

    python -m talkbench.generator.evaluate RUN/checkpoint.pt DATASET --max-videos 8 --out scores.csv
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from skimage.metrics import structural_similarity

from talkbench.config import bounded, from_dict, int_list
from talkbench.data.dataset import FaceDataset
from talkbench.generator.checkpoint import load_checkpoint, save_checkpoint
from talkbench.generator.episodes import FewShotCase, few_shot_cases
from talkbench.generator.ft_config import FineTuneConfig
from talkbench.generator.fewshot import build_fewshot
from talkbench.generator.landmark_image import draw_landmarks
from talkbench.generator.model import ModelConfig, build_model
from talkbench.generator.train_config import TrainConfig


def scores(fake: np.ndarray, real: np.ndarray) -> tuple[float, float]:
    """Mean SSIM and L1 over pairs of uint8 (N, S, S, 3) images."""
    ssim = np.mean([structural_similarity(f, r, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                          use_sample_covariance=False, data_range=255) for f, r in zip(fake, real)])
    l1 = np.abs(fake.astype(np.float64) - real.astype(np.float64)).mean() / 255
    return float(ssim), float(l1)


def untrained_checkpoint(checkpoint: Path, out: Path, seed: int = 0) -> Path:
    """A step-0 checkpoint with the same model configuration as ``checkpoint``."""
    state = load_checkpoint(checkpoint)
    torch.manual_seed(seed)
    model = build_model(from_dict(ModelConfig, state["model_config"]), state["n_videos"])
    cfg = from_dict(TrainConfig, state["train_config"]) if state.get("train_config") else None
    save_checkpoint(out, model, None, None, 0, cfg, state["videos"])
    return out


def evaluate(checkpoint: Path, dataset: Path, shots: tuple[int, ...] = (1, 8, 32), ft_shots: tuple[int, ...] = (8,),
             max_videos: int | None = 8, ft: FineTuneConfig | None = None, device: str = "cpu",
             grid: Path | None = None) -> pd.DataFrame:
    """One row per (method, T): SSIM and L1 means over the held-out frames of every case,
    one video per test identity (the first ``max_videos`` identities)."""
    cases = few_shot_cases(FaceDataset(dataset), "test", shots=shots)
    first: dict[str, str] = {}
    for c in cases:
        first.setdefault(c.identity, c.video)
    keep = set(list(first.values())[:max_videos])
    cases = [c for c in cases if c.video in keep]
    rows: list[dict] = []
    per_case: dict[tuple[str, int], list[tuple[np.ndarray, np.ndarray]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        untrained = untrained_checkpoint(checkpoint, Path(tmp) / "untrained.pt")
        for case in cases:
            def add(method: str, fake: np.ndarray) -> None:
                per_case.setdefault((method, case.T), []).append((fake, case.heldout_frames))
            add("identity", np.repeat(case.shot_frames[:1], len(case.heldout_frames), axis=0))
            add("untrained FF", build_fewshot(untrained, case.shot_frames, case.shot_landmarks, "FF",
                                              device=device).generate(case.heldout_landmarks))
            add("FF", build_fewshot(checkpoint, case.shot_frames, case.shot_landmarks, "FF",
                                    device=device).generate(case.heldout_landmarks))
            if case.T in ft_shots:
                add("FT", build_fewshot(checkpoint, case.shot_frames, case.shot_landmarks, "FT", device=device,
                                        ft=ft).generate(case.heldout_landmarks))
    for (method, t), pairs in per_case.items():
        fake = np.concatenate([f for f, _ in pairs])
        real = np.concatenate([r for _, r in pairs])
        ssim, l1 = scores(fake, real)
        rows.append({"method": method, "T": t, "ssim": ssim, "l1": l1, "frames": len(fake)})
    if grid is not None:
        _grid(grid, cases, per_case)
    return pd.DataFrame(rows).sort_values(["method", "T"]).reset_index(drop=True)


def _grid(path: Path, cases: list[FewShotCase], per_case: dict) -> None:
    """Rows per test video at the largest FT T: shot | driver landmarks | FF | FT | ground truth."""
    from talkbench.media import image_grid, write_png
    from talkbench.provenance import provenance

    t = max(k[1] for k in per_case if k[0] == "FT")
    videos = [c for c in cases if c.T == t]
    rows = []
    for i, case in enumerate(videos[:6]):
        j = 0
        lm = draw_landmarks(case.heldout_landmarks[j], case.shot_frames.shape[1])
        ff = per_case[("FF", t)][i][0][j]
        ftf = per_case[("FT", t)][i][0][j]
        rows.append([case.shot_frames[0], lm, ff, ftf, case.heldout_frames[j]])
    write_png(path, image_grid(rows), provenance("talkbench generator evaluation", "", layout="shot|landmarks|FF|FT|real", T=t))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", type=Path)
    p.add_argument("dataset", type=Path)
    p.add_argument("--max-videos", type=bounded(int, 1), default=8, help="test identities (one video each)")
    p.add_argument("--shots", type=int_list(1), default="1,8,32", help="T for FF (default %(default)s)")
    p.add_argument("--ft-shots", type=int_list(1), default="8", help="T for FT (default %(default)s)")
    p.add_argument("--ft-steps", type=bounded(int, 1), help="FT steps (default: 40 epochs over the T frames)")
    p.add_argument("--out", type=Path, help="CSV of the scores")
    p.add_argument("--grid", type=Path, help="PNG sample grid")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    table = evaluate(args.checkpoint, args.dataset, tuple(args.shots), tuple(args.ft_shots), args.max_videos,
                     FineTuneConfig(steps=args.ft_steps), grid=args.grid)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
