"""Benchmark suites: named, typed configs (``suites/<name>.yaml``) for the whole pipeline.

A suite says which data, how to meta-train the generator, which few-shot settings
(T × FF/FT) to generate, which realism metrics and which detectors to run. Sections that
belong to another package (``synth``, ``prepare``, ``model``, ``train``, ``metrics.options``,
``detector.options``) are passed through to that package's own typed config, which rejects
unknown keys, so a typo fails before any work starts.
"""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path
from typing import Any

from talkbench.config import from_dict, load_config
from talkbench.generator.ft_config import FineTuneConfig, LrSchedule
from talkbench.errors import TalkbenchError


@dataclasses.dataclass
class FewShotSection:
    """The settings grid: every T in ``shots`` × every mode, for up to ``max_people`` test videos."""

    shots: tuple[int, ...] = (1, 8, 32)
    modes: tuple[str, ...] = ("FF", "FT")
    ft_steps: int | None = None  # a fixed FT length; None: ft_epochs over the T shots, at least ft_min_steps
    ft_epochs: float = 40.0
    ft_min_steps: int = 0
    ft_lr_g: float | None = None  # FT learning rate of G and ψ' (None: the meta-learning run's lr_g)
    ft_batch: int = 8  # FT batch (frames per step, at most T); an epoch over T shots is ⌈T / batch⌉ steps
    ft_beta1: float | None = None  # Adam's β1 in FT (None: the meta-learning run's)
    ft_average: float | None = None  # FT returns G and ψ' averaged over about this last fraction of its steps
    # (None: the last step's weights; FineTuneConfig.average)
    ft_lr_schedule: LrSchedule = "constant"  # "cosine": FT rates anneal to 0 (better SSIM/L1, worse FID: docs/generator.md)
    n_heldout: int = 8
    n_cross: int = 8
    max_people: int = 0  # 0 = every test video
    n_sample_grids: int = 3  # people per setting drawn as shots | driver | generated | truth


@dataclasses.dataclass
class MetricsSection:
    """Names from the metrics package's registry; ``options.backend``: face backend (auto)."""

    names: tuple[str, ...] = ("fid", "kid", "ssim", "psnr", "lpips", "csim", "landmarks", "l1", "ifd", "ikid")
    options: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class DetectorSection:
    """Detector registry names; each is trained per setting and tested on every setting.
    ``options``: fields of the detector package's ``DetectorTrainConfig`` (epochs, crop_size ...).
    ``datasets``: NAME → folder made by `talkbench detect import`; when given, a
    cross_dataset stage trains each detector on each of them and on this run's fakes
    (``talkbench``) and tests on all of them (results/cross_dataset.csv)."""

    names: tuple[str, ...] = ("spectral_logreg",)
    robustness: bool = True
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    datasets: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ChecksSection:
    """The generator checks (benchmarks/stages/checks.py). ``people``: test people in the FF
    identity checks (own ê against another person's and the mean ê), which need no fine-tuning
    and so can afford more people than are generated; None: the generated ones
    (``fewshot.max_people``), 0: every test identity. FT's check uses the generated people."""

    people: int | None = None


@dataclasses.dataclass
class AdversarialSection:
    """Attacks on the detectors of one FT setting, then hardened detectors (benchmarks/stages/adversarial.py).
    ``setting``: "" = the FT setting with the largest T; ``target``: the attacked detector
    ("" = the first timm one in ``detector.names``, else the first); ``weight``: λ of the
    evasion term; ``eps``: PGD's L∞ radii in grey levels (ε/255); ``transfer``: more
    architectures trained here that no attack sees; ``seed_transfer``: the target's
    architecture trained with seed + 1 (pointless for the deterministic spectral fit)."""

    enabled: bool = False
    setting: str = ""
    target: str = ""
    weight: float = 1.0
    eps: tuple[int, ...] = (1, 2, 4)
    pgd_steps: int = 10
    transfer: tuple[str, ...] = ()
    seed_transfer: bool = True
    survival: bool = True
    harden: bool = True
    second_round: bool = True  # attacks against the hardened detector too


@dataclasses.dataclass
class SuiteConfig:
    """One benchmark run. ``data``: "" for the synthetic default, or a prepared dataset /
    a folder of raw videos. ``checkpoint``: "" to meta-train, or a generator checkpoint."""

    name: str = "default"
    description: str = ""
    data: str = ""
    requires_data: bool = False  # the suite only makes sense on real data (paper)
    checkpoint: str = ""
    seed: int = 0
    seeds: tuple[int, ...] = ()  # seed replicates: the whole flow once per seed (OUT/seed-<s>/), then one report
    device: str = "auto"
    synth: dict[str, Any] = dataclasses.field(default_factory=dict)
    prepare: dict[str, Any] = dataclasses.field(default_factory=dict)
    model: dict[str, Any] = dataclasses.field(default_factory=dict)
    train: dict[str, Any] = dataclasses.field(default_factory=dict)
    fewshot: FewShotSection = dataclasses.field(default_factory=FewShotSection)
    metrics: MetricsSection = dataclasses.field(default_factory=MetricsSection)
    detector: DetectorSection = dataclasses.field(default_factory=DetectorSection)
    checks: ChecksSection = dataclasses.field(default_factory=ChecksSection)
    adversarial: AdversarialSection = dataclasses.field(default_factory=AdversarialSection)

    @property
    def settings(self) -> list[tuple[str, int]]:
        """(mode, T) pairs in report order: FF before FT, T ascending."""
        return [(m, t) for m in self.fewshot.modes for t in sorted(self.fewshot.shots)]


