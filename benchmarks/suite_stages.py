"""The benchmark's stages, each declared once: its name, the suite fields it reads, the
stages whose outputs it reads, and its body (:mod:`talkbench.benchmarks.stages`).

Why one declaration: a stage's fingerprint is derived from the fields it declares, so it
changes when, and only when, something the stage reads changes (``fewshot.shots`` redoes
generate and what follows, not train; ``metrics.names`` redoes realism and the report).
The runner (:mod:`talkbench.benchmarks.stage_runner`) chains the upstream stages' tokens
into it. ``device`` is read by several stages but is no input: it changes where the work
runs, not what it makes.

Adding a stage: its body in ``stages/<name>.py`` and one :class:`StageSpec` in
:data:`STAGES`, where its position is the order it runs in.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any, Callable

from talkbench.benchmarks.stage_runner import Stage, StageContext
from talkbench.benchmarks.stages.adversarial import adversarial_stage
from talkbench.benchmarks.stages.checks import checks_stage
from talkbench.benchmarks.stages.cross_dataset import cross_dataset_stage
from talkbench.benchmarks.stages.data import data_stage
from talkbench.benchmarks.stages.detection import detection_stage
from talkbench.benchmarks.stages.generate import generate_stage
from talkbench.benchmarks.stages.realism import realism_stage
from talkbench.benchmarks.stages.report import report_stage
from talkbench.benchmarks.stages.train import train_stage
from talkbench.benchmarks.suite import SuiteConfig
from talkbench.config import to_dict
from talkbench.errors import TalkbenchError


@dataclasses.dataclass(frozen=True)
class Given:
    """Reads that depend on whether ``field`` names a user input (``data=PATH``,
    ``checkpoint=PATH``) that the stage takes instead of making it: ``then`` when it does,
    ``otherwise`` when it is empty. ``field`` itself is always read."""

    field: str
    then: tuple[str, ...] = ()
    otherwise: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class StageSpec:
    """One benchmark stage. ``reads``: dotted suite fields (``"fewshot"``,
    ``"metrics.options.backend"``) or :class:`Given`; ``deps``: the stages whose outputs the
    body reads (a dep that this suite leaves out is dropped); ``only_if``: a field that must
    be non-empty for the stage to run at all; ``outputs``: the version of what the stage
    writes, raised when a release makes it write something new (a file, a column), so that a
    run made before redoes it (and what follows) on resume instead of lacking it."""

    name: str
    body: Callable[[StageContext, SuiteConfig], dict]
    reads: tuple[str | Given, ...] = ()
    deps: tuple[str, ...] = ()
    only_if: str = ""
    outputs: int = 1

    def fields(self, cfg: SuiteConfig) -> list[str]:
        """The fields this stage reads under ``cfg``."""
        out: list[str] = []
        for read in self.reads:
            if isinstance(read, Given):
                out += [read.field, *(read.then if field_value(cfg, read.field) else read.otherwise)]
            else:
                out.append(read)
        return out

    def declared_fields(self) -> list[str]:
        """Every field this stage may read, whatever the config."""
        return [f for r in self.reads for f in ((r.field, *r.then, *r.otherwise) if isinstance(r, Given) else (r,))]


STAGES: tuple[StageSpec, ...] = (
    StageSpec("data", data_stage, reads=("seed", Given("data", then=("prepare",), otherwise=("synth",)))),
    StageSpec("train", train_stage, reads=("seed", Given("checkpoint", otherwise=("model", "train"))),
              deps=("data",)),
    StageSpec("generate", generate_stage, reads=("fewshot", "seed"), deps=("data", "train")),
    # checks' outputs: 2 a "real" row per person and T in generator_checks_people.csv (the real frames' face rate)
    StageSpec("checks", checks_stage, reads=("fewshot", "checks", "seed", "metrics.options.backend"),
              deps=("data", "train", "generate"), outputs=2),
    # realism's outputs: 2 realism_vs_shots.csv and FID/IFD intervals over people; 3 its T_min → T_max rows;
    # 4 realism_ft_vs_ff.csv
    StageSpec("realism", realism_stage, reads=("metrics",), deps=("generate",), outputs=4),
    # detection's outputs: 2 the frame-level AUC interval resamples videos, not frames
    StageSpec("detection", detection_stage,
              reads=("detector.names", "detector.robustness", "detector.options", "seed"), deps=("generate",),
              outputs=2),
    StageSpec("adversarial", adversarial_stage,
              reads=("adversarial", "detector.names", "detector.options", "fewshot", "metrics.options.backend", "seed"),
              deps=("data", "train", "generate", "detection")),
    StageSpec("cross_dataset", cross_dataset_stage,
              reads=("detector.datasets", "detector.names", "detector.options", "seed"), deps=("generate",),
              only_if="detector.datasets"),
    StageSpec("report", report_stage,
              deps=("checks", "realism", "detection", "adversarial", "cross_dataset")),
)
STAGE_NAMES = tuple(s.name for s in STAGES)


def field_value(cfg: SuiteConfig, field: str) -> Any:
    """The value of a dotted suite field; below a mapping (``metrics.options``) a missing
    key is None, as the stages' ``.get`` reads it."""
    value: Any = cfg
    for part in field.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif dataclasses.is_dataclass(value) and part in {f.name for f in dataclasses.fields(value)}:
            value = getattr(value, part)
        else:
            raise TalkbenchError(f"no suite field '{field}'")
    return to_dict(value) if dataclasses.is_dataclass(value) else value


