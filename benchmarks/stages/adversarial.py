"""The ``adversarial`` stage: fakes made to evade the run's own detectors, then detectors
hardened against them — the closed loop, with the realism each attack costs beside it.

For one FT setting (``adversarial.setting``) and one attacked detector (``target``, trained
by the detection stage on that setting):

1. **generator-adversarial** fakes: every test person's FT model rebuilt with the evasion
   term λ·softplus(logit_target(fake)) in its fine-tuning (same T, steps and seed as the
   plain FT, so λ = 0 would reproduce it bit for bit);
2. **PGD** fakes: the setting's plain FT fakes perturbed against the target, L∞ ε/255;
3. **transfer**: each attack scored by the target (white-box), by other architectures and
   by the target's architecture trained with another seed;
4. **survival**: the target's AUC after JPEG q90/75/50, ×0.5 down-scaling and σ 1 blur;
5. **hardening**: the target's architecture retrained with both kinds of adversarial fakes
   of the train/val people added (identity-disjoint from the test people), scored on clean,
   generator-adversarial and PGD fakes, and on a second round of both attacks made against
   the hardened detector itself;
6. **realism cost**: SSIM, CSIM, face-detection rate (mean and 95 % CI over people) and
   FID/KID of each attack's self-reenactment fakes against plain FT at the same T.

AUCs are frame-level with a bootstrap CI over videos (a video's real and fake frames are
separate units). Outputs: ``RUN/results/adversarial.csv`` and ``adversarial_realism.csv``
(columns in docs/CONTRACTS.md), ``RUN/adversarial/`` (adversarial frames with provenance,
detectors, sample grids). Resumable: finished people and trained detectors are kept.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd

from talkbench.benchmarks.stage_runner import StageContext, result_of
from talkbench.benchmarks.stages.generate import FewShotJob, fewshot_test_cases, run_dataset, run_fewshot_jobs
from talkbench.benchmarks.stages.realism import over_people, person_metrics, result_row
from talkbench.benchmarks.suite import SuiteConfig, fine_tune_config
from talkbench.config import from_dict
from talkbench.contracts import FRAME_COLUMNS, SETTING_PATTERN, split_setting
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path

RESULT_COLUMNS = ["round", "attack", "eps", "weight", "setting", "target", "detector", "evaluator", "white_box",
                  "post", "auc", "auc_ci_low", "auc_ci_high", "p_fake", "n_real", "n_fake", "n_videos"]
REALISM_COLUMNS = ["round", "attack", "eps", "weight", "setting", "target", "metric", "value", "ci_low", "ci_high",
                   "reference", "delta", "n_people", "status", "reason"]
SURVIVAL = (("jpeg", 90), ("jpeg", 75), ("jpeg", 50), ("downscale", 0.5), ("blur", 1.0))


class _Bank:
    """Face crops and their frame table (row i describes images[i]), grown by each attack."""

    def __init__(self, table: pd.DataFrame, images: np.ndarray) -> None:
        self.table, self.images = table.reset_index(drop=True), images
        self.split_of = dict(zip(table.identity, table.split))

    def add(self, setting: str, rows: pd.DataFrame, images: np.ndarray) -> None:
        rows = rows.assign(setting=setting, label=1, split=rows.identity.map(self.split_of))
        self.table = pd.concat([self.table, rows[self.table.columns]], ignore_index=True)
        self.images = np.concatenate([self.images, images])

    def fakes(self, setting: str, split: str | None = None) -> pd.DataFrame:
        t = self.table
        return t[(t.label == 1) & (t.setting == setting) & ((t.split == split) if split else True)]


def _largest_ft(settings: list[str]) -> str:
    ft = [(int(m.group(2)), s) for s in settings if (m := SETTING_PATTERN.fullmatch(s)) and m.group(1) == "FT"]
    if not ft:
        raise TalkbenchError("the adversarial stage attacks an FT setting; this suite generates none (fewshot.modes)")
    return max(ft)[1]


def _default_target(names: tuple[str, ...]) -> str:
    from talkbench.detector.registry import create_detector

    timm = [n for n in names if create_detector(n).kind == "timm"]
    return (timm or list(names))[0]


def adversarial_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """Attack, transfer, survival, hardening and realism cost (module docstring); returns
    the setting, the target and the wall time of each part."""
    acfg = cfg.adversarial
    if not acfg.enabled:
        return {"enabled": False}
    from talkbench.detector import data, experiment, train
    from talkbench.detector.attack import pgd
    from talkbench.detector.harden import train_hardened

    if not cfg.detector.names:
        raise TalkbenchError("the adversarial stage needs a detector (detector.names is empty)")
    times: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        times[name] = round(now - clock[0], 2)
        clock[0] = now

    work = ctx.output_dir("adversarial")
    full = data.split_by_identity(data.from_generated(ctx.run_dir / "generated"), seed=cfg.seed)
    setting = acfg.setting or _largest_ft(sorted(full.loc[full.label == 1, "setting"].unique()))
    if setting not in set(full.setting) or not setting.startswith("FT_"):
        raise TalkbenchError(f"adversarial.setting '{setting}' is not an FT setting of this run")
    target_name = acfg.target or _default_target(tuple(cfg.detector.names))
    opts = dict(cfg.detector.options)
    crop = int(opts.get("crop_size", 64))
    keep = full[(full.label == 0) | (full.setting == setting)]
    bank = _Bank(keep, data.load_crops(keep["path"].tolist(), crop))

    def dcfg(name: str, seed: int):
        return from_dict(train.DetectorTrainConfig, {"seed": seed, "device": cfg.device, **opts, "detector": name})

    def trained(name: str, seed: int):
        """The detection stage's detector of the setting, or one trained here (other seeds/archs)."""
        theirs = ctx.run_dir / "detection" / "models" / f"{name}__{setting}"
        folder = theirs if seed == cfg.seed and (theirs / "train.json").is_file() else \
            work / "models" / f"{name}__{setting}__seed{seed}"
        return experiment.train_setting_detector(bank.images, bank.table, dcfg(name, seed), setting, folder,
                                                 ctx.show_progress)

    target = trained(target_name, cfg.seed)
    evaluators = {target_name: ("attacked", target)}
    for name in dict.fromkeys([n for n in cfg.detector.names if n != target_name] + list(acfg.transfer)):
        evaluators[name] = ("other-arch", trained(name, cfg.seed))
    if acfg.seed_transfer:
        evaluators[f"{target_name}@seed{cfg.seed + 1}"] = ("other-seed", trained(target_name, cfg.seed + 1))
    lap("detectors")

    attacks: list[dict] = [{"round": 0, "attack": "none", "eps": 0, "weight": 0.0, "setting": setting, "target": ""}]
    evade = f"{setting}+evade"
    rows = _evasive_fakes(ctx, cfg, setting, evade, [target], work / "round0")
    bank.add(evade, rows, data.load_crops(rows["path"].tolist(), crop))
    attacks.append({"round": 0, "attack": "evade", "eps": 0, "weight": acfg.weight, "setting": evade,
                    "target": target_name})
    lap("evade_ft")
    clean = bank.fakes(setting)
    for eps in acfg.eps:
        name = f"{setting}+pgd{eps}"
        bank.add(name, clean, pgd(bank.images[clean.index.to_numpy()], [target], int(eps), acfg.pgd_steps,
                                  progress=ctx.show_progress))
        attacks.append({"round": 0, "attack": "pgd", "eps": int(eps), "weight": 0.0, "setting": name,
                        "target": target_name})
    lap("pgd")

    if acfg.harden:
        hard_name = f"{target_name}+hardened"
        hardened = train_hardened(dcfg(target_name, cfg.seed), bank.images, bank.table,
                                  [a["setting"] for a in attacks], work / "models" / f"{target_name}__hardened",
                                  ctx.show_progress)
        evaluators[hard_name] = ("hardened", hardened)
        lap("harden")
        if acfg.second_round:
            test_people = set(bank.table.loc[bank.table.split == "test", "identity"])
            name = f"{setting}+evade@hardened"
            rows = _evasive_fakes(ctx, cfg, setting, name, [hardened], work / "round1", test_people)
            bank.add(name, rows, data.load_crops(rows["path"].tolist(), crop))
            attacks.append({"round": 1, "attack": "evade", "eps": 0, "weight": acfg.weight, "setting": name,
                            "target": hard_name})
            clean_test = bank.fakes(setting, "test")
            for eps in acfg.eps:
                name = f"{setting}+pgd{eps}@hardened"
                bank.add(name, clean_test, pgd(bank.images[clean_test.index.to_numpy()], [hardened], int(eps),
                                               acfg.pgd_steps, progress=ctx.show_progress))
                attacks.append({"round": 1, "attack": "pgd", "eps": int(eps), "weight": 0.0, "setting": name,
                                "target": hard_name})
            lap("second_round")

    results = []
    for attack in ctx.progress(attacks, desc="scoring attacks"):
        for label, (role, det) in evaluators.items():
            results.append({**attack, "detector": label, "evaluator": role, "white_box": label == attack["target"],
                            "post": "none", **_auc(det, bank, attack["setting"], cfg.seed)})
        if acfg.survival:
            for label in [target_name] + ([f"{target_name}+hardened"] if acfg.harden else []):
                role, det = evaluators[label]
                for family, level in SURVIVAL:
                    results.append({**attack, "detector": label, "evaluator": role,
                                    "white_box": label == attack["target"], "post": f"{family}{level:g}",
                                    **_auc(det, bank, attack["setting"], cfg.seed, (family, level))})
    lap("scoring")
    realism, weights = _realism_cost(ctx.run_dir, cfg, bank, attacks, crop)
    lap("realism")
    out = ctx.run_dir / "results"
    _write_csv(pd.DataFrame(results, columns=RESULT_COLUMNS), out / "adversarial.csv")
    _write_csv(pd.DataFrame(realism, columns=REALISM_COLUMNS), out / "adversarial_realism.csv")
    return {"enabled": True, "setting": setting, "target": target_name, "evaluators": list(evaluators),
            "attacks": [a["setting"] for a in attacks], "rows": len(results), "wall_s": times, "weights": weights}


