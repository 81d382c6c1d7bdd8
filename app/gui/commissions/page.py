"""The commission ledger (SPEC §6): every commission the person may see, read 200 at a time
as the table scrolls, sorted and filtered by the database, with the totals by status over the
whole filtered set; New commission…, the transitions the selected record allows (buttons and
context menu), disputes, adjustments, and export to CSV or XLSX.

The page reads itself when first shown and again, while shown, whenever commissions, deals,
people or the office change (here or, in shared mode, on another workstation). After a change
of its own it only replaces the changed row and reads the totals again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, QPoint, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.commissions import STATUS_LABELS
from app.domain.enums import CommissionStatus
from app.domain.errors import ConflictError, PermissionDenied
from app.domain.money import format_money
from app.gui import events
from app.gui.commissions.dialogs import AdjustmentDialog, DisputeDialog, NewCommissionDialog
from app.gui.commissions.filters import FilterBar
from app.gui.commissions.model import COLUMN_OF_SORT, ROW_ROLE, TYPE_LABELS, LedgerModel
from app.gui.commissions.totals import TotalsStrip
from app.gui.context import AppContext
from app.gui.operations import OperationCancelled
from app.gui.pages import page
from app.gui.records.dialog import sentence
from app.services import commissions as cm
from app.services.commissions import (
    AgentChoice,
    CommissionRow,
    DealChoice,
    LedgerChoices,
    LedgerFilters,
    LedgerPage,
    LedgerSort,
    LedgerTotals,
)
from app.services.commissions.export import ExportCancelled, write_csv, write_xlsx
from app.services.office import get_currency

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus

S = CommissionStatus
SETTINGS = "commissions"
RELOAD_DEBOUNCE_MS = 250
MAX_COLUMN_WIDTH = 280

#: ``confirm(parent, title, text) -> bool``: tests replace it.
Confirm = Callable[[QWidget, str, str], bool]
#: ``choose(parent, caption, suggested_path, name_filter) -> path or None``: tests replace it.
FileChooser = Callable[[QWidget, str, str, str], str | None]


#: ``show(menu, global_position)``: runs the menu until it is closed; tests replace it.
MenuShower = Callable[[QMenu, QPoint], None]


def show_menu(menu: QMenu, position: QPoint) -> None:
    menu.exec(position)


def ask(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(
        parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel
    )
    return answer == QMessageBox.StandardButton.Yes


def choose_save_path(parent: QWidget, caption: str, suggested: str, name_filter: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, caption, suggested, name_filter)
    return path or None


@dataclass(frozen=True)
class Choices:
    ledger: LedgerChoices
    agents: tuple[AgentChoice, ...]
    currency: str


def read_choices(db: Database) -> Choices:
    """Runs on a worker."""
    return Choices(cm.ledger_choices(db), cm.agent_choices(db), get_currency(db))


@dataclass(frozen=True)
class Action:
    key: str
    text: str
    tip: str
    #: Whether the action applies to a record (given the statuses it may move to).
    applies: Callable[[CommissionRow, list[CommissionStatus]], bool]


ACTIONS: tuple[Action, ...] = (
    Action("confirm", "&Confirm", "Mark the commission confirmed",
           lambda r, t: r.status is S.PENDING and S.CONFIRMED in t),
    Action("invoice", "&Invoice", "Mark the commission invoiced",
           lambda r, t: r.status is S.CONFIRMED and S.INVOICED in t),
    Action("pay", "Mark &paid", "Mark the commission paid (final)",
           lambda r, t: r.status is S.INVOICED and S.PAID in t),
    Action("dispute", "&Dispute…", "Dispute the commission, giving a reason",
           lambda r, t: S.DISPUTED in t),
    Action("resolve", "&Resolve…", "End the dispute: back to the status it came from",
           lambda r, t: r.status is S.DISPUTED and r.disputed_from in t),
    Action("write_off", "&Write off…", "End the dispute by writing the commission off (final)",
           lambda r, t: r.status is S.DISPUTED and S.WRITTEN_OFF in t),
    Action("adjust", "&Adjust…", "Add a clawback, bonus or correction",
           lambda r, _t: r.writable),
)  # fmt: skip
FORWARD = {"confirm": S.CONFIRMED, "invoice": S.INVOICED, "pay": S.PAID}


class CommissionLedgerPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commissionsPage")
        self.ctx = ctx
        self.confirm: Confirm = ask
        self.choose_file: FileChooser = choose_save_path
        self.show_menu: MenuShower = show_menu
        self._db: Database | None = None
        self._generation = 0
        self._stale = False
        self._own_changes = 0
        self._page_loaded = False
        self._totals: LedgerTotals | None = None
        self._choices: Choices | None = None
        self._problem: str | None = None
        self._select_after_load: int | None = None
        self._columns_sized = False
        self.last_export: str | None = None

        self.model = LedgerModel(self)
        self.model.fetch_requested.connect(self._fetch_more)
        self.model.sort_requested.connect(self._sort_changed)

        title = QLabel("Commissions")
        title.setProperty("role", "pageTitle")
        self.new_button = QPushButton("&New commission…")
        self.new_button.setObjectName("newCommission")
        self.new_button.setToolTip("Book a commission on a deal (Ctrl+N)")
        self.new_button.clicked.connect(self.new_commission)
        self.actions_by_key: dict[str, QAction] = {}
        action_buttons: list[QToolButton] = []
        for spec in ACTIONS:
            action = QAction(spec.text, self)
            action.setObjectName(f"{spec.key}Action")
            action.setToolTip(spec.tip)
            action.setEnabled(False)
            action.triggered.connect(partial(self.run_action, spec.key))
            self.actions_by_key[spec.key] = action
            button = QToolButton()
            button.setObjectName(f"{spec.key}Button")
            button.setDefaultAction(action)
            action_buttons.append(button)
        self.export_button = QToolButton()
        self.export_button.setObjectName("exportButton")
        self.export_button.setText("Export")
        self.export_button.setToolTip("Write the filtered ledger to a file")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export_menu = QMenu(self.export_button)
        self.export_csv_action = export_menu.addAction("CSV…", self.export_csv)
        self.export_xlsx_action = export_menu.addAction("Excel workbook (XLSX)…", self.export_xlsx)
        self.export_button.setMenu(export_menu)
        refresh = QAction("Refresh", self)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self.reload)
        self.addAction(refresh)

        self.filter_bar = FilterBar()
        self.filter_bar.changed.connect(self._filters_changed)
        self.totals_strip = TotalsStrip()
        self.totals_strip.status_clicked.connect(self.filter_bar.set_status)
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        self.count_label.setProperty("role", "hint")

        self.table = QTableView()
        self.table.setObjectName("commissionsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicatorShown(True)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)

        self.empty_label = QLabel()
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setProperty("role", "hint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.body = QStackedWidget()
        self.body.addWidget(self.table)
        self.body.addWidget(self.empty_label)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.new_button)
        for button in action_buttons:
            top.addWidget(button)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.totals_strip)
        layout.addWidget(self.count_label)
        layout.addWidget(self.body, 1)

        QShortcut(QKeySequence.StandardKey.New, self, self.new_commission)
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_filter)
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_DEBOUNCE_MS)
        self._reload_timer.timeout.connect(self._refresh_when_shown)

        self._restore_settings()
        # After the order kept in the settings is on the header: enabling sorting sorts by it.
        self.table.setSortingEnabled(True)
        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.database.failed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        self._on_closed()

    # -- the database ---------------------------------------------------------------------

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: SchemaStatus) -> None:
        self._db = db
        self._choices = None
        self._columns_sized = False
        self._refresh_when_shown()

    @Slot()
    def _on_closed(self) -> None:
        self._db = None
        self._generation += 1  # whatever is still being read belongs to the old database
        self._page_loaded = False
        self._totals = None
        self._choices = None
        self._problem = None
        self.model.reset([], False)
        self.totals_strip.set_totals(None)
        self._update_state()

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if kind == events.COMMISSIONS and self._own_changes:
            self._own_changes -= 1  # a change of this page's: its row is already shown
            return
        if events.concerns(kind, events.PEOPLE, events.OFFICE):
            self._choices = None
        if events.concerns(kind, events.COMMISSIONS, events.DEALS, events.PEOPLE, events.OFFICE):
            self._reload_timer.start()

    def _refresh_when_shown(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale or (self._db is not None and not self._page_loaded):
            self.reload()

    # -- reading --------------------------------------------------------------------------

    def filters(self) -> LedgerFilters:
        return self.filter_bar.filters()

    def reload(self) -> None:
        """The first page, the totals (both in the background, side by side) and, once per
        database, what the filters and New commission offer."""
        db = self._db
        if db is None:
            return
        self._stale = False
        self._reload_timer.stop()
        self._generation += 1
        generation = self._generation
        filters = self.filters()
        sort, descending = self.model.sort_key, self.model.descending
        if not self._page_loaded:
            self.totals_strip.set_totals(None, reading=True)
        self._update_state()

        def page_loaded(result: LedgerPage) -> None:
            if generation == self._generation:
                self._show_page(result)

        def totals_loaded(result: LedgerTotals) -> None:
            if generation == self._generation:
                self._show_totals(result)

        self.ctx.ops.run(
            partial(cm.list_page, db, filters, sort=sort, descending=descending),
            label="Reading commissions…",
            on_success=page_loaded,
            on_error=partial(self._read_failed, generation),
            parent=self,
        )
        self.ctx.ops.run(
            partial(cm.ledger_totals, db, filters),
            label="Adding up commissions…",
            on_success=totals_loaded,
            on_error=partial(self._read_failed, generation),
            parent=self,
        )
        if self._choices is None:
            self.ctx.ops.run(
                partial(read_choices, db),
                label="Reading agents…",
                on_success=partial(self._show_choices, generation),
                on_error=partial(self._read_failed, generation),
                parent=self,
            )

    def _read_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        if isinstance(exc, PermissionDenied):
            self._problem = sentence(str(exc))
            self.model.reset([], False)
            self._update_state()
        else:
            self.ctx.ops.present(exc, self)

    def _show_page(self, result: LedgerPage) -> None:
        keep = self._select_after_load or self.current_id()
        self._select_after_load = None
        self._problem = None
        self._page_loaded = True
        self.model.reset(result.rows, result.has_more)
        if result.rows and not self._columns_sized:
            self._columns_sized = True
            self._size_columns()
        if keep is not None:
            self.select_id(keep)
        self._update_state()

    def _show_totals(self, totals: LedgerTotals) -> None:
        self._totals = totals
        if totals.currency != self.model.currency:
            self.model.reset(self.model.rows(), self.model.has_more, totals.currency)
        self.totals_strip.set_totals(totals)
        self._update_state()

    def _show_choices(self, generation: int, choices: Choices) -> None:
        if self._db is None:
            return
        self._choices = choices
        self.filter_bar.set_agents(choices.ledger.agents)
        self._update_state()

    @Slot(int)
    def _fetch_more(self, offset: int) -> None:
        db = self._db
        if db is None:
            self.model.fetch_failed()
            return
        generation = self._generation
        filters = self.filters()
        sort, descending = self.model.sort_key, self.model.descending

        def more(result: LedgerPage) -> None:
            if generation == self._generation:
                self.model.append(result.rows, result.has_more)
                self._update_count()

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self.model.fetch_failed()
                self.ctx.ops.present(exc, self)

        self.ctx.ops.run(
            partial(cm.list_page, db, filters, sort=sort, descending=descending, offset=offset),
            label="Reading more commissions…",
            on_success=more,
            on_error=failed,
            parent=self,
        )

    def _size_columns(self) -> None:
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        for column in range(self.model.columnCount()):
            if header.sectionSize(column) > MAX_COLUMN_WIDTH:
                header.resizeSection(column, MAX_COLUMN_WIDTH)

    # -- filters and order ----------------------------------------------------------------

    @Slot()
    def _filters_changed(self) -> None:
        qs = self.ctx.settings.qsettings
        status = self.filter_bar.status()
        qs.setValue(f"{SETTINGS}/status", status.value if status else "")
        if self._db is not None:
            self.reload()

    @Slot(object, bool)
    def _sort_changed(self, sort: LedgerSort, descending: bool) -> None:
        qs = self.ctx.settings.qsettings
        qs.setValue(f"{SETTINGS}/sort", sort.value)
        qs.setValue(f"{SETTINGS}/descending", descending)
        if self._db is not None:
            self.reload()

    def _restore_settings(self) -> None:
        qs = self.ctx.settings.qsettings
        status = qs.value(f"{SETTINGS}/status", "")
        if isinstance(status, str) and status in {s.value for s in S}:
            self.filter_bar.status_combo.blockSignals(True)
            self.filter_bar.set_status(S(status))
            self.filter_bar.status_combo.blockSignals(False)
        sort = qs.value(f"{SETTINGS}/sort", LedgerSort.CREATED.value)
        descending = bool(qs.value(f"{SETTINGS}/descending", True, type=bool))
        key = LedgerSort(sort) if sort in {s.value for s in LedgerSort} else LedgerSort.CREATED
        self.model.sort_key, self.model.descending = key, descending
        self.table.horizontalHeader().setSortIndicator(
            COLUMN_OF_SORT[key],
            Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder,
        )

    @Slot()
    def _focus_filter(self) -> None:
        self.filter_bar.deal_edit.setFocus()
        self.filter_bar.deal_edit.selectAll()

    # -- what the page says ---------------------------------------------------------------

    def _update_state(self) -> None:
        self._update_actions()
        self._update_count()
        self.new_button.setEnabled(self._db is not None and self._choices is not None)
        self.export_button.setEnabled(self._db is not None and self.model.rowCount() > 0)
        if self._db is None:
            empty: str | None = "Open a database to see the commission ledger."
        elif self._problem is not None:
            empty = self._problem
        elif not self._page_loaded:
            empty = "Reading the commission ledger…"
        elif self.model.rowCount() == 0:
            if self.filter_bar.active():
                empty = "No commission matches these filters.\nChoose Clear to see them all."
            else:
                empty = (
                    "No commissions yet.\nBook the first with New commission… (Ctrl+N), or "
                    "import them (python main.py import commissions FILE)."
                )
        else:
            empty = None
        if empty is None:
            self.body.setCurrentWidget(self.table)
        else:
            self.empty_label.setText(empty)
            self.body.setCurrentWidget(self.empty_label)

    def _update_count(self) -> None:
        if self._db is None or not self._page_loaded:
            self.count_label.setText("")
            return
        held = self.model.rowCount()
        total = self._totals.count if self._totals is not None else None
        noun = "commission" if total == 1 else "commissions"
        if total is None:
            text = f"{held:,} {noun}" + ("+" if self.model.has_more else "")
        elif held < total:
            text = f"Showing {held:,} of {total:,} {noun} (more as you scroll)"
        else:
            text = f"{total:,} {noun}"
        self.count_label.setText(text)

    # -- selection ------------------------------------------------------------------------

    def current_row(self) -> CommissionRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row = rows[0].data(ROW_ROLE)
        return row if isinstance(row, CommissionRow) else None

    def current_id(self) -> int | None:
        row = self.current_row()
        return row.id if row is not None else None

    def select_id(self, commission_id: int) -> bool:
        row = self.model.row_of_id(commission_id)
        if row < 0:
            return False
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)
        return True

    @Slot()
    def _update_actions(self, *_args: object) -> None:
        row = self.current_row()
        targets = row.allowed_targets() if row is not None else []
        for spec in ACTIONS:
            self.actions_by_key[spec.key].setEnabled(
                row is not None and self._db is not None and spec.applies(row, targets)
            )

    def build_context_menu(self) -> QMenu | None:
        """The actions of the selected record (those it does not allow are greyed out)."""
        row = self.current_row()
        if row is None:
            return None
        menu = QMenu(self)
        menu.setObjectName("ledgerMenu")
        for spec in ACTIONS:
            if spec.key == "adjust":
                menu.addSeparator()
            menu.addAction(self.actions_by_key[spec.key])
        if not row.writable:
            menu.addSeparator()
            note = menu.addAction("Only whoever sees the deal may change it")
            note.setEnabled(False)
        return menu

    @Slot(QPoint)
    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        row = self.model.row_at(index.row()) if index.isValid() else None
        if row is not None:
            self.select_id(row.id)
        elif self.current_row() is not None:  # the menu key: the selected record's menu
            current = self.table.visualRect(self.table.selectionModel().selectedRows()[0])
            pos = current.center()
        menu = self.build_context_menu()
        if menu is not None:
            self.show_menu(menu, self.table.viewport().mapToGlobal(pos))
            menu.deleteLater()

    # -- changes --------------------------------------------------------------------------

    def run_action(self, key: str, *_args: object) -> Any:
        row, db = self.current_row(), self._db
        if row is None or db is None or not self.actions_by_key[key].isEnabled():
            return None
        what = f"the {TYPE_LABELS[row.commission_type].lower()} commission of {row.agent_name}"
        if key in FORWARD:
            to = FORWARD[key]
            if to is S.PAID and not self.confirm(
                self, "Mark paid", f"Mark {what} on {row.deal_label} paid? Paid is final."
            ):
                return None
            return self._change(
                partial(cm.change_status, db, row.id, to, expected_version=row.version),
                f"Marking the commission {STATUS_LABELS[to].lower()}…",
            )
        if key == "resolve":
            back = STATUS_LABELS[row.disputed_from].lower() if row.disputed_from else "?"
            if not self.confirm(
                self, "Resolve dispute", f"Resolve the dispute on {what}? It goes back to {back}."
            ):
                return None
            return self._change(
                partial(cm.resolve, db, row.id, expected_version=row.version),
                "Resolving the dispute…",
            )
        if key == "write_off":
            if not self.confirm(
                self, "Write off", f"Write off {what} on {row.deal_label}? This is final."
            ):
                return None
            return self._change(
                partial(cm.write_off, db, row.id, expected_version=row.version),
                "Writing the commission off…",
            )
        if key == "dispute":
            return self._open(DisputeDialog(self.ctx, db, row, self))
        if key == "adjust":
            return self._open(AdjustmentDialog(self.ctx, db, row, self.model.currency, self))
        return None

    def _open(self, dialog: Any) -> Any:
        dialog.saved.connect(self._changed)
        dialog.conflicted.connect(self._conflicted)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _change(self, task: Callable[[], CommissionRow], label: str) -> None:
        self.ctx.ops.run(
            task, label=label, on_success=self._changed, on_error=self._change_failed, parent=self
        )

    def _changed(self, row: CommissionRow) -> None:
        if self.model.replace_row(row):
            self._update_actions()
            self._refresh_totals()
        else:
            self._select_after_load = row.id
            self.reload()
        currency = row.currency or self.model.currency
        self.ctx.events.say(
            f"{TYPE_LABELS[row.commission_type]} commission of {row.agent_name} on "
            f"{row.deal_label}: {row.status_label.lower()}, net "
            f"{format_money(row.net_amount, currency)}."
        )
        self._own_changes += 1
        self.ctx.events.changed(events.COMMISSIONS)

    def _change_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ConflictError):
            self._conflicted()  # read again: the record as it is now
        self.ctx.ops.present(exc, self)

    @Slot()
    def _conflicted(self) -> None:
        self._select_after_load = self.current_id()
        self.reload()

    def _refresh_totals(self) -> None:
        db = self._db
        if db is None:
            return
        generation = self._generation

        def shown(totals: LedgerTotals) -> None:
            if generation == self._generation:
                self._show_totals(totals)

        self.ctx.ops.run(
            partial(cm.ledger_totals, db, self.filters()),
            label="Adding up commissions…",
            on_success=shown,
            parent=self,
        )

    @Slot()
    def new_commission(self) -> NewCommissionDialog | None:
        db, choices = self._db, self._choices
        if db is None or choices is None or not self.new_button.isEnabled():
            return None
        row = self.current_row()
        deal = None
        if row is not None and row.writable and row.deal_title is not None:
            deal = DealChoice(
                row.deal_id, row.deal_ref, row.deal_title, "", row.currency or choices.currency,
                row.basis_amount,
            )  # fmt: skip
        dialog = NewCommissionDialog(self.ctx, db, choices.agents, choices.currency, deal, self)
        dialog.saved.connect(self._created)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _created(self, row: CommissionRow) -> None:
        self._select_after_load = row.id
        self.ctx.events.say(
            f"Added the {TYPE_LABELS[row.commission_type].lower()} commission of "
            f"{row.agent_name} on {row.deal_label}."
        )
        self._own_changes += 1
        self.ctx.events.changed(events.COMMISSIONS)
        self.reload()  # where the new record sorts is the database's to say

    # -- export ---------------------------------------------------------------------------

    def export_csv(self) -> None:
        self._export("csv", "CSV file (*.csv)", write_csv)

    def export_xlsx(self) -> None:
        self._export("xlsx", "Excel workbook (*.xlsx)", write_xlsx)

    def _export(self, extension: str, name_filter: str, writer: Callable[..., int]) -> None:
        db = self._db
        if db is None:
            return
        path = self.choose_file(
            self, f"Export the commission ledger as {extension.upper()}",
            f"commissions.{extension}", name_filter,
        )  # fmt: skip
        if not path:
            return
        if not path.lower().endswith(f".{extension}"):
            path += f".{extension}"
        filters = self.filters()
        sort, descending = self.model.sort_key, self.model.descending
        total = self._totals.count if self._totals is not None else 0

        def task(progress: Callable[[int, int, str], None], cancelled: Callable[[], bool]) -> int:
            try:
                return writer(
                    db, path, filters, sort=sort, descending=descending, total=total,
                    progress=progress, cancelled=cancelled,
                )  # fmt: skip
            except ExportCancelled:
                raise OperationCancelled() from None

        def done(rows: int) -> None:
            self.last_export = path
            self.ctx.events.say(f"Exported {rows:,} commissions to {path}.")

        self.ctx.ops.run(
            task,
            label=f"Exporting commissions to {extension.upper()}…",
            on_success=done,
            progress="status",
            parent=self,
        )


@page(
    "commissions", "Commissions", order=17, icon="commissions",
    tooltip="The commission ledger: statuses, disputes, adjustments",
)  # fmt: skip
def build_commissions_page(ctx: AppContext) -> QWidget:
    return CommissionLedgerPage(ctx)
