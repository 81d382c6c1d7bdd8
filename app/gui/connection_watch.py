"""Noticing that the shared server stopped answering, and finding out when it answers again.

The open Database reports, from whichever worker hit it, each statement or new connection that
failed because the server connection was lost (``Database.on_connection_lost``). The first
report turns the watch on: ``lost`` carries the banner's sentence, and the server is pinged on a
worker after 1, 2, 5 and 10 seconds, then every 30, until it answers; then ``restored``.
``check_now`` pings at once (the banner's Retry). Nothing needs replaying: the statement that
failed was rolled back with its connection, and what the person typed stays in its form until
they save again. A local file never loses its connection and is never watched.
"""

from __future__ import annotations

import logging
from functools import partial

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.gui.operations import Operations
from app.services.database import Database, ping

log = logging.getLogger(__name__)

#: Seconds between tries; the last one repeats.
BACKOFF_S: tuple[float, ...] = (1, 2, 5, 10, 30)


def lost_message(where: str) -> str:
    return f"Lost the connection to {where}. Reconnecting… Your unsaved changes are kept."


class ConnectionWatch(QObject):
    """Watches the open shared database; lives on the GUI thread, all signals fire there."""

    #: The connection was lost: the sentence for the banner.
    lost = Signal(str)
    #: A try failed: when the next one comes, in plain words (for the status bar).
    still_lost = Signal(str)
    #: The server answers again.
    restored = Signal()
    # From a worker: (database, error). Queued to the GUI thread, since this object lives there.
    _reported = Signal(object, object)

    def __init__(self, ops: Operations, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.backoff_s = BACKOFF_S
        self.db: Database | None = None
        self._lost = False
        self._tries = 0
        self._pinging = False
        self._generation = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.check_now)
        self._reported.connect(self._on_reported)

    @property
    def is_lost(self) -> bool:
        return self._lost

    @property
    def next_try_ms(self) -> int | None:
        """Milliseconds until the next try, None when none is planned."""
        return self._timer.remainingTime() if self._timer.isActive() else None

    def watch(self, db: Database) -> None:
        """Watch ``db`` instead of whatever was watched (a local file: nothing to watch)."""
        self.stop()
        if db.is_local:
            return
        self.db = db
        db.on_connection_lost(partial(self._report_from_worker, db))

    def stop(self) -> None:
        """Forget the database (closed or replaced); no signal is emitted."""
        self._generation += 1
        self._timer.stop()
        self.db = None
        self._lost = False
        self._tries = 0
        self._pinging = False

    def report(self, exc: BaseException) -> None:
        """The open database's connection was lost (called on the GUI thread)."""
        if self.db is not None:
            self._on_reported(self.db, exc)

    def _report_from_worker(self, db: Database, exc: BaseException) -> None:
        # Runs on the worker that hit the error: only emit, the slot runs on the GUI thread.
        self._reported.emit(db, exc)

    @Slot(object, object)
    def _on_reported(self, db: Database, exc: BaseException) -> None:
        if db is not self.db or self._lost:
            return
        log.warning("Lost the connection to %s: %s", db.describe(), exc)
        self._lost = True
        self._tries = 0
        self.lost.emit(lost_message(db.describe()))
        self._plan_next()

    @Slot()
    def check_now(self) -> None:
        """Ping the server now (when the connection is lost and no ping is under way)."""
        db = self.db
        if db is None or not self._lost or self._pinging:
            return
        self._timer.stop()
        self._pinging = True
        generation = self._generation

        def answered(_result: object) -> None:
            if generation != self._generation:
                return
            self._pinging = False
            self._lost = False
            self._tries = 0
            log.info("Reconnected to %s", db.describe())
            self.restored.emit()

        def no_answer(_exc: BaseException) -> None:  # logged by Operations
            if generation != self._generation:
                return
            self._pinging = False
            seconds = self._plan_next()
            self.still_lost.emit(
                f"Still no answer from {db.describe()}; trying again in {seconds:g} s."
            )

        self.ops.run(
            partial(ping, db),
            label="Checking the connection…",
            on_success=answered,
            on_error=no_answer,
        )

    def _plan_next(self) -> float:
        seconds = self.backoff_s[min(self._tries, len(self.backoff_s) - 1)]
        self._tries += 1
        self._timer.start(round(seconds * 1000))
        return seconds
