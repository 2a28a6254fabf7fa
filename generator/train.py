"""Meta-learning of E, G, D on episodes of a prepared face dataset (`talkbench train`).

Run layout (``OUT/``): ``config.yaml``, ``manifest.json`` (versions, device, seeds, weights
and loss parts used), ``checkpoint.pt`` (written atomically every ``checkpoint_every``
steps and at the end), ``log.csv`` and ``tb/`` (every loss, every ``log_every`` steps),
``samples/step_XXXXXXX.png`` (rows: K shots | target landmarks | generated | target).

Batches are a pure function of (seed, step): item j of step s is episode
``perm_epoch[(s·B + j) mod N]``. So ``--resume`` replays exactly the batches the
uninterrupted run would have seen and, on CPU, continues bit for bit.

Multi-GPU / multi-node: launch with ``torchrun --nproc-per-node N -m talkbench.cli train …``.
Each rank takes its slice of the global batch; E, G and D are wrapped in
DistributedDataParallel (NCCL on CUDA, gloo on CPU). D's per-video matrix W is *replicated*:
it is a plain parameter of D, so DDP all-reduces its gradient with the rest. At VoxCeleb2
scale (≈140k videos × 512 floats = 287 MB) that is one extra all-reduce of that size per
step, affordable on NVLink; sharding W by rows would save it but would need a custom
gather of the rows each rank uses and breaks the "same as one process" equivalence that
the tests check, so it is left out.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import os
import random
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from talkbench.checksum import load_tagged, stamp_weights
from talkbench.config import from_dict, to_dict
from talkbench.device import configure_threads, select_device
from talkbench.errors import TalkbenchError
from talkbench.data.dataset import FaceDataset
from talkbench.files import atomic_path, save_torch_file
from talkbench.generator.episodes import MetaEpisodes
from talkbench.generator.losses import ContentLoss, LossConfig
from talkbench.generator.model import ModelConfig, TalkingHead, build_model
from talkbench.generator.steps import CollapseGuard, autocast, gan_step
from talkbench.runs import RunDir

CHECKPOINT = "checkpoint.pt"
FORMAT = "talkbench-talkinghead"
GENERATOR_NAME = "talkbench-fewshot-talking-head (Zakharov et al. 2019)"


@dataclasses.dataclass
class TrainConfig:
    """Meta-learning settings; paper defaults where the paper gives one."""

    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    steps: int = 2000
    batch_size: int = 8  # global (split over DDP ranks)
    k: int = 8
    lr_g: float = 5e-5  # E and G (and P)
    lr_d: float = 2e-4
    beta1: float = 0.0
    beta2: float = 0.999
    d_steps: int = 1
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # CPU intra-op threads (0: all cores or $TALKBENCH_THREADS)
    num_workers: int = 0
    amp: bool = True  # bf16 autocast + channels_last on CUDA
    checkpoint_every: int = 200
    log_every: int = 10
    sample_every: int = 200
    guard_min_std: float = 0.02
    guard_patience: int = 5
    guard_after: int = 0
    time_limit_min: float = 0.0  # stop (with a checkpoint) after this many minutes; 0: no limit


class StepBatches(torch.utils.data.IterableDataset):
    """Batches for steps ``start .. stop-1``, each a pure function of (seed, step); with
    several DataLoader workers, worker w builds the steps ≡ w (mod workers), which the
    DataLoader's round-robin returns in order. ``rank``/``world`` select this rank's slice."""

    def __init__(self, episodes: MetaEpisodes, batch_size: int, start: int, stop: int,
                 rank: int = 0, world: int = 1) -> None:
        if batch_size % world:
            raise TalkbenchError(f"batch_size {batch_size} must be divisible by the {world} processes")
        self.episodes = episodes
        self.batch_size = batch_size
        self.start, self.stop = start, stop
        self.rank, self.world = rank, world

    def items(self, step: int) -> list[tuple[int, int]]:
        """(epoch, episode index) of this rank's items of ``step``."""
        n, per = len(self.episodes), self.batch_size // self.world
        out = []
        for j in range(self.rank * per, (self.rank + 1) * per):
            p = step * self.batch_size + j
            epoch = p // n
            perm = np.random.default_rng([self.episodes.seed, epoch]).permutation(n)
            out.append((epoch, int(perm[p % n])))
        return out

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        samples = []
        for epoch, index in self.items(step):
            self.episodes.set_epoch(epoch)
            samples.append(self.episodes[index])
        return {k: torch.stack([s[k] for s in samples]) for k in samples[0]}

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        for step in range(self.start + wid, self.stop, nw):
            yield self.batch(step)


