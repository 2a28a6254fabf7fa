"""`talkbench report RUN [RUN...] [--out DIR]`: the HTML/Markdown/LaTeX/CSV/JSON report of one
run, of seed replicates (runs of one config differing only in seed, or a `--seeds` run folder:
aggregated over seeds), or of several side by side (the first is the baseline)."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="run directories (written by `talkbench run`; a `--seeds` run folder stands for its seeds)")
    parser.add_argument("--out", help="report folder (default: RUN/report for one run, "
                                      "reports/compare-<names> for several)")
    parser.add_argument("--no-vector", action="store_true",
                        help="skip the paper-size PDF/SVG plots (about 3x faster; PNGs and tables still written)")


def run(args: argparse.Namespace) -> int:
    from talkbench.reports.build import build_report

    runs = [Path(p) for p in args.runs]
    if args.out:
        out = Path(args.out)
    elif len(runs) == 1:
        out = runs[0] / "report"
    else:
        out = Path("reports") / ("compare-" + "-".join(p.resolve().name for p in runs))
    paths = build_report(runs, out, vector=not args.no_vector)
    print(f"report: {paths['html']}")
    print(f"markdown: {paths['markdown']}; every number: {paths['json']} and {paths['tables']}/")
    return 0
