"""The methods section of a paper, written from the run's own records — config.yaml,
manifest.json, the stage records and the training run's manifest — never typed in: the
suite, data and splits, generator preset and schedule, the deviations the run recorded,
metrics and backends with their weights' checksums, detectors, seeds, software, hardware
and wall time. A fact the run did not record is said to be unrecorded."""

from __future__ import annotations

import json

from talkbench.reports.document import Section
from talkbench.reports.results import RunResults
from talkbench.reports.seeds import seed_of

UNRECORDED = "not recorded in this run"


def _result(run: RunResults, stage: str) -> dict:
    return (run.stages.get(stage) or {}).get("result") or {}


def _kv(d: dict) -> str:
    return ", ".join(f"{k} = {json.dumps(v) if isinstance(v, (list, dict)) else v}" for k, v in d.items()) or "defaults"


def _data(run: RunResults) -> str:
    cfg, data, gen, det = run.config, _result(run, "data"), _result(run, "generate"), _result(run, "detection")
    source = data.get("source")
    if source == "synthetic":
        what = f"synthetic faces rendered by talkbench ({_kv(cfg.get('synth') or {})})"
    elif source in ("prepared", "given"):
        what = f"videos from {cfg.get('data')} ({source}; preparation: {_kv(cfg.get('prepare') or {})})"
    else:
        what = f"data source {UNRECORDED}"
    fs = cfg.get("fewshot") or {}
    people = gen.get("n_people", UNRECORDED)
    split = det.get("split_identities")
    split_text = (", ".join(f"{k} {v}" for k, v in sorted(split.items())) + " identities") if split else UNRECORDED
    return (f"Data: {what}. Test people evaluated: {people}; generated frames: {gen.get('n_frames', UNRECORDED)}; "
            f"settings: {', '.join(gen.get('settings') or []) or UNRECORDED} (T ∈ {fs.get('shots')}, modes "
            f"{fs.get('modes')}, {fs.get('n_heldout')} held-out and {fs.get('n_cross')} cross-reenactment frames per "
            f"person). Detector split by identity: {split_text}.")


def _generator(run: RunResults) -> list[str]:
    cfg, train, tm = run.config, _result(run, "train"), run.train_manifest
    if train.get("source") == "given":
        out = [f"Generator: the given checkpoint {train.get('checkpoint')} (not trained in this run)."]
    else:
        out = [f"Generator: model {_kv(cfg.get('model') or {})}; meta-training {_kv(cfg.get('train') or {})}; "
               f"steps reached: {train.get('final_step', tm.get('final_step', UNRECORDED))}"
               + ("; stopped by the time limit" if train.get("stopped_by_time_limit") else "")
               + (f"; parameters {_kv(tm['parameters'])}" if tm.get("parameters") else "")
               + (f"; {tm['world_size']} process(es)" if tm.get("world_size") else "") + "."]
    out.append(f"Few-shot: {_fine_tuning(run)}; FF uses the meta-learned model as is.")
    notes = [tm[k] for k in sorted(tm) if k.endswith("_note") and tm[k]]
    out.append("Deviations recorded by the run: " + ("; ".join(notes) if notes else "none") + ".")
    return out


def _fine_tuning(run: RunResults) -> str:
    """FT as the generate stage applied it; for a run that did not record it, the suite's FT keys."""
    gen = _result(run, "generate")
    if "ft_steps_per_T" in gen:
        per_t = gen["ft_steps_per_T"]
        return (f"FT fine-tunes G, ψ' and D on each person's T shots for {' / '.join(map(str, per_t.values()))} steps "
                f"at T = {' / '.join(per_t)} ({_kv(gen.get('ft') or {})})")
    fs = run.config.get("fewshot") or {}
    if "FT" not in (fs.get("modes") or ["FT"]):
        return "no FT models (modes: FF)"
    return f"FT as the suite configured it ({_kv({k: v for k, v in fs.items() if k.startswith('ft_')})})"


