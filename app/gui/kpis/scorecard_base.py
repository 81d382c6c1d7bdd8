"""What the My KPIs and Team view pages share: the open database, reading in the background
when shown and again when KPI data change (debounced), a "whose / which" combo, an as-of
date, and CSV / XLSX / PDF exports written on a worker.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QDate, Qt, QTimer, Slot
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.gui import events
from app.gui.context import AppContext
from app.gui.errors import describe_error

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus

#: The data_changed kinds that change a scorecard.
KINDS = ("kpi_definitions", "kpi_assignments", "kpi_measurements", "people", "jobs")
REFRESH_DEBOUNCE_MS = 300

ChooseFile = Callable[[QWidget, str, str, str], str]


def _choose_file(parent: QWidget, title: str, suggested: str, name_filter: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, name_filter)
    return path


class ScorecardBase(QWidget):
    key: ClassVar[str]
    title: ClassVar[str]
    chooser_label: ClassVar[str]
    export_name: ClassVar[str]

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{self.key}Page")
        self.ctx = ctx
        self.choose_file: ChooseFile = _choose_file
        self._db: Database | None = None
        self._stale = True
        self._generation = 0
        self._loading = False
        self.data: Any = None
        self.last_export: str | None = None
        self.last_seconds: float | None = None

        heading = QLabel(self.title)
        heading.setProperty("role", "pageTitle")
        self.chooser = QComboBox()
        self.chooser.setObjectName(f"{self.key}Chooser")
        self.chooser.setMinimumWidth(220)
        self.chooser.activated.connect(self._chosen)
        self.as_of = QDateEdit(QDate.currentDate())
        self.as_of.setObjectName(f"{self.key}AsOf")
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("d MMM yyyy")
        self.as_of.setToolTip("Show the KPIs as they stood on this day")
        self.as_of.dateChanged.connect(self._date_changed)
        self.export_button = QPushButton("E&xport")
        self.export_button.setObjectName(f"{self.key}Export")
        menu = QMenu(self.export_button)
        menu.addAction("CSV…", partial(self.export, "csv"))
        menu.addAction("Excel workbook (XLSX)…", partial(self.export, "xlsx"))
        menu.addAction("PDF…", partial(self.export, "pdf"))
        self.export_button.setMenu(menu)
        self.status = QLabel()
        self.status.setObjectName("statusLabel")
        self.status.setProperty("role", "hint")

        top = QHBoxLayout()
        top.addWidget(heading)
        top.addSpacing(16)
        top.addWidget(QLabel(self.chooser_label))
        top.addWidget(self.chooser)
        top.addWidget(QLabel("As of"))
        top.addWidget(self.as_of)
        top.addStretch(1)
        top.addWidget(self.status)
        top.addWidget(self.export_button)

        self.empty = QLabel()
        self.empty.setObjectName("emptyState")
        self.empty.setProperty("role", "hint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

        QShortcut(QKeySequence.StandardKey.Refresh, self, self.reload)
        self._timer = QTimer(self, singleShot=True, interval=REFRESH_DEBOUNCE_MS)
        self._timer.timeout.connect(self._refresh_when_shown)
        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.database.failed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        if ctx.database.db is not None:
            self._db = ctx.database.db
        self._enable()

    # -- what a page says: how to read, how to show -------------------------------------------

    def read(self, db: Database, choice: Any, as_of: dt.date) -> Any:  # runs on a worker
        raise NotImplementedError

    def show_data(self, data: Any) -> None:
        raise NotImplementedError

    def write_file(self, kind: str, path: str) -> Callable[[], Any]:
        raise NotImplementedError

    # -- state -------------------------------------------------------------------------------

    def _enable(self) -> None:
        self.export_button.setEnabled(self.data is not None and not self._loading)
        self.chooser.setEnabled(self._db is not None)
        self.as_of.setEnabled(self._db is not None)

    def say_empty(self, text: str) -> None:
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty)

    def day(self) -> dt.date:
        q = self.as_of.date()
        return dt.date(q.year(), q.month(), q.day())

    def is_loading(self) -> bool:
        return self._loading

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: SchemaStatus) -> None:
        self._db = db
        self.data = None
        self.chooser.clear()
        self._stale = True
        self._refresh_when_shown()
        self._enable()

    @Slot()
    def _on_closed(self, *_args: object) -> None:
        self._db = None
        self._generation += 1
        self._loading = False
        self.data = None
        self.chooser.clear()
        self.say_empty("No database is open.")
        self._enable()

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if events.concerns(kind, *KINDS):
            self._stale = True
            self._timer.start()

    @Slot()
    def _refresh_when_shown(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._db is None:
            self.say_empty("No database is open.")
        elif self._stale:
            self.reload()

    @Slot(int)
    def _chosen(self, _index: int) -> None:
        self.reload()

    @Slot(QDate)
    def _date_changed(self, _date: QDate) -> None:
        self.reload()

    def reload(self) -> None:
        db = self._db
        if db is None:
            return
        self._timer.stop()
        self._stale = False
        self._generation += 1
        generation = self._generation
        self._loading = True
        self.status.setText("Reading…")
        self._enable()
        started = time.perf_counter()
        self.ctx.ops.run(
            partial(self.read, db, self.chooser.currentData(), self.day()),
            label=f"Reading {self.title}…",
            on_success=partial(self._loaded, generation, started),
            on_error=partial(self._failed, generation),
            parent=self,
        )

    def _loaded(self, generation: int, started: float, data: Any) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self.data = data
        self.status.setText("")
        self.show_data(data)
        self._enable()
        self.last_seconds = time.perf_counter() - started  # read and shown

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self.data = None
        self.status.setText("")
        self.say_empty(describe_error(error).text)
        self._enable()

    def set_choices(self, choices: list[tuple[Any, str]], current: Any) -> None:
        """Fill the chooser without reading again; keep ``current`` selected."""
        self.chooser.blockSignals(True)
        try:
            self.chooser.clear()
            for value, label in choices:
                self.chooser.addItem(label, value)
            index = self.chooser.findData(current)
            self.chooser.setCurrentIndex(max(0, index))
        finally:
            self.chooser.blockSignals(False)

    # -- export -------------------------------------------------------------------------------

    def export(self, kind: str) -> str | None:
        if self.data is None:
            return None
        filters = {
            "csv": "CSV file (*.csv)",
            "xlsx": "Excel workbook (*.xlsx)",
            "pdf": "PDF document (*.pdf)",
        }
        suggested = f"{self.export_name}-{self.day().isoformat()}.{kind}"
        path = self.choose_file(self, f"Export {self.title} as {kind.upper()}", suggested,
                                filters[kind])  # fmt: skip
        if not path:
            return None
        if not path.lower().endswith(f".{kind}"):
            path = f"{path}.{kind}"
        self.export_button.setEnabled(False)
        self.ctx.ops.run(
            self.write_file(kind, path),
            label=f"Exporting {self.title}…",
            progress="status",
            cancellable=False,
            on_success=partial(self._exported, path),
            on_finished=self._enable,
            parent=self,
        )
        return path

    def _exported(self, path: str, _result: object) -> None:
        self.last_export = path
        self.ctx.events.say(f"{self.title} exported to {path}")
