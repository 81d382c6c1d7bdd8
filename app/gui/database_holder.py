"""The window's open database: opening and preparing it in the background, and what went wrong.

Opening runs ``open_database``, ``ping`` and ``schema.prepare`` on a worker. While it runs,
and when it fails, the window stays usable; nothing is written to a database that failed.

Once a shared database is open, ``watch`` (app/gui/connection_watch.py) notices a lost server
connection and pings until the server answers again; ``retry`` then pings at once instead of
opening anew. While the window's banner says the connection is lost, an error that is only that
loss is not shown again in a message box over the window (a dialog still shows it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.domain.errors import DatabaseProblem, PerfDeskError
from app.gui.connection_watch import ConnectionWatch
from app.gui.errors import ErrorPresenter, UserMessage, describe_error
from app.gui.operations import Operations
from app.gui.passwords import PasswordProvider
from app.gui.targets import DatabaseTarget, ExplicitUrl, LocalFile, Server
from app.services import connection
from app.services.database import Database, open_database, ping
from app.services.dberrors import explain

if TYPE_CHECKING:
    from app.services.schema import SchemaStatus

log = logging.getLogger(__name__)

Prepare = Callable[[Database], "SchemaStatus"]


class DbState(Enum):
    CLOSED = "closed"
    OPENING = "opening"
    OPEN = "open"
    FAILED = "failed"


def _default_prepare(db: Database) -> SchemaStatus:
    # Imported here, on the worker: schema pulls in alembic when it has to migrate.
    from app.services.schema import prepare

    return prepare(db)


def open_and_prepare(url: str, prepare: Prepare) -> tuple[Database, SchemaStatus]:
    """Runs on a worker: open, check we can talk to it, then create/upgrade/refuse the schema."""
    db = open_database(url)
    try:
        ping(db)
        status = prepare(db)
    except PerfDeskError:
        db.dispose()
        raise
    except Exception as exc:
        db.dispose()
        raise DatabaseProblem(explain(exc, db.describe())) from exc
    return db, status


class DatabaseHolder(QObject):
    opening = Signal(str)  # what is being opened, e.g. "Local file /…/perfdesk.sqlite3"
    opened = Signal(object, object)  # Database, SchemaStatus
    failed = Signal(str)  # the plain message
    closed = Signal()

    def __init__(
        self,
        ops: Operations,
        passwords: PasswordProvider,
        parent: QObject | None = None,
        *,
        prepare: Prepare = _default_prepare,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.passwords = passwords
        self.prepare = prepare
        self.parent_widget: QWidget | None = None
        self.state = DbState.CLOSED
        self.db: Database | None = None
        self.status: SchemaStatus | None = None
        self.target: DatabaseTarget | None = None
        self.error_text: str | None = None
        self._generation = 0
        self.watch = ConnectionWatch(ops, self)
        self._present_error: ErrorPresenter = ops.present_error
        ops.present_error = self._present_unless_told

    @property
    def connection_lost(self) -> bool:
        """The open shared database lost its connection and has not got it back yet."""
        return self.is_open and self.watch.is_lost

    @property
    def is_open(self) -> bool:
        return self.state is DbState.OPEN and self.db is not None

    def describe_target(self) -> str:
        return self.target.describe() if self.target is not None else "No database"

    def open(self, target: DatabaseTarget, *, password: str | None = None) -> None:
        """Open ``target`` instead of the current database (``password`` for a server, once)."""
        self._release_current()
        self._generation += 1
        generation = self._generation
        self.target = target
        self.state = DbState.OPENING
        self.error_text = None
        self.opening.emit(target.describe())

        prompted = False
        if isinstance(target, Server):
            if password is None:
                password = self.passwords.stored(target.settings, self.parent_widget)
            if password is None:
                password = self.passwords.ask(target.settings, self.parent_widget)
                prompted = password is not None
            if password is None:
                self._fail(
                    generation,
                    f"No password was given for {target.describe()}, so PerfDesk did not "
                    "connect. Choose Retry to be asked again.",
                )
                return
            url = connection.server_url(target.settings, password)
        elif isinstance(target, LocalFile):
            url = connection.local_url(target.resolved)
        else:
            assert isinstance(target, ExplicitUrl)
            url = target.url

        def opened(result: tuple[Database, SchemaStatus]) -> None:
            db, status = result
            if generation != self._generation:
                self._dispose_later(db)
                return
            self.db, self.status = db, status
            self.state = DbState.OPEN
            self.watch.watch(db)
            if prompted and isinstance(target, Server) and password:
                # Typed in the prompt and accepted by the server: keep it in the keyring.
                self.passwords.remember(target.settings, password, self.parent_widget)
            self.opened.emit(db, status)

        def failed(exc: BaseException) -> None:
            self._fail(generation, describe_error(exc).text)

        self.ops.run(
            partial(open_and_prepare, url, self.prepare),
            label="Opening database…",
            progress="status",
            cancellable=False,
            on_success=opened,
            on_error=failed,
        )

    def retry(self) -> None:
        """Ping at once when the open database lost its connection; else open the target again."""
        if self.connection_lost:
            self.watch.check_now()
        elif self.target is not None:
            self.open(self.target)

    def close(self) -> None:
        """Let go of the current database (pages empty themselves on ``closed``)."""
        self._generation += 1
        self._release_current()
        self.state = DbState.CLOSED

    def _fail(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self.state = DbState.FAILED
        self.error_text = message
        self.failed.emit(message)

    def _present_unless_told(self, parent: QWidget | None, message: UserMessage) -> None:
        """Operations' error presenter: leaves out what the banner over ``parent`` says."""
        if (
            message.connection_lost
            and self.connection_lost
            and (parent is None or parent.window() is self.parent_widget)
        ):
            log.info("Not shown (the banner says the connection is lost): %s", message.text)
            return
        self._present_error(parent, message)

    def _release_current(self) -> None:
        self.watch.stop()
        db, self.db, self.status = self.db, None, None
        if db is not None:
            self.closed.emit()
            self._dispose_later(db)

    def _dispose_later(self, db: Database) -> None:
        def ignore(_exc: BaseException) -> None:  # logged by Operations; nothing to show
            pass

        self.ops.run(db.dispose, label="Closing database", on_error=ignore)
