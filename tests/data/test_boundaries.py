"""talkbench.data sits below the packages that consume it (docs/CONTRACTS.md): no module of
it imports the generator, the metrics, the detectors, the benchmarks or the reports."""

import ast
from pathlib import Path

import talkbench.data

ABOVE = ("talkbench.generator", "talkbench.metrics", "talkbench.detector", "talkbench.benchmarks",
         "talkbench.reports")


def test_data_imports_nothing_above_it():
    paths = sorted(Path(talkbench.data.__file__).parent.glob("*.py"))
    assert len(paths) >= 9
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n.startswith(ABOVE)], path
