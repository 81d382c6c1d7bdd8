"""The KPI definitions page (SPEC §7): every definition, the built-in library included, with
how it is computed and how many people it is assigned to. Admins add and change them
(New KPI… Ctrl+N, Edit… Enter or a double-click) and deactivate or reactivate them; everyone
else reads them (SPEC §1).

The page reads its rows when first shown and again, while shown, whenever KPI definitions or
assignments change; a hidden page only notes that it is stale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.domain.errors import PermissionDenied
from app.gui import table_page
from app.gui.context import AppContext
from app.gui.kpis.definition_dialog import DefinitionDialog
from app.gui.kpis.definition_model import (
    NAME,
    ROW_ROLE,
    DefinitionsModel,
    DefinitionsProxy,
)
from app.gui.page_loading import BackgroundPage, BackgroundRead
from app.gui.pages import page
from app.services.kpis import definitions
from app.services.kpis.access import kpi_scope
from app.services.kpis.definitions import DefinitionRow, DefinitionSaved
from app.services.records import resolve_actor

if TYPE_CHECKING:
    from app.services.database import Database

#: ``confirm(parent, title, text, action) -> bool``: tests replace it.
Confirm = Callable[[QWidget, str, str, str], bool]

#: ``AppEvents.data_changed`` kinds: this page's, and the assignments' (the Assigned counts).
KPI_DEFINITIONS = "kpi_definitions"
KPI_ASSIGNMENTS = "kpi_assignments"
KINDS = (KPI_DEFINITIONS, KPI_ASSIGNMENTS)
ADMINS_ONLY = "Only an admin may create or change KPI definitions."
MAX_COLUMN_WIDTH = 260


def ask(parent: QWidget, title: str, text: str, action: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, APP_NAME, text, parent=parent)
    box.setObjectName("confirmBox")
    box.setWindowTitle(title)
    yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is yes


@dataclass(frozen=True)
class Loaded:
    rows: list[DefinitionRow]
    may_define: bool


def load_definitions(db: Database, acting: str | None = None) -> Loaded:
    """Runs on a worker: every definition (everyone reads them), and whether the acting
    person may create and change them (admins; locally, the one person at this computer)."""
    rows = definitions.list_definitions(db)
    try:
        with db.read() as s:
            may = kpi_scope(s, resolve_actor(s, db, acting)).may_define
    except PermissionDenied:
        may = False
    return Loaded(rows, may)


def deactivate_text(row: DefinitionRow) -> str:
    n = row.assignments
    held = (
        f"Its {n:,} assignment{'' if n == 1 else 's'} and all its measurements are kept"
        if n
        else "Its assignments and measurements are kept"
    )
    return (
        f"Deactivate the KPI “{row.name}”?\n\n{held}, but it will not be computed or newly "
        "assigned until it is reactivated."
    )


def reactivate_text(row: DefinitionRow) -> str:
    return (
        f"Reactivate the KPI “{row.name}”?\n\nIt will be computed again for its assignments "
        "and may be newly assigned."
    )


class KpiDefinitionsPage(BackgroundPage):
    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        *,
        acting: str | None = None,
        confirm: Confirm = ask,
    ) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("kpiDefinitionsPage")
        self.acting = acting
        self.confirm = confirm
        self._loaded: Loaded | None = None
        self._problem: str | None = None
        self._select_after_load: int | None = None
        self._columns_sized = False
        self._toggling = False
        self._read = BackgroundRead(
            self,
            "Reading KPI definitions…",
            lambda db: partial(load_definitions, db, self.acting),
            self._show,
            kinds=KINDS,
            refused=self._refused,
        )

        self.model = DefinitionsModel(self)
        self.proxy = DefinitionsProxy(self)
        self.proxy.setSourceModel(self.model)

        heading = QLabel("KPI definitions")
        heading.setProperty("role", "pageTitle")
        self.new_button = QPushButton("&New KPI…")
        self.new_button.setObjectName("newKpiButton")
        self.new_button.clicked.connect(self.new_definition)
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setObjectName("editKpiButton")
        self.edit_button.clicked.connect(self.edit_current)
        self.active_button = QPushButton("&Deactivate…")
        self.active_button.setObjectName("activeButton")
        self.active_button.clicked.connect(self.toggle_active)
        self.filter_edit = table_page.make_filter_edit(
            "kpiDefinitionsFilter",
            "Filter by name, category, calculation… (Ctrl+F)",
            self._filter,
        )
        self.count_label = table_page.make_count_label()
        table_page.add_find_shortcut(self, self._focus_filter)
        QShortcut(QKeySequence.StandardKey.New, self, self.new_definition)

        self.table = table_page.make_table(
            "kpiDefinitionsTable", self.proxy, NAME, self.fontMetrics()
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
        top.addWidget(self.active_button)
        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.body, 1)

        self.database_closed()
        self.watch_database()

    # -- the database -----------------------------------------------------------------------

    def database_opened(self) -> None:
        self._columns_sized = False
        self._clear()

    def database_closed(self) -> None:
        self._clear()
        self._update_state()

    def _refused(self, problem: str) -> None:
        self._clear(problem)
        self._update_state()

    def _clear(self, problem: str | None = None) -> None:
        self._loaded = None
        self._problem = problem
        self.model.set_rows([])

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

    # -- filter and state -------------------------------------------------------------------

    @Slot()
    def _focus_filter(self) -> None:
        table_page.focus_filter(self.filter_edit)

    @Slot(str)
    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_state()

    @property
    def may_define(self) -> bool:
        return self._loaded is not None and self._loaded.may_define

    def _update_state(self) -> None:
        self._update_buttons()
        loaded = self._loaded
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        count = ""
        empty: str | None
        if self._db is None:
            empty = "Open a database to see the KPI definitions."
        elif self._problem is not None:
            empty = self._problem
        elif loaded is None:
            empty = "Reading KPI definitions…"
        else:
            count = table_page.count_text(shown, total, "KPI definition", "KPI definitions")
            if total == 0:
                empty = "No KPI definitions yet."
                if loaded.may_define:
                    empty += "\nAdd the first with New KPI… (Ctrl+N)."
            elif shown == 0:
                empty = f"No KPI definitions match “{self.filter_edit.text().strip()}”."
            else:
                empty = None
        self.count_label.setText(count)
        table_page.show_empty(self.body, self.table, self.empty_label, empty)

    def _update_buttons(self) -> None:
        may = self.may_define
        refused = ADMINS_ONLY if self._loaded is not None and not may else ""
        row = self.current_row()
        self.new_button.setEnabled(may)
        self.new_button.setToolTip(refused or "Add a KPI definition (Ctrl+N)")
        self.edit_button.setEnabled(may and row is not None)
        self.edit_button.setToolTip(refused or "Change the selected KPI definition (Enter)")
        active = row is None or row.is_active
        self.active_button.setText("&Deactivate…" if active else "&Reactivate…")
        self.active_button.setEnabled(may and row is not None and not self._toggling)
        self.active_button.setToolTip(
            refused
            or (
                "Stop computing it and stop new assignments; what it holds is kept"
                if active
                else "Compute it again and allow new assignments"
            )
        )

    # -- selection --------------------------------------------------------------------------

    def current_row(self) -> DefinitionRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row = rows[0].data(ROW_ROLE)
        return row if isinstance(row, DefinitionRow) else None

    def current_id(self) -> int | None:
        row = self.current_row()
        return None if row is None else row.id

    def select_id(self, definition_id: int) -> bool:
        return table_page.select_row(self.table, self.proxy, self.model.row_of_id(definition_id))

    @Slot()
    def _selection_changed(self) -> None:
        self._update_buttons()

    # -- New… and Edit… ---------------------------------------------------------------------

    @Slot()
    def new_definition(self) -> DefinitionDialog | None:
        return self._open(None)

    @Slot()
    def edit_current(self) -> DefinitionDialog | None:
        row = self.current_row()
        return self._open(row) if row is not None else None

    @Slot(QModelIndex)
    def edit_index(self, index: QModelIndex) -> DefinitionDialog | None:
        row = index.data(ROW_ROLE)
        return self._open(row) if isinstance(row, DefinitionRow) else None

    def _open(self, row: DefinitionRow | None) -> DefinitionDialog | None:
        db, loaded = self._db, self._loaded
        if db is None or loaded is None:
            return None
        if not loaded.may_define:
            self.ctx.events.say(ADMINS_ONLY)
            return None
        others = [r for r in loaded.rows if row is None or r.id != row.id]
        dialog = DefinitionDialog(
            self.ctx,
            db,
            row,
            kpis=sorted((r.name for r in others if r.is_active), key=str.casefold),
            categories=[r.category for r in loaded.rows if r.category],
            acting=self.acting,
            parent=self,
        )
        dialog.saved.connect(partial(self._saved, dialog))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _saved(self, dialog: DefinitionDialog, result: DefinitionSaved) -> None:
        self._select_after_load = result.id
        name = dialog.name_edit.text().strip()
        self.ctx.events.say(f"Saved the KPI “{name}”.")
        self.ctx.events.changed(KPI_DEFINITIONS)

    # -- Deactivate / Reactivate ------------------------------------------------------------

    @Slot()
    def toggle_active(self) -> bool:
        """Ask, then deactivate (or reactivate) the selected definition; False if not done."""
        db, row = self._db, self.current_row()
        if db is None or row is None or self._toggling:
            return False
        if not self.may_define:
            self.ctx.events.say(ADMINS_ONLY)
            return False
        active = not row.is_active
        if row.is_active:
            asked = self.confirm(self, "Deactivate KPI", deactivate_text(row), "Deactivate")
        else:
            asked = self.confirm(self, "Reactivate KPI", reactivate_text(row), "Reactivate")
        if not asked:
            return False
        self._toggling = True
        self._update_buttons()

        def done(_result: object) -> None:
            self._select_after_load = row.id
            word = "Reactivated" if active else "Deactivated"
            self.ctx.events.say(f"{word} the KPI “{row.name}”.")
            self.ctx.events.changed(KPI_DEFINITIONS)

        def failed(exc: BaseException) -> None:
            self.ctx.ops.present(exc, self)
            self.reload()  # a stale row (another workstation changed it): show it as it is

        def finished() -> None:
            self._toggling = False
            self._update_buttons()

        self.ctx.ops.run(
            partial(definitions.set_active, db, row.id, active, row.version, self.acting),
            label="Reactivating the KPI…" if active else "Deactivating the KPI…",
            on_success=done,
            on_error=failed,
            on_finished=finished,
            parent=self,
        )
        return True


@page(
    "kpi_definitions",
    "KPI definitions",
    order=185,
    icon="dashboard",
    tooltip="What each KPI measures and how it is computed",
)
def build_kpi_definitions_page(ctx: AppContext) -> QWidget:
    return KpiDefinitionsPage(ctx)