def _rng_state() -> dict[str, Any]:
    np_state = np.random.get_state(legacy=True)
    if not isinstance(np_state, tuple):
        raise RuntimeError("numpy's legacy RNG state should be a tuple")
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
             "python_pos": random.getstate()[2] if random.getstate()[2] is not None else -1,
             "numpy": torch.from_numpy(np_state[1].astype(np.int64)), "numpy_pos": int(np_state[2])}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    pos = state["python_pos"]
    random.setstate((3, tuple(state["python"]), None if pos == -1 else pos))
    # has_gauss = 0, cached_gaussian = 0.0: what numpy fills in for a 3-tuple state
    np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), int(state["numpy_pos"]), 0, 0.0))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, model: TalkingHead, opt_g: torch.optim.Optimizer | None,
                    opt_d: torch.optim.Optimizer | None, step: int, cfg: TrainConfig | None,
                    videos: list[str], extra: dict[str, Any] | None = None) -> None:
    """Everything needed to resume or to build few-shot models, written atomically."""
    state = {
        "format": FORMAT, "version": 1, "step": step,
        "model_config": to_dict(model.cfg), "n_videos": model.n_videos, "videos": list(videos),
        "train_config": to_dict(cfg) if cfg is not None else None,
        "fingerprint": model.fingerprint,
        "E": model.E.state_dict(), "G": model.G.state_dict(), "D": model.D.state_dict(),
        "opt_g": opt_g.state_dict() if opt_g is not None else None,
        "opt_d": opt_d.state_dict() if opt_d is not None else None,
        "rng": _rng_state(), **(extra or {}),
    }
    stamp_weights(state, ("E", "G", "D"))
    save_torch_file(state, path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only=True``) and check its format."""
    return load_tagged(path, "checkpoint", ("E", "G", "D"), lambda s: s.get("format") == FORMAT,
                       f"{path} is not a talkbench talking-head checkpoint")


def model_from_checkpoint(state: dict[str, Any], device: torch.device | str = "cpu") -> TalkingHead:
    model = build_model(from_dict(ModelConfig, state["model_config"]), state["n_videos"])
    for name in ("E", "G", "D"):
        getattr(model, name).load_state_dict(state[name])
    return model.to(device)


def make_optimizers(model: TalkingHead, cfg: TrainConfig) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Two-timescale Adam: E+G(+P) at lr_g, D (incl. W, w0, b) at lr_d."""
    betas = (cfg.beta1, cfg.beta2)
    opt_g = torch.optim.Adam(list(model.E.parameters()) + list(model.G.parameters()), lr=cfg.lr_g, betas=betas)
    opt_d = torch.optim.Adam(model.D.parameters(), lr=cfg.lr_d, betas=betas)
    return opt_g, opt_d


def meta_step(E: nn.Module, G: nn.Module, D: nn.Module, batch: dict[str, torch.Tensor], content: ContentLoss,
              cfg: TrainConfig, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
              device: torch.device) -> tuple[dict[str, float], torch.Tensor]:
    """One meta-learning step on a batch of episodes (E, G, D may be DDP-wrapped)."""
    fmt = torch.channels_last if (device.type == "cuda" and cfg.amp) else torch.contiguous_format
    batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
    shots, shot_lm = batch["shots"], batch["shot_landmarks"]
    b, k = shots.shape[:2]
    target = batch["target"].contiguous(memory_format=fmt)
    target_lm = batch["target_landmarks"].contiguous(memory_format=fmt)
    video = batch["video_index"]

    def generate() -> tuple[torch.Tensor, torch.Tensor]:
        e = E(shots.flatten(0, 1).contiguous(memory_format=fmt),
              shot_lm.flatten(0, 1).contiguous(memory_format=fmt)).view(b, k, -1).mean(dim=1)
        return G(target_lm, e), e

    def discriminate(x: torch.Tensor, y: torch.Tensor):
        return D(x, y, torch.cat([video, video]))

    return gan_step(generate, discriminate, target, target_lm, content, cfg.loss, opt_g, opt_d,
                    cfg.d_steps, autocast(device, cfg.amp))


