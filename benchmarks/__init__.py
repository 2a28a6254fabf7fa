"""Benchmark suites (named configs) and the staged, resumable runner; performance benchmarks
of the hot paths (`python -m talkbench.benchmarks.<name>`)."""
