"""A small staged runner: named stages that each write their outputs under a run directory
and a record ``RUN/stages/<stage>.json`` when done.

Why: a benchmark run takes minutes to hours; a rerun must skip what is finished, a killed
run must resume where it stopped, and a changed config must redo exactly the stages it
affects. Each stage's fingerprint covers its own config and the *outputs* of the stages it
depends on (their record's ``token``, fresh every time a stage completes), so redoing a
stage (``force``) or changing its config invalidates everything downstream, as ``make`` does.

Example::

    stages = [Stage("data", make_data, config={"n": 4}),
              Stage("train", train, config={"steps": 10}, deps=("data",))]
    StageRunner(run_dir).run(stages)          # runs both
    StageRunner(run_dir).run(stages)          # skips both
    StageRunner(run_dir).run(stages, force={"train"})  # redoes train only
"""

from __future__ import annotations

import dataclasses
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal, TypeVar

from tqdm.auto import tqdm

from talkbench.config import fingerprint
from talkbench.errors import TalkbenchError
from talkbench.files import read_json, write_json, write_text
from talkbench.progress import progress_bar
from talkbench.runs import now

T = TypeVar("T")
Outcome = Literal["done", "skipped", "failed", "not run"]


@dataclasses.dataclass
class StageContext:
    """What a stage function gets: where to write, its fingerprint, and progress bars."""

    run_dir: Path
    name: str
    fingerprint: str
    show_progress: bool = True

    def output_dir(self, relative: str) -> Path:
        """``run_dir/relative`` for this fingerprint's outputs: kept when it holds partial work
        of the same fingerprint (a killed run resumes into it), emptied when it holds another's
        (a changed config must not mix with stale outputs)."""
        path = self.run_dir / relative
        marker = path / ".stage-fingerprint"
        if path.exists() and (not marker.is_file() or marker.read_text().strip() != self.fingerprint):
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)
        if not marker.is_file():
            write_text(marker, self.fingerprint + "\n")
        return path

    def progress(self, items: Iterable[T], total: int | None = None, desc: str = "") -> Iterator[T]:
        """A tqdm bar labelled with the stage name (silent when progress is off)."""
        label = f"{self.name}: {desc}" if desc else self.name
        return iter(progress_bar(items, total=total, desc=label, enabled=self.show_progress, leave=False))


@dataclasses.dataclass
class Stage:
    """One step of a run. ``fn(ctx)`` does the work and writes its outputs atomically under
    ``ctx.run_dir``; it may return a small JSON-able dict that is kept in the stage record.
    ``config`` is anything plain-data that determines the outputs (besides ``deps``)."""

    name: str
    fn: Callable[[StageContext], dict | None]
    config: Any = None
    deps: tuple[str, ...] = ()


@dataclasses.dataclass
class StageReport:
    name: str
    outcome: Outcome
    wall_s: float = 0.0
    error: str = ""


class StageFailed(TalkbenchError):
    """A stage raised; the message names the stage, and the summary says what ran."""

    def __init__(self, stage: str, error: BaseException, reports: list[StageReport]) -> None:
        super().__init__(f"stage '{stage}' failed: {error}")
        self.stage = stage
        self.reports = reports
        self.run_dir: Path | None = None  # set by a seed replicate run: which seed's folder failed


