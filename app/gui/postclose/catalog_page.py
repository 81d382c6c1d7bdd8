"""What the Buyers and Buy boxes pages share: a filtered, sorted table read in the background,
an empty state, New… (Ctrl+N) and Edit… (Enter or double-click) for those who may change them.

A page reads its rows when first shown and again, while shown, whenever its kinds of data
change; a hidden page only notes that it is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QModelIndex, Slot
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import PermissionDenied
from app.gui import events, table_page
from app.gui.context import AppContext
from app.gui.form_fields import sentence
from app.gui.postclose.catalog_dialogs import CatalogDialog
from app.gui.postclose.catalog_models import ROW_ROLE, RowFilterProxy, RowTableModel

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus

#: ``AppEvents.data_changed`` kinds of this feature.
BUYERS = "buyers"
BUY_BOXES = "buy_boxes"
EDITORS = "Only closers, brokers, managers and admins may add or change {plural}."
MAX_COLUMN_WIDTH = 240


@dataclass(frozen=True)
class Loaded:
    rows: list[Any]
    may_edit: bool
    extra: Any = None  # what a page's dialog needs besides the rows


class CatalogPage(QWidget):
    """Subclasses name themselves and say how to read (``load``) and which dialog to open."""

    key: ClassVar[str]
    title: ClassVar[str]
    noun: ClassVar[str]
    plural: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]  # data_changed kinds that make the page read again
    sort_column: ClassVar[int]
    filter_hint: ClassVar[str] = "Filter (Ctrl+F)"

    def __init__(self, ctx: AppContext, model: RowTableModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(f"{self.key}Page")
        self.ctx = ctx
        self._db: Database | None = None
        self._loaded: Loaded | None = None
        self._problem: str | None = None
        self._stale = False
        self._generation = 0
        self._select_after_load: int | None = None
        self._columns_sized = False

        self.model = model
        self.proxy = RowFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        heading = QLabel(self.title)
        heading.setProperty("role", "pageTitle")
        self.new_button = QPushButton(f"&New {self.noun}…")
        self.new_button.clicked.connect(self.new_row)
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.clicked.connect(self.edit_current)
        self.filter_edit = table_page.make_filter_edit(
            f"{self.key}Filter", self.filter_hint, self._filter
        )
        self.count_label = table_page.make_count_label()
        table_page.add_find_shortcut(self, self._focus_filter)
        QShortcut(QKeySequence.StandardKey.New, self, self.new_row)

        self.table = table_page.make_table(
            f"{self.key}Table", self.proxy, self.sort_column, self.fontMetrics()
        )
        self.table.activated.connect(self.edit_index)  # Enter, or a double-click
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.empty_label = table_page.make_empty_label()
        self.body = table_page.make_body(self.table, self.empty_label)

        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.new_button)
        top.addWidget(self.edit_button)
        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.count_label)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addLayout(top)
        self.layout_.addLayout(bar)

        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.database.failed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        ctx.events.record_requested.connect(self._on_record_requested)

    @staticmethod
    def load(db: Database) -> Loaded:
        """Runs on a worker: the rows, and whether the person may change them."""
        raise NotImplementedError

    def place_body(self, widget: QWidget) -> None:
        """Called once by the subclass: the table (``self.body``) or a splitter holding it."""
        self.layout_.addWidget(widget, 1)
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
        self.current_changed()

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if events.concerns(kind, *self.kinds):
            self._refresh_when_shown()

    def _on_record_requested(self, kind: str, record_id: object) -> None:
        """A notification (or another page) asks for one of ours: select it, reading the
        list first when it is not in what is shown."""
        if kind != self.key or not isinstance(record_id, int):
            return
        self.filter_edit.clear()
        if self._db is not None and not self._stale and self.select_id(record_id):
            return
        self._select_after_load = record_id
        self._stale = True
        if self.isVisible():
            self.reload()

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
            partial(type(self).load, db),
            label=f"Reading {self.plural}…",
            on_success=loaded,
            on_error=failed,
            parent=self,
        )

    def _show(self, result: Loaded) -> None:
        keep = self._select_after_load or self.current_id()
        self._select_after_load = None
        self._loaded = result
        self._problem = None
        self.model.set_rows(result.rows)
        if result.rows and not self._columns_sized:
            self._columns_sized = True  # once, to the first data; then the person's widths
            table_page.fit_columns(self.table, MAX_COLUMN_WIDTH)
        if keep is not None:
            self.select_id(keep)
        self._update_state()
        self.current_changed()

    # -- filter and state -----------------------------------------------------------------

    @Slot()
    def _focus_filter(self) -> None:
        table_page.focus_filter(self.filter_edit)

    @Slot(str)
    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_state()

    def _update_state(self) -> None:
        self._update_buttons()
        loaded = self._loaded
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        count = ""
        if self._db is None:
            empty: str | None = f"Open a database to see {self.plural}."
        elif self._problem is not None:
            empty = self._problem
        elif loaded is None:
            empty = f"Reading {self.plural}…"
        else:
            count = table_page.count_text(shown, total, self.noun, self.plural)
            if total == 0:
                empty = self.empty_text(loaded.may_edit)
            elif shown == 0:
                empty = f"No {self.plural} match “{self.filter_edit.text().strip()}”."
            else:
                empty = None
        self.count_label.setText(count)
        table_page.show_empty(self.body, self.table, self.empty_label, empty)

    def empty_text(self, may_edit: bool) -> str:
        if may_edit:
            return f"No {self.plural} yet.\nAdd the first with New {self.noun}… (Ctrl+N)."
        return f"No {self.plural} yet."

    def _update_buttons(self) -> None:
        loaded = self._loaded
        may = loaded is not None and loaded.may_edit
        refused = EDITORS.format(plural=self.plural) if loaded is not None and not may else ""
        self.new_button.setEnabled(may)
        self.new_button.setToolTip(refused or f"Add a {self.noun} (Ctrl+N)")
        self.edit_button.setEnabled(may and self.current_id() is not None)
        self.edit_button.setToolTip(refused or f"Change the selected {self.noun} (Enter)")

    # -- selection ------------------------------------------------------------------------

    def current_row(self) -> Any:
        """The selected row (None when nothing is selected)."""
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ROW_ROLE) if rows else None

    def current_id(self) -> int | None:
        row = self.current_row()
        return None if row is None else int(row.id)

    def select_id(self, row_id: int) -> bool:
        return table_page.select_row(self.table, self.proxy, self.model.row_of_id(row_id))

    @Slot()
    def _selection_changed(self) -> None:
        self._update_buttons()
        self.current_changed()

    def current_changed(self) -> None:
        """The selected row may have changed (a page with a side panel follows it)."""

    # -- New… and Edit… -------------------------------------------------------------------

    @Slot()
    def new_row(self) -> CatalogDialog | None:
        return self._open(None) if self.new_button.isEnabled() else None

    @Slot()
    def edit_current(self) -> CatalogDialog | None:
        row = self.current_row()
        return self._open(row) if row is not None else None

    @Slot(QModelIndex)
    def edit_index(self, index: QModelIndex) -> CatalogDialog | None:
        row = index.data(ROW_ROLE)
        return self._open(row) if row is not None else None

    def _open(self, row: Any) -> CatalogDialog | None:
        db, loaded = self._db, self._loaded
        if db is None or loaded is None:
            return None
        if not loaded.may_edit:
            self.ctx.events.say(EDITORS.format(plural=self.plural))
            return None
        dialog = self.make_dialog(db, loaded, row)
        dialog.saved.connect(partial(self._saved, dialog))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def make_dialog(self, db: Database, loaded: Loaded, row: Any) -> CatalogDialog:
        raise NotImplementedError

    def _saved(self, dialog: CatalogDialog, result: object) -> None:
        saved_id = getattr(result, "id", result)  # a buyer's id, or a BuyBoxSaved
        if isinstance(saved_id, int):
            self._select_after_load = saved_id
        name = dialog.values().get("name", "").strip()
        self.ctx.events.say(f"Saved the {self.noun} “{name}”.")
        self.ctx.events.changed(self.kinds[0])
