"""Meta-learning of E, G, D on episodes of a prepared face dataset (`talkbench train`).

Run layout (``OUT/``): ``config.yaml``, ``manifest.json`` (versions, device, seeds, weights
and loss parts used), ``checkpoint.pt`` (written atomically every ``checkpoint_every``
steps and at the end), ``log.csv`` and ``tb/`` (every loss, every ``log_every`` steps),
``samples/step_XXXXXXX.png`` (rows: K shots | target landmarks | generated | target).

Batches are a pure function of (seed, step) (:mod:`talkbench.generator.step_batches`) and the
checkpoint holds every RNG state (:mod:`talkbench.generator.rng_state`), so ``--resume``
replays exactly the batches the uninterrupted run would have seen and, on CPU, continues bit
for bit.

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

import dataclasses
import logging
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from talkbench.device import compile_module, configure_threads, select_device
from talkbench.errors import TalkbenchError
from talkbench.data.dataset import FaceDataset
from talkbench.generator.blocks import MEMORY_FORMAT
from talkbench.generator.checkpoint import CHECKPOINT, load_checkpoint, load_weights, save_checkpoint
from talkbench.generator.episodes import MetaEpisodes
from talkbench.generator.losses import ContentLoss
from talkbench.generator.model import GENERATOR_NAME, TalkingHead, build_model
from talkbench.generator.rng_state import set_rng_state
from talkbench.generator.step_batches import StepBatches
from talkbench.generator.steps import CollapseGuard, autocast, gan_step
from talkbench.generator.train_config import TrainConfig
from talkbench.generator.train_logs import TrainLogs
from talkbench.runs import RunDir


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
    fmt = MEMORY_FORMAT
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


@dataclasses.dataclass(frozen=True)
class Process:
    """This process's place in the run: ``rank`` of ``world`` processes, on ``device``."""

    rank: int
    world: int
    device: torch.device


@dataclasses.dataclass
class Trainer:
    """What each step and each checkpoint of this process needs, placed on its device."""

    cfg: TrainConfig
    model: TalkingHead
    nets: tuple[nn.Module, nn.Module, nn.Module]  # E, G, D; DDP-wrapped on several processes
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    content: ContentLoss
    device: torch.device
    videos: list[str]
    ckpt_path: Path

    @classmethod
    def place(cls, cfg: TrainConfig, model: TalkingHead, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
              proc: Process, videos: list[str], ckpt_path: Path) -> Trainer:
        """Move model and optimiser state to the device, build the content loss there and, on
        several processes, wrap E, G and D in DistributedDataParallel; with ``cfg.compile``,
        compile them (the checkpoint still saves the plain modules)."""
        device = proc.device
        model.to(device)
        _move_optimizer_state(opt_g, device)
        _move_optimizer_state(opt_d, device)
        content = ContentLoss(cfg.loss).to(device)
        E: nn.Module = model.E
        G: nn.Module = model.G
        D: nn.Module = model.D
        if proc.world > 1:
            ids = [device.index] if device.type == "cuda" else None
            E, G, D = (nn.parallel.DistributedDataParallel(m, device_ids=ids) for m in (E, G, D))
        if cfg.compile:
            E, G, D = (compile_module(m, device) for m in (E, G, D))
        return cls(cfg, model, (E, G, D), opt_g, opt_d, content, device, videos, ckpt_path)

    def step(self, batch: dict[str, torch.Tensor]) -> tuple[dict[str, float], torch.Tensor]:
        return meta_step(*self.nets, batch, self.content, self.cfg, self.opt_g, self.opt_d, self.device)

    def save(self, step: int) -> None:
        save_checkpoint(self.ckpt_path, self.model, self.opt_g, self.opt_d, step, self.cfg, self.videos)


