"""What the real-window tests share: a private Xvfb display and the environment of a window
process that opens a given local file with its own settings folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def xvfb_display(numbers: range) -> Iterator[str]:
    """Start Xvfb on the first free display of ``numbers``; yield ":N"; stop it afterwards.
    Skips (or fails with PERFDESK_REQUIRE_XVFB=1) when Xvfb is not installed."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        if os.environ.get("PERFDESK_REQUIRE_XVFB") == "1":
            pytest.fail("Xvfb is not installed but PERFDESK_REQUIRE_XVFB=1")
        pytest.skip("Xvfb is not installed")
    number = next((n for n in numbers if not Path(f"/tmp/.X{n}-lock").exists()), numbers[-1])
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


def window_env(tmp_path: Path, db_path: Path, display: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PERFDESK_EXIT_AFTER_FIRST_PAINT", None)
    env["PERFDESK_DB_URL"] = f"sqlite:///{db_path}"
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    if display:
        env["DISPLAY"] = display
        env["QT_QPA_PLATFORM"] = "xcb"
    return env
