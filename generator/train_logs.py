"""A training run's loss logs: ``OUT/log.csv`` and ``OUT/tb/`` (TensorBoard)."""

from __future__ import annotations

import csv
from pathlib import Path

from talkbench.files import atomic_path


class TrainLogs:
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
