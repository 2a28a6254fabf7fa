"""`talkbench metrics --real DIR --fake DIR`: realism metrics to JSON/CSV and a short table."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

from talkbench.config import bounded
from talkbench.errors import TalkbenchError
from talkbench.metrics.api import REGISTRY


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", required=True, type=Path, help="folder of real images")
    parser.add_argument("--fake", required=True, type=Path, help="folder of generated images")
    parser.add_argument("--pairs", choices=("by-name", "by-order", "none"), default="by-name",
                        help="pair fake and real images by file stem (ignoring _fake/_real), by sorted order, "
                             "or not at all (distribution metrics only)")
    parser.add_argument("--metrics", nargs="+", choices=list(REGISTRY), metavar="METRIC",
                        help=f"metrics to compute (default: all that fit the pairing); one of {', '.join(REGISTRY)}")
    parser.add_argument("--backend", choices=("auto", "dlib", "insightface", "fan"), default="auto",
                        help="face backend for CSIM, identity FD/KID and landmarks")
    parser.add_argument("--out", type=Path, help="write results to this .json or .csv file")
    parser.add_argument("--strict", action="store_true", help="fail if any metric is unavailable (missing weights)")
    parser.add_argument("--batch-size", type=bounded(int, 1), default=32, help="images per batch (default 32)")
    parser.add_argument("--people", metavar="REGEX", type=_people_pattern,
                        help="a regular expression whose first group is the person in each file name, e.g. "
                             "'^(id[0-9]+)_': FID and IFD then get a 95 %% jackknife interval over people")


def _people_pattern(text: str) -> re.Pattern:
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"not a regular expression ({exc})") from None
    if pattern.groups < 1:
        raise argparse.ArgumentTypeError("needs a group that captures the person, e.g. '^(id[0-9]+)_'")
    return pattern


def people_of(files: list[Path], pattern: re.Pattern, label: str) -> list[str]:
    """The person of each file, the first group of ``pattern`` searched in its name."""
    out = []
    for f in files:
        m = pattern.search(f.name)
        if m is None or not m.group(1):
            raise TalkbenchError(f"{label} file {f.name} does not match --people {pattern.pattern!r}: "
                                 "every file needs its person in the name")
        out.append(m.group(1))
    return out


def run(args: argparse.Namespace) -> int:
    from talkbench.metrics.api import compute_metrics

    if args.out is not None and args.out.suffix not in (".json", ".csv"):
        raise TalkbenchError(f"--out must end in .json or .csv, not {args.out.name}")
    groups = None
    if args.people is not None:
        from talkbench.media import list_images  # the files, in the order compute_metrics reads them

        real, fake = (people_of(list_images(folder), args.people, label)
                      for folder, label in ((args.real, "real"), (args.fake, "fake")))
        groups = (real, fake)
    results = compute_metrics(args.real, args.fake, metrics=args.metrics, pairs=args.pairs,
                              backend=args.backend, strict=args.strict, batch_size=args.batch_size,
                              progress=True, groups=groups)
    rows = [r.as_row() for r in results]
    if args.out is not None:
        _write(args.out, rows)
    print(format_table(results))
    if args.out is not None:
        print(f"wrote {args.out}")
    return 0


def _write(path: Path, rows: list[dict]) -> None:
    from talkbench.files import atomic_path, write_json

    if path.suffix == ".json":
        # NaN (a missing value in the numeric CSV columns) is not JSON: strict parsers reject it
        write_json(path, [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
                          for row in rows])
    else:
        import pandas as pd

        with atomic_path(path) as tmp:
            pd.DataFrame(rows).to_csv(tmp, index=False)


def format_table(results) -> str:
    """A short aligned table: metric, value [95 % CI], n, failed, or the unavailability reason."""
    lines = [f"{'metric':<20} {'value':>12}  {'95% CI / ± std':<24} {'n':>6} {'failed':>6}"]
    for r in results:
        if r.status != "ok":
            lines.append(f"{r.name:<20} {'unavailable':>12}  {r.reason}")
            continue
        spread = (f"± {r.std:.4g}" if r.std is not None else
                  f"[{r.ci_low:.4g}, {r.ci_high:.4g}]" if r.ci_low is not None else "")
        arrow = "↑" if r.higher_is_better else "↓"
        lines.append(f"{r.name + ' ' + arrow:<20} {r.value:>12.5g}  {spread:<24} {r.n:>6} {r.n_failed:>6}")
    return "\n".join(lines)
