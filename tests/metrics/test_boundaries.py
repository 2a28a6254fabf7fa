"""The metrics package stands alone: it never imports the generator (CONTRACTS.md)."""

import ast
from pathlib import Path

import talkbench.metrics


def test_metrics_never_import_the_generator():
    root = Path(talkbench.metrics.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.startswith("talkbench.generator") for n in names), path


def test_package_exports_resolve_lazily():
    from talkbench.metrics import MetricResult, compute_metrics

    assert callable(compute_metrics)
    row = MetricResult("X", None, status="unavailable", reason="r").as_row()
    assert row["status"] == "unavailable" and row["value"] != row["value"]  # NaN