def _evasive_fakes(ctx: StageContext, cfg: SuiteConfig, setting: str, label: str, detectors: list,
                   out: Path, identities: set[str] | None = None) -> pd.DataFrame:
    """Every (or the given) test person's FT model at the setting's T rebuilt with the
    evasion term against ``detectors``; self and cross fakes written like the generate
    stage's (``out/frames.csv``; the generator name in each PNG's provenance says
    'adversarial: evasion λ=… against …'). Returns the fake rows as a frame table."""
    from talkbench.detector.data import from_generated
    from talkbench.detector.differentiable import EvasionLoss
    from talkbench.device import select_device

    t = split_setting(setting)[1]
    cases = [c for c in fewshot_test_cases(run_dataset(ctx.run_dir), cfg)
             if c.T == t and (identities is None or c.identity in identities)]
    weight = cfg.adversarial.weight
    base = FewShotJob(out=out, setting=label, mode="FT", case=None, checkpoint=Path(result_of(ctx.run_dir, "train")["checkpoint"]),
                      ft=fine_tune_config(cfg), device=str(select_device(cfg.device)),
                      extra_loss=EvasionLoss(detectors, weight) if weight > 0 else None)  # λ = 0: plain FT exactly
    grid = sorted({c.identity for c in cases})[: cfg.fewshot.n_sample_grids]
    jobs = [dataclasses.replace(base, case=case, samples=out / "samples" if case.identity in grid else None)
            for case in sorted(cases, key=lambda c: c.identity)]
    frames = run_fewshot_jobs(ctx, jobs, f"FT {label}")
    _write_csv(frames, out / "frames.csv")
    table = from_generated(out / "frames.csv")
    return table[table.label == 1]