class _Records:
    """What steps leave besides checkpoints: the progress bar, and on rank 0 the loss logs
    (every ``log_every`` steps) and sample grids (every ``sample_every``), with provenance."""

    def __init__(self, out: Path, cfg: TrainConfig, model: TalkingHead, start: int, rank: int,
                 progress: bool) -> None:
        from talkbench.progress import progress_bar
        from talkbench.provenance import provenance

        self.out, self.cfg = out, cfg
        self.logs = TrainLogs(out, start) if rank == 0 else None
        self.meta = provenance(GENERATOR_NAME, model.fingerprint, stage="meta-learning")
        self.t0 = time.time()
        self.bar = progress_bar(total=cfg.steps, initial=start, desc="train", unit="step",
                                enabled=progress and rank == 0)

    def elapsed(self) -> float:
        return time.time() - self.t0

    def write(self, step: int, losses: dict[str, float], batch: dict[str, torch.Tensor], fake: torch.Tensor) -> None:
        """Rank 0's logs and samples for ``step`` where they fall due."""
        from talkbench.media import write_png

        if self.logs is None:
            return
        if _due(step, self.cfg.log_every, self.cfg.steps):
            self.logs.write(step, losses, self.elapsed())
            self.bar.set_postfix({k: f"{losses[k]:.3g}" for k in ("g_total", "d_hinge") if k in losses})
        if _due(step, self.cfg.sample_every, self.cfg.steps):
            write_png(self.out / "samples" / f"step_{step:07d}.png", sample_grid(batch, fake),
                      {**self.meta, "step": str(step)})

    def close(self) -> None:
        self.bar.close()
        if self.logs is not None:
            self.logs.close()


def train(cfg: TrainConfig, dataset_root: str | Path, out_dir: str | Path, resume: bool = False,
          progress: bool = True) -> Path:
    """Meta-learn E, G, D on ``dataset_root``'s training videos; returns the checkpoint path."""
    out = Path(out_dir)
    ckpt_path = out / CHECKPOINT
    proc = _setup_process(cfg)
    dataset = _open_dataset(cfg, dataset_root)
    videos = dataset.videos("train")
    episodes = MetaEpisodes(dataset, "train", k=cfg.k, seed=cfg.seed)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, len(videos))
    opt_g, opt_d = make_optimizers(model, cfg)
    start = _resume(ckpt_path, resume, model, videos, opt_g, opt_d)
    if start >= cfg.steps:
        return ckpt_path
    trainer = Trainer.place(cfg, model, opt_g, opt_d, proc, videos, ckpt_path)
    run = RunDir(out)
    if proc.rank == 0:
        _start_manifest(run, trainer, dataset, dataset_root, proc.world, start)
    loader = torch.utils.data.DataLoader(
        StepBatches(episodes, cfg.batch_size, start, cfg.steps, proc.rank, proc.world),
        batch_size=None, num_workers=cfg.num_workers, pin_memory=proc.device.type == "cuda",
        persistent_workers=False, generator=torch.Generator().manual_seed(cfg.seed))
    # its own generator: an iterator draws a seed from it, which from the global RNG would put
    # one extra draw into a resumed run's saved RNG state (the weights are the same either way)
    records = _Records(out, cfg, model, start, proc.rank, progress)
    try:
        step = _run_steps(trainer, loader, records, proc, start)
    finally:
        records.close()
        if proc.world > 1:
            dist.destroy_process_group()
    if proc.rank == 0:
        _finish(run, cfg, step, records.elapsed())
    return ckpt_path


def _setup_process(cfg: TrainConfig) -> Process:
    """Pick the device and, under torchrun, join the process group (NCCL on CUDA, gloo on CPU)."""
    rank, world, local_rank = _distributed()
    device = select_device(cfg.device)
    if world > 1:
        if device.type == "cuda":
            device = torch.device("cuda", local_rank)
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cpu":
        configure_threads(cfg.threads or None)
    return Process(rank, world, device)


def _distributed() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


