"""Regular and editable installs both work in fresh virtual environments, and put nothing at
the top level of site-packages except `talkbench` (no bare `metrics`, `generator`, ...)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECK = """
import importlib.util, json, sys
import talkbench.metrics, talkbench.generator, talkbench.faces
print(json.dumps({"metrics": talkbench.metrics.__file__, "faces": talkbench.faces.__file__,
                  "bare": [n for n in ("metrics", "generator", "detector", "benchmarks", "reports")
                           if importlib.util.find_spec(n) is not None]}))
"""


def _fresh_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True).create(path)
    py = path / "bin" / "python"
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies of the current environment, visible but not installed again; the old
    # setuptools ensurepip puts in the venv would shadow the current one (and its bdist_wheel)
    (Path(site) / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([py, "-m", "pip", "uninstall", "-q", "-y", "setuptools"], check=True, capture_output=True,
                   env={"PATH": str(py.parent), "PIP_CONFIG_FILE": "/dev/null"})
    return py


def _pip(py: Path, *args: str) -> None:
    subprocess.run([py, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q", *args],
                   check=True, capture_output=True, text=True, cwd=REPO,
                   env={"PATH": str(py.parent), "PIP_CONFIG_FILE": "/dev/null", "HOME": str(py.parents[2])})


def _installed_top_level(py: Path, cwd: Path) -> set[str]:
    """Top-level names in the installed dist's RECORD (run outside the checkout, whose
    talkbench.egg-info would otherwise answer)."""
    out = subprocess.run([py, "-c", "import importlib.metadata as m; d = m.distribution('talkbench'); "
                                    "print('\\n'.join(str(f) for f in d.files))"],
                         capture_output=True, text=True, check=True, cwd=cwd).stdout.split()
    return {f.split("/")[0] for f in out if not f.startswith("..")}


def _check(py: Path, tmp: Path, expect_under: Path) -> None:
    import json

    out = subprocess.run([py, "-c", CHECK], capture_output=True, text=True, check=True, cwd=tmp)
    info = json.loads(out.stdout)
    assert info["bare"] == [], info
    assert Path(info["metrics"]).resolve().is_relative_to(expect_under.resolve()), info


@pytest.mark.slow
def test_regular_and_editable_installs(tmp_path):
    wheel_dir = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheel_dir), str(REPO)], check=True, capture_output=True, text=True)
    wheel = next(wheel_dir.glob("talkbench-*.whl"))

    regular = _fresh_venv(tmp_path / "regular")
    _pip(regular, str(wheel))
    site = Path(subprocess.run([regular, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True, cwd=tmp_path).stdout.strip())
    _check(regular, tmp_path, site / "talkbench")
    top = _installed_top_level(regular, tmp_path)
    assert {t for t in top if not t.endswith(".dist-info")} == {"talkbench"}, top
    assert (site / "talkbench" / "metrics").is_dir() and not (site / "metrics").exists()

    editable = _fresh_venv(tmp_path / "editable")
    _pip(editable, "-e", str(REPO))
    _check(editable, tmp_path, REPO / "metrics")
    script = editable.parent / "talkbench"
    out = subprocess.run([script, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "doctor" in out.stdout