def _auc(det, bank: _Bank, setting: str, seed: int, post: tuple[str, float] | None = None) -> dict:
    """Frame-level AUC of ``det`` on the test people's real frames vs the setting's fakes
    (class-balanced), with its bootstrap CI over videos; ``post`` degrades both classes."""
    from talkbench.detector.data import select
    from talkbench.detector.metrics import auc, grouped_bootstrap_auc
    from talkbench.detector.perturb import Condition

    part = select(bank.table, "test", setting, seed=seed)
    x = bank.images[part.index.to_numpy()]
    if post is not None:
        x = Condition(*post).apply(x)
    p = det.predict_proba(x)
    y = part.label.to_numpy()
    lo, hi = grouped_bootstrap_auc(y, p, (part.label.astype(str) + "/" + part.video).to_numpy(), seed=seed)
    return {"auc": auc(y, p), "auc_ci_low": lo, "auc_ci_high": hi, "p_fake": float(p[y == 1].mean()),
            "n_real": int((y == 0).sum()), "n_fake": int((y == 1).sum()), "n_videos": int(part.video.nunique())}


def _realism_cost(run_dir: Path, cfg: SuiteConfig, bank: _Bank, attacks: list[dict], crop: int
                  ) -> tuple[list[dict], list[str]]:
    """Per attack, its self-reenactment fakes against the ground truth: SSIM, CSIM and the
    face-detection rate per person (mean, CI over people), FID/KID pooled; each beside the
    same numbers of plain FT (attack 'none') on the same people."""
    from talkbench.detector.data import load_crops
    from talkbench.faces import create_backend
    from talkbench.metrics.base import MetricResult

    backend = str(cfg.metrics.options.get("backend", "auto"))
    pooled = _Pooled()
    built, unavailable, faces = person_metrics(["ssim", "csim"], backend, "self")
    try:
        detector = faces.setdefault("detect", create_backend(backend, capability="detect"))
    except (TalkbenchError, ImportError) as exc:
        detector, no_detect = None, str(exc)
    frames = pd.read_csv(run_dir / "generated" / "frames.csv", keep_default_na=False)
    base = attacks[0]["setting"]
    truth_rel = frames[(frames.setting == base) & (frames.kind == "self")].set_index(["video", "frame"]).real_path
    truth = dict(zip(truth_rel.index, load_crops([str(run_dir / "generated" / p) for p in truth_rel], crop)))

    def measure(setting: str, people: set[str]) -> list[dict]:
        fakes = bank.fakes(setting)
        fakes = fakes[(fakes.kind == "self") & fakes.identity.isin(people)]
        per: dict[str, list] = {}
        rates = []
        if "embed" in faces:  # the setting's faces in one batch, not person by person (dlib: on every core)
            faces["embed"].prefetch_embeddings(list(bank.images[fakes.index.to_numpy()]) +
                                               [truth[(v, f)] for v, f in zip(fakes.video, fakes.frame)])
        for _, person in fakes.groupby("identity"):
            fake = bank.images[person.index.to_numpy()]
            real = np.stack([truth[(v, f)] for v, f in zip(person.video, person.frame)])
            for m in built:
                m.reset()
                m.update(list(fake), list(real))
                for r in m.compute_all():
                    per.setdefault(r.name, []).append(r)
            if detector is not None:
                found = [b is not None for b in detector.largest_faces(list(fake))]
                rates.append(MetricResult("face-detection rate", backend=detector.name, value=float(np.mean(found)),
                                          n=len(found), higher_is_better=True, bounds=(0.0, 1.0)))
        if rates:
            per["face-detection rate"] = rates
        rows = [over_people(v) for v in per.values()]
        rows += [result_row(r) for r in unavailable]
        if detector is None:
            rows.append(result_row(MetricResult.unavailable("face-detection rate", no_detect, True)))
        key = tuple(sorted(zip(fakes.video, fakes.frame)))
        reals = [truth[k] for k in key]
        rows += [result_row(r) for r in pooled(key, reals, bank.images[fakes.index.to_numpy()])]
        for row in rows:
            row["n_people"] = int(fakes.identity.nunique())
        return rows

    out, refs = [], {}
    for attack in attacks:
        people = set(bank.fakes(attack["setting"]).identity)
        key = frozenset(people)
        if key not in refs:
            refs[key] = {r["metric"]: r for r in measure(base, people)}
        rows = refs[key].values() if attack["attack"] == "none" else measure(attack["setting"], people)
        for r in rows:
            ref = refs[key].get(r["metric"], {}).get("value")
            value = r.get("value")
            delta = (value - ref if value is not None and ref is not None and np.isfinite(value) and np.isfinite(ref)
                     else None)
            out.append({**{k: attack[k] for k in ("round", "attack", "eps", "weight", "setting", "target")},
                        **{k: r.get(k) for k in ("metric", "value", "ci_low", "ci_high", "n_people", "status",
                                                 "reason")},
                        "reference": ref, "delta": delta})
    weights = sorted({w for f in faces.values() for w in f.weights_used()})
    return out, weights


class _Pooled:
    """FID and KID of fake sets against real sets, sharing one Inception network; each real
    set is embedded once however many attacks are compared with it."""

    def __init__(self, extractor=None) -> None:
        from talkbench.metrics.fid import FID, KID

        try:
            fid = FID(extractor)
            self.metrics, self.reason = [fid, KID(fid.extractor)], ""
        except (TalkbenchError, ImportError) as exc:  # no Inception weights here: say so in the rows
            self.metrics, self.reason = [], str(exc)
        self.real: dict[tuple, np.ndarray] = {}

    def __call__(self, key: tuple, reals: list[np.ndarray], fakes: np.ndarray) -> list:
        from talkbench.metrics.base import MetricResult

        if not self.metrics:
            return [MetricResult.unavailable(name, self.reason, False) for name in ("FID", "KID")]
        if key not in self.real:
            self.real[key] = self.metrics[0].embed(reals)
        feats = self.metrics[0].embed(list(fakes))
        out = []
        for m in self.metrics:
            m.reset()
            m.update_features(self.real[key], real=True)
            m.update_features(feats, real=False)
            out.append(m.compute())
        return out


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
