"""The report section of the ``adversarial`` stage: detector AUC on clean, generator-
adversarial and PGD fakes (white-box, transfer, hardened, after post-processing) with each
attack's realism cost beside it. Reads ``results/adversarial.csv`` and
``results/adversarial_realism.csv`` (docs/CONTRACTS.md); self-contained, so the rest of the
report can change around it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from talkbench.reports.document import Section
from talkbench.reports.plots import as_figures, vector_plot
from talkbench.reports.tables import Cell, Table, _num

REALISM = (("SSIM", True), ("CSIM", True), ("face-detection rate", True), ("FID", False), ("KID", False))


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False) if path.is_file() else pd.DataFrame()


def attack_label(row: pd.Series) -> str:
    """'clean', 'evade λ=1', 'PGD ε=4/255'; '… vs hardened' for the second round."""
    kind = {"none": "clean", "evade": f"evade λ={float(row['weight']):g}",
            "pgd": f"PGD ε={int(row['eps'])}/255"}[str(row["attack"])]
    return f"{kind} vs hardened" if int(row["round"]) == 1 else kind



def auc_table(adv: pd.DataFrame) -> Table:
    """Attack × detector AUC (95 % CI over videos), no post-processing; * marks white-box."""
    part = adv[adv["post"].astype(str) == "none"].copy()
    part["label"] = part.apply(attack_label, axis=1)
    rows = list(dict.fromkeys(part["label"]))
    cols = list(dict.fromkeys(f"{d} ({e})" for d, e in zip(part["detector"], part["evaluator"])))
    cells = {}
    for _, r in part.iterrows():
        col = f"{r['detector']} ({r['evaluator']})"
        videos = _num(r.get("n_videos"))  # the CI's units: it resamples videos (absent in older runs)
        cells[(r["label"], col)] = Cell(_num(r["auc"]), _num(r["auc_ci_low"]), _num(r["auc_ci_high"]), status="ok",
                                        n=int(r["n_real"]) + int(r["n_fake"]), higher_is_better=True,
                                        units=None if videos is None else int(videos), unit="videos",
                                        reason="white-box: the attack was made against this detector"
                                        if str(r["white_box"]) == "True" else "")
    return Table("Detector AUC under attack (test people; 95 % CI over videos)", rows, cols, cells,
                 "Rows: the fakes scored; columns: the detector scoring them — attacked (round-0 attacks were made "
                 "against it: white-box), other-arch / other-seed (transfer), hardened (retrained with adversarial "
                 "fakes; the 'vs hardened' rows were made against it).")


def survival_table(adv: pd.DataFrame) -> Table | None:
    part = adv[adv["post"].astype(str) != "none"].copy()
    if part.empty:
        return None
    part["label"] = part.apply(attack_label, axis=1) + " · " + part["detector"].astype(str)
    rows = list(dict.fromkeys(part["label"]))
    cols = list(dict.fromkeys(part["post"].astype(str)))
    cells = {(r["label"], str(r["post"])): Cell(_num(r["auc"]), _num(r["auc_ci_low"]), _num(r["auc_ci_high"]),
                                                 status="ok", higher_is_better=True) for _, r in part.iterrows()}
    return Table("Survival: AUC after post-processing (both classes degraded alike)", rows, cols, cells)


def realism_table(real: pd.DataFrame) -> Table | None:
    if real.empty:
        return None
    real = real.copy()
    real["label"] = real.apply(attack_label, axis=1)
    rows = list(dict.fromkeys(real["label"]))
    cols, cells = [], {}
    for _, r in real.iterrows():
        name = next((m for m, _ in REALISM if str(r["metric"]).startswith(m)), None)
        if name is None:
            continue
        higher = dict(REALISM)[name]
        cols.append(name)
        ok = str(r["status"]) == "ok"
        cells[(r["label"], name)] = Cell(_num(r["value"]), _num(r["ci_low"]), _num(r["ci_high"]),
                                         status="ok" if ok else "unavailable", reason=str(r["reason"]),
                                         higher_is_better=higher)
    return Table("Realism cost of each attack (self-reenactment; clean = plain FT at the same T)", rows,
                 list(dict.fromkeys(cols)), cells, "Mean and 95 % CI over people; FID/KID pooled.")


@vector_plot
def figure(adv: pd.DataFrame, real: pd.DataFrame):
    """One glance: AUC per attack (groups) and detector (bars) with CIs; ΔSSIM under each group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    part = adv[adv["post"].astype(str) == "none"].copy()
    if part.empty:
        return None
    part["label"] = part.apply(attack_label, axis=1)
    part["col"] = part["detector"].astype(str) + " (" + part["evaluator"].astype(str) + ")"
    groups, bars = list(dict.fromkeys(part["label"])), list(dict.fromkeys(part["col"]))
    width = 0.8 / len(bars)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(groups) + 2), 3.6))
    for j, col in enumerate(bars):
        g = part[part["col"] == col].set_index("label").reindex(groups)
        y = g["auc"].astype(float).to_numpy()
        err = np.abs(np.vstack([y - g["auc_ci_low"].astype(float), g["auc_ci_high"].astype(float) - y]))
        ax.bar(np.arange(len(groups)) + (j - (len(bars) - 1) / 2) * width, y, width, yerr=err, capsize=2,
               label=col)
    ax.axhline(0.5, color="#777", lw=0.8, ls=":")
    ssim = {}
    if not real.empty:
        r = real[real["metric"].astype(str) == "SSIM"].copy()
        r["label"] = r.apply(attack_label, axis=1)
        ssim = {lab: _num(d) for lab, d in zip(r["label"], r["delta"])}
    ax.set_xticks(np.arange(len(groups)))
    ax.set_xticklabels([f"{g}\nΔSSIM {ssim[g]:+.3f}" if ssim.get(g) is not None else g for g in groups], fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("AUC (95 % CI over videos)")
    ax.set_title("Detectors under attack: white-box, transfer and hardened")
    ax.legend(fontsize=6, loc="lower left")
    fig.tight_layout()
    return fig


def adversarial_section(run_path: Path, prefix: str = "", title: str = "") -> Section | None:
    """The section, or None when the run has no adversarial results."""
    results = Path(run_path) / "results"
    adv, real = _read(results / "adversarial.csv"), _read(results / "adversarial_realism.csv")
    if adv.empty:
        return None
    target = adv.loc[adv["white_box"].astype(str) == "True", "target"].astype(str)
    sec = Section(f"Adversarial fakes and hardened detectors{title}",
                  text=[f"Setting {adv['setting'].iloc[0]}; attacked detector: {target.iloc[0] if len(target) else '—'}. "
                        "'evade' fakes come from FT with the evasion term λ·softplus(logit) of the frozen detector; "
                        "'PGD' perturbs finished FT fakes within an L∞ ball; the hardened detector is retrained with "
                        "both kinds of adversarial fakes of the train people. An attack that evades by destroying "
                        "the face shows in its realism cost."])
    sec.figures += as_figures(f"{prefix}adversarial", figure(adv, real),
                              "AUC under attack; ΔSSIM vs plain FT under each group")
    sec.tables.append(auc_table(adv))
    for t in (realism_table(real), survival_table(adv)):
        if t is not None:
            sec.tables.append(t)
    return sec
