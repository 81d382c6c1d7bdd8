"""The real window on a real X server (Xvfb): it opens, shows its pages, and is screenshotted.

Skipped without Xvfb, unless PERFDESK_REQUIRE_XVFB=1 (CI), where that is a failure.
The screenshot is kept in artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        if os.environ.get("PERFDESK_REQUIRE_XVFB") == "1":
            pytest.fail("Xvfb is not installed but PERFDESK_REQUIRE_XVFB=1")
        pytest.skip("Xvfb is not installed")
    for number in range(90, 140):
        if not Path(f"/tmp/.X{number}-lock").exists():
            break
    proc = subprocess.Popen(
        [xvfb, f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"Xvfb :{number} did not start")
        time.sleep(0.05)
    yield f":{number}"
    proc.terminate()
    proc.wait(timeout=10)


def _env(tmp_path: Path, db_path: Path, display: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PERFDESK_EXIT_AFTER_FIRST_PAINT", None)
    env["PERFDESK_DB_URL"] = f"sqlite:///{db_path}"
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    if display:
        env["DISPLAY"] = display
        env["QT_QPA_PLATFORM"] = "xcb"
    return env


def test_real_window_opens_on_demo_data_and_is_screenshotted(display: str, tmp_path: Path) -> None:
    db_path = tmp_path / "perfdesk.sqlite3"
    subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "demo", "--scale", "small", "--seed", "3"],
        env=_env(tmp_path, db_path),
        check=True,
        capture_output=True,
        timeout=120,
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "main_window_xvfb.png"
    shot.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "e2e" / "drive_window.py"), str(shot)],
        env=_env(tmp_path, db_path, display),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["platform"] == "xcb"
    assert report["opened"], report["message"]
    assert report["window_exposed"]
    assert "People" in report["pages"] and "Settings" in report["pages"]
    assert report["mode"] == f"Local file {db_path}"
    assert report["screenshot_saved"] and shot.stat().st_size > 10_000

    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 20, "the screenshot is blank"
