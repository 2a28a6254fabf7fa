"""The paper's published Table 1 (Zakharov et al., ICCV 2019), kept as data so every report
can show it beside a run's numbers. These are published figures on VoxCeleb at 256 px —
not something this suite measured."""

from __future__ import annotations

import pandas as pd

LABEL = "published figures, VoxCeleb, 256 px (Zakharov et al., ICCV 2019, Table 1)"
NOTE = ("Published, not measured here. FID of 'ours' (VoxCeleb1 43.0/38.0/29.5, VoxCeleb2 FT 48.5/42.2/30.6) "
        "is confirmed from a public leaderboard; the other cells are as recalled from the paper "
        "(talkbench's PAPER.md) and unconfirmed. USER: fraction of correct fake picks among three images "
        "(lower is better).")
CONFIRMED_FID = {("VoxCeleb1", "ours", 1), ("VoxCeleb1", "ours", 8), ("VoxCeleb1", "ours", 32),
                 ("VoxCeleb2", "ours-FT", 1), ("VoxCeleb2", "ours-FT", 8), ("VoxCeleb2", "ours-FT", 32)}

# set, method, T, FID (lower better), SSIM, CSIM, USER (lower better)
_ROWS = [
    ("VoxCeleb1", "X2Face", 1, 45.8, 0.68, 0.16, 0.62),
    ("VoxCeleb1", "Pix2pixHD", 1, 42.7, 0.56, 0.09, 0.93),
    ("VoxCeleb1", "ours", 1, 43.0, 0.67, 0.15, 0.62),
    ("VoxCeleb1", "X2Face", 8, 51.5, 0.73, 0.17, 0.61),
    ("VoxCeleb1", "Pix2pixHD", 8, 35.1, 0.64, 0.12, 0.70),
    ("VoxCeleb1", "ours", 8, 38.0, 0.71, 0.17, 0.46),
    ("VoxCeleb1", "X2Face", 32, 56.5, 0.75, 0.18, 0.62),
    ("VoxCeleb1", "Pix2pixHD", 32, 24.0, 0.70, 0.16, 0.71),
    ("VoxCeleb1", "ours", 32, 29.5, 0.74, 0.19, 0.33),
    ("VoxCeleb2", "ours-FF", 1, 46.1, 0.61, 0.42, 0.43),
    ("VoxCeleb2", "ours-FT", 1, 48.5, 0.64, 0.35, 0.46),
    ("VoxCeleb2", "ours-FF", 8, 42.2, 0.64, 0.47, 0.40),
    ("VoxCeleb2", "ours-FT", 8, 42.2, 0.68, 0.42, 0.39),
    ("VoxCeleb2", "ours-FF", 32, 40.4, 0.65, 0.48, 0.38),
    ("VoxCeleb2", "ours-FT", 32, 30.6, 0.72, 0.45, 0.33),
]


def table1() -> pd.DataFrame:
    """The published table, one row per (set, method, T)."""
    df = pd.DataFrame(_ROWS, columns=["set", "method", "T", "FID", "SSIM", "CSIM", "USER"])
    df["FID confirmed"] = [(s, m, t) in CONFIRMED_FID for s, m, t in zip(df["set"], df["method"], df["T"])]
    return df


def ours_by_mode() -> pd.DataFrame:
    """The VoxCeleb2 rows of the paper's own method as mode (FF/FT) × T, the layout of a
    run's table, for plotting the published values beside measured ones."""
    df = table1()
    df = df[(df["set"] == "VoxCeleb2") & df["method"].str.startswith("ours-")].copy()
    df["mode"] = df["method"].str.removeprefix("ours-")
    return df[["mode", "T", "FID", "SSIM", "CSIM", "USER"]].reset_index(drop=True)
