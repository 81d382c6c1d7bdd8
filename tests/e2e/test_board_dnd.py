"""A real mouse drag on the pipeline board, in the real window on a real X server (Xvfb).

tests/e2e/drive_board.py presses on a card, moves the mouse in steps past the drag distance
into the next column and releases it there (QDrag.exec runs its own loop in between); this
test then reads the database: the deal moved, with one stage event and one audit entry.

Offscreen, QDrag.exec returns at once, so the drop side alone is tested in
tests/gui/test_pipeline_board.py. Skipped without Xvfb, unless PERFDESK_REQUIRE_XVFB=1 (CI),
where that is a failure. The screenshots (during the drag and after) are kept in
artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.e2e.xdisplay import window_env, xvfb_display

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    yield from xvfb_display(range(140, 190))


_env = window_env


def _history(db_path: Path) -> dict[str, object]:
    """Every deal's stage and version, and every stage event and deal audit entry."""
    from app.services.database import open_database

    db = open_database(f"sqlite:///{db_path}")
    try:
        with db.engine.connect() as c:
            deals = {
                int(i): (stage, int(version))
                for i, stage, version in c.execute(
                    sa.text("SELECT id, pipeline_stage, version FROM deals")
                )
            }
            events = [
                tuple(r)
                for r in c.execute(
                    sa.text(
                        "SELECT id, deal_id, from_stage, to_stage, note FROM deal_stage_events"
                        " ORDER BY id"
                    )
                )
            ]
            entries = [
                (int(i), key, int(seq), kind, json.loads(p) if isinstance(p, str) else p)
                for i, key, seq, kind, p in c.execute(
                    sa.text(
                        "SELECT id, chain_key, seq, event_type, payload FROM audit_entries"
                        " ORDER BY id"
                    )
                )
            ]
    finally:
        db.dispose()
    return {"deals": deals, "events": events, "entries": entries}


def test_a_card_dragged_with_the_mouse_moves_its_deal(display: str, tmp_path: Path) -> None:
    db_path = tmp_path / "perfdesk.sqlite3"
    subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "demo", "--scale", "small", "--seed", "3"],
        env=_env(tmp_path, db_path),
        check=True,
        capture_output=True,
        timeout=120,
    )
    before = _history(db_path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "pipeline_dnd_xvfb.png"
    during = ARTIFACTS / "pipeline_dnd_xvfb_during.png"
    shot.unlink(missing_ok=True)
    during.unlink(missing_ok=True)

    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "e2e" / "drive_board.py"), str(shot)],
        env=_env(tmp_path, db_path, display),
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no report (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    report = json.loads(lines[-1])
    assert proc.returncode == 0 and "error" not in report, (report, proc.stderr[-3000:])
    assert report["platform"] == "xcb"
    assert report["columns_on_screen"]

    # a real drag: the view entered its dragging state under the mouse, and the target
    # column got the drag as Qt delivers it (enter, moves, drop)
    assert report["dragging_from_step"] is not None
    assert report["drag_events"][0] == "enter" and report["drag_events"][-1] == "drop"
    deal_id, version = report["deal_id"], report["version"]
    source, target = report["from_stage"], report["to_stage"]
    assert source != target
    assert report["move_requested"] == [[[deal_id, version]], target]
    assert report["errors_shown"] == []

    # the window: the card is drawn in the target column, at its new version
    assert report["card_column"] == target and report["card_stage"] == target
    assert report["card_version"] == version + 1
    assert report["source_cards_after"] == report["source_cards"] - 1
    assert report["target_cards_after"] == report["target_cards"] + 1
    assert report["status"].startswith("Moved: ")

    # the database: the deal, one stage event and one audit entry more, nothing else touched
    after = _history(db_path)
    assert before["deals"][deal_id] == (source, version)
    assert after["deals"][deal_id] == (target, version + 1)
    assert {k: v for k, v in after["deals"].items() if k != deal_id} == {
        k: v for k, v in before["deals"].items() if k != deal_id
    }
    new_events = after["events"][len(before["events"]) :]
    assert after["events"][: len(before["events"])] == before["events"]
    assert len(new_events) == 1
    event_id, event_deal, from_stage, to_stage, note = new_events[0]
    assert (event_deal, from_stage, to_stage, note) == (deal_id, source, target, None)
    new_entries = after["entries"][len(before["entries"]) :]
    assert after["entries"][: len(before["entries"])] == before["entries"]
    assert len(new_entries) == 1
    _id, chain_key, seq, kind, payload = new_entries[0]
    chain_before = [e for e in before["entries"] if e[1] == f"deal:{deal_id}"]
    assert (chain_key, seq, kind) == (f"deal:{deal_id}", len(chain_before) + 1,
                                      "deal_stage_transition")  # fmt: skip
    assert payload == {
        "deal_id": deal_id,
        "stage_event_id": event_id,
        "from_stage": source,
        "to_stage": target,
        "note": None,
    }

    # the screenshots, of the X screen
    assert report["screenshot_during"] and report["screenshot_after"]
    from PySide6.QtGui import QImage

    for path in (during, shot):
        assert path.stat().st_size > 10_000
        image = QImage(str(path))
        colours = {
            image.pixel(x, y)
            for x in range(0, image.width(), 7)
            for y in range(0, image.height(), 7)
        }
        assert len(colours) > 20, f"{path.name} is blank"
