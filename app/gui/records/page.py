"""A record page: the newest records the person may see, a filter box and a status filter,
New… (Ctrl+N) and Edit… (Enter or double-click).

A page reads its records when it is first shown and again, while shown, whenever its kind,
the people or the office currency change; a hidden page only notes that it is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import PermissionDenied
from app.gui import events
from app.gui.context import AppContext
from app.gui.records.dialog import RecordDialog, sentence
from app.gui.records.format import status_label
from app.gui.records.kinds import KindView
from app.gui.records.model import RECORD_ROLE, RecordFilterProxy, RecordTableModel
from app.services import office, records
from app.services.records import OWNER_ONLY_KINDS, OwnerChoices, RecordKind, RecordList, RecordRow

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus

#: Widest a column is made when sized to its contents (the person may widen it).
MAX_COLUMN_WIDTH = 260


@dataclass(frozen=True)
class Loaded:
    records: RecordList[RecordRow]
    owners: OwnerChoices
    currency: str


def load_records(db: Database, kind: RecordKind) -> Loaded:
    """Runs on a worker: the newest records, who new ones may belong to, and the currency."""
    return Loaded(
        records.list_records(db, kind),
        records.owner_choices(db, kind),
        office.get_currency(db),
    )


class RecordPage(QWidget):
    def __init__(self, ctx: AppContext, view: KindView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{view.key}Page")
        self.ctx = ctx
        self.view = view
        self._db: Database | None = None
        self._loaded: Loaded | None = None
        self._problem: str | None = None
        self._stale = False
        self._generation = 0
        self._select_after_load: int | None = None
        self._reveal: int | None = None  # asked for by show_record: filters may be cleared
        self._columns_sized = False

        self.model = RecordTableModel(view.columns, view.status_of, self)
        self.proxy = RecordFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        title = QLabel(view.title)
        title.setProperty("role", "pageTitle")
        self.new_button = QPushButton(f"&New {view.noun}…")
        self.new_button.setToolTip(f"Add a {view.noun} (Ctrl+N)")
        self.new_button.clicked.connect(self.new_record)
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setToolTip(f"Change the selected {view.noun} (Enter)")
        self.edit_button.clicked.connect(self.edit_current)
        self.scope_label = QLabel()
        self.scope_label.setProperty("role", "hint")
        self.scope_label.setWordWrap(True)
        self.scope_label.hide()

        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName(f"{view.key}Filter")
        self.filter_edit.setPlaceholderText(view.filter_hint)
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter)
        self.status_combo = QComboBox()
        self.status_combo.setObjectName(f"{view.key}StatusFilter")
        self.status_combo.setToolTip("Show only the records with this status")
        self.status_combo.addItem("All statuses", None)
        for status in view.statuses:
            self.status_combo.addItem(status_label(status), status)
        self.status_combo.currentIndexChanged.connect(self._status_chosen)
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        self.count_label.setProperty("role", "hint")
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_filter)
        QShortcut(QKeySequence.StandardKey.New, self, self.new_record)

        self.table = QTableView()
        self.table.setObjectName(f"{view.key}Table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(view.sort_column, view.sort_order)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicatorShown(True)
        self.table.activated.connect(self.edit_index)  # Enter, or a double-click
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

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
        top.addWidget(self.edit_button)
        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.status_combo)
        bar.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.scope_label)
        layout.addLayout(bar)
        layout.addWidget(self.body, 1)

        self._restore_filters()
        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.database.failed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        ctx.events.record_requested.connect(self._on_record_requested)
        self._on_closed()

    # -- the database ---------------------------------------------------------------------

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: SchemaStatus) -> None:
        self._db = db
        self._loaded = None
        self._problem = None
        self.model.set_rows([])
        self._columns_sized = False
        self._refresh_when_shown()

    @Slot()
    def _on_closed(self) -> None:
        self._db = None
        self._loaded = None
        self._problem = None
        self._generation += 1  # a load still running belongs to the old database
        self.model.set_rows([])
        self._update_state()

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if events.concerns(kind, self.view.event, events.PEOPLE, events.OFFICE):
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

    def reload(self) -> None:
        db = self._db
        if db is None:
            return
        self._stale = False
        self._generation += 1
        generation = self._generation

        def loaded(result: Loaded) -> None:
            if generation == self._generation:
                self._show(result)

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            if isinstance(exc, PermissionDenied):
                self._problem = sentence(str(exc))
                self._loaded = None
                self.model.set_rows([])
                self._update_state()
            else:
                self.ctx.ops.present(exc, self)

        self.ctx.ops.run(
            partial(load_records, db, self.view.kind),
            label=f"Reading {self.view.plural}…",
            on_success=loaded,
            on_error=failed,
            parent=self,
        )

    def _show(self, result: Loaded) -> None:
        keep = self._select_after_load or self.current_id()
        self._select_after_load = None
        self._loaded = result
        self._problem = None
        self.model.set_rows(result.records.rows, result.currency)
        for column, spec in enumerate(self.view.columns):
            if spec.is_owner:
                self.table.setColumnHidden(column, result.records.only_own)
        if result.records.rows and not self._columns_sized:
            # Once, to the first data; afterwards the person's own widths stay.
            self._columns_sized = True
            self._size_columns()
        if keep is not None and not self.select_id(keep) and keep == self._reveal:
            self._clear_filters()
            self.select_id(keep)
        self._reveal = None
        self._update_state()

    def _size_columns(self) -> None:
        """To their contents; long texts are cut to MAX_COLUMN_WIDTH only when the columns
        would not fit side by side."""
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        shown = [c for c in range(self.model.columnCount()) if not header.isSectionHidden(c)]
        if sum(header.sectionSize(c) for c in shown) <= self.table.viewport().width():
            return
        for column in shown:
            if header.sectionSize(column) > MAX_COLUMN_WIDTH:
                header.resizeSection(column, MAX_COLUMN_WIDTH)

    # -- filters --------------------------------------------------------------------------

    def _settings_key(self, name: str) -> str:
        return f"records/{self.view.key}/{name}"

    def _restore_filters(self) -> None:
        qs = self.ctx.settings.qsettings
        status = qs.value(self._settings_key("status"), "")
        index = self.status_combo.findData(status) if status else 0
        self.status_combo.setCurrentIndex(max(index, 0))
        text = qs.value(self._settings_key("filter"), "")
        self.filter_edit.setText(text if isinstance(text, str) else "")

    @Slot()
    def _focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    @Slot(str)
    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self.ctx.settings.qsettings.setValue(self._settings_key("filter"), text.strip())
        self._update_state()

    @Slot(int)
    def _status_chosen(self, _index: int) -> None:
        status = self.status_combo.currentData()
        self.proxy.set_status(status if isinstance(status, str) else None)
        self.ctx.settings.qsettings.setValue(self._settings_key("status"), status or "")
        self._update_state()

    # -- what the page says ---------------------------------------------------------------

    def _update_state(self) -> None:
        self._update_buttons()
        self._update_scope()
        loaded = self._loaded
        shown, held = self.proxy.rowCount(), self.model.rowCount()
        plural = self.view.plural
        if self._db is None:
            empty: str | None = f"Open a database to see {plural}."
            count = ""
        elif self._problem is not None:
            empty, count = self._problem, ""
        elif loaded is None:
            empty, count = f"Reading {plural}…", ""
        else:
            total = loaded.records.total
            if total == 0:
                empty = (
                    f"No {plural} yet.\nAdd the first with New {self.view.noun}… (Ctrl+N)."
                    if self.new_button.isEnabled()
                    else f"No {plural} yet."
                )
            elif shown == 0:
                empty = self._no_match_text()
            else:
                empty = None
            count = self._count_text(shown, held, total)
        self.count_label.setText(count)
        if empty is None:
            self.body.setCurrentWidget(self.table)
        else:
            self.empty_label.setText(empty)
            self.body.setCurrentWidget(self.empty_label)

    def _no_match_text(self) -> str:
        plural = self.view.plural
        if self.proxy.status is None:
            return f"No {plural} match “{self.filter_edit.text().strip()}”."
        status = status_label(self.proxy.status).lower()
        if not self.filter_edit.text().strip():
            return f"No {plural} are {status}.\nChoose All statuses to see the others."
        return f"No {status} {plural} match “{self.filter_edit.text().strip()}”."

    def _count_text(self, shown: int, held: int, total: int) -> str:
        noun = self.view.noun if total == 1 else self.view.plural
        filtered = shown != held
        if held < total:
            if filtered:
                return f"{shown:,} of the newest {held:,} (of {total:,} {noun})"
            return f"Showing the newest {held:,} of {total:,} {noun}"
        if filtered:
            return f"{shown:,} of {total:,} {noun}"
        return f"{total:,} {noun}"

    def _update_scope(self) -> None:
        loaded = self._loaded
        private_kind = self.view.kind in OWNER_ONLY_KINDS
        show = (
            private_kind
            and loaded is not None
            and self._db is not None
            and not self._db.is_local
            and loaded.records.only_own
        )
        if show:
            self.scope_label.setText(
                f"Only your own {self.view.plural} are listed: a person's {self.view.plural} "
                "are seen by them alone."
            )
        self.scope_label.setVisible(show)

    @Slot()
    def _update_buttons(self) -> None:
        can_add = (
            self._db is not None and self._loaded is not None and bool(self._loaded.owners.owners)
        )
        self.new_button.setEnabled(can_add)
        self.new_button.setToolTip(
            f"Add a {self.view.noun} (Ctrl+N)"
            if can_add or self._loaded is None
            else f"Add a person first: every {self.view.noun} belongs to someone."
        )
        self.edit_button.setEnabled(self._loaded is not None and self.current_id() is not None)

    # -- selection ------------------------------------------------------------------------

    def current_record(self) -> RecordRow | None:
        index = self.table.selectionModel().currentIndex()
        rows = self.table.selectionModel().selectedRows()
        if rows:
            index = rows[0]
        if not index.isValid():
            return None
        record = index.data(RECORD_ROLE)
        return record if isinstance(record, RecordRow) else None

    def current_id(self) -> int | None:
        record = self.current_record()
        return record.id if record is not None else None

    def select_id(self, record_id: int) -> bool:
        row = self.model.row_of_id(record_id)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)
        return True

    def show_record(self, record_id: int) -> None:
        """Select the record ``record_id``, clearing the filters if they hide it: at once when
        it is listed, else after reading the list again (now if shown, else when next shown)."""
        if self._loaded is not None and self.model.row_of_id(record_id) >= 0:
            if not self.select_id(record_id):
                self._clear_filters()
                self.select_id(record_id)
            return
        self._select_after_load = self._reveal = record_id
        self._refresh_when_shown()

    @Slot(str, object)
    def _on_record_requested(self, kind: str, record_id: object) -> None:
        if kind == self.view.key and isinstance(record_id, int):
            self.show_record(record_id)

    def _clear_filters(self) -> None:
        self.filter_edit.clear()
        self.status_combo.setCurrentIndex(0)

    # -- New… and Edit… -------------------------------------------------------------------

    @Slot()
    def new_record(self) -> RecordDialog | None:
        if not self.new_button.isEnabled():
            return None
        return self._open_dialog(None)

    @Slot()
    def edit_current(self) -> RecordDialog | None:
        record = self.current_record()
        return self._open_dialog(record) if record is not None else None

    @Slot(QModelIndex)
    def edit_index(self, index: QModelIndex) -> RecordDialog | None:
        record = index.data(RECORD_ROLE)
        return self._open_dialog(record) if isinstance(record, RecordRow) else None

    def _open_dialog(self, record: RecordRow | None) -> RecordDialog | None:
        db, loaded = self._db, self._loaded
        if db is None or loaded is None:
            return None
        dialog = self.view.dialog(self.ctx, db, loaded.owners, loaded.currency, record, self)
        dialog.saved.connect(self._saved)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    @Slot(object)
    def _saved(self, row: RecordRow) -> None:
        self._select_after_load = row.id
        label = self.view.columns[0].text(row, self.model.currency)
        self.ctx.events.say(f"Saved the {self.view.noun} “{label}”.")
        self.ctx.events.changed(self.view.event)
