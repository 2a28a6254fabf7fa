"""`talkbench report RUN [RUN...] [--out DIR]`: the HTML/Markdown/CSV/JSON report of one run,
or of several side by side (the first is the baseline that differences are measured from)."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run directories (written by `talkbench run`)")
    parser.add_argument("--out", help="report folder (default: RUN/report for one run, "
                                      "reports/compare-<names> for several)")


def run(args: argparse.Namespace) -> int:
    from talkbench.reports.build import build_report

    runs = [Path(p) for p in args.runs]
    if args.out:
        out = Path(args.out)
    elif len(runs) == 1:
        out = runs[0] / "report"
    else:
        out = Path("reports") / ("compare-" + "-".join(p.resolve().name for p in runs))
    paths = build_report(runs, out)
    print(f"report: {paths['html']}")
    print(f"markdown: {paths['markdown']}; every number: {paths['json']} and {paths['tables']}/")
    return 0
