"""The realism stage: the metrics package's metrics per setting × kind, per person (mean
and CI over people) and on the pooled frames (set metrics); ``RUN/results/realism.csv``.
Also the per-person scoring that the adversarial stage's realism cost shares with it."""

from __future__ import annotations

import dataclasses
from typing import Literal, NoReturn

import numpy as np
import pandas as pd

from talkbench.benchmarks.stage_runner import StageContext
from talkbench.benchmarks.suite import SuiteConfig
from talkbench.contracts import FT_VS_FF_COLUMNS, REALISM_COLUMNS, SHOTS_COLUMNS
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path

EXTRAPOLATED = {"fid": "fid-inf", "ifd": "ifd-inf"}  # reported beside each other (FID∞: Chong & Forsyth 2020)
# Which metrics are set distances (one value per set of frames) and which need the ground-truth
# frame: the metrics registry says (MetricSpec.set_metric / .needs_pairs, from the classes).


def person_metrics(names: list[str], backend: str, kind: str) -> tuple[list, list, dict]:
    """The per-image metrics (metrics package classes), built once and shared across people:
    face backends load in seconds, so they are created once, not per person (and returned,
    so the run manifest can record their weights). A metric that cannot be built here comes
    back as an unavailable result."""
    from talkbench.faces import Capability, FaceBackend, create_backend
    from talkbench.metrics import api
    from talkbench.metrics.base import MetricResult

    faces: dict[str, FaceBackend] = {}

    def face(cap: Capability) -> FaceBackend:
        if cap not in faces:
            faces[cap] = create_backend(backend, capability=cap)
        return faces[cap]

    def no_inception() -> NoReturn:
        raise AssertionError("set metrics are computed on the pooled frames, not per person")

    ctx = api.BuildContext(backend, paired=kind == "self", inception=no_inception, faces=face, lpips_trunk=None)
    built, unavailable = [], []
    for name in names:
        spec = api.REGISTRY.get(name)
        if spec is None:
            raise TalkbenchError(f"metrics.names: unknown metric '{name}'; known: {', '.join(sorted(api.REGISTRY))}")
        if spec.set_metric or (kind == "cross" and spec.needs_pairs):
            continue
        try:
            built.append(spec.build(ctx))
        except (TalkbenchError, ImportError) as exc:
            unavailable.append(MetricResult.unavailable(spec.display_name(backend), str(exc), spec.higher_is_better))
    return built, unavailable, faces


def over_people(per_person: list) -> dict:
    """One realism row from per-person results of one metric: the mean over people with its
    Student-t 95 % CI over people (people, not frames, are the independent units), clipped
    to the metric's possible values."""
    from talkbench.metrics.base import mean_ci

    ok = [r for r in per_person if r.status == "ok" and r.value is not None]
    first = per_person[0]
    row = {"metric": first.name, "backend": first.backend, "n": sum(r.n for r in per_person),
           "n_failed": sum(r.n_failed for r in per_person), "higher_is_better": first.higher_is_better,
           "n_people": len(ok)}
    if not ok:
        return {**row, "value": None, "ci_low": None, "ci_high": None, "status": "unavailable",
                "reason": first.reason or "no person could be scored"}
    value, lo, hi = mean_ci(np.array([r.value for r in ok]), bounds=ok[0].bounds)
    return {**row, "value": value, "ci_low": lo, "ci_high": hi, "status": "ok", "reason": ""}


def result_row(result) -> dict:
    """A metrics-package ``MetricResult`` as a realism.csv row fragment."""
    row = result.as_row()
    row["metric"] = row.pop("name")
    return row


def _real_paths(part: pd.DataFrame, truth: pd.DataFrame, setting: str, kind: str) -> list[str]:
    """The real frames a group of fakes is compared with: its own ground truth (self), or
    the real held-out frames of each person being faked (cross), person by person."""
    return _reals(part, truth, setting, kind)["real_path"].tolist()


def _reals(part: pd.DataFrame, truth: pd.DataFrame, setting: str, kind: str) -> pd.DataFrame:
    """:func:`_real_paths` with whose frames they are (``identity``)."""
    if kind == "self":
        return part[["real_path", "identity"]]
    return pd.concat([truth[(truth["setting"] == setting) & (truth["identity"] == identity)][["real_path", "identity"]]
                      for identity in sorted(part["identity"].unique())])


