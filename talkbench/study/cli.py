"""`talkbench study serve RUN` (the web app) and `talkbench study results RUN` (USER table)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
from pathlib import Path

from talkbench.config import bounded
from talkbench.errors import TalkbenchError


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="study_command", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="serve the study to participants on a local web server",
                           description="Serve the USER study of a run: three pictures of a person per screen, "
                                       "two real and one generated; participants click the generated one. "
                                       "State (image registry, attention images, responses) lives in RUN/study/.")
    serve.add_argument("run", type=Path, metavar="RUN", help="run directory with generated/frames.csv")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 exposes it to the network)")
    serve.add_argument("--port", type=int, metavar="N", default=8765, help="port (default 8765; 0 picks a free one)")
    serve.add_argument("--trials-per-participant", type=int, metavar="N", default=30,
                       help="test screens per participant, spread evenly over the settings (default 30)")
    serve.add_argument("--attention-checks", type=int, metavar="N", default=3,
                       help="extra screens with an obviously broken picture per participant (default 3)")
    serve.add_argument("--seed", type=int, metavar="N", default=0, help="seed of registration and trial sampling (default 0)")
    serve.add_argument("--max-participants", type=bounded(int, 1), metavar="N", default=500,
                       help="refuse new participants once the study has this many (default %(default)s)")

    results = sub.add_parser("results", help="USER per setting with 95%% CIs into RUN/results/user.csv",
                             description="USER per setting (fraction of fakes found; chance 1/3, lower = more "
                                         "realistic) with binomial 95% confidence intervals, excluding participants "
                                         "who failed attention checks. Writes RUN/results/user.csv.")
    results.add_argument("run", type=Path, metavar="RUN", help="run directory the study was served from")
    results.add_argument("--ci", choices=["wilson", "exact"], default="wilson",
                         help="Wilson score interval (default) or exact (Clopper-Pearson)")
    results.add_argument("--max-attention-errors", type=int, metavar="N", default=0,
                         help="exclude participants with more failed attention checks than this (default 0)")


def run(args: argparse.Namespace) -> int:
    return serve(args) if args.study_command == "serve" else results(args)


def serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from talkbench.study.app import create_app, db_path

    if not 0 <= args.port <= 65535:
        raise TalkbenchError(f"--port must be between 0 and 65535, got {args.port}")
    if not args.run.is_dir():
        raise TalkbenchError(f"{args.run} is not a run directory")
    app = create_app(args.run, args.trials_per_participant, args.attention_checks, args.seed, args.max_participants)
    registry = app.extensions["talkbench_study"]["registry"]
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except OSError as exc:
        raise TalkbenchError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"study of {args.run}: {len(registry.settings)} settings, {len(registry.clips)} clips, "
          f"{len(registry.images)} images registered ({len(registry.skipped)} clips skipped: too few frames)")
    if not _is_loopback(args.host):
        logging.getLogger(__name__).warning("listening on %s, reachable from other machines", args.host)
    print(f"open http://{host}:{server.server_port}/  (Ctrl-C stops; every answer is already saved)", flush=True)
    server.serve_forever()  # returns on Ctrl-C
    print(f"stopped; responses are in {db_path(args.run)}")
    return 0


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def results(args: argparse.Namespace) -> int:
    from talkbench.study.results import write_results

    out, table, s = write_results(args.run, args.ci, args.max_attention_errors)
    print(f"{'setting':<10} {'USER':>6}  {'95% CI':<15} {'trials':>6} {'people':>6}")
    for r in table.itertuples():
        user = f"{r.user:6.3f}" if r.n_trials else "     -"
        ci = f"[{r.ci_low:.3f}, {r.ci_high:.3f}]" if r.n_trials else "-"
        print(f"{r.setting:<10} {user}  {ci:<15} {r.n_trials:>6} {r.n_participants:>6}")
    print(f"participants: {s.n_participants} ({s.n_finished} finished), excluded for failed attention checks: "
          f"{s.n_excluded}; attention checks passed: {s.attention_correct}/{s.attention_answered}; chance USER = 0.333")
    print(f"wrote {out}")
    return 0
