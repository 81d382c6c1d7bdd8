"""Lead costs… : what each lead source cost in a month, for the whole office or bought for one
person, entered like a small spreadsheet and saved all at once.

The month is picked with the previous/next buttons or typed ("November 2026"). Each line is a
source (picked from the known sources or typed), whom it was bought for ("Whole office" or a
person) and the month's cost. Add row (Ctrl+N) appends a line; Delete row (Del in the table)
asks first; Save (Ctrl+S) writes every addition, change and deletion or none: each problem is
said beside its line (row and field named) and everything typed stays. A line changed on
another workstation meanwhile is a conflict: Reload reads the month again. Leaving the month or
closing with changes not saved asks to save, discard or stay. People who may not enter spend see
the month read-only, with a note saying who may; a manager sees office-wide lines greyed.
Reading and saving run in the background.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QDate,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.domain.roi import add_months, first_of_month, month_label
from app.gui.analytics.roi_models import (
    AGENT_ROLE,
    SHEET_AGENT,
    SHEET_COST,
    SHEET_PROBLEM,
    SHEET_SOURCE,
    CostSheetModel,
    field_column,
)
from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.gui.form_fields import sentence
from app.services.analytics.lead_costs import (
    NOT_A_WRITER,
    SPEND_KIND,
    WHOLE_OFFICE,
    CostErrors,
    CostRow,
    SaveResult,
    SpendAccess,
    known_sources,
    month_costs,
    save_month_costs,
    spend_access,
)
from app.services.dberrors import is_connection_lost
from app.services.records import Acting

if TYPE_CHECKING:
    from app.services.database import Database

Index = QModelIndex | QPersistentModelIndex
#: ``confirm(parent, title, text) -> bool``: tests replace it.
Confirm = Callable[[QWidget, str, str], bool]
#: ``ask_unsaved(parent, text) -> "save" | "discard" | "cancel"``: tests replace it.
AskUnsaved = Callable[[QWidget, str], str]
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"
EARLIEST = QDate(2000, 1, 1)


def ask_confirm(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_unsaved_box(parent: QWidget, text: str) -> str:
    answer = QMessageBox.question(
        parent,
        "Changes not saved",
        text,
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Save,
    )
    if answer == QMessageBox.StandardButton.Save:
        return SAVE
    return DISCARD if answer == QMessageBox.StandardButton.Discard else CANCEL


@dataclass(frozen=True)
class CostSheet:
    """A month as the dialog shows it: its rows, what the person may enter, the suggestions."""

    month: dt.date
    rows: list[CostRow]
    access: SpendAccess
    sources: list[str]


def read_sheet(db: Database, month: dt.date, acting: Acting = None) -> CostSheet:
    """Runs on a worker."""
    return CostSheet(
        first_of_month(month),
        month_costs(db, month, acting),
        spend_access(db, acting),
        known_sources(db),
    )


# -- the editors --------------------------------------------------------------------------------


class _TrackingDelegate(QStyledItemDelegate):
    """Remembers the editor it opened, so a save can write it into the model first."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._editor: QWidget | None = None

    def remember(self, editor: QWidget) -> QWidget:
        self._editor = editor
        editor.destroyed.connect(self._forget)
        return editor

    @Slot()
    def _forget(self) -> None:
        self._editor = None

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        return self.remember(super().createEditor(parent, option, index))

    def commit_open_editor(self) -> None:
        editor = self._editor
        if editor is not None:
            self.commitData.emit(editor)
            self.closeEditor.emit(editor, QStyledItemDelegate.EndEditHint.NoHint)
            self._editor = None


