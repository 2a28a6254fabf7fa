"""The `talkbench` command. Each subcommand lives in its own module exposing
``configure(parser)`` and ``run(args) -> int``; only the chosen one is imported, so
``talkbench --help`` is instant and one broken optional dependency cannot break the rest."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys

from talkbench import __version__
from talkbench.errors import TalkbenchError

# name -> (module, one-line help). Order is the order of the flow.
COMMANDS: dict[str, tuple[str, str]] = {
    "doctor": ("talkbench.doctor", "versions, device, face backends and weights available here"),
    "weights": ("talkbench.weights_cli", "status of every pretrained asset; download them"),
    "synth": ("talkbench.data.synth_cli", "render the synthetic talking-face dataset (offline default)"),
    "prepare": ("talkbench.data.prepare_cli", "prepare real videos: faces, 68 landmarks, crops, splits"),
    "train": ("talkbench.generator.train_cli", "meta-learn the talking-head generator (E, G, D)"),
    "fewshot": ("talkbench.generator.fewshot_cli", "build a person's FF or FT model from T frames"),
    "reenact": ("talkbench.generator.reenact_cli", "drive a few-shot model with landmarks: frames + mp4"),
    "metrics": ("talkbench.metrics.cli", "realism metrics between real and generated images"),
    "detect": ("talkbench.detector.cli", "train, evaluate and apply forgery detectors"),
    "attack": ("talkbench.benchmarks.attack_cli", "adversarial fakes against your detectors: PGD or evasive FT"),
    "run": ("talkbench.benchmarks.cli", "run a benchmark suite end to end (the main job)"),
    "report": ("talkbench.reports.cli", "HTML/Markdown/CSV report of one run or several side by side"),
    "study": ("talkbench.study.cli", "USER: the paper's user study as a local web app"),
    "provenance": ("talkbench.provenance_cli", "is a file talkbench output? C2PA manifest, metadata, watermark"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="talkbench",
        description="Few-shot talking-head forgeries: generate them, measure their realism, "
                    "train and evaluate detectors, publish reports.",
    )
    parser.add_argument("--version", action="version", version=f"talkbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--no-progress", action="store_true",
                       help="no progress bars (logs, CI); or set TALKBENCH_NO_PROGRESS=1")
        if name == command:
            importlib.import_module(module).configure(p)
    return parser


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (tests and progress bars swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging() -> None:
    """The library's messages (``logging.getLogger("talkbench....")``) on stderr, INFO and
    up, as ``talkbench: WARNING: ...``; once per process, whatever the command."""
    root = logging.getLogger("talkbench")
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("talkbench: %(levelname)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args, extra = parser.parse_known_args(argv)
    if extra:  # key=value overrides after options (`train DS OUT --resume steps=5`) land here
        if not hasattr(args, "overrides") or any(a.startswith("-") or "=" not in a for a in extra):
            parser.parse_args(argv)  # argparse's own message for what is really unknown
        args.overrides = list(args.overrides or []) + extra
    setup_logging()
    from talkbench.progress import progress_off

    try:
        with progress_off() if args.no_progress else contextlib.nullcontext():
            return int(importlib.import_module(COMMANDS[args.command][0]).run(args) or 0)
    except TalkbenchError as exc:
        print(f"talkbench {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except OSError as exc:  # read-only or full disk, a file where a folder must be, /proc, ...
        hint = " (a short write: is the disk full?)" if exc.errno is None and "written" in str(exc) else ""
        print(f"talkbench {args.command}: error: {exc}{hint}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"talkbench {args.command}: error: out of memory; use smaller sizes or batches", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"talkbench {args.command}: interrupted; finished work is kept, rerun to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
