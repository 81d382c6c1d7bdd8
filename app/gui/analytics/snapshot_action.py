"""Compute snapshots…: the ``snapshots`` job run now from the window, for the last N days (a
backfill), with a progress dialog that can cancel; the run is kept in the job log like any
other. Days already stored are computed again and updated (never duplicated)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import JobStatus, JobTrigger
from app.gui.context import AppContext
from app.services.analytics.snapshots import MAX_DAYS
from app.services.jobs.runner import JobResult, run_jobs

if TYPE_CHECKING:
    from app.services.database import Database

DEFAULT_DAYS = 30
NAME = "snapshots"


def run_snapshots(db: Database, days: int, progress: Any, cancelled: Any) -> JobResult:
    """On a worker: the job for the ``days`` days ending today (UTC)."""
    (result,) = run_jobs(
        db,
        [NAME],
        dt.datetime.now(dt.UTC).date(),
        JobTrigger.WINDOW,
        {NAME: {"days": days}},
        progress=progress,
        cancelled=cancelled,
    )
    return result


class SnapshotsDialog(QDialog):
    """How many days to compute."""

    def __init__(self, days: int = DEFAULT_DAYS, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compute snapshots")
        intro = QLabel(
            "Stores every agent's performance snapshot for each of the last days, ending "
            "today (UTC), rebuilt from the deals' stage history and the commissions' status "
            "dates. Days already stored are computed again."
        )
        intro.setWordWrap(True)
        self.days = QSpinBox()
        self.days.setRange(1, MAX_DAYS)
        self.days.setValue(days)
        self.days.setSuffix(" days")
        self.days.setAccessibleName("Days to compute")
        form = QFormLayout()
        form.addRow("Compute the last", self.days)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Compute")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)


def compute_snapshots(
    ctx: AppContext,
    parent: QWidget,
    days: int | None = None,
    on_done: Callable[[JobResult], None] | None = None,
) -> bool:
    """Ask for the days (unless given), then run the job in the background with a progress
    dialog. False when there is no database or the person cancelled the question."""
    db = ctx.database.db
    if db is None:
        return False
    if days is None:
        dialog = SnapshotsDialog(parent=parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        days = dialog.days.value()

    def done(result: JobResult) -> None:
        if result.status is JobStatus.SUCCEEDED:
            ctx.events.say(
                f"Snapshots stored: {result.rows_affected or 0:,} rows ({result.message})."
            )
        elif result.message and result.message.startswith("Cancelled"):
            ctx.events.say(result.message)
        else:
            QMessageBox.warning(
                parent,
                "Snapshots not stored",
                f"The snapshots could not be computed: {result.message or result.status.value}",
            )
        ctx.events.changed("snapshots")
        ctx.events.changed("jobs")
        if on_done is not None:
            on_done(result)

    ctx.ops.run(
        partial(run_snapshots, db, days),
        label=f"Computing snapshots for {days} day{'s' if days != 1 else ''}…",
        progress="dialog",
        cancellable=True,
        on_success=done,
        parent=parent,
    )
    return True
