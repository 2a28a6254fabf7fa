"""Performance tools, not library code: each module times a hot path beside its anchor (a
reference library on the same data) and prints the ratio. Run one with
``python -m talkbench.benchmarks.perf.<name> --help``; none assumes the repository layout
(data comes from options or ``$TALKBENCH_SHARED``)."""
