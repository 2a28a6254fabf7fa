"""Reliability of the shared plumbing (issue 12, items 2, 4 and 5): config numbers checked in
one place with their range in the message, invalid YAML and OS errors as one line, key=value
overrides in any order, stale temporaries of killed writers removed, pool workers that die
with their parent, and the weights checksum."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from talkbench.checksum import stamp_weights, verify_weights, weights_sha256
from talkbench.cli import main
from talkbench.config import LIMITS, bounded, int_list, load_config
from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path, read_json, remove_stale_temporaries, write_bytes


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("override, allowed", [
    ("batch_size=0", ">= 1"), ("steps=0", ">= 1"), ("steps=-5", ">= 1"), ("lr_g=nan", "> 0"),
    ("lr_d=-1", "> 0"), ("beta2=1.0", "< 1"), ("model.image_size=100000", "<= 2048"), ("threads=-1", ">= 0"),
])
def test_train_config_ranges(override, allowed):
    from talkbench.generator.train_config import TrainConfig

    with pytest.raises(TalkbenchError) as exc:
        load_config(TrainConfig, None, [override])
    msg = str(exc.value)
    assert override.split("=")[0] in msg and "out of range" in msg and allowed in msg and "\n" not in msg


@pytest.mark.parametrize("cls_path, override", [
    ("talkbench.detector.train:DetectorTrainConfig", "lr=-1"),
    ("talkbench.detector.train:DetectorTrainConfig", "epochs=0"),
    ("talkbench.data.prepare:PrepareConfig", "frames=0"),
    ("talkbench.data.prepare:PrepareConfig", "size=-5"),
    ("talkbench.data.synth:SynthConfig", "size=100000"),
])
def test_other_config_ranges(cls_path, override):
    import importlib

    mod, name = cls_path.split(":")
    with pytest.raises(TalkbenchError, match="out of range; allowed"):
        load_config(getattr(importlib.import_module(mod), name), None, [override])


def test_every_limit_names_a_real_key():
    """A typo in LIMITS would silently check nothing."""
    import dataclasses

    from talkbench.benchmarks.suite import ChecksSection, FewShotSection
    from talkbench.data.prepare import PrepareConfig
    from talkbench.data.synth import SynthConfig
    from talkbench.detector.train import DetectorTrainConfig
    from talkbench.generator.ft_config import FineTuneConfig
    from talkbench.generator.losses import LossConfig
    from talkbench.generator.model import ModelConfig
    from talkbench.generator.train_config import TrainConfig

    keys = {f.name for c in (TrainConfig, ModelConfig, LossConfig, FineTuneConfig, PrepareConfig, SynthConfig,
                             DetectorTrainConfig, FewShotSection, ChecksSection) for f in dataclasses.fields(c)}
    assert {k.split(".")[-1] for k in LIMITS} <= keys


def test_defaults_are_inside_their_ranges():
    from talkbench.benchmarks.suite import load_suite, suite_names

    for name in suite_names():
        if name != "paper":
            load_suite(name)  # each section validated at load


def test_suite_section_checked_at_load():
    from talkbench.benchmarks.suite import load_suite

    with pytest.raises(TalkbenchError, match=r"train\.batch_size.*allowed: >= 1"):
        load_suite("quick", ["train.batch_size=0"])


def test_invalid_yaml_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [1, 2\nlr_g: {\n")
    assert main(["train", str(tmp_path), str(tmp_path / "out"), "--config", str(bad)]) == 2
    err = _err(capsys)
    assert "not valid YAML" in err and "line" in err and err.count("\n") == 0
    assert main(["run", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "not valid YAML" in _err(capsys)


def test_overrides_after_options(tmp_path, capsys):
    """`train DS OUT --resume steps=0` used to be 'unrecognized arguments'."""
    assert main(["train", str(tmp_path), str(tmp_path / "out"), "--quiet", "steps=0"]) == 2
    err = _err(capsys)
    assert "'steps': 0 is out of range" in err and "unrecognized" not in err
    with pytest.raises(SystemExit):  # a real unknown option is still argparse's error
        main(["train", str(tmp_path), str(tmp_path / "out"), "--bogus", "steps=1"])


def test_bounded_cli_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["metrics", "--real", ".", "--fake", ".", "--batch-size", "-3"])
    assert exc.value.code == 2 and "allowed: >= 1" in capsys.readouterr().err
    parse = bounded(float, 0, 1000, open_low=True)
    assert parse("25") == 25.0
    for text in ("-5", "0", "nan", "inf", "x"):
        with pytest.raises(Exception):
            parse(text)


def test_int_list_cli_options(capsys):
    from talkbench.benchmarks.perf.generator import main as perf_generator
    from talkbench.generator.evaluate import main as evaluate

    assert int_list(1)("1, 8,32") == [1, 8, 32]
    for argv, message in ((["ckpt", "data", "--shots", "1,0"], "0 is out of range; allowed: >= 1"),
                          (["ckpt", "data", "--ft-shots", "8,x"], "'x' is not a valid int")):
        with pytest.raises(SystemExit) as exc:
            evaluate(argv)
        assert exc.value.code == 2 and message in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # a size without a preset is a usage error, not a KeyError
        perf_generator(["--sizes", "64,65"])
    assert exc.value.code == 2 and "give sizes among 64, 128, 256" in capsys.readouterr().err


@pytest.mark.parametrize("out", ["/proc/talkbench-test", "FILE/sub", "RO/out"])
def test_os_errors_are_one_line(tmp_path, capsys, out):
    (tmp_path / "FILE").write_text("a file, not a folder")
    ro = tmp_path / "RO"
    ro.mkdir()
    ro.chmod(0o500)
    if os.geteuid() == 0 and out.startswith("RO"):
        pytest.skip("root ignores folder permissions")  # the /proc case covers a read-only place
    target = out if out.startswith("/") else str(tmp_path / out)
    code = main(["synth", target, "--identities", "2", "--videos", "1", "--frames", "2", "--test-frames", "2",
                 "--size", "16", "--workers", "1"])
    assert code == 2
    err = _err(capsys)
    assert err.startswith("talkbench synth: error:") and err.count("\n") == 0


def test_disk_full_is_one_line(monkeypatch, tmp_path, capsys):
    import talkbench.files as files

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "replace", full)
    assert main(["synth", str(tmp_path / "o"), "--identities", "2", "--videos", "1", "--frames", "2",
                 "--test-frames", "2", "--size", "16", "--workers", "1"]) == 2
    assert "No space left on device" in _err(capsys)


def test_corrupt_json_names_the_file(tmp_path):
    bad = tmp_path / "manifest.json"
    bad.write_text('{"stages": [1, 2')
    with pytest.raises(TalkbenchError, match="manifest.json is not valid JSON"):
        read_json(bad)


def test_stale_temporary_of_a_killed_writer_is_removed(tmp_path):
    target = tmp_path / "checkpoint.pt"
    code = ("import os, sys\nfrom talkbench.files import atomic_path\n"
            f"with atomic_path({str(target)!r}) as tmp:\n"
            "    tmp.write_bytes(b'x' * 100000)\n    os.kill(os.getpid(), 9)\n")
    subprocess.run([sys.executable, "-c", code], check=False)
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".checkpoint.pt.")]
    assert len(left) == 1 and left[0].stat().st_size == 100000  # what a kill leaves
    write_bytes(target, b"new")  # a later run's write in the same folder sweeps it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


def test_live_writers_temporary_is_kept(tmp_path):
    target = tmp_path / "f.bin"
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        assert remove_stale_temporaries(tmp_path) == [] and tmp.exists()
    assert target.read_bytes() == b"half"


def test_pool_workers_die_with_their_parent(tmp_path):
    pids = tmp_path / "pids"
    code = (
        "import os, sys, time\nfrom concurrent.futures import ProcessPoolExecutor\n"
        "from talkbench.processes import die_with_parent\n"
        "def work(i):\n    time.sleep(120)\n"
        "def pid(i):\n    time.sleep(0.3)\n    return os.getpid()\n"
        "if __name__ == '__main__':\n"
        "    pool = ProcessPoolExecutor(2, initializer=die_with_parent)\n"
        "    ids = set(pool.map(pid, range(4)))\n"
        f"    open({str(pids)!r}, 'w').write(' '.join(map(str, ids)))\n"
        "    [pool.submit(work, i) for i in range(2)]\n    time.sleep(120)\n")
    script = tmp_path / "parent.py"
    script.write_text(code)
    parent = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.time() + 60
        while not (pids.exists() and pids.read_text()) and time.time() < deadline:
            time.sleep(0.1)
        workers = [int(p) for p in pids.read_text().split()]
        assert workers
        time.sleep(0.5)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.time() + 10
        alive = workers
        while alive and time.time() < deadline:
            time.sleep(0.1)
            alive = [p for p in workers if _running(p)]
        assert alive == [], f"orphaned workers {alive}"
    finally:
        if parent.poll() is None:
            parent.kill()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(")")[-1].split()[0] == "Z")


def test_checksum_detects_one_changed_value():
    import torch

    state = stamp_weights({"G": {"w": torch.arange(6.0).reshape(2, 3)}, "psi": np.ones(4, np.float32)}, ["G", "psi"])
    verify_weights(state, ["G", "psi"], "x.pt")
    state["G"]["w"][1, 2] = 5.0000005
    with pytest.raises(TalkbenchError, match="checksum"):
        verify_weights(state, ["G", "psi"], "x.pt")
    assert weights_sha256({"a": np.zeros(3, np.float32)}) != weights_sha256({"a": np.zeros(3, np.float64)})


def test_string_keys_take_the_text_as_is():
    """`loss.vgg19=off` used to become False (YAML 1.1) and fail as "got 'False'"."""
    from talkbench.generator.train_config import TrainConfig

    cfg = load_config(TrainConfig, None, ["loss.vgg19=off", "device=on", "steps=3"])
    assert cfg.loss.vgg19 == "off" and cfg.device == "on" and cfg.steps == 3


def test_failed_torch_write_is_an_os_error(monkeypatch, tmp_path):
    import pathlib

    import torch

    from talkbench.files import save_torch_file

    def full(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pathlib.Path, "write_bytes", full)
    with pytest.raises(OSError, match="No space left on device"):
        save_torch_file({"a": torch.zeros(2)}, tmp_path / "x.pt")
    assert list(tmp_path.iterdir()) == []  # no temporary left behind


def test_torch_files_are_the_same_bytes_for_the_same_object(tmp_path):
    """Their sha256 is recorded (manifests, the converted FID weights' id): a temporary
    file's random name must not end up inside them."""
    import torch

    from talkbench.files import save_torch_file
    from talkbench.weights import sha256_file

    state = {"w": torch.arange(6.0).reshape(2, 3), "step": 3}
    save_torch_file(state, tmp_path / "a.pt")
    save_torch_file(state, tmp_path / "b.pt")
    assert sha256_file(tmp_path / "a.pt") == sha256_file(tmp_path / "b.pt")
    assert torch.equal(torch.load(tmp_path / "a.pt", weights_only=True)["w"], state["w"])
