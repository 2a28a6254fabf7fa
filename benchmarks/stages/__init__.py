"""The benchmark stages' bodies, one module per stage, named for it. Each body takes the
stage context and the suite config, calls the owning package's public API
(docs/CONTRACTS.md), writes its outputs atomically under the run directory and returns a
small JSON-able result that later stages read (dataset path, checkpoint path, counts).

Which stages run, in which order, and what each one reads is declared once, in
:mod:`talkbench.benchmarks.suite_stages`. The packages that load torch are imported inside
the bodies, so that listing the stages (``talkbench run --help``) stays instant.
"""
