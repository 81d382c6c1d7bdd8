"""run_window: the real start-up path, with the window closed by a timer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from app import APP_NAME, ORG_NAME
from app.gui.app import run_window
from app.gui.database_holder import DbState
from app.gui.main_window import MainWindow
from app.services.database import open_database
from app.services.users import add_user


def test_run_window_shows_then_opens_and_remembers_layout(
    qapp, prepared_db_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run_window installs its own
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, "bob@office.example", "broker", "Bob", "Broker")  # not a first run
    finally:
        db.dispose()
    seen: dict[str, object] = {}

    def poll() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        window = next((w for w in windows if w.isVisible()), None)
        if window is None:
            return
        holder = window.ctx.database
        seen.setdefault("first_state", holder.state)
        if holder.state in (DbState.OPEN, DbState.FAILED) and not window.ctx.ops.active():
            seen["state"] = holder.state
            seen["mode"] = window.mode_label.text()
            timer.stop()
            window.close()

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(poll)
    timer.start()
    assert run_window(f"sqlite:///{prepared_db_path}") == 0
    timer.stop()

    assert seen["first_state"] is DbState.OPENING  # shown before the database was open
    assert seen["state"] is DbState.OPEN
    assert seen["mode"] == f"Local file {prepared_db_path}"
    assert (QApplication.organizationName(), QApplication.applicationName()) == (
        ORG_NAME,
        APP_NAME,
    )
    assert "QListView#navigation" in qapp.styleSheet()
    saved = QSettings()
    assert saved.value("window/lastPage") == "dashboard"  # the first page of the navigation
    assert str(tmp_path) in saved.fileName()  # the test's settings, not the person's
