"""The command line as a user meets it: subprocesses, offline, no weights but dlib's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from talkbench.cli import COMMANDS
from talkbench.weights import ASSETS

REPO = Path(__file__).resolve().parents[2]


def talkbench(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "talkbench", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=REPO)


@pytest.fixture
def no_weights_env(empty_weights) -> dict:
    return {k: os.environ[k] for k in ("TALKBENCH_WEIGHTS", "TORCH_HOME", "INSIGHTFACE_HOME")}


def test_doctor_reports_dlib_and_missing_weights(no_weights_env, empty_weights):
    out = talkbench("doctor", "--json", env=no_weights_env)
    assert out.returncode == 0, out.stderr  # the default suite only needs dlib
    report = json.loads(out.stdout)
    assert report["default_suite_ready"] is True
    assert all(c["available"] for c in report["face_backends"]["dlib"].values())
    assert report["face_backends"]["fan"]["landmarks"]["available"] is False
    assert report["versions"]["torch"] and report["device"]["selected"]["type"] in ("cpu", "cuda", "mps")
    weights = {w["name"]: w for w in report["weights"]}
    assert set(weights) == set(ASSETS)
    s3fd = weights["fan-s3fd"]
    assert s3fd["status"] == "missing"
    assert str(empty_weights / "torch/hub/checkpoints/s3fd-619a316812.pth") in s3fd["searched"]
    text = talkbench("doctor", env=no_weights_env).stdout
    assert "fetch: talkbench weights download fan-s3fd" in text and "default suite: ready" in text


def test_weights_status_table_and_json(no_weights_env, empty_weights):
    out = talkbench("weights", "status", env=no_weights_env)
    assert out.returncode == 0
    for name in ASSETS:
        assert name in out.stdout
    assert "dlib-landmarks68       present" in out.stdout
    assert f"searched {empty_weights / 'tw/insightface/models/buffalo_l/det_10g.onnx'}" in out.stdout
    records = json.loads(talkbench("weights", "status", "--json", env=no_weights_env).stdout)
    assert {r["name"]: r["status"] for r in records}["alexnet"] == "missing"


def test_weights_download_fails_in_one_line_per_asset(no_weights_env):
    out = talkbench("weights", "download", "vggface", "nosuch", env=no_weights_env)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0 and "unknown weights 'nosuch'" in out.stderr
    out = talkbench("weights", "download", "vggface", env=no_weights_env)
    assert out.returncode == 2 and "vggface: cannot be downloaded automatically" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_weights_download_offline(no_weights_env):
    import socket

    try:
        socket.getaddrinfo("www.adrianbulat.com", 443)
        pytest.skip("this machine is online; the offline message cannot be seen here")
    except OSError:
        pass
    out = talkbench("weights", "download", "fan-s3fd", "buffalo_sc", env=no_weights_env)
    assert out.returncode == 2 and "Traceback" not in out.stdout + out.stderr
    lines = [l for l in out.stdout.splitlines() if l.startswith(("fan-s3fd:", "buffalo_sc:"))]
    assert len(lines) == 2 and all("no network" in l for l in lines), out.stdout
    assert "2 of 2 download(s) failed" in out.stderr


def test_help_lists_every_command_and_each_has_help():
    out = talkbench("--help")
    assert out.returncode == 0
    for name in COMMANDS:
        assert name in out.stdout
    broken = {}
    for name in COMMANDS:
        res = talkbench(name, "--help")
        if res.returncode != 0 or "usage:" not in res.stdout:
            broken[name] = (res.stderr.strip().splitlines() or ["?"])[-1]
    assert not broken, broken