class SourceDelegate(_TrackingDelegate):
    """An editable drop-down of the sources known (a new one may be typed)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.sources: list[str] = []

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        combo = QComboBox(parent)
        combo.setObjectName("sourceEditor")
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        combo.addItems(self.sources)
        return self.remember(combo)

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, QComboBox):
            editor.setEditText(str(index.data(Qt.ItemDataRole.EditRole) or ""))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)


class AgentDelegate(_TrackingDelegate):
    """A drop-down of "Whole office" (when the person may enter it) and the people."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.choices: list[tuple[int | None, str]] = []

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        combo = QComboBox(parent)
        combo.setObjectName("agentEditor")
        current = index.data(AGENT_ROLE)
        for agent_id, name in self.choices:
            combo.addItem(name, agent_id)
        if combo.findData(current) < 0:  # a person no longer offered keeps their line
            combo.addItem(str(index.data(Qt.ItemDataRole.DisplayRole)), current)
        return self.remember(combo)

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(editor.findData(index.data(AGENT_ROLE)), 0))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


# -- the dialog ---------------------------------------------------------------------------------


class LeadCostDialog(QDialog):
    #: After each save that wrote something: the SaveResult.
    saved = Signal(object)

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        month: dt.date,
        acting: Acting = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.db = db
        self.acting = acting
        self.confirm: Confirm = ask_confirm
        self.ask_unsaved: AskUnsaved = ask_unsaved_box
        self.setObjectName("leadCostDialog")
        self.setWindowTitle("Lead costs")
        self.resize(720, 480)
        self._sheet: CostSheet | None = None
        self._generation = 0
        self._loading = False
        self._saving = False
        self._closing = False

        self.model = CostSheetModel(self)
        self.model.changed_count.connect(self._update_state)
        self.model.dataChanged.connect(self._update_state)

        self.earlier_button = QToolButton()
        self.earlier_button.setObjectName("earlierButton")
        self.earlier_button.setArrowType(Qt.ArrowType.LeftArrow)
        self.earlier_button.setToolTip("The month before (Alt+Left)")
        self.earlier_button.setShortcut(QKeySequence("Alt+Left"))
        self.earlier_button.clicked.connect(partial(self.step_month, -1))
        self.month_edit = QDateEdit()
        self.month_edit.setObjectName("monthEdit")
        self.month_edit.setDisplayFormat("MMMM yyyy")
        self.month_edit.setMinimumDate(EARLIEST)
        self.month_edit.setToolTip("The month whose spend is shown; type or step it")
        self.month_edit.setMinimumWidth(self.fontMetrics().horizontalAdvance("September 2026") + 48)
        self.later_button = QToolButton()
        self.later_button.setObjectName("laterButton")
        self.later_button.setArrowType(Qt.ArrowType.RightArrow)
        self.later_button.setToolTip("The month after (Alt+Right)")
        self.later_button.setShortcut(QKeySequence("Alt+Right"))
        self.later_button.clicked.connect(partial(self.step_month, 1))
        month_label_widget = QLabel("&Month:")
        month_label_widget.setBuddy(self.month_edit)

        self.note = QLabel()
        self.note.setObjectName("accessNote")
        self.note.setProperty("role", "hint")
        self.note.setWordWrap(True)
        self.note.hide()

        self.table = QTableView()
        self.table.setObjectName("costTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.table.setAccessibleName("Lead-source spend of the month")
        self.source_delegate = SourceDelegate(self.table)
        self.agent_delegate = AgentDelegate(self.table)
        self.cost_delegate = _TrackingDelegate(self.table)
        self.table.setItemDelegateForColumn(SHEET_SOURCE, self.source_delegate)
        self.table.setItemDelegateForColumn(SHEET_AGENT, self.agent_delegate)
        self.table.setItemDelegateForColumn(SHEET_COST, self.cost_delegate)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(SHEET_SOURCE, 180)
        self.table.setColumnWidth(SHEET_AGENT, 170)
        self.table.setColumnWidth(SHEET_COST, 110)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)
        self.table.selectionModel().currentChanged.connect(self._update_state)

        self.add_button = QPushButton("&Add row")
        self.add_button.setObjectName("addRowButton")
        self.add_button.setToolTip("Add a line for another source (Ctrl+N)")
        self.add_button.clicked.connect(self.add_row)
        self.delete_button = QPushButton("&Delete row")
        self.delete_button.setObjectName("deleteRowButton")
        self.delete_button.setToolTip("Delete the selected line when the month is saved (Del)")
        self.delete_button.clicked.connect(self.delete_row)
        self.message = FieldMessage()
        self.message.setObjectName("dialogMessage")
        self.reload_button = QPushButton("&Reload month")
        self.reload_button.setObjectName("reloadButton")
        self.reload_button.setToolTip("Read the month again as it is stored now")
        self.reload_button.clicked.connect(self.ask_reload)
        self.reload_button.hide()
        self.save_button = QPushButton("&Save")
        self.save_button.setObjectName("saveButton")
        self.save_button.setToolTip(
            "Write every change of the month, or none if any is wrong (Ctrl+S)"
        )
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._save_clicked)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("closeButton")
        self.close_button.clicked.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(month_label_widget)
        top.addWidget(self.earlier_button)
        top.addWidget(self.month_edit)
        top.addWidget(self.later_button)
        top.addStretch(1)
        rows = QHBoxLayout()
        rows.addWidget(self.add_button)
        rows.addWidget(self.delete_button)
        rows.addStretch(1)
        message_row = QHBoxLayout()
        message_row.addWidget(self.message, 1)
        message_row.addWidget(self.reload_button)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addLayout(rows)
        layout.addLayout(message_row)
        layout.addLayout(buttons)

        QShortcut(QKeySequence.StandardKey.New, self, self.add_row)
        QShortcut(QKeySequence.StandardKey.Save, self, self._save_clicked)
        delete = QShortcut(QKeySequence.StandardKey.Delete, self.table, self.delete_row)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)  # not while a cell is edited

        self._set_month(first_of_month(month))
        self.month_edit.dateChanged.connect(self._month_picked)
        self._update_state()
        self.load()

    # -- the month ------------------------------------------------------------------------

    def month(self) -> dt.date:
        date = self.month_edit.date()
        return dt.date(date.year(), date.month(), 1)

    def set_month(self, month: dt.date) -> None:
        """Show another month (as picked: asks first when changes would be lost)."""
        self.month_edit.setDate(QDate(month.year, month.month, 1))

    def step_month(self, months: int) -> None:
        self.set_month(add_months(self.month(), months))

    def _set_month(self, month: dt.date) -> None:
        self.month_edit.blockSignals(True)
        self.month_edit.setDate(QDate(month.year, month.month, 1))
        self.month_edit.blockSignals(False)

    @Slot(QDate)
    def _month_picked(self, date: QDate) -> None:
        wanted = dt.date(date.year(), date.month(), 1)
        shown = self._sheet.month if self._sheet is not None else None
        if date.day() != 1:
            self._set_month(wanted)
        if wanted == shown:
            return
        if shown is not None and self.model.has_changes():
            answer = self.ask_unsaved(
                self,
                f"Save the changes to {month_label(shown)} before showing {month_label(wanted)}?",
            )
            if answer == CANCEL:
                self._set_month(shown)
                return
            if answer == SAVE:
                self._set_month(shown)
                self.save(then=partial(self.set_month, wanted))
                return
        self.load()

    # -- reading --------------------------------------------------------------------------

    @Slot()
    def ask_reload(self) -> None:
        if self.model.has_changes() and not self.confirm(
            self,
            "Reload the month",
            f"Read {month_label(self.month())} again and discard the changes not saved?",
        ):
            return
        self.load()

    def load(self, said: str | None = None) -> None:
        """Read the month shown (whatever is typed is dropped: ask before calling); ``said``
        is shown once it is read."""
        self._generation += 1
        generation = self._generation
        month = self.month()
        self._loading = True
        self.reload_button.hide()
        self.message.show_ok(f"Reading {month_label(month)}…")
        self._update_state()
        self.ctx.ops.run(
            partial(read_sheet, self.db, month, self.acting),
            label=f"Reading the lead costs of {month_label(month)}…",
            on_success=partial(self._loaded, generation, said),
            on_error=partial(self._load_failed, generation),
            parent=self,
        )

    def _loaded(self, generation: int, said: str | None, sheet: CostSheet) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._sheet = sheet
        access = sheet.access
        names = {p.id: p.name for p in access.people}
        self.model.load(sheet.rows, names, access.may_write)
        self.source_delegate.sources = list(sheet.sources)
        choices: list[tuple[int | None, str]] = (
            [(None, WHOLE_OFFICE)] if access.may_write_office else []
        )
        choices += [(p.id, p.name) for p in access.people if p.active]
        self.agent_delegate.choices = choices
        self._show_note(access)
        if said is not None:
            self.message.show_ok(said)
        elif sheet.rows:
            self.message.clear_message()
        else:
            self.message.show_ok(
                f"No spend entered for {month_label(sheet.month)} yet."
                + ("" if access.read_only else " Add a row (Ctrl+N) for each source.")
            )
        self._update_state()

    def _load_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._update_state()
        if isinstance(exc, PermissionDenied | ValidationError):
            self.message.show_error(sentence(str(exc)))
        else:
            self.message.clear_message()
            self.ctx.ops.present(exc, self)

    def _show_note(self, access: SpendAccess) -> None:
        if access.read_only:
            text = f"You may read this month's spend but not change it. {NOT_A_WRITER}"
        elif not access.may_write_office:
            text = (
                "Office-wide spend is entered by brokers and admins: its lines are greyed. You "
                "enter the spend bought for the people whose records you see."
            )
        else:
            text = ""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def access(self) -> SpendAccess | None:
        return self._sheet.access if self._sheet is not None else None

    # -- editing --------------------------------------------------------------------------

    @Slot()
    def add_row(self) -> int | None:
        access = self.access()
        if access is None or access.read_only or self._busy():
            return None
        default = None if access.may_write_office else self._first_person(access)
        row = self.model.add_line(default)
        index = self.model.index(row, SHEET_SOURCE)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        self.table.setFocus()
        self.table.edit(index)
        return row

    @staticmethod
    def _first_person(access: SpendAccess) -> int | None:
        return next((p.id for p in access.people if p.active), None)

    def current_row(self) -> int:
        index = self.table.currentIndex()
        return index.row() if index.isValid() else -1

    @Slot()
    def delete_row(self) -> bool:
        """Take out the current line (after asking); a stored one is deleted on save."""
        row = self.current_row()
        if row < 0 or self._busy() or self.model.read_only:
            return False
        line = self.model.line(row)
        if not line.editable:
            self.message.show_error("You may not delete this line. " + NOT_A_WRITER)
            return False
        what = line.source.strip() or "this line"
        who = self.model.who(line.agent_id)
        if line.stored is not None or not line.is_blank():
            text = f"Delete row {row + 1} ({what}, {who})?"
            if line.id is not None:
                text += f" It is deleted from {month_label(self.month())} when you save."
            if not self.confirm(self, "Delete row", text):
                return False
        self.model.remove_line(row)
        if self.model.rowCount():
            self.table.setCurrentIndex(self.model.index(min(row, self.model.rowCount() - 1), 0))
        return True

    def commit_editing(self) -> None:
        for delegate in (self.source_delegate, self.agent_delegate, self.cost_delegate):
            delegate.commit_open_editor()

    # -- saving ---------------------------------------------------------------------------

    @Slot()
    def _save_clicked(self) -> None:
        self.save()

    def save(self, then: Callable[[], None] | None = None) -> bool:
        """Write the month's changes; ``then`` runs once they are stored. False: not started."""
        if self._sheet is None or self._busy() or self.access() is None:
            return False
        self.commit_editing()
        month = self._sheet.month
        changes = self.model.changes()
        if not changes:
            self.message.show_ok(f"{month_label(month)}: nothing to save.")
            if then is not None:
                then()
            return False
        self._saving = True
        self.reload_button.hide()
        self.message.show_ok(f"Saving {month_label(month)}…")
        self._update_state()
        self.ctx.ops.run(
            partial(save_month_costs, self.db, month, changes, self.acting),
            label=f"Saving the lead costs of {month_label(month)}…",
            on_success=partial(self._saved, month, then),
            on_error=partial(self._refused, month),
            on_finished=self._save_finished,
            cancellable=False,
            parent=self,
        )
        return True

    def _save_finished(self) -> None:
        self._saving = False
        self._update_state()

    def _saved(self, month: dt.date, then: Callable[[], None] | None, result: SaveResult) -> None:
        self.model.set_problems({})
        self.saved.emit(result)
        self.ctx.events.changed(SPEND_KIND)
        self.ctx.events.say(f"Lead costs of {month_label(month)} saved: {result}.")
        self._saving = False
        if then is not None:  # close, or show another month: what was typed is stored
            self.model.load([], {}, lambda _agent: False)
            then()
            return
        self.load(said=f"Saved {month_label(month)}: {result}.")

    def _refused(self, month: dt.date, exc: BaseException) -> None:
        self._closing = False
        if isinstance(exc, CostErrors):
            self.model.set_problems(exc.by_row())
            rows = len({p.row for p in exc.problems})
            self.message.show_error(
                f"{month_label(month)}: {rows} row{'s' if rows != 1 else ''} to correct; nothing "
                "was saved. Each problem is said beside its row:\n"
                + "\n".join(str(p) for p in exc.problems)
            )
            first = exc.problems[0]
            if first.row > 0:
                index = self.model.index(first.row - 1, field_column(first.field))
                self.table.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                )
                self.table.scrollTo(index)
        elif isinstance(exc, ConflictError):
            self.message.show_error(sentence(str(exc)))
            self.reload_button.show()
        elif isinstance(exc, PermissionDenied | ValidationError):
            self.message.show_error(sentence(str(exc)))
        elif is_connection_lost(exc):
            self.message.show_error(
                "Nothing was saved: the connection to the server was lost. Everything you typed "
                "is still here; save again once PerfDesk has reconnected."
            )
        else:
            self.message.clear_message()
            self.ctx.ops.present(exc, self)

    # -- closing --------------------------------------------------------------------------

    def reject(self) -> None:
        """Close (Esc, Close): with changes not saved, ask to save, discard or stay."""
        if self._saving:
            return
        self.commit_editing()
        if self.model.has_changes() and self._sheet is not None:
            count = self.model.changed_lines()
            answer = self.ask_unsaved(
                self,
                f"Save the {count} change{'s' if count != 1 else ''} to "
                f"{month_label(self._sheet.month)} before closing?",
            )
            if answer == CANCEL:
                return
            if answer == SAVE:
                self._closing = True
                if not self.save(then=self._close_now):
                    self._closing = False
                return
        self._close_now()

    def _close_now(self) -> None:
        self._closing = False
        self._generation += 1  # a read still running is of no use now
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.isVisible() and (self._saving or self.model.has_changes()):
            event.ignore()
            self.reject()
            return
        super().closeEvent(event)

    # -- state ----------------------------------------------------------------------------

    def _busy(self) -> bool:
        return self._loading or self._saving

    @Slot()
    def _update_state(self, *_args: object) -> None:
        access = self.access()
        busy = self._busy()
        writable = access is not None and not access.read_only
        self.model.read_only = busy or not writable
        count = self.model.changed_lines()
        self.save_button.setText(f"&Save ({count})" if count else "&Save")
        self.save_button.setEnabled(writable and not busy and count > 0)
        self.add_button.setEnabled(writable and not busy)
        row = self.current_row()
        deletable = 0 <= row < self.model.rowCount() and self.model.line(row).editable
        self.delete_button.setEnabled(writable and not busy and deletable)
        for widget in (self.month_edit, self.earlier_button, self.later_button):
            widget.setEnabled(not self._saving)
        self.table.setColumnHidden(SHEET_PROBLEM, not self.model.problem_rows())