def input_fingerprint(path: str | Path) -> str:
    """A cheap content key for a user-given input (dataset folder, videos or checkpoint):
    relative path, size and mtime of every file, so an edited input reruns its stages."""
    path = Path(path)
    if not path.exists():
        raise TalkbenchError(f"{path} does not exist")
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(path) if f != path else f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _imported_tables(datasets: dict[str, str]) -> dict[str, str]:
    """The imported datasets' tables stand for them (not every crop file)."""
    keys = {}
    for name, path in datasets.items():
        table = Path(path) / "crops.csv"
        if not table.is_file():
            raise TalkbenchError(f"detector.datasets.{name}: {path} is not a dataset made by `talkbench detect import` "
                                 "(no crops.csv)")
        keys[name] = input_fingerprint(table)
    return keys


# Suite fields that name user files: a stage that reads one is keyed on their content too.
INPUT_FILES: dict[str, Callable[[Any], Any]] = {
    "data": input_fingerprint,
    "checkpoint": input_fingerprint,
    "detector.datasets": _imported_tables,
}


def stage_inputs(spec: StageSpec, cfg: SuiteConfig) -> dict:
    """What ``spec``'s outputs depend on under ``cfg`` (besides its deps): the value of every
    field it reads, and the content key of the user files those fields name."""
    fields = spec.fields(cfg)
    values = {f: field_value(cfg, f) for f in fields}
    files = {f: INPUT_FILES[f](values[f]) for f in fields if f in INPUT_FILES and values[f]}
    # version 1 adds nothing, so the fingerprints that runs already have stay as they are
    version = {"outputs": spec.outputs} if spec.outputs > 1 else {}
    return {"fields": values, "files": files, **version}


def build_stages(cfg: SuiteConfig) -> list[Stage]:
    """The stages this suite runs, in order, each bound to ``cfg`` with its inputs."""
    chosen = [s for s in STAGES if not s.only_if or field_value(cfg, s.only_if)]
    left_out = set(STAGE_NAMES) - {s.name for s in chosen}
    return [Stage(s.name, _bound(s.body, cfg), stage_inputs(s, cfg), deps=tuple(d for d in s.deps if d not in left_out))
            for s in chosen]


def _bound(body: Callable[[StageContext, SuiteConfig], dict], cfg: SuiteConfig) -> Callable[[StageContext], dict]:
    return lambda ctx: body(ctx, cfg)
