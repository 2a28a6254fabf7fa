"""Performance of the benchmark runner's and the reports' hot paths, each beside an anchor
measured side by side on the same machine:

- report build (tables, plots, HTML with inline images) of a run vs bare matplotlib
  drawing and saving the same number of panels (the plotting floor, which dominates);
  once with PNGs only (``--no-vector``) and once with the paper-size PDF (TrueType fonts
  embedded) and SVG too, against bare matplotlib saving the same three formats;
- a resumed run's skip check, the input fingerprint of a dataset folder, vs a bare
  ``os.scandir`` + ``stat`` walk of the same folder (the file-system floor).

Usage: ``python -m talkbench.benchmarks.perf.reports RUN`` (any finished run directory).
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path
from typing import Callable


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def panel_counts(run: Path) -> list[int]:
    """Panels of each figure a report of ``run`` draws (see talkbench.reports.plots)."""
    from talkbench.reports.results import load_run
    from talkbench.reports.tables import TABLE1_COLUMNS, detectors

    res = load_run(run)
    dets = detectors(res)
    counts = [len(TABLE1_COLUMNS)] * 2
    if dets:
        counts += [len(dets), len(dets)] + [1] * len(dets)
        counts += [res.robustness[res.robustness["detector"] == d]["perturbation"].nunique() for d in dets]
    return [c for c in counts if c]


def bare_matplotlib(panels: list[int], vector: bool = False) -> None:
    """The floor: figures with the same panel counts, one errorbar line each, saved as PNG
    (and, with ``vector``, drawn again and saved as PDF with embedded TrueType and as SVG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if vector:
        with plt.rc_context({"pdf.fonttype": 42, "svg.fonttype": "path"}):
            bare_matplotlib(panels)
            for n in panels:
                fig, axes = plt.subplots(1, n, figsize=(7.16, 2.5), squeeze=False)
                for ax in axes.flat:
                    ax.errorbar([1, 8, 32], [1.0, 2.0, 3.0], yerr=[0.1, 0.1, 0.1], marker="o")
                fig.tight_layout()
                for fmt in ("pdf", "svg"):
                    fig.savefig(io.BytesIO(), format=fmt)
                plt.close(fig)
        return
    for n in panels:
        fig, axes = plt.subplots(1 if n < 4 else 2, min(n, 4) if n >= 4 else n, figsize=(13.6, 5.6), squeeze=False)
        for ax in axes.flat:
            ax.errorbar([1, 8, 32], [1.0, 2.0, 3.0], yerr=[0.1, 0.1, 0.1], marker="o")
        fig.tight_layout()
        fig.savefig(io.BytesIO(), format="png", dpi=100)
        plt.close(fig)


def scandir_walk(root: Path) -> int:
    n = 0
    stack = [root]
    while stack:
        for entry in os.scandir(stack.pop()):
            if entry.is_dir():
                stack.append(Path(entry.path))
            else:
                entry.stat()
                n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    from talkbench.benchmarks.suite_stages import input_fingerprint
    from talkbench.reports.build import build_report

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a finished run directory (e.g. runs/quick)")
    args = parser.parse_args(argv)
    panels = panel_counts(args.run)
    for vector in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            ours = best_of(lambda: build_report([args.run], Path(tmp) / "rep", vector=vector), repeat=2)
        anchor = best_of(lambda: bare_matplotlib(panels, vector), repeat=2)
        what = "PNG + PDF + SVG" if vector else "PNG"
        print(f"report build ({what}): {ours:.2f} s for {len(panels)} plots ({sum(panels)} panels) + tables + HTML "
              f"+ LaTeX; bare matplotlib, same panels and formats: {anchor:.2f} s; ratio {ours / anchor:.2f}x")
    data = args.run / "data" / "dataset"
    if data.is_dir():
        n_files = scandir_walk(data)
        ours = best_of(lambda: input_fingerprint(data))
        anchor = best_of(lambda: scandir_walk(data))
        print(f"input fingerprint of {n_files} files: {ours * 1e3:.1f} ms; bare scandir+stat walk: "
              f"{anchor * 1e3:.1f} ms; ratio {ours / anchor:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
