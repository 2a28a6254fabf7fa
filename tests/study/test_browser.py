"""End to end in a real browser: Debian's chromium, driven by Playwright, against
`talkbench study serve` running as its own process; then `talkbench study results`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from talkbench.cli import main

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
]


@pytest.fixture
def server(run_dir, tmp_path):
    """`talkbench study serve RUN --port 0` in a subprocess; yields its base URL."""
    log = tmp_path / "server.log"  # request log: a file, so a full pipe can never block the server
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "talkbench", "study", "serve", str(run_dir), "--port", "0",
             "--trials-per-participant", "6", "--attention-checks", "1"],
            stdout=subprocess.PIPE, stderr=err, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in proc.stdout:
            if match := re.search(r"open (http://127\.0\.0\.1:\d+)/", line):
                break
        else:
            pytest.fail(f"server did not start: {log.read_text()}")
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_click_through_a_study(server, run_dir, current_answer, tmp_path, capsys):
    playwright = pytest.importorskip("playwright.sync_api")
    shot = tmp_path / "trial.png"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 720})
        page.goto(server + "/")
        page.click("#start")
        pid = page.url.rsplit("/", 1)[1]
        n_test = 0
        for n in range(7):
            page.wait_for_selector("#progress")
            assert page.inner_text("#progress") == f"Screen {n + 1} of 7"
            # the screen's images load after #progress appears: wait for them, then check their size
            page.wait_for_function("document.images.length > 0 && Array.from(document.images).every(i => i.complete)")
            assert page.evaluate("Array.from(document.images).every(i => i.naturalWidth === 32)")
            if n == 0:
                page.screenshot(path=str(shot))
            idx, answer, kind = current_answer(run_dir, pid)
            pick = answer if kind == "attention" or n_test % 2 == 0 else (answer + 1) % 3
            n_test += kind == "test"
            if n == 1:
                page.keyboard.press(str(pick + 1))  # keys 1-3 answer too
            elif n == 2:
                page.dblclick(f'button.choice[value="{pick}"]')  # a double click posts once
            else:
                page.click(f'button.choice[value="{pick}"]')
            page.wait_for_url(f"**/p/{pid}")
            page.wait_for_load_state()
        assert "Thank you" in page.inner_text("#thanks")
        browser.close()
    print(f"trial page screenshot: {shot}")
    assert shot.stat().st_size > 10_000

    assert main(["study", "results", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "participants: 1 (1 finished), excluded for failed attention checks: 0" in out
    assert "attention checks passed: 1/1" in out
    table = pd.read_csv(run_dir / "results" / "user.csv")
    assert table.n_trials.tolist() == [2, 2, 2] and (table.n_participants == 1).all()
    assert (table.user * table.n_trials).sum() == pytest.approx(3)  # test screens 1, 3, 5 found the fake
