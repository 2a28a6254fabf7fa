"""The README is the user's manual: its commands and weights table must match the code."""

from __future__ import annotations

from pathlib import Path

from talkbench.weights import ASSETS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_lists_every_asset():
    for asset in ASSETS.values():
        assert f"| `{asset.name}` | {asset.library} |" in README, asset.name


def test_readme_has_the_two_commands():
    assert 'pip install -e . && talkbench run' in README
    assert 'pip install -e ".[test]" && pytest' in README
    assert "non-commercial research use only" in README
