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

from PySide6.QtCore import QDate, Qt, Slot
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

from app.gui.context import AppContext
from app.gui.errors import describe_error
from app.gui.page_loading import BackgroundPage, BackgroundRead

if TYPE_CHECKING:
    from app.services.database import Database

#: The data_changed kinds that change a scorecard.
KINDS = ("kpi_definitions", "kpi_assignments", "kpi_measurements", "people", "jobs")
REFRESH_DEBOUNCE_MS = 300

ChooseFile = Callable[[QWidget, str, str, str], str]


def _choose_file(parent: QWidget, title: str, suggested: str, name_filter: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, name_filter)
    return path


class ScorecardBase(BackgroundPage):
    key: ClassVar[str]
    title: ClassVar[str]
    chooser_label: ClassVar[str]
    export_name: ClassVar[str]

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName(f"{self.key}Page")
        self.choose_file: ChooseFile = _choose_file
        self.data: Any = None
        self.last_export: str | None = None
        self.last_seconds: float | None = None
        self._started = 0.0
        self._read = BackgroundRead(
            self,
            f"Reading {self.title}…",
            self._start_reading,
            self._loaded,
            kinds=KINDS,
            failed=self._failed,
            delay_ms=REFRESH_DEBOUNCE_MS,
        )

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
        self.watch_database()
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
        self.export_button.setEnabled(self.data is not None and not self.is_loading())
        self.chooser.setEnabled(self._db is not None)
        self.as_of.setEnabled(self._db is not None)

    def say_empty(self, text: str) -> None:
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty)

    def day(self) -> dt.date:
        q = self.as_of.date()
        return dt.date(q.year(), q.month(), q.day())

    def database_opened(self) -> None:
        self.data = None
        self.chooser.clear()
        self._enable()

    def database_closed(self) -> None:
        self.data = None
        self.chooser.clear()
        self.say_empty("No database is open.")
        self._enable()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)  # reads when stale
        if self._db is None:
            self.say_empty("No database is open.")

    @Slot(int)
    def _chosen(self, _index: int) -> None:
        self.reload()

    @Slot(QDate)
    def _date_changed(self, _date: QDate) -> None:
        self.reload()

    def _start_reading(self, db: Database) -> Callable[[], Any]:
        self.status.setText("Reading…")
        self._enable()
        self._started = time.perf_counter()
        return partial(self.read, db, self.chooser.currentData(), self.day())

    def _loaded(self, data: Any) -> None:
        self.data = data
        self.status.setText("")
        self.show_data(data)
        self._enable()
        self.last_seconds = time.perf_counter() - self._started  # read and shown

    def _failed(self, error: BaseException) -> None:
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