@dataclasses.dataclass
class PersonValues:
    """One metric of one setting, person by person: per-person means (``how="t"``), or a set
    metric's leave-one-person-out values beside its full value (``how="jackknife"``)."""

    higher_is_better: bool
    how: Literal["t", "jackknife"]
    people: dict[str, float] = dataclasses.field(default_factory=dict)
    full: float | None = None


def paired_difference_row(a: PersonValues, b: PersonValues) -> dict | None:
    """``b`` minus ``a`` on the people both have, with its 95 % interval — Student-t over
    per-person differences, or the jackknife over people for set metrics (FID, IFD) — and
    whether ``b`` does better (interval clear of zero in the metric's better direction).
    None where no interval can be had (different kinds of values, too few shared people)."""
    from talkbench.metrics.base import mean_ci
    from talkbench.metrics.jackknife import MIN_GROUPS, paired_difference

    if a.how != b.how:
        return None
    if a.how == "jackknife":
        assert a.full is not None and b.full is not None
        diff, lo, hi, n = paired_difference(a.full, a.people, b.full, b.people)
        if n < MIN_GROUPS:  # no spread to estimate: a zero-width "interval" would claim a difference
            return None
    else:
        common = sorted(set(a.people) & set(b.people))
        if len(common) < 2:
            return None
        diff, lo, hi = mean_ci(np.array([b.people[p] - a.people[p] for p in common]))
        n = len(common)
    better = lo > 0 if a.higher_is_better else hi < 0
    worse = hi < 0 if a.higher_is_better else lo > 0
    verdict = "better" if better else "worse" if worse else "no difference"
    return {"diff": diff, "ci_low": lo, "ci_high": hi, "n_people": n, "interval": a.how,
            "higher_is_better": a.higher_is_better, "verdict": verdict}


ByPerson = dict[tuple[str, str, str], dict[int, PersonValues]]  # (mode, kind, metric) → T → values


def shots_differences(by_person: ByPerson) -> pd.DataFrame:
    """Each mode × kind × metric, each pair of consecutive T and, with more than two, the
    fewest against the most shots (the span the report's findings state): the metric at more
    shots minus at fewer, paired over the same people (:func:`paired_difference_row`)."""
    rows = []
    for (mode, kind, metric), per_t in by_person.items():
        ts = sorted(per_t)
        for t_a, t_b in list(zip(ts, ts[1:])) + ([(ts[0], ts[-1])] if len(ts) > 2 else []):
            row = paired_difference_row(per_t[t_a], per_t[t_b])
            if row is not None:
                rows.append({"mode": mode, "kind": kind, "metric": metric, "T_a": t_a, "T_b": t_b, **row})
    return pd.DataFrame(rows, columns=SHOTS_COLUMNS)


def ft_vs_ff_differences(by_person: ByPerson) -> pd.DataFrame:
    """Each kind × metric × T that has both models: FT minus FF, paired over the same people
    (the same held-out frames and drivers; :func:`paired_difference_row`)."""
    rows = []
    for (mode, kind, metric), ft in by_person.items():
        ff = by_person.get(("FF", kind, metric), {}) if mode == "FT" else {}
        for t in sorted(set(ft) & set(ff)):
            row = paired_difference_row(ff[t], ft[t])
            if row is not None:
                rows.append({"kind": kind, "metric": metric, "T": t, **row})
    return pd.DataFrame(rows, columns=FT_VS_FF_COLUMNS)


