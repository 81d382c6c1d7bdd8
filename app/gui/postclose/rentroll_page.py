"""The Rent roll page: every performance record, and the chosen one's locked pro forma and
months. New record… (Ctrl+N), Enter month… (Ctrl+E), Change month… (Enter on a month),
Recalculate all (in the background, with progress, cancellable).

Who may do what (SPEC §1) is the services' to say; the buttons a person may not use are
disabled, with the reason as their tooltip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import Role
from app.gui import events
from app.gui.context import AppContext
from app.gui.operations import OperationCancelled
from app.gui.pages import page
from app.gui.postclose.period_dialog import PeriodDialog
from app.gui.postclose.record_dialog import RecordDialog
from app.gui.postclose.record_view import RecordView
from app.gui.postclose.rentroll_models import ROW_ROLE, HistoryModel, RecordsModel
from app.services.postclose import periods as pp
from app.services.postclose import records as pr
from app.services.postclose.feedback import Alert, Feedback
from app.services.postclose.regrade import RecalculationCancelled, recalculate_all
from app.services.records import Actor, current_person

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus

RENT_ROLL = "rent_roll"  # the data_changed kind of periods and records
Ask = Callable[[QWidget, str, str], bool]


def ask(parent: QWidget, title: str, text: str) -> bool:
    return QMessageBox.question(parent, title, text) == QMessageBox.StandardButton.Yes


@dataclass(frozen=True)
class Loaded:
    records: list[pr.RecordInfo]
    actor: Actor | None


def load(db: Database) -> Loaded:
    return Loaded(pr.list_records(db), current_person(db))


def alerts_text(alerts: tuple[Alert, ...] | list[Alert]) -> str:
    return " ".join(a.title + "." for a in alerts)


class RentRollPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rentRollPage")
        self.ctx = ctx
        self.ask: Ask = ask
        self._db: Database | None = None
        self._stale = True
        self._generation = 0
        self._actor: Actor | None = None
        self._select_after: int | None = None
        self.info: pr.RecordInfo | None = None

        title = QLabel("Rent roll")
        title.setProperty("role", "pageTitle")
        self.search = QLineEdit()
        self.search.setObjectName("rentRollSearch")
        self.search.setPlaceholderText("Filter by property, market or buyer (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        QShortcut(QKeySequence.StandardKey.Find, self, self.search.setFocus)
        self.new_button = QPushButton("&New record…")
        self.new_button.setObjectName("newRecord")
        self.new_button.setToolTip("A performance record at close, its pro forma locked (Ctrl+N)")
        self.new_button.clicked.connect(self.new_record)
        QShortcut(QKeySequence.StandardKey.New, self, self.new_record)
        self.recalc_button = QPushButton("&Recalculate all")
        self.recalc_button.setObjectName("recalculateAll")
        self.recalc_button.setToolTip(
            "Grade every month again by the current rules and refresh buy boxes and buyers"
        )
        self.recalc_button.clicked.connect(self.recalculate)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.search, 2)
        top.addWidget(self.new_button)
        top.addWidget(self.recalc_button)

        self.model = RecordsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setObjectName("recordsTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.empty = QLabel(
            "No performance records yet. A record is made at close: New record… (Ctrl+N)."
        )
        self.empty.setObjectName("rentRollEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.hide()

        self.view = RecordView()
        self.enter_button = QPushButton("&Enter month…")
        self.enter_button.setObjectName("enterMonth")
        self.enter_button.setToolTip("Enter a month of actuals for this property (Ctrl+E)")
        self.enter_button.clicked.connect(self.enter_month)
        QShortcut(QKeySequence("Ctrl+E"), self, self.enter_month)
        self.change_button = QPushButton("&Change month…")
        self.change_button.setObjectName("changeMonth")
        self.change_button.setToolTip("Change the selected month (Enter)")
        self.change_button.clicked.connect(self.change_month)
        self.history = HistoryModel(parent=self)
        self.history_table = QTableView()
        self.history_table.setObjectName("historyTable")
        self.history_table.setModel(self.history)
        self.history_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.history_table.verticalHeader().hide()
        self.history_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.history_table.horizontalHeader().setStretchLastSection(True)
        self.history_table.doubleClicked.connect(lambda _i: self.change_month())
        self.history_table.activated.connect(lambda _i: self.change_month())
        self.months_label = QLabel()
        self.months_label.setObjectName("monthsLabel")
        buttons = QHBoxLayout()
        buttons.addWidget(self.months_label)
        buttons.addStretch(1)
        buttons.addWidget(self.enter_button)
        buttons.addWidget(self.change_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.view)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.history_table, 1)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table)
        left_layout.addWidget(self.empty)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        if ctx.database.db is not None:
            self._db = ctx.database.db
        self._update_buttons()

    # -- database and refresh -----------------------------------------------------------

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: SchemaStatus) -> None:
        self._db = db
        self._refresh_when_shown()

    @Slot()
    def _on_closed(self) -> None:
        self._db = None
        self._generation += 1
        self.model.set_rows([])
        self._show_record(None)
        self._update_buttons()

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if events.concerns(
            kind,
            RENT_ROLL,
            "performance_records",
            "buyers",
            "buy_boxes",
            events.DEALS,
            events.PEOPLE,
        ):
            self._refresh_when_shown()

    def _refresh_when_shown(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def reload(self, select: int | None = None) -> None:
        db = self._db
        if db is None:
            return
        self._stale = False
        self._generation += 1
        generation = self._generation
        current = select if select is not None else (self.info.id if self.info else None)

        def loaded(result: Loaded) -> None:
            if generation != self._generation:
                return
            self._actor = result.actor
            self.model.set_rows(result.records)
            self.empty.setVisible(not result.records)
            self.table.setVisible(bool(result.records))
            self._select(current)
            self._update_buttons()

        self.ctx.ops.run(lambda: load(db), on_success=loaded, parent=self)

    def _select(self, record_id: int | None) -> None:
        row = self.model.row_of(record_id) if record_id is not None else None
        if row is None:
            row = 0 if self.model.rows else None
        if row is None:
            self._show_record(None)
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid():
            self.table.selectRow(index.row())
            self.table.scrollTo(index)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        info = current.data(ROW_ROLE) if current.isValid() else None
        self._show_record(info)

    def _show_record(self, info: pr.RecordInfo | None) -> None:
        self.info = info
        self.view.set_info(info)
        self.history.set_rows([], None)
        self.months_label.setText("")
        self._update_buttons()
        db = self._db
        if info is None or db is None:
            return
        generation = self._generation
        record_id = info.id

        def loaded(rows: list[pp.PeriodRow]) -> None:
            if generation != self._generation or self.info is None or self.info.id != record_id:
                return
            self.history.set_rows(rows, info.projection.cash_flow)
            n = len(rows)
            self.months_label.setText(
                f"{n} month{'s' if n != 1 else ''} entered" if n else "No month entered yet"
            )
            if n:
                self.history_table.selectRow(0)
            self._update_buttons()

        self.ctx.ops.run(lambda: pp.history(db, record_id), on_success=loaded, parent=self)

    def _may(self, roles: tuple[Role, ...]) -> bool:
        return self._actor is None or Role(self._actor.role) in roles

    def _update_buttons(self) -> None:
        open_ = self._db is not None
        may_create, may_enter = self._may(pr.CREATORS), self._may(pr.WRITERS)
        self.new_button.setEnabled(open_ and may_create)
        self.recalc_button.setEnabled(open_ and may_enter)
        self.enter_button.setEnabled(open_ and may_enter and self.info is not None)
        self.change_button.setEnabled(
            open_ and may_enter and self.history_table.currentIndex().isValid()
        )
        if not may_enter:
            tip = "Brokers, managers and admins enter months (SPEC §1)."
            for b in (self.enter_button, self.change_button, self.recalc_button):
                b.setToolTip(tip)

    # -- actions ------------------------------------------------------------------------

    def new_record(self) -> None:
        db = self._db
        if db is None or not self.new_button.isEnabled():
            return
        dialog = RecordDialog(self.ctx, db, parent=self)
        if dialog.exec() and dialog.created_id is not None:
            self.ctx.events.say("Performance record saved; its pro forma is locked.")
            self.ctx.events.changed(RENT_ROLL)
            self.reload(select=dialog.created_id)

    def enter_month(self) -> None:
        if self.info is None or not self.enter_button.isEnabled():
            return
        self._open_period(None)

    def change_month(self) -> None:
        if self.info is None or not self.change_button.isEnabled():
            return
        period = self.history_table.currentIndex().data(ROW_ROLE)
        if isinstance(period, pp.PeriodRow):
            self._open_period(period)

    def _open_period(self, period: pp.PeriodRow | None) -> None:
        db, info = self._db, self.info
        if db is None or info is None:
            return
        dialog = PeriodDialog(self.ctx, db, info, period, parent=self)
        dialog.ask = self.ask
        if dialog.exec() and dialog.result_saved is not None:
            saved = dialog.result_saved
            said = f"Saved: grade {saved.grade}."
            if saved.alerts:
                said += " " + alerts_text(saved.alerts)
            self.ctx.events.say(said)
            self.ctx.events.changed(RENT_ROLL)
            self.reload(select=info.id)

    def recalculate(self) -> None:
        db = self._db
        if db is None or not self.recalc_button.isEnabled():
            return
        self.recalc_button.setEnabled(False)

        def task(progress: Callable[[int, int, str], None], cancelled: Callable[[], bool]) -> Any:
            try:
                return recalculate_all(
                    db, lambda done, total: progress(done, total, "Grading months…"), cancelled
                )
            except RecalculationCancelled:
                raise OperationCancelled() from None

        def done(result: Feedback) -> None:
            said = (
                f"Recalculated: {result.periods:,} month{'s' if result.periods != 1 else ''} "
                f"and {result.records:,} record{'s' if result.records != 1 else ''} changed."
            )
            if result.alerts:
                said += " " + alerts_text(result.alerts)
            self.ctx.events.say(said)
            self.ctx.events.changed(RENT_ROLL)

        self.ctx.ops.run(
            task,
            label="Recalculating every month…",
            progress="dialog",
            cancellable=True,
            on_success=done,
            on_cancelled=lambda: self.ctx.events.say("Recalculation cancelled; nothing changed."),
            on_finished=self._update_buttons,
            parent=self,
        )


@page(
    "rent_roll", "Rent roll", order=150, icon="rent_roll",
    tooltip="Performance records, their locked pro formas and monthly actuals",
)  # fmt: skip
def build_rent_roll_page(ctx: AppContext) -> QWidget:
    return RentRollPage(ctx)
