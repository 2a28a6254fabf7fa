"""`talkbench run [SUITE] [key=value ...]`: run or resume a benchmark suite end to end."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from talkbench.benchmarks.suite_stages import STAGE_NAMES
from talkbench.errors import TalkbenchError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", nargs="?", default="default",
                        help="suite name (quick, default, paper) or a .yaml path; default: %(default)s")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="config overrides, e.g. data=PATH checkpoint=PATH fewshot.shots=[1,8] seed=1")
    parser.add_argument("--out", help="run directory (default: runs/<suite name>); rerunning resumes it")
    parser.add_argument("--force", action="append", default=[], metavar="STAGE", choices=STAGE_NAMES,
                        help=f"redo this stage (and so the stages after it that use it); one of {', '.join(STAGE_NAMES)}")
    parser.add_argument("--seeds", type=int, metavar="N",
                        help="seed replicates: run the whole flow for seeds seed..seed+N-1 into OUT/seed-<s>/ and "
                             "report them together in OUT/report/ (or give seeds=[0,1,2])")
    parser.add_argument("--list", action="store_true", help="list the suites and the stages, then exit")


def run(args: argparse.Namespace) -> int:
    from talkbench.benchmarks.stage_runner import StageFailed, summary_table
    from talkbench.benchmarks.suite import SuiteConfig, load_suite, suite_names, suite_path
    from talkbench.benchmarks.suite_run import run_seeds, run_suite
    from talkbench.config import load_config

    suite, overrides = args.suite, list(args.overrides)
    if "=" in suite:  # `talkbench run key=value`: the default suite with overrides
        suite, overrides = "default", [suite, *overrides]
    if args.list:
        for name in suite_names():
            cfg = load_config(SuiteConfig, suite_path(name))  # listed, not validated for running
            print(f"{name:<8} {cfg.description}  ({suite_path(name)})")
        print("stages: " + " → ".join(STAGE_NAMES))
        return 0
    cfg = load_suite(suite, overrides)
    if args.seeds is not None:
        if args.seeds < 1:
            raise TalkbenchError(f"--seeds {args.seeds}: give a positive number of seeds")
        cfg = dataclasses.replace(cfg, seeds=tuple(range(cfg.seed, cfg.seed + args.seeds)))
    out = args.out or f"runs/{cfg.name}"
    command = ["talkbench", "run", *sys.argv[2:]]
    try:
        if cfg.seeds:
            for seed, reports in run_seeds(cfg, out, force=args.force, show_progress=not args.no_progress,
                                           command=command).items():
                print(f"seed {seed}:")
                print(summary_table(reports, f"{out}/seed-{seed}"))
        else:
            print(summary_table(run_suite(cfg, out, force=args.force, show_progress=not args.no_progress,
                                          command=command), out))
    except StageFailed as exc:
        where = exc.run_dir or out  # a seed's run directory under --seeds
        print(summary_table(exc.reports, where), file=sys.stderr)
        raise TalkbenchError(f"{exc} (the finished stages in {where} are kept; fix it and rerun the same "
                             "command to resume)") from None
    print(f"report: {out}/report/index.html")
    return 0