def sample_grid(batch: dict[str, torch.Tensor], fake: torch.Tensor, max_rows: int = 4, max_shots: int = 4) -> np.ndarray:
    """uint8 grid, one row per episode: shots | target landmarks | generated | target."""
    from talkbench.media import image_grid

    def img(t: torch.Tensor) -> np.ndarray:
        return ((t.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    rows = []
    for i in range(min(max_rows, fake.shape[0])):
        tiles = [img(s) for s in batch["shots"][i, :max_shots]]
        tiles += [img(batch["target_landmarks"][i]), img(fake[i]), img(batch["target"][i])]
        rows.append(tiles)
    return image_grid(rows)


class _Logs:
    """CSV + TensorBoard logs of every loss (rank 0 only); on resume, rows past the
    checkpoint's step are dropped so the CSV reads as one continuous run."""

    def __init__(self, out: Path, resume_step: int) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.path = out / "log.csv"
        self.keys: list[str] | None = None
        if self.path.exists():
            with open(self.path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
            self.keys = [k for k in rows[0] if k not in ("step", "wall_s")] if rows else None
            with atomic_path(self.path) as tmp, open(tmp, "w", newline="") as f:
                if rows:
                    w = csv.DictWriter(f, fieldnames=list(rows[0]))
                    w.writeheader()
                    w.writerows(rows)
        self.tb = SummaryWriter(str(out / "tb"), purge_step=resume_step + 1)

    def write(self, step: int, losses: dict[str, float], wall_s: float) -> None:
        if self.keys is None:
            self.keys = sorted(losses)
            with open(self.path, "w", newline="") as f:
                csv.writer(f).writerow(["step", "wall_s", *self.keys])
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow([step, f"{wall_s:.2f}", *(f"{losses.get(k, float('nan')):.6g}" for k in self.keys)])
        for k, v in losses.items():
            self.tb.add_scalar(f"loss/{k}", v, step)

    def close(self) -> None:
        self.tb.close()


def _distributed() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


def train(cfg: TrainConfig, dataset_root: str | Path, out_dir: str | Path, resume: bool = False,
          progress: bool = True) -> Path:
    """Meta-learn E, G, D on ``dataset_root``'s training videos; returns the checkpoint path."""
    from talkbench.progress import progress_bar

    from talkbench.media import write_png
    from talkbench.provenance import provenance

    out = Path(out_dir)
    ckpt_path = out / CHECKPOINT
    rank, world, local_rank = _distributed()
    device = select_device(cfg.device)
    if world > 1:
        if device.type == "cuda":
            device = torch.device("cuda", local_rank)
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cpu":
        configure_threads(cfg.threads or None)
    dataset = FaceDataset(dataset_root)
    model_cfg = cfg.model.resolved()
    if dataset.size != model_cfg.image_size:
        raise TalkbenchError(f"dataset images are {dataset.size} px but model.image_size is "
                             f"{model_cfg.image_size}; pick the matching preset (cpu64 / cpu128 / paper)")
    videos = dataset.videos("train")
    episodes = MetaEpisodes(dataset, "train", k=cfg.k, seed=cfg.seed)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, len(videos))
    opt_g, opt_d = make_optimizers(model, cfg)
    start = 0
    if resume and ckpt_path.exists():
        state = load_checkpoint(ckpt_path)
        if state["fingerprint"] != model.fingerprint or state["videos"] != videos:
            raise TalkbenchError(f"{ckpt_path} was trained with another model config or dataset; "
                                 "use a new OUT folder or the same settings")
        for name in ("E", "G", "D"):
            getattr(model, name).load_state_dict(state[name])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        _set_rng_state(state["rng"])
        start = int(state["step"])
    elif ckpt_path.exists():
        raise TalkbenchError(f"{out} already holds a checkpoint; pass --resume to continue it or choose a new OUT")
    if start >= cfg.steps:
        return ckpt_path
    model.to(device)
    if device.type == "cuda" and cfg.amp:
        model.to(memory_format=torch.channels_last)
    _move_optimizer_state(opt_g, device)
    _move_optimizer_state(opt_d, device)
    content = ContentLoss(cfg.loss).to(device)
    E: nn.Module = model.E  # DDP-wrapped below on several processes
    G: nn.Module = model.G
    D: nn.Module = model.D
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        E, G, D = (nn.parallel.DistributedDataParallel(m, device_ids=ids) for m in (E, G, D))
    run = RunDir(out)
    if rank == 0:
        run.start(cfg, seed=cfg.seed, device=str(device))
        run.record_weights(list(content.nets))
        run.update(dataset=str(Path(dataset_root).resolve()), dataset_source=dataset.source,
                   n_train_videos=len(videos), world_size=world, content_loss_parts=content.parts,
                   offline_pixel_l1=content.pixel_l1 > 0,
                   content_note=content.note,
                   parameters=model.parameter_counts(), resumed_from_step=start or None)
        logs = _Logs(out, start)
    loader = torch.utils.data.DataLoader(
        StepBatches(episodes, cfg.batch_size, start, cfg.steps, rank, world),
        batch_size=None, num_workers=cfg.num_workers, pin_memory=device.type == "cuda",
        persistent_workers=False)
    guard = CollapseGuard(cfg.guard_min_std, cfg.guard_patience, cfg.guard_after)
    meta = provenance(GENERATOR_NAME, model.fingerprint, stage="meta-learning")
    t0 = time.time()
    bar = progress_bar(total=cfg.steps, initial=start, desc="train", unit="step", enabled=progress and rank == 0)
    step = start
    try:
        for batch in loader:
            step += 1
            losses, fake = meta_step(E, G, D, batch, content, cfg, opt_g, opt_d, device)
            guard.check(step, losses, fake)
            if rank == 0:
                if step % cfg.log_every == 0 or step == cfg.steps:
                    logs.write(step, losses, time.time() - t0)
                    bar.set_postfix({k: f"{losses[k]:.3g}" for k in ("g_total", "d_hinge") if k in losses})
                if step % cfg.sample_every == 0 or step == cfg.steps:
                    write_png(out / "samples" / f"step_{step:07d}.png", sample_grid(batch, fake),
                              {**meta, "step": str(step)})
                if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                    save_checkpoint(ckpt_path, model, opt_g, opt_d, step, cfg, videos)
            bar.update(1)
            if cfg.time_limit_min and _time_up(time.time() - t0 > 60 * cfg.time_limit_min, world, device):
                if rank == 0 and step % cfg.checkpoint_every:
                    save_checkpoint(ckpt_path, model, opt_g, opt_d, step, cfg, videos)
                break
    finally:
        bar.close()
        if rank == 0:
            logs.close()
        if world > 1:
            dist.destroy_process_group()
    if rank == 0:
        capped = step < cfg.steps
        if capped:
            logging.getLogger(__name__).warning("train: stopped by time_limit_min=%s at step %d of %d",
                                                cfg.time_limit_min, step, cfg.steps)
        run.finish(final_step=step, stopped_by_time_limit=capped, wall_s=round(time.time() - t0, 1))
    return ckpt_path


def _time_up(local: bool, world: int, device: torch.device) -> bool:
    """Clocks differ per process; under DDP every rank follows rank 0's decision."""
    if world == 1:
        return local
    flag = torch.tensor([float(local)], device=device)
    dist.broadcast(flag, 0)
    return bool(flag.item())


def _move_optimizer_state(opt: torch.optim.Optimizer, device: torch.device) -> None:
    for st in opt.state.values():
        for k, v in st.items():
            if isinstance(v, torch.Tensor) and k != "step":
                st[k] = v.to(device)
