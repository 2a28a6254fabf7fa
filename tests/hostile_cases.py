"""Hostile-but-realistic inputs to every command, classified like issue 12 measured them.

    python tests/hostile_cases.py [--full DIR] [--readonly DIR] [--verbose]

``--full``: a tiny filesystem (e.g. ``mount -t tmpfs -o size=256k tmpfs DIR``) for the
disk-full cases; ``--readonly``: a read-only mount. Without them those cases are left out.
Each case runs ``talkbench.cli.main`` in this process (a traceback is an exception escaping
it) or, for kills, a subprocess. Outcomes: clear error (non-zero exit, one-line message),
counted skip (exit 0, the bad item listed as skipped/failed), handled (exit 0, right
output), traceback, wrong success (exit 0 with wrong or no output), code execution (the
planted payload's marker file appeared). Run by hand (exit 1 if any case ends in one of
``BAD``), or as tests/core/test_hostile_cases.py (slow-marked, ~15 s; no disk cases).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.conftest import SHARED  # noqa: E402 - the repository must be on the path first


@dataclass
class Outcome:
    code: int | None
    err: str
    crashed: str | None  # exception text escaping main (a traceback for the user)


def call(argv: list[str]) -> Outcome:
    from talkbench.cli import main

    buf = io.StringIO()
    crashed, code = None, None
    with contextlib.redirect_stderr(buf), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException as exc:  # noqa: BLE001 - what a user would see as a traceback
            crashed = f"{type(exc).__name__}: {exc}"
    return Outcome(code, buf.getvalue(), crashed)


def last_line(err: str) -> str:
    lines = [ln for ln in err.replace("\r", "\n").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def classify(out: Outcome, expect: str, check: Callable[[], bool] | None, marker: Path | None) -> str:
    if marker is not None and marker.exists():
        return "code execution"
    if out.crashed or "Traceback" in out.err:
        return "traceback"
    if out.code:
        line = last_line(out.err)
        return "clear error" if ("error:" in line and len(line) < 600) else "misleading error"
    ok = check() if check else False
    if expect == "skip":
        return "counted skip" if ok else "wrong success"
    if expect == "fine":
        return "handled" if ok else "wrong success"
    return "wrong success"  # expected an error


class Fixtures:
    """Small real inputs built once: a synthetic dataset, an untrained meta-checkpoint and a
    few-shot model of it, a spectral detector, a fixture run, images."""

    def __init__(self, root: Path) -> None:
        from talkbench.generator.fewshot import build_fewshot
        from talkbench.generator.episodes import few_shot_cases
        from talkbench.data.dataset import FaceDataset
        from talkbench.generator.model import ModelConfig, build_model
        from talkbench.data.synth import tiny_dataset
        from talkbench.generator.checkpoint import save_checkpoint
        from talkbench.detector.registry import create_detector
        from tests.reports.conftest import write_fixture_run
        from PIL import Image

        self.root = root
        self.data = tiny_dataset(root / "faces")
        self.ckpt = root / "ckpt" / "checkpoint.pt"
        cfg = ModelConfig(preset="cpu64", image_size=32, width=8, max_width=32, emb_dim=32, n_res=1)
        save_checkpoint(self.ckpt, build_model(cfg, 6), None, None, 0, None, [])
        case = few_shot_cases(FaceDataset(self.data), shots=(2,), max_videos=1)[0]
        self.person = root / "person.pt"
        build_fewshot(self.ckpt, case.shot_frames, case.shot_landmarks, "FF", device="cpu").save(self.person)
        self.marks = case.heldout_landmarks[:4].astype(np.float32)
        rng = np.random.default_rng(0)
        real = rng.integers(0, 256, (16, 32, 32, 3), np.uint8)
        fake = rng.integers(0, 256, (16, 16, 16, 3), np.uint8).repeat(2, 1).repeat(2, 2)
        det = create_detector("spectral_logreg", size=32).fit(np.concatenate([real, fake]), np.r_[[0] * 16, [1] * 16])
        det.crop_size = 32
        self.detector = det.save(root / "det" / "detector.safetensors")
        for i in range(16):
            for kind, arr in (("real", real), ("fake", fake)):
                d = root / "crops" / kind / f"id{i % 4}"
                d.mkdir(parents=True, exist_ok=True)
                Image.fromarray(arr[i]).save(d / f"{i}.png")
        self.run = write_fixture_run(root / "run")
        self.images = root / "img"
        for i in range(4):
            (self.images / "r").mkdir(parents=True, exist_ok=True)
            (self.images / "f").mkdir(parents=True, exist_ok=True)
            Image.fromarray(real[i]).save(self.images / "r" / f"{i:04d}_real.png")
            Image.fromarray(fake[i]).save(self.images / "f" / f"{i:04d}_fake.png")


def cases(fx: Fixtures, tmp: Path, full: Path | None, ro: Path | None) -> list[tuple]:
    """(name, setup → argv, expect, check, marker) for each in-process case."""
    import joblib

    class Payload:
        def __init__(self, marker: Path) -> None:
            self.marker = str(marker)

        def __reduce__(self):
            return (open, (self.marker, "w"))

    def out(name: str) -> Path:
        return tmp / "out" / name

    def npy(name: str, arr, pickle: bool = False) -> str:
        p = tmp / f"{name}.npy"
        np.save(p, arr, allow_pickle=pickle)
        return str(p)

    def text(name: str, content: str | bytes) -> str:
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
        return str(p)

    def copy_run(name: str, damage: dict[str, bytes]) -> str:
        import shutil

        dst = tmp / "runs" / name
        shutil.copytree(fx.run, dst)
        for rel, data in damage.items():
            (dst / rel).write_bytes(data)
        return str(dst)

    def corrupt_copy(src: Path, name: str, key: str) -> str:
        import torch

        state = torch.load(src, weights_only=True)
        t = state[key] if isinstance(state[key], torch.Tensor) else next(
            v for v in state[key].values() if v.is_floating_point() and v.numel() > 4)
        t.zero_()  # zeroed weights (in place, whatever the memory format): black frames unless refused
        dst = tmp / name
        torch.save(state, dst)
        return str(dst)

    marker = tmp / "PWNED"
    evil = tmp / "evil.joblib"
    joblib.dump({"kind": "spectral", "detector": Payload(marker)}, evil)
    evil_st = Path(text("evil.safetensors", evil.read_bytes()))
    evil_pt = Path(text("evil.pt", evil.read_bytes()))
    face = str(fx.images / "r" / "0000_real.png")
    synth_small = ["--identities", "2", "--videos", "1", "--frames", "2", "--test-frames", "2", "--size", "16",
                   "--workers", "1"]
    data, ckpt, person = str(fx.data), str(fx.ckpt), str(fx.person)
    real, fake = str(fx.images / "r"), str(fx.images / "f")
    tiny_train = ["steps=1", "batch_size=1", "k=1", "model.image_size=32", "model.width=8", "model.max_width=32",
                  "model.emb_dim=32", "model.n_res=1", "loss.vgg19=off", "loss.vggface=off", "--quiet"]

    from PIL import Image

    one = tmp / "px1"
    for d in ("r", "f"):
        (one / d).mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(one / d / "a.png")
    g16 = tmp / "g16"
    for d in ("r", "f"):
        (g16 / d).mkdir(parents=True, exist_ok=True)
        Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)).save(g16 / d / "a.png")
    unp = tmp / "unpaired"
    for d, n in (("r", 24), ("f", 10)):
        (unp / d).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.fromarray(np.random.default_rng(i).integers(0, 256, (32, 32, 3), np.uint8)).save(
                unp / d / f"{i:04d}.png")
    stale = out("stale")
    reenact_ok = ["reenact", person, str(stale), "--driver", npy("ok", fx.marks), "--quiet"]

    def stale_frames_gone() -> bool:
        return sorted(p.name for p in (stale / "frames").glob("*.png")) == ["0000.png", "0001.png"]

    def g16_scored() -> bool:
        from talkbench.media import read_image

        return abs(float(read_image(g16 / "r" / "a.png").mean()) - 127.5) < 1.0

    c = [
        # 1. code execution
        ("detect eval planted joblib", ["detect", "eval", "--checkpoint", str(evil), "--results", str(out("e1"))], "error", None, marker),
        ("detect predict planted joblib", ["detect", "predict", face, "--checkpoint", str(evil), "--out", str(out("p1")), "--face-backend", "none"], "error", None, marker),
        ("detect predict pickle named .safetensors", ["detect", "predict", face, "--checkpoint", str(evil_st), "--out", str(out("p2")), "--face-backend", "none"], "error", None, marker),
        ("detect predict pickle named .pt", ["detect", "predict", face, "--checkpoint", str(evil_pt), "--out", str(out("p3")), "--face-backend", "none"], "error", None, marker),
        ("fewshot pickle as checkpoint", ["fewshot", str(evil_pt), str(out("f0.pt")), "--frames", data], "error", None, marker),
        ("reenact pickle as model", ["reenact", str(evil_pt), str(out("r0")), "--driver", npy("d0", fx.marks)], "error", None, marker),
        # 2. tracebacks -> one-line errors
        ("synth into /proc", ["synth", "/proc/talkbench-x", *synth_small], "error", None, None),
        ("synth where a file is", ["synth", text("afile", "x") + "/sub", *synth_small], "error", None, None),
        ("prepare out is a file", ["prepare", str(SHARED / "data" / "videos"), text("afile2", "x"), "--backend", "dlib"], "error", None, None),
        ("metrics --real is a file", ["metrics", "--real", face, "--fake", fake], "error", None, None),
        ("train --config invalid YAML", ["train", data, str(out("t1")), "--config", text("bad.yaml", "steps: [1, 2\n")], "error", None, None),
        ("run invalid suite YAML", ["run", text("bad_suite.yaml", "name: x\nfewshot: {shots: [1\n"), "--out", str(out("run1"))], "error", None, None),
        ("train batch_size=0", ["train", data, str(out("t2")), "batch_size=0"], "error", None, None),
        ("train lr_g=nan", ["train", data, str(out("t3")), "lr_g=nan"], "error", None, None),
        ("detect train lr=-1", ["detect", "train", "--real", str(fx.root / "crops/real"), "--fake", str(fx.root / "crops/fake"), "--out", str(out("d1")), "lr=-1"], "error", None, None),
        ("metrics --batch-size 0", ["metrics", "--real", real, "--fake", fake, "--batch-size", "0"], "error", None, None),
        ("reenact --max-frames 0", ["reenact", person, str(out("r1")), "--driver", npy("d1", fx.marks), "--max-frames", "0"], "error", None, None),
        ("reenact --fps -5", ["reenact", person, str(out("r2")), "--driver", npy("d2", fx.marks), "--fps", "-5"], "error", None, None),
        ("synth --size 100000", ["synth", str(out("s1")), "--size", "100000", "--identities", "1"], "error", None, None),
        ("reenact empty landmarks .npy", ["reenact", person, str(out("r3")), "--driver", npy("d3", np.zeros((0, 68, 2)))], "error", None, None),
        ("reenact object landmarks .npy", ["reenact", person, str(out("r4")), "--driver", npy("d4", np.array([1, "a"], dtype=object), True)], "error", None, None),
        ("reenact .npy that is text", ["reenact", person, str(out("r5")), "--driver", text("d5.npy", "hello")], "error", None, None),
        ("metrics 1x1 images", ["metrics", "--real", str(one / "r"), "--fake", str(one / "f")], "error", None, None),
        ("report corrupt manifest.json", ["report", copy_run("m", {"manifest.json": b'{"a": '}), "--out", str(out("rep1"))], "error", None, None),
        ("report corrupt realism.csv", ["report", copy_run("c", {"results/realism.csv": b'a,b\n"x,1\n'}), "--out", str(out("rep2"))], "error", None, None),
        ("report binary manifest.json", ["report", copy_run("b", {"manifest.json": b"\xff\xfe\x00"}), "--out", str(out("rep3"))], "error", None, None),
        ("detect train --resume on garbage last.pt", ["detect", "train", "--real", str(fx.root / "crops/real"), "--fake", str(fx.root / "crops/fake"), "--out", str(Path(text("dres/last.pt", b"PK\x03\x04junk")).parent), "--crop-size", "32", "--resume", "epochs=1", "batch_size=4"], "error", None, None),
        ("detect eval truncated detector", ["detect", "eval", "--checkpoint", text("trunc.safetensors", fx.detector.read_bytes()[:100]), "--results", str(out("e2"))], "error", None, None),
        ("fewshot truncated checkpoint", ["fewshot", text("trunc.pt", fx.ckpt.read_bytes()[:5000]), str(out("f1.pt")), "--frames", data], "error", None, None),
        ("train unknown key", ["train", data, str(out("t4")), "stepz=3"], "error", None, None),
        ("train bad type", ["train", data, str(out("t5")), "steps=many"], "error", None, None),
        ("metrics --out bad suffix", ["metrics", "--real", real, "--fake", fake, "--out", str(out("m.txt"))], "error", None, None),
        ("detect predict missing input", ["detect", "predict", str(tmp / "nope.png"), "--checkpoint", str(fx.detector), "--out", str(out("p4"))], "error", None, None),
        ("study serve bad port", ["study", "serve", str(fx.run), "--port", "70000"], "error", None, None),
        ("study serve --max-participants 0", ["study", "serve", str(fx.run), "--max-participants", "0"], "error", None, None),
        # 3. wrong successes
        ("train steps=0", ["train", data, str(out("t6")), "steps=0"], "error", None, None),
        ("train steps=-5", ["train", data, str(out("t7")), "steps=-5"], "error", None, None),
        ("fewshot on zeroed-weights checkpoint", ["fewshot", corrupt_copy(fx.ckpt, "zero_ckpt.pt", "G"), str(out("f2.pt")), "--frames", data], "error", None, None),
        ("reenact zeroed-weights model", ["reenact", corrupt_copy(fx.person, "zero_person.pt", "G"), str(out("r6")), "--driver", npy("d6", fx.marks)], "error", None, None),
        ("detect eval damaged detector weights", ["detect", "eval", "--checkpoint", text("dmg.safetensors", fx.detector.read_bytes()[:-4] + b"\x00\x00\xf0\x7f"), "--results", str(out("e3"))], "error", None, None),
        ("fewshot --mode FT --steps -4", ["fewshot", ckpt, str(out("f3.pt")), "--frames", data, "--mode", "FT", "--steps", "-4"], "error", None, None),
        ("fewshot --steps without FT", ["fewshot", ckpt, str(out("f4.pt")), "--frames", data, "--steps", "4"], "error", None, None),
        ("reenact NaN landmarks", ["reenact", person, str(out("r7")), "--driver", npy("d7", np.where(np.arange(fx.marks.size).reshape(fx.marks.shape) == 7, np.nan, fx.marks))], "error", None, None),
        ("reenact 1e30 landmarks", ["reenact", person, str(out("r8")), "--driver", npy("d8", np.full_like(fx.marks, 1e30))], "error", None, None),
        ("metrics 16-bit grey PNG", ["metrics", "--real", str(g16 / "r"), "--fake", str(g16 / "f"), "--metrics", "psnr", "ssim"], "fine", g16_scored, None),
        ("metrics --batch-size -3", ["metrics", "--real", real, "--fake", fake, "--batch-size", "-3"], "error", None, None),
        ("detect train epochs=0", ["detect", "train", "--real", str(fx.root / "crops/real"), "--fake", str(fx.root / "crops/fake"), "--out", str(out("d2")), "epochs=0"], "error", None, None),
        ("prepare --frames 0", ["prepare", data, str(out("pr1")), "--frames", "0"], "error", None, None),
        ("prepare --size -5", ["prepare", data, str(out("pr2")), "--size", "-5"], "error", None, None),
        ("prepare --workers 0", ["prepare", data, str(out("pr3")), "--workers", "0"], "error", None, None),
        # 4. misleading errors
        ("train overrides after options", ["train", data, str(out("t8")), "--quiet", "steps=0"], "error", None, None),
        ("run train.batch_size=0", ["run", "quick", "--out", str(out("run2")), "train.batch_size=0"], "error", None, None),
        ("run detector epochs=0", ["run", "quick", "--out", str(out("run3")), "detector.options={epochs: 0}"], "error", None, None),
    ]
    (tmp / "a_folder.pt").mkdir()
    (tmp / "a_folder.json").mkdir()
    c.append(("fewshot out is a folder", ["fewshot", ckpt, str(tmp / "a_folder.pt"), "--frames", data], "error", None, None))
    c.append(("metrics --out is a folder", ["metrics", "--real", real, "--fake", fake, "--metrics", "psnr", "--out",
                                            str(tmp / "a_folder.json")], "error", None, None))
    from talkbench.detector.registry import load_detector

    nan_det = load_detector(fx.detector)
    nan_det.params["coef"][:] = np.nan
    nan_path = nan_det.save(tmp / "nan" / "detector.safetensors")  # a valid file of a broken model
    c.append(("detect predict NaN-output detector", ["detect", "predict", face, "--checkpoint", str(nan_path), "--out",
                                                     str(out("p5")), "--face-backend", "none"], "error", None, None))
    trunc_src = tmp / "trunc_videos"
    trunc_src.mkdir()
    from tests.generator.test_reliability_generator import _faststart_copy

    _faststart_copy(sorted((SHARED / "data" / "videos").glob("*.mp4"))[0], tmp / "whole.mp4")
    (trunc_src / "cut.mp4").write_bytes((tmp / "whole.mp4").read_bytes()[:int((tmp / "whole.mp4").stat().st_size * 0.4)])

    def truncated_listed() -> bool:
        skipped = out("prep_trunc") / "skipped.csv"
        return skipped.is_file() and "truncated" in skipped.read_text()

    c.append(("prepare a truncated video", ["prepare", str(trunc_src), str(out("prep_trunc")), "--backend", "dlib",
                                            "--workers", "1"], "skip", truncated_listed, None))
    # stale frames: a second, shorter reenactment into the same folder
    c.append(("reenact over an earlier longer run", None, "fine", stale_frames_gone, None,
              [reenact_ok, ["reenact", person, str(stale), "--driver", npy("ok2", fx.marks[:2]), "--quiet"]]))
    c.append(("metrics by-name 24 real / 10 fake", ["metrics", "--real", str(unp / "r"), "--fake", str(unp / "f"), "--metrics", "psnr"],
              "note", None, None))
    c.append(("train with options then overrides", ["train", data, str(out("t9")), "--quiet", *tiny_train[:-1]], "fine",
              lambda: (out("t9") / "checkpoint.pt").is_file(), None))
    if full is not None:
        c.append(("synth onto a full disk", ["synth", str(full / "s"), "--identities", "4", "--videos", "2", "--frames", "32", "--size", "64", "--workers", "1"], "error", None, None))
        c.append(("fewshot onto a full disk", ["fewshot", ckpt, str(full / "pad" / "p.pt"), "--frames", data], "error", None, None))
    if ro is not None:
        c.append(("synth onto a read-only mount", ["synth", str(ro / "s"), *synth_small], "error", None, None))
        c.append(("metrics --out on a read-only mount", ["metrics", "--real", real, "--fake", fake, "--metrics", "psnr", "--out", str(ro / "m.json")], "error", None, None))
    return c


def kill_cases(fx: Fixtures, tmp: Path) -> list[tuple[str, str]]:
    """Subprocess cases: kill -9 of `prepare --workers 2`, and of a process inside a checkpoint write."""
    results = []
    src = tmp / "videos"
    src.mkdir(exist_ok=True)
    for v in sorted((SHARED / "data" / "videos").glob("*.mp4"))[:4]:
        (src / v.name).write_bytes(v.read_bytes())
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TALKBENCH_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "talkbench.cli", "prepare", str(src), str(tmp / "prep"), "--workers", "2",
                             "--backend", "dlib"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    children: list[int] = []
    deadline = time.time() + 120
    while time.time() < deadline and len(children) < 2 and proc.poll() is None:
        time.sleep(0.5)
        children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(3.0)
    alive = [p for p in children if Path(f"/proc/{p}").exists() and "Z" not in Path(f"/proc/{p}/stat").read_text().split(")")[-1].split()[0]]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    results.append(("kill -9 prepare --workers 2", "handled" if children and not alive else
                    ("wrong success" if alive else "not tried (workers not seen)")))
    target = tmp / "ck" / "checkpoint.pt"
    code = (f"import os\nfrom talkbench.files import atomic_path\nwith atomic_path({str(target)!r}) as t:\n"
            "    t.write_bytes(b'x' * 24_000_000)\n    os.kill(os.getpid(), 9)\n")
    subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO)
    left = [p for p in target.parent.iterdir() if p.name != "checkpoint.pt"]
    from talkbench.files import write_bytes

    subprocess.run([sys.executable, "-c", f"from talkbench.files import write_bytes; write_bytes({str(target)!r}, b'ok')"],
                   env=env, cwd=REPO)
    remaining = [p for p in target.parent.iterdir() if p.name != "checkpoint.pt"]
    del write_bytes
    results.append(("kill -9 during a checkpoint write, then a later run", "handled" if left and not remaining else "wrong success"))
    return results


def study_cases(fx: Fixtures) -> list[tuple[str, str]]:
    """Hostile requests against the study app (Flask test client)."""
    import sqlite3

    from talkbench.study.app import create_app, db_path
    from tests.study.conftest import _make_run

    run = _make_run(fx.root / "study")
    app = create_app(run, trials_per_participant=6, attention_checks=1, seed=0, max_participants=20)
    cl = app.test_client()
    token = app.extensions["talkbench_study"]["start_token"]
    out = []

    def count() -> int:
        with sqlite3.connect(db_path(run)) as con:
            return con.execute("SELECT COUNT(*) FROM participants").fetchone()[0]

    base = count() if db_path(run).is_file() else 0
    for name, kw in [("POST /start without token", {}),
                     ("POST /start foreign Origin", {"data": {"csrf": token}, "headers": {"Origin": "http://evil.example"}}),
                     ("POST /start foreign Referer", {"data": {"csrf": token}, "headers": {"Referer": "http://evil.example/x"}}),
                     ("POST /start cross-site fetch", {"data": {"csrf": token}, "headers": {"Sec-Fetch-Site": "cross-site"}}),
                     ("POST /start wrong token", {"data": {"csrf": "guess"}})]:
        code = cl.post("/start", **kw).status_code
        out.append((name, "clear error" if code == 403 and count() == base else "wrong success"))
    codes = [cl.post("/start", data={"csrf": token}).status_code for _ in range(50)]
    out.append(("50 POST /start (cap 20)", "clear error" if codes.count(303) == 20 and count() == base + 20 else "wrong success"))
    pid = None
    with sqlite3.connect(db_path(run)) as con:
        pid = con.execute("SELECT pid FROM participants LIMIT 1").fetchone()[0]
    code = cl.post(f"/p/{pid}/answer", data={"trial": 0, "choice": 0}, headers={"Origin": "http://evil.example"}).status_code
    out.append(("POST answer foreign Origin", "clear error" if code == 403 else "wrong success"))
    for path in ["/image/../../etc/passwd", "/image/%2e%2e", "/p/../../x", "/static/../app.py"]:
        code = cl.get(path).status_code
        out.append((f"GET {path}", "clear error" if code in (400, 404) else "wrong success"))
    return out


BAD = ("traceback", "misleading error", "wrong success", "code execution")  # never acceptable


def run_cases(full: Path | None = None, readonly: Path | None = None) -> list[tuple[str, str, str]]:
    """Every case, as (name, outcome, detail): the detail is the traceback or the last line of stderr."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="talkbench-hostile-") as d:
        tmp = Path(d)
        fx = Fixtures(tmp / "fx")
        for case in cases(fx, tmp, full, readonly):
            name, argv, expect, check, marker = case[:5]
            if argv is None:
                for a in case[5]:
                    res = call(a)
            else:
                res = call(argv)
            kind = classify(res, expect if expect != "note" else "fine", check, marker)
            if expect == "note":  # exit 0 is right here if the missing partners are reported
                kind = "handled" if res.code == 0 and "no fake of the same name" in res.err else (
                    kind if kind != "wrong success" else "wrong success")
            rows.append((name, kind, res.crashed or last_line(res.err)))
        rows += [(n, k, "") for n, k in kill_cases(fx, tmp)]
        rows += [(n, k, "") for n, k in study_cases(fx)]
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", type=Path, help="a nearly full filesystem for disk-full cases")
    ap.add_argument("--readonly", type=Path, help="a read-only mount")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    tally: dict[str, int] = {}
    rows = run_cases(args.full, args.readonly)
    for name, kind, detail in rows:
        tally[kind] = tally.get(kind, 0) + 1
        if args.verbose or kind not in ("clear error", "handled", "counted skip"):
            print(f"{kind:16s} {name}: {detail[:200]}")
    print(json.dumps({"cases": len(rows), **dict(sorted(tally.items()))}))
    return 1 if any(kind in BAD for _, kind, _ in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
