"""The staged runner: fingerprints, skipping, resuming after a kill, --force, invalidation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from talkbench.benchmarks.stage_runner import Stage, StageFailed, StageRunner, summary_table
from talkbench.errors import TalkbenchError
from talkbench.files import write_text


def _pipeline(calls: list[str], a_cfg: dict | None = None, b_cfg: dict | None = None) -> list[Stage]:
    def a(ctx):
        calls.append("a")
        write_text(ctx.run_dir / "a.txt", "A")
        return {"wrote": "a.txt"}

    def b(ctx):
        calls.append("b")
        write_text(ctx.run_dir / "b.txt", (ctx.run_dir / "a.txt").read_text() + "B")

    def c(ctx):
        calls.append("c")
        write_text(ctx.run_dir / "c.txt", "C")

    return [Stage("a", a, a_cfg or {"n": 1}), Stage("b", b, b_cfg or {"m": 1}, deps=("a",)),
            Stage("c", c, {"k": 1})]


def test_runs_then_skips_finished_stages(tmp_path):
    calls: list[str] = []
    reports = StageRunner(tmp_path, show_progress=False).run(_pipeline(calls))
    assert calls == ["a", "b", "c"]
    assert [r.outcome for r in reports] == ["done"] * 3
    rec = json.loads((tmp_path / "stages" / "a.json").read_text())
    assert rec["status"] == "done" and len(rec["fingerprint"]) == 16 and rec["wall_s"] >= 0
    assert rec["result"] == {"wrote": "a.txt"}
    assert (tmp_path / "b.txt").read_text() == "AB"

    calls.clear()
    reports = StageRunner(tmp_path, show_progress=False).run(_pipeline(calls))
    assert calls == [] and [r.outcome for r in reports] == ["skipped"] * 3
    table = summary_table(reports, tmp_path)
    assert "up to date" in table and table.splitlines()[-1].startswith("total")


def test_config_change_redoes_the_stage_and_its_dependents_only(tmp_path):
    runner = StageRunner(tmp_path, show_progress=False)
    runner.run(_pipeline([]))
    calls: list[str] = []
    runner.run(_pipeline(calls, a_cfg={"n": 2}))
    assert calls == ["a", "b"]  # c does not depend on a
    calls.clear()
    runner.run(_pipeline(calls, a_cfg={"n": 2}, b_cfg={"m": 5}))
    assert calls == ["b"]


def test_force_redoes_one_stage_and_invalidates_downstream(tmp_path):
    runner = StageRunner(tmp_path, show_progress=False)
    runner.run(_pipeline([]))
    calls: list[str] = []
    runner.run(_pipeline(calls), force={"b"})
    assert calls == ["b"]
    calls.clear()
    runner.run(_pipeline(calls), force={"a"})
    assert calls == ["a", "b"]  # b consumed a's outputs, which were redone
    with pytest.raises(TalkbenchError, match="no such stage"):
        runner.run(_pipeline([]), force={"nope"})


def test_failure_leaves_no_record_and_is_retried(tmp_path):
    runner = StageRunner(tmp_path, show_progress=False)
    boom = {"on": True}

    def flaky(ctx):
        if boom["on"]:
            raise RuntimeError("disk on fire")

    stages = [Stage("ok", lambda ctx: None), Stage("flaky", flaky, deps=("ok",)), Stage("after", lambda ctx: None)]
    with pytest.raises(StageFailed, match="stage 'flaky' failed: disk on fire") as info:
        runner.run(stages)
    assert [r.outcome for r in info.value.reports] == ["done", "failed", "not run"]
    assert runner.record("flaky") is None and runner.record("ok") is not None
    boom["on"] = False
    reports = runner.run(stages)
    assert [r.outcome for r in reports] == ["skipped", "done", "done"]


def test_dependency_must_run_first(tmp_path):
    with pytest.raises(TalkbenchError, match="do not run before it"):
        StageRunner(tmp_path, show_progress=False).run([Stage("b", lambda ctx: None, deps=("a",))])


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from talkbench.benchmarks.stage_runner import Stage, StageRunner
    from talkbench.files import write_text
    run = Path(sys.argv[1])
    log = run / "calls.log"
    def note(name):
        with open(log, "a") as f:
            f.write(name + "\\n")
    def first(ctx):
        note("first"); write_text(run / "first.txt", "1")
    def slow(ctx):
        note("slow")
        if not (run / "let_finish").exists():
            write_text(run / "slow_started", "")
            time.sleep(60)
        write_text(run / "slow.txt", "2")
    StageRunner(run, show_progress=False).run([Stage("first", first), Stage("slow", slow, deps=("first",))])
""")


def test_killed_run_resumes_where_it_stopped(tmp_path):
    script = tmp_path / "pipeline.py"
    script.write_text(KILL_SCRIPT)
    run = tmp_path / "run"
    run.mkdir()
    proc = subprocess.Popen([sys.executable, str(script), str(run)])
    deadline = time.time() + 30
    while not (run / "slow_started").exists():
        assert time.time() < deadline and proc.poll() is None, "pipeline did not reach the slow stage"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (run / "stages" / "first.json").exists() and not (run / "stages" / "slow.json").exists()
    assert not (run / "slow.txt").exists()

    (run / "let_finish").write_text("")
    subprocess.run([sys.executable, str(script), str(run)], check=True, timeout=60)
    assert (run / "calls.log").read_text().split() == ["first", "slow", "slow"]  # first not redone
    assert (run / "slow.txt").read_text() == "2" and (run / "stages" / "slow.json").exists()


def test_output_dir_keeps_same_fingerprint_work_and_clears_stale(tmp_path):
    seen = []

    def work(ctx):
        out = ctx.output_dir("work")
        seen.append(sorted(p.name for p in out.iterdir() if not p.name.startswith(".")))
        write_text(out / f"part{len(seen)}.txt", "x")
        if len(seen) == 1:
            raise RuntimeError("killed half-way")

    runner = StageRunner(tmp_path, show_progress=False)
    with pytest.raises(StageFailed):
        runner.run([Stage("w", work, {"v": 1})])
    runner.run([Stage("w", work, {"v": 1})])  # same config: partial work is still there
    assert seen[1] == ["part1.txt"]
    runner.run([Stage("w", work, {"v": 2})])  # new config: stale outputs are gone
    assert seen[2] == []