def realism_stage(ctx: StageContext, cfg: SuiteConfig) -> dict:
    """Realism per setting × kind: per-image metrics (SSIM, PSNR, L1, LPIPS, CSIM, NME ...)
    per person, then the mean and CI over people; set metrics (FID, KID and their identity-
    space versions) on the pooled frames, FID and IFD at one common n per set across all
    settings (random subsets) beside their extrapolation FID∞ / IFD∞ on all frames, FID and
    IFD with a jackknife interval over people. Self-reenactment compares with the ground-truth
    frame; cross-reenactment with the real frames of the person being faked (unpaired).
    Also, paired over the same people: ``results/realism_vs_shots.csv``, each metric's change
    from one T to the next (:func:`shots_differences`), and ``results/realism_ft_vs_ff.csv``,
    FT against FF at each T (:func:`ft_vs_ff_differences`)."""
    from talkbench.media import read_image
    from talkbench.metrics import api

    gen = ctx.run_dir / "generated"
    frames = pd.read_csv(gen / "frames.csv", keep_default_na=False)
    names = list(cfg.metrics.names)
    backend = str(cfg.metrics.options.get("backend", "auto"))
    per_kind = {kind: person_metrics(names, backend, kind) for kind in ("self", "cross")}
    truth = frames[frames["kind"] == "self"]
    cache: dict[str, np.ndarray] = {}

    def load(rel: str) -> np.ndarray:
        if rel not in cache:
            cache[rel] = read_image(gen / rel)
        return cache[rel]

    rows = []
    groups = list(frames.groupby(["setting", "kind"], sort=False))
    # FID is biased by the sample size: every setting's FID/IFD at the same n per set.
    common_n = min(min(len(part), len(_real_paths(part, truth, setting, kind)))
                   for (setting, kind), part in groups) if groups else None
    wanted = [n for n in names if n in api.REGISTRY and api.REGISTRY[n].set_metric]
    wanted += [EXTRAPOLATED[n] for n in wanted if n in EXTRAPOLATED and EXTRAPOLATED[n] not in wanted]
    by_person: ByPerson = {}
    for (setting, kind), part in ctx.progress(groups, total=len(groups), desc="metrics per setting"):
        mode, t = str(part["mode"].iloc[0]), int(part["T"].iloc[0])
        built, unavailable, faces = per_kind[kind]
        if "embed" in faces:  # the group's faces in one batch, not person by person (dlib: on every core)
            faces["embed"].prefetch_embeddings([load(p) for p in part["fake_path"]] +
                                               [load(p) for p in _real_paths(part, truth, setting, kind)])
        per_metric: dict[str, list] = {}
        for identity, person in part.groupby("identity"):
            real_rel = _real_paths(person, truth, setting, kind)
            fakes, reals = [load(p) for p in person["fake_path"]], [load(p) for p in real_rel]
            for m in built:
                m.reset()
                m.update(fakes, reals)
                for r in m.compute_all():
                    per_metric.setdefault(r.name, []).append(r)
                    if r.status == "ok" and r.value is not None:
                        values = by_person.setdefault((mode, kind, r.name), {}).setdefault(
                            t, PersonValues(r.higher_is_better, "t"))
                        values.people[str(identity)] = float(r.value)
        results = [over_people(v) for v in per_metric.values()] + [result_row(r) for r in unavailable]
        if wanted:
            reals_all = _reals(part, truth, setting, kind)
            pooled = api.compute_metrics([str(gen / p) for p in reals_all["real_path"]],
                                         [str(gen / p) for p in part["fake_path"]], wanted, pairs="none",
                                         backend=backend, common_n=common_n,
                                         groups=(reals_all["identity"].tolist(), part["identity"].tolist()))
            results += [{**result_row(r), "n_people": part["identity"].nunique()} for r in pooled]
            for r in pooled:
                if r.loo and r.value is not None:
                    by_person.setdefault((mode, kind, r.name), {})[t] = PersonValues(
                        r.higher_is_better, "jackknife", dict(r.loo), r.value)
        for r in results:
            rows.append({"setting": setting, "mode": mode, "T": t, "kind": kind,
                         **{k: r.get(k) for k in REALISM_COLUMNS[4:]}})
    df = pd.DataFrame(rows, columns=REALISM_COLUMNS)
    with atomic_path(ctx.run_dir / "results" / "realism.csv") as tmp:
        df.to_csv(tmp, index=False)
    with atomic_path(ctx.run_dir / "results" / "realism_vs_shots.csv") as tmp:
        shots_differences(by_person).to_csv(tmp, index=False)
    with atomic_path(ctx.run_dir / "results" / "realism_ft_vs_ff.csv") as tmp:
        ft_vs_ff_differences(by_person).to_csv(tmp, index=False)
    weights = {w for _, _, faces in per_kind.values() for f in faces.values() for w in f.weights_used()}
    if ((df["status"] == "ok") & df["backend"].astype(str).str.startswith("pytorch-fid")).any():
        weights.add("inception-fid")  # the manifest records its file, sha256 and provenance
    return {"rows": len(df), "unavailable": sorted(df.loc[df["status"] != "ok", "metric"].unique().tolist()),
            "weights": sorted(weights), "common_n": common_n}
