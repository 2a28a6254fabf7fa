"""The meta-learning batches, each a pure function of (seed, step).

Item j of step s is episode ``perm_epoch[(s·B + j) mod N]``, where ``perm_epoch`` is the
permutation that (seed, epoch) draws. So ``--resume`` replays exactly the batches the
uninterrupted run would have seen, whatever the number of DataLoader workers or DDP ranks.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from talkbench.errors import TalkbenchError
from talkbench.generator.episodes import MetaEpisodes


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