class StageRunner:
    """Runs stages in order under ``run_dir``, skipping those whose record matches."""

    def __init__(self, run_dir: str | Path, show_progress: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.show_progress = show_progress

    def record_path(self, name: str) -> Path:
        return self.run_dir / "stages" / f"{name}.json"

    def record(self, name: str) -> dict | None:
        """The finished record of stage ``name``, or None when it has not completed."""
        path = self.record_path(name)
        if not path.is_file():
            return None
        rec = read_json(path)
        return rec if rec.get("status") == "done" else None

    def fingerprint_of(self, stage: Stage) -> str:
        """Own config + the completion tokens of the dependencies (which must be done)."""
        tokens = {}
        for dep in stage.deps:
            rec = self.record(dep)
            if rec is None:
                raise TalkbenchError(f"stage '{stage.name}' needs stage '{dep}', which has not finished")
            tokens[dep] = rec["token"]
        return fingerprint({"stage": stage.name, "config": stage.config, "deps": tokens})

    def is_current(self, stage: Stage) -> bool:
        rec = self.record(stage.name)
        try:
            return rec is not None and rec["fingerprint"] == self.fingerprint_of(stage)
        except TalkbenchError:
            return False

    def run(self, stages: list[Stage], force: Iterable[str] = ()) -> list[StageReport]:
        """Run ``stages`` in order; raise :class:`StageFailed` (with the reports so far) when
        one raises. ``force`` names stages to redo even if their record matches."""
        names = [s.name for s in stages]
        force = set(force)
        unknown = sorted(force - set(names))
        if unknown:
            raise TalkbenchError(f"--force {', '.join(unknown)}: no such stage; stages: {', '.join(names)}")
        if len(set(names)) != len(names):
            raise TalkbenchError(f"duplicate stage names in {names}")
        reports: list[StageReport] = []
        for i, stage in enumerate(stages):
            bad_deps = [d for d in stage.deps if d not in names[:i]]
            if bad_deps:
                raise TalkbenchError(f"stage '{stage.name}' depends on {bad_deps}, which do not run before it")
            if stage.name not in force and self.is_current(stage):
                reports.append(StageReport(stage.name, "skipped"))
                continue
            start = time.perf_counter()
            try:
                reports.append(self._run_one(stage))
            except BaseException as exc:  # noqa: BLE001 - recorded, then re-raised
                reports.append(StageReport(stage.name, "failed", time.perf_counter() - start, str(exc)))
                reports.extend(StageReport(s.name, "not run") for s in stages[i + 1:])
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                raise StageFailed(stage.name, exc, reports) from exc
        return reports

    def _run_one(self, stage: Stage) -> StageReport:
        fp = self.fingerprint_of(stage)
        self.record_path(stage.name).unlink(missing_ok=True)  # stale until it finishes again
        ctx = StageContext(self.run_dir, stage.name, fp, self.show_progress)
        if self.show_progress:
            tqdm.write(f"[{stage.name}] running (fingerprint {fp})")
        start = time.perf_counter()
        extra = stage.fn(ctx) or {}
        wall = time.perf_counter() - start
        write_json(self.record_path(stage.name), {
            "fingerprint": fp, "status": "done", "wall_s": round(wall, 3), "finished": now(),
            "token": uuid.uuid4().hex, "config": stage.config, "result": extra,
        })
        return StageReport(stage.name, "done", wall)


def result_of(run_dir: Path, stage: str) -> dict:
    """The JSON result a finished stage left in its record (dataset path, checkpoint ...):
    how a stage reads what an upstream stage made."""
    rec = StageRunner(run_dir).record(stage)
    if rec is None:
        raise TalkbenchError(f"stage '{stage}' has not finished in {run_dir}")
    return rec.get("result") or {}


def summary_table(reports: list[StageReport], run_dir: str | Path | None = None) -> str:
    """Wall time per stage as a fixed-width table. Skipped stages show the time they took
    when they last ran (from their record), marked as such."""
    rows: list[tuple[str, str, str, str]] = []
    total = 0.0
    for r in reports:
        wall = r.wall_s
        note = r.error[:70]
        if r.outcome == "skipped" and run_dir is not None:
            rec = StageRunner(run_dir).record(r.name) or {}
            note = f"up to date (took {rec.get('wall_s', 0):.1f} s when run)"
        total += wall
        rows.append((r.name, r.outcome, f"{wall:8.1f}", note))
    rows.append(("total", "", f"{total:8.1f}", ""))
    width = max(len(r[0]) for r in rows)
    lines = [f"{'stage':<{width}}  {'outcome':<8}  {'wall s':>8}  note"]
    lines += [f"{n:<{width}}  {o:<8}  {w}  {note}".rstrip() for n, o, w, note in rows]
    return "\n".join(lines)