def _open_dataset(cfg: TrainConfig, root: str | Path) -> FaceDataset:
    """The prepared dataset, refused when its image size is not the model's."""
    dataset = FaceDataset(root)
    model_cfg = cfg.model.resolved()
    if dataset.size != model_cfg.image_size:
        raise TalkbenchError(f"dataset images are {dataset.size} px but model.image_size is "
                             f"{model_cfg.image_size}; pick the matching preset (cpu64 / cpu128 / paper)")
    return dataset


def _resume(ckpt_path: Path, resume: bool, model: TalkingHead, videos: list[str],
            opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer) -> int:
    """The step to start from. Resuming restores weights, optimisers and RNG states from the
    checkpoint; without ``resume`` an existing checkpoint is refused rather than overwritten."""
    if not ckpt_path.exists():
        return 0
    if not resume:
        raise TalkbenchError(f"{ckpt_path.parent} already holds a checkpoint; pass --resume to continue it "
                             "or choose a new OUT")
    state = load_checkpoint(ckpt_path)
    if state["fingerprint"] != model.fingerprint or state["videos"] != videos:
        raise TalkbenchError(f"{ckpt_path} was trained with another model config or dataset; "
                             "use a new OUT folder or the same settings")
    load_weights(model, state)
    opt_g.load_state_dict(state["opt_g"])
    opt_d.load_state_dict(state["opt_d"])
    set_rng_state(state["rng"])
    return int(state["step"])


def _start_manifest(run: RunDir, trainer: Trainer, dataset: FaceDataset, dataset_root: str | Path,
                    world: int, start: int) -> None:
    """Rank 0's ``manifest.json``: config, versions, device, seeds, content-loss weights used."""
    cfg, content = trainer.cfg, trainer.content
    run.start(cfg, seed=cfg.seed, device=str(trainer.device))
    run.record_weights(list(content.nets))
    run.update(dataset=str(Path(dataset_root).resolve()), dataset_source=dataset.source,
               n_train_videos=len(trainer.videos), world_size=world, content_loss_parts=content.parts,
               offline_pixel_l1=content.pixel_l1 > 0,
               content_note=content.note,
               parameters=trainer.model.parameter_counts(), resumed_from_step=start or None)


def _run_steps(trainer: Trainer, loader: torch.utils.data.DataLoader, records: _Records, proc: Process,
               start: int) -> int:
    """Train on every batch of ``loader``, checkpointing on rank 0; returns the last step done
    (short of ``cfg.steps`` when ``time_limit_min`` ran out, with a checkpoint of that step)."""
    cfg = trainer.cfg
    guard = CollapseGuard(cfg.guard_min_std, cfg.guard_patience, cfg.guard_after)
    step = start
    for batch in loader:
        step += 1
        losses, fake = trainer.step(batch)
        guard.check(step, losses, fake)
        if proc.rank == 0:
            records.write(step, losses, batch, fake)
            if _due(step, cfg.checkpoint_every, cfg.steps):
                trainer.save(step)
        records.bar.update(1)
        if cfg.time_limit_min and _time_up(records.elapsed() > 60 * cfg.time_limit_min, proc.world, proc.device):
            if proc.rank == 0 and step % cfg.checkpoint_every:
                trainer.save(step)
            break
    return step


def _due(step: int, every: int, last: int) -> bool:
    """Whether a periodic output falls on ``step``: every ``every`` steps and at the last."""
    return step % every == 0 or step == last


def _finish(run: RunDir, cfg: TrainConfig, step: int, wall_s: float) -> None:
    """Close rank 0's manifest with the step reached and whether the time limit cut the run."""
    capped = step < cfg.steps
    if capped:
        logging.getLogger(__name__).warning("train: stopped by time_limit_min=%s at step %d of %d",
                                            cfg.time_limit_min, step, cfg.steps)
    run.finish(final_step=step, stopped_by_time_limit=capped, wall_s=round(wall_s, 1))


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
