"""Live updates in shared mode: NOTIFYs from other workstations into ``AppEvents.data_changed``.

When a PostgreSQL database opens, a ``Listener`` (app/services/live.py) is connected on a
worker; a ``QSocketNotifier`` on its socket wakes ``_on_readable``, which drains what arrived
and emits ``ctx.events.changed(kind)`` once per distinct kind, the same signal local changes
use (DESIGN: "Remote changes (NOTIFY) come through the same signal"). Nothing runs in local
mode. A lost connection is said once in the status bar and opened again every few seconds;
when it is back, every page reads again (``events.ALL``): changes made meanwhile were missed.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal, Slot

from app.domain.errors import DatabaseProblem
from app.gui import events
from app.gui.context import AppContext
from app.services.database import Database
from app.services.live import Listener

log = logging.getLogger(__name__)

RETRY_MS = 3_000


class LiveRelay(QObject):
    """Relays the shared database's change notifications to ``ctx.events``."""

    #: Emitted after the kinds of one wake-up were passed on (``ctx.events.data_changed``
    #: fires first); for tests and benchmarks.
    relayed = Signal(list)
    #: The listening connection is up (again).
    listening = Signal()

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.listener: Listener | None = None
        self._notifier: QSocketNotifier | None = None
        self._generation = 0
        self._lost_said = False
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(self._reconnect)
        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self.stop)
        if ctx.database.db is not None:
            self.start(ctx.database.db)

    @property
    def is_listening(self) -> bool:
        return self._notifier is not None

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: object) -> None:
        self.start(db)

    def start(self, db: Database) -> None:
        """Listen to ``db`` (PostgreSQL only) instead of whatever was listened to before."""
        self.stop()
        if db.is_local:
            return
        generation = self._generation
        made: list[Listener] = []

        def connect() -> Listener:
            listener = Listener(db.url)
            made.append(listener)
            return listener

        def adopt(listener: Listener) -> None:
            if generation == self._generation and self.listener is None:
                self.listener = listener
                self._watch()

        def finished() -> None:  # stopped meanwhile, or cancelled after it connected
            for listener in made:
                if listener is not self.listener:
                    listener.close()

        self.ctx.ops.run(
            connect,
            label="Starting live updates…",
            on_success=adopt,
            on_error=lambda exc: self._lost(generation, exc),
            on_finished=finished,
        )

    @Slot()
    def stop(self) -> None:
        self._generation += 1
        self._retry.stop()
        self._unwatch()
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        self._lost_said = False

    def _watch(self) -> None:
        assert self.listener is not None
        self._unwatch()
        self._notifier = QSocketNotifier(self.listener.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_readable)
        self.listening.emit()
        # Anything that came while nobody watched the socket (the notifier only sees new data).
        QTimer.singleShot(0, self, self._on_readable)

    def _unwatch(self) -> None:
        notifier, self._notifier = self._notifier, None
        if notifier is not None:
            notifier.setEnabled(False)
            notifier.deleteLater()

    @Slot()
    def _on_readable(self) -> None:
        listener, notifier = self.listener, self._notifier
        if listener is None or notifier is None:
            return
        notifier.setEnabled(False)  # the socket may be closed by drain() (connection lost)
        try:
            kinds = listener.drain(reconnect=False)
        except DatabaseProblem as exc:
            self._lost(self._generation, exc)
            return
        if not listener.is_open:
            self._lost(self._generation, None)
            return
        notifier.setEnabled(True)
        for kind in kinds:
            self.ctx.events.changed(kind)
        if kinds:
            self.relayed.emit(kinds)

    def _lost(self, generation: int, exc: BaseException | None) -> None:
        if generation != self._generation:
            return
        self._unwatch()
        if not self._lost_said:
            self._lost_said = True
            why = str(exc) if isinstance(exc, DatabaseProblem) else ""
            self.ctx.events.say(why or "Live updates stopped; trying to reconnect…")
        self._retry.start()

    @Slot()
    def _reconnect(self) -> None:
        generation = self._generation
        listener = self.listener
        if listener is None:
            db = self.ctx.database.db
            if db is not None:
                self.start(db)
            return

        def resumed(_none: None) -> None:
            if generation != self._generation:
                return
            self._lost_said = False
            self._watch()
            self.ctx.events.say("Live updates resumed.")
            self.ctx.events.changed(events.ALL)

        self.ctx.ops.run(
            listener.reconnect,
            label="Reconnecting live updates…",
            on_success=resumed,
            on_error=lambda exc: self._lost(generation, exc),
        )
