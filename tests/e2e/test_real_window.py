"""The real window on a real X server (Xvfb): it opens, shows its pages, and is screenshotted.

Skipped without Xvfb, unless PERFDESK_REQUIRE_XVFB=1 (CI), where that is a failure.
The screenshot is kept in artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.xdisplay import window_env, xvfb_display

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    yield from xvfb_display(range(90, 140))


_env = window_env


#: Pages screenshotted on their own (artifacts/screenshots/main_window_xvfb_<key>.png).
PAGE_SHOTS = (
    "rent_roll", "month_end", "portfolio", "buyers", "my_kpis", "team_view", "kpi_definitions",
    "kpi_assignments", "goals", "leaderboard", "analytics", "roi", "benchmarks", "jobs",
)  # fmt: skip


def test_real_window_opens_on_demo_data_and_is_screenshotted(display: str, tmp_path: Path) -> None:
    db_path = tmp_path / "perfdesk.sqlite3"
    subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "demo", "--scale", "small", "--seed", "3"],
        env=_env(tmp_path, db_path),
        check=True,
        capture_output=True,
        timeout=120,
    )
    # The analytics pages with something to show: 30 days of snapshots and the benchmarks.
    for extra in (
        ["jobs", "run", "snapshots", "--days", "30"],
        ["import", "benchmarks", str(ROOT / "resources" / "samples" / "benchmarks.csv")],
    ):
        subprocess.run(
            [sys.executable, str(ROOT / "main.py"), *extra],
            env=_env(tmp_path, db_path),
            check=True,
            capture_output=True,
            timeout=120,
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "main_window_xvfb.png"
    shot.unlink(missing_ok=True)
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "e2e" / "drive_window.py"),
            str(shot),
            ",".join(PAGE_SHOTS),
        ],
        env=_env(tmp_path, db_path, display),
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["platform"] == "xcb"
    assert report["opened"], report["message"]
    assert report["window_exposed"]
    assert "People" in report["pages"] and "Settings" in report["pages"]
    assert report["mode"] == f"Local file {db_path}"
    assert report["screenshot_saved"] and shot.stat().st_size > 10_000
    for title in ("Rent roll", "Month end", "Portfolio", "Buyers", "Buy boxes", "My KPIs",
                  "Team view", "KPI definitions", "KPI assignments", "Goals", "Leaderboard",
                  "Analytics", "Lead sources", "Benchmarks", "Job log"):  # fmt: skip
        assert title in report["pages"]
    assert report["page_shots"] == dict.fromkeys(PAGE_SHOTS, True)
    for key in PAGE_SHOTS:
        assert (ARTIFACTS / f"main_window_xvfb_{key}.png").stat().st_size > 10_000

    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 20, "the screenshot is blank"
