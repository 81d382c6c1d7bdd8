"""Pages that read what they show in the background.

A ``BackgroundPage`` follows the window's database (``_db``) and owns one or more
``BackgroundRead``s. Each read runs on a worker through ``ctx.ops``, and only the latest one
counts: a read started later, or the database closing, makes the results of earlier ones be
ignored. A read runs when the page is shown after something it shows changed (the
``data_changed`` kinds it lists, or a database opened); while the page is hidden it is only
marked stale.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget

from app.domain.errors import PermissionDenied
from app.gui import events
from app.gui.context import AppContext
from app.gui.form_fields import sentence

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus

T = TypeVar("T")


class BackgroundRead(Generic[T]):
    """One thing ``page`` reads on a worker.

    ``task(db)`` is called on the GUI thread as a read starts and gives what runs on the worker
    (None: nothing to read now). ``loaded(result)`` shows the result. A ``PermissionDenied``
    goes to ``refused(text)`` (in a sentence) when given; any other error to ``failed(exc)``
    when given, else to a message box. With ``delay_ms``, a burst of ``data_changed`` is read
    once, that long after the last.
    """

    def __init__(
        self,
        page: BackgroundPage,
        label: str,
        task: Callable[[Database], Callable[[], T] | None],
        loaded: Callable[[T], None],
        *,
        kinds: tuple[str, ...] = (),
        refused: Callable[[str], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
        delay_ms: int = 0,
    ) -> None:
        self.page = page
        self.label = label
        self.kinds = kinds
        self._task = task
        self._loaded = loaded
        self._refused = refused
        self._failed = failed
        self.stale = False
        self.loading = False
        self.generation = 0
        self._timer: QTimer | None = None
        if delay_ms:
            self._timer = QTimer(page, singleShot=True, interval=delay_ms)
            self._timer.timeout.connect(self.refresh_when_shown)
        page._reads.append(self)

    def changed(self) -> None:
        """What it reads changed: read again (after the delay, if any) when shown."""
        if self._timer is None:
            self.refresh_when_shown()
        else:
            self.stale = True
            self._timer.start()

    def refresh_when_shown(self) -> None:
        if self.page.isVisible():
            self.reload()
        else:
            self.stale = True

    def reload(self) -> None:
        db = self.page._db
        if db is None:
            return
        if self._timer is not None:
            self._timer.stop()
        self.stale = False
        self.generation += 1
        generation = self.generation
        self.loading = True
        task = self._task(db)
        if task is None:  # nothing to read now; what an older read brings is ignored too
            self.loading = False
            return
        self.page.ctx.ops.run(
            task,
            label=self.label,
            on_success=partial(self._done, generation),
            on_error=partial(self._error, generation),
            parent=self.page,
        )

    def forget(self) -> None:
        """Ignore the result of the read still running (it belongs to the old database)."""
        self.generation += 1
        self.loading = False

    def _done(self, generation: int, result: T) -> None:
        if generation != self.generation:
            return
        self.loading = False
        self._loaded(result)

    def _error(self, generation: int, exc: BaseException) -> None:
        if generation != self.generation:
            return
        self.loading = False
        if isinstance(exc, PermissionDenied) and self._refused is not None:
            self._refused(sentence(str(exc)))
        elif self._failed is not None:
            self._failed(exc)
        else:
            self.page.ctx.ops.present(exc, self.page)


class BackgroundPage(QWidget):
    """A page whose ``BackgroundRead``s follow the window's database and its changes.

    A page creates its reads, builds its widgets, then calls ``watch_database()``. It says
    what a new database or a closed one means for what it shows in ``database_opened()``
    (called once the reads started, or were marked stale) and ``database_closed()``.
    """

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._db: Database | None = None
        self._reads: list[BackgroundRead[Any]] = []

    def watch_database(self) -> None:
        """Follow the database from now on, reading when shown if one is open already."""
        ctx = self.ctx
        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.database.failed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        db = ctx.database.db
        if ctx.database.is_open and db is not None:  # built after the database opened
            self._db = db
            for read in self._reads:
                read.stale = True

    def database_opened(self) -> None:
        """A database was opened: forget what the last one showed."""

    def database_closed(self) -> None:
        """The database was closed (or failed to open): show that none is open."""

    def is_loading(self) -> bool:
        return any(read.loading for read in self._reads)

    def reload(self) -> None:
        for read in self._reads:
            read.reload()

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: SchemaStatus) -> None:
        self._db = db
        for read in self._reads:
            read.refresh_when_shown()
        self.database_opened()  # the reads' results come later, from the worker

    @Slot()
    def _on_closed(self) -> None:
        self._db = None
        for read in self._reads:
            read.forget()
        self.database_closed()

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        for read in self._reads:
            if events.concerns(kind, *read.kinds):
                read.changed()

    def reload_stale(self) -> None:
        for read in self._reads:
            if read.stale:
                read.reload()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.reload_stale()
