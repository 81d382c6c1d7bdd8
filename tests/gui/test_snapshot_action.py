"""Compute snapshots… from the window: the job for the last N days runs in the background with
a progress dialog, is kept in the job log, and a second run updates the same rows."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from app.db.models import AgentPerformanceSnapshot, JobRun
from app.domain.enums import JobStatus
from app.gui.analytics.snapshot_action import SnapshotsDialog, compute_snapshots
from app.gui.targets import ExplicitUrl
from app.services.database import open_database
from app.services.jobs.runner import JobResult
from app.services.users import add_user
from tests.gui.conftest import WindowFactory, wait_settled


def _counts(path: Path) -> tuple[int, list[tuple[str, str]]]:
    db = open_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            rows = s.scalar(sa.select(sa.func.count()).select_from(AgentPerformanceSnapshot))
            runs = [(r.job_name, r.status) for r in s.scalars(sa.select(JobRun))]
    finally:
        db.dispose()
    return int(rows or 0), runs


def test_compute_snapshots_runs_the_job_for_the_days_asked_and_logs_it(
    qtbot, make_window: WindowFactory, prepared_db_path: Path
) -> None:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, "ann@snap.example", "agent", "Ann", "Agent")
        add_user(db, "bob@snap.example", "broker", "Bob", "Broker")
    finally:
        db.dispose()
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    wait_settled(qtbot, window)
    results: list[JobResult] = []
    assert compute_snapshots(window.ctx, window, days=3, on_done=results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=30_000)
    assert results[0].status is JobStatus.SUCCEEDED
    first, runs = _counts(prepared_db_path)
    assert first == 6  # two producers × three days
    assert runs == [("snapshots", "succeeded")]
    assert compute_snapshots(window.ctx, window, days=3, on_done=results.append)
    qtbot.waitUntil(lambda: len(results) == 2, timeout=30_000)
    again, runs = _counts(prepared_db_path)
    assert again == first and len(runs) == 2  # updated, never duplicated


def test_the_dialog_asks_for_the_days_within_limits(qtbot) -> None:
    dialog = SnapshotsDialog(days=30)
    qtbot.addWidget(dialog)
    assert dialog.days.value() == 30
    dialog.days.setValue(10_000)
    assert dialog.days.value() == dialog.days.maximum() == 400
