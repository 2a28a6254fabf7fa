"""Render the HTML report in headless Chromium (Debian's package), the way a reader sees it.

The screenshot is kept at $TALKBENCH_SCREENSHOT_DIR (if set) for a person to look at;
the test checks what a machine can: Chromium rendered the offline page, and the page's
images decoded (a broken image would leave large blank areas)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from talkbench.reports.build import build_report

CHROMIUM = Path("/usr/bin/chromium")


def screenshot(html: Path, png: Path, size: str = "1400,2000") -> None:
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", f"--screenshot={png}",
                    f"--window-size={size}", html.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)


@pytest.mark.browser
def test_report_renders_in_chromium(tmp_path, make_run):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    a = make_run(tmp_path / "runA")
    b = make_run(tmp_path / "runB", shift=20.0, seed=1)
    for name, runs in (("single", [a]), ("compare", [a, b])):
        paths = build_report(runs, tmp_path / name, vector=False)  # the page only uses the PNGs
        png = tmp_path / f"{name}.png"
        screenshot(paths["html"], png, "1400,3000")
        img = np.asarray(Image.open(png).convert("RGB"))
        assert img.shape[:2] == (3000, 1400)
        rows_with_ink = (img.min(axis=(1, 2)) < 128).mean()  # dark text, lines or plot marks
        assert rows_with_ink > 0.3, f"{name}: the page looks mostly blank"
        colours = len(np.unique(img.reshape(-1, 3)[::37], axis=0))
        assert colours > 200, f"{name}: no plots or images drawn ({colours} colours)"
        if os.environ.get("TALKBENCH_SCREENSHOT_DIR"):
            shutil.copy(png, Path(os.environ["TALKBENCH_SCREENSHOT_DIR"]) / png.name)