def _metrics(run: RunResults) -> str:
    names = (run.config.get("metrics") or {}).get("names") or []
    rz = run.realism
    used = sorted({f"{m} ({b})" if b else str(m) for m, b, s in zip(rz.get("metric", []), rz.get("backend", []),
                                                                    rz.get("status", [])) if s == "ok"})
    missing = sorted({f"{m}: {r}" for m, r, s in zip(rz.get("metric", []), rz.get("reason", []), rz.get("status", []))
                      if s != "ok"})
    weights = run.manifest.get("weights") or []
    wtext = "; ".join(f"{w.get('name')} ({w.get('status')}"
                      + "".join(f", sha256 {f.get('sha256', '')[:16]}…" for f in w.get("files") or []) + ")"
                      for w in weights) or "none recorded"
    return (f"Metrics requested: {', '.join(names) or UNRECORDED}. Measured: {', '.join(used) or 'none'}. "
            f"Per-image metrics are averaged per person, with a Student-t 95 % CI over people; FID and KID are "
            f"computed on the pooled frames of a setting. Unavailable: {'; '.join(missing) or 'none'}. "
            f"Pretrained weights used: {wtext}.")


def _detectors(run: RunResults) -> str:
    d = run.config.get("detector") or {}
    return (f"Detectors: {', '.join(d.get('names') or []) or UNRECORDED}, trained per setting and tested on every "
            f"setting (options: {_kv(d.get('options') or {})}; robustness perturbations: "
            f"{'yes' if d.get('robustness') else 'no'}). AUC CIs: stratified bootstrap over test frames.")


def _wall(run: RunResults) -> float:
    return sum(float(rec.get("wall_s") or 0) for rec in run.stages.values())


def methods_section(runs: list[RunResults]) -> Section:
    """One run, or seed replicates of one suite (seeds and per-seed wall time listed)."""
    run = runs[0]
    m, cfg = run.manifest, run.config
    seeds = [seed_of(r) for r in runs]
    text = [f"Suite: {cfg.get('name', UNRECORDED)} — {cfg.get('description') or 'no description'}; config fingerprint "
            f"{m.get('config_fingerprint', UNRECORDED)}; command: {' '.join(m.get('command') or []) or UNRECORDED}.",
            _data(run), *_generator(run), _metrics(run), _detectors(run)]
    if len(runs) > 1:
        text.append(f"Seeds: {len(runs)} replicates, seeds {seeds}; each reruns the whole flow (data, training, "
                    "generation, metrics, detectors). Reported values are the mean over seeds with a Student-t 95 % "
                    "CI across seeds; the within-run CI over people is shown beside it.")
    else:
        text.append(f"Seed: {seeds[0] if seeds[0] is not None else UNRECORDED} (one run: CIs are over people only).")
    versions = m.get("versions") or {}
    text.append("Software: " + (", ".join(f"{k} {v}" for k, v in versions.items() if v) or UNRECORDED)
                + f"; git revision {m.get('git_revision', UNRECORDED)}.")
    text.append(f"Hardware: device {json.dumps(m.get('device', UNRECORDED))}; host {json.dumps(m.get('host', UNRECORDED))}.")
    walls = [_wall(r) for r in runs]
    stage_text = ", ".join(f"{n} {float(rec.get('wall_s') or 0):.1f} s" for n, rec in run.stages.items())
    if len(runs) > 1:
        text.append("Wall time per seed: " + ", ".join(f"seed {s}: {w:.1f} s" for s, w in zip(seeds, walls))
                    + f"; total {sum(walls):.1f} s. Stages of seed {seeds[0]}: {stage_text or UNRECORDED}.")
    else:
        text.append(f"Wall time: {walls[0]:.1f} s ({stage_text or UNRECORDED}); started {m.get('started')}, "
                    f"finished {m.get('finished')}.")
    return Section("Methods", text=text)