def suite_names() -> list[str]:
    """The suites shipped with the package (``benchmarks/suites/*.yaml``)."""
    folder = resources.files("talkbench.benchmarks") / "suites"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def suite_path(name_or_path: str) -> Path:
    """A shipped suite by name, or any YAML file by path."""
    if name_or_path.endswith((".yaml", ".yml")):
        path = Path(name_or_path)
        if not path.is_file():
            raise TalkbenchError(f"suite file {path} does not exist")
        return path
    if name_or_path not in suite_names():
        raise TalkbenchError(f"unknown suite '{name_or_path}'; known: {', '.join(suite_names())} (or a .yaml path)")
    return Path(str(resources.files("talkbench.benchmarks") / "suites" / f"{name_or_path}.yaml"))


def load_suite(name_or_path: str = "default", overrides: list[str] | None = None) -> SuiteConfig:
    cfg = load_config(SuiteConfig, suite_path(name_or_path), overrides)
    if cfg.requires_data and not cfg.data:
        raise TalkbenchError(f"suite '{cfg.name}' needs data=PATH (a VoxCeleb-style tree of videos or a prepared "
                             "dataset); see docs/benchmark.md")
    bad_modes = sorted(set(cfg.fewshot.modes) - {"FF", "FT"})
    if bad_modes:
        raise TalkbenchError(f"fewshot.modes: {bad_modes} are not FF or FT")
    if not cfg.fewshot.shots or min(cfg.fewshot.shots) < 1:
        raise TalkbenchError(f"fewshot.shots must be positive integers, got {cfg.fewshot.shots}")
    for section in ("synth", "prepare", "train"):  # passed-through sections: their package's checks, now
        section_config(cfg, section)
    for name in cfg.detector.names:
        section_config(cfg, "detector", name)
    return cfg


def section_config(cfg: SuiteConfig, section: str, detector: str = "") -> Any:
    """The typed config that a pass-through section of the suite becomes (``detector``: one of
    ``cfg.detector.names``), with the suite's seed and device; a bad key or value fails here.
    The owning packages are imported here, not at the top, so that loading this module (for
    ``talkbench run --help``) does not load torch."""
    cls: type
    if section == "synth":
        from talkbench.data.synth import SynthConfig as cls

        data = {"seed": cfg.seed, **cfg.synth}
    elif section == "prepare":
        from talkbench.data.prepare import PrepareConfig as cls

        data = {"seed": cfg.seed, **cfg.prepare}
    elif section == "train":
        from talkbench.generator.train_config import TrainConfig as cls

        data = {"seed": cfg.seed, "device": cfg.device, **cfg.train, "model": dict(cfg.model)}
    elif section == "detector":
        from talkbench.detector.train import DetectorTrainConfig as cls

        data = {"seed": cfg.seed, "device": cfg.device, **cfg.detector.options, "detector": detector}
    else:
        raise ValueError(f"no typed config for suite section {section!r}")
    return from_dict(cls, data, prefix=f"{section}.")


def fine_tune_config(cfg: SuiteConfig) -> FineTuneConfig:
    """The suite's FT schedule (the one source for every stage that fine-tunes)."""
    fs = cfg.fewshot
    return FineTuneConfig(steps=fs.ft_steps, epochs=fs.ft_epochs, min_steps=fs.ft_min_steps, lr_g=fs.ft_lr_g,
                          batch_size=fs.ft_batch, lr_schedule=fs.ft_lr_schedule, beta1=fs.ft_beta1,
                          average=fs.ft_average, seed=cfg.seed)


def recipe_fine_tuning(recipe: str | None, checkpoint: Path) -> FineTuneConfig:
    """The FT recipe (schedule, rates, β1, averaging) of suite ``recipe`` (a name or a YAML path),
    for fine-tuning one person outside a suite run. None: the recipe of the suite run whose
    train stage made ``checkpoint`` (what that run's report measured), else the ``paper``
    suite's (the paper's 40 epochs in batches of 8 at the training run's rates)."""
    from talkbench.benchmarks.stage_runner import StageRunner

    if recipe is None:
        run = checkpoint.resolve().parent.parent
        trained = StageRunner(run).record("train") if (run / "config.yaml").is_file() else None
        made_here = trained is not None and \
            Path((trained.get("result") or {}).get("checkpoint", "")).resolve() == checkpoint.resolve()
        recipe = str(run / "config.yaml") if made_here else "paper"
    return fine_tune_config(load_config(SuiteConfig, suite_path(recipe)))
