"""The in-app scheduler: runs the scheduled jobs that are due while a database is open.

What is due, and with which options, is decided by the services (app/services/jobs/
schedule.py: ``agent-kpis`` once per UTC day, ``deliveries`` each minute while something is
due to be sent). This object only keeps time: a first check ``FIRST_CHECK_MS`` after the
database opens (once the pages have read what they show), then one every ``CHECK_MS``. Each
check runs ``run_due_jobs`` off the GUI thread through ``ctx.ops`` and never while the
previous one is still running, so two scheduled runs never overlap in one window (and the
job's advisory lock keeps two workstations apart on a server).

When the database opens, one query asks which jobs this connection may run
(``schedule.runnable``); under a person's own login on a server there are none, and the
scheduler stays idle without a word. Closing or switching databases stops it; a check still
running is asked to stop after its current job and its result is ignored. A failure is said
once in the status bar (``ctx.events.say``), never in a dialog; the same failure again is not
repeated until the job has succeeded in between.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.domain.enums import JobStatus
from app.gui.context import AppContext
from app.gui.errors import describe_error
from app.gui.operations import Operation
from app.services.database import Database
from app.services.jobs.runner import JobResult
from app.services.jobs.schedule import ScheduledJob, run_due_jobs, runnable

log = logging.getLogger(__name__)

#: After the database opens, the first check waits this long (ms).
FIRST_CHECK_MS = 10_000
#: Then a check every minute (the shortest interval of the schedule).
CHECK_MS = 60_000

_CHECK = "*"  # the key of a failure of the check itself (not of one job)


def _run_task(
    db: Database,
    entries: tuple[ScheduledJob, ...],
    progress: Any,
    cancelled: Any,
) -> list[JobResult]:
    return run_due_jobs(db, dt.datetime.now(dt.UTC), entries, cancelled=cancelled)


class JobScheduler(QObject):
    """Runs the due scheduled jobs of the open database, one check at a time."""

    #: The results of one check that ran at least one job (for tests and the log).
    ran = Signal(list)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.enabled = True
        self.db: Database | None = None
        self.entries: tuple[ScheduledJob, ...] = ()
        self._generation = 0
        self._running: Operation[Any] | None = None
        self._said: dict[str, str] = {}
        self._first = QTimer(self)
        self._first.setSingleShot(True)
        self._first.timeout.connect(self.check)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self.stop)
        if ctx.database.db is not None:
            self.start(ctx.database.db)

    @property
    def is_active(self) -> bool:
        """Checking the open database on a timer."""
        return self._timer.isActive() or self._first.isActive()

    @property
    def is_running(self) -> bool:
        """A check (and perhaps a job) is running on a worker right now."""
        return self._running is not None

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: object) -> None:
        self.start(db)

    def start(self, db: Database) -> None:
        """Schedule ``db``'s jobs instead of whatever was scheduled before."""
        self.stop()
        if not self.enabled:
            return
        generation = self._generation

        def adopt(entries: tuple[ScheduledJob, ...]) -> None:
            if not self._alive() or generation != self._generation:
                return
            if not entries:
                log.info("No scheduled job may run under this login; the scheduler is idle")
                return
            self.db, self.entries = db, entries
            self._first.start(FIRST_CHECK_MS)
            self._timer.start(CHECK_MS)

        self.ctx.ops.run(
            partial(runnable, db),
            label="Reading the job schedule",
            on_success=adopt,
            on_error=lambda exc: self._failed(generation, _CHECK, exc),
        )

    @Slot()
    def stop(self) -> None:
        """Stop checking; a check still running stops after its current job."""
        self._generation += 1
        self._first.stop()
        self._timer.stop()
        self.db, self.entries = None, ()
        self._said.clear()
        if self._running is not None:
            self._running.cancel()

    @Slot()
    def check(self) -> None:
        """Run the due jobs now, unless a check is still running or nothing is open."""
        db = self.db
        if db is None or self._running is not None or not self.enabled:
            return
        generation = self._generation

        def finished() -> None:
            if self._alive():
                self._running = None

        self._running = self.ctx.ops.run(
            partial(_run_task, db, self.entries),
            label="Running scheduled jobs",
            on_success=lambda results: self._report(generation, results),
            on_error=lambda exc: self._failed(generation, _CHECK, exc),
            on_finished=finished,
        )

    def _alive(self) -> bool:
        return shiboken6.isValid(self)

    def _report(self, generation: int, results: list[JobResult]) -> None:
        if not self._alive() or generation != self._generation:
            return
        self._said.pop(_CHECK, None)
        for result in results:
            if result.status is JobStatus.FAILED:
                message = result.message or "it failed"
                self._say_once(result.name, f"The scheduled job {result.name} failed: {message}")
            elif result.status is JobStatus.SUCCEEDED:
                self._said.pop(result.name, None)
        if results:
            self.ran.emit(results)

    def _failed(self, generation: int, key: str, exc: BaseException) -> None:
        if not self._alive() or generation != self._generation:
            return
        self._say_once(key, f"Scheduled jobs could not run: {describe_error(exc).text}")

    def _say_once(self, key: str, text: str) -> None:
        if self._said.get(key) == text:
            return
        self._said[key] = text
        self.ctx.events.say(text)
