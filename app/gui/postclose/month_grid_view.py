"""The month-end grid's table view, keyed like a spreadsheet.

Arrows and Tab move between cells; typing starts editing the current cell; Enter commits and
moves down (Shift+Enter: up); Delete or Backspace clears the selected cells; Ctrl+C copies the
selected block as tab-separated text; Ctrl+V pastes a copied block from the current cell down
and to the right (cells landing on read-only columns are ignored; one copied cell fills every
selected cell). The view works on whatever model it shows (the filter proxy), so pasting
fills the rows as they are seen.
"""

from __future__ import annotations

import weakref
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractProxyModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QLineEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from app.gui.postclose.month_grid_clipboard import format_block, parse_block
from app.gui.postclose.month_grid_model import MonthGridModel

Index = QModelIndex | QPersistentModelIndex
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_CLEAR = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)


class CellDelegate(QStyledItemDelegate):
    """A line editor aligned like the cell; remembers the editor that is open."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._open: weakref.ref[QWidget] | None = None

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        editor = QLineEdit(parent)
        editor.setFrame(False)
        alignment = index.data(Qt.ItemDataRole.TextAlignmentRole)
        if alignment is not None:
            editor.setAlignment(Qt.AlignmentFlag(int(alignment)))
        self._open = weakref.ref(editor)
        return editor

    def destroyEditor(self, editor: QWidget, index: Index) -> None:
        if self.open_editor() is editor:
            self._open = None
        super().destroyEditor(editor, index)

    def open_editor(self) -> QWidget | None:
        return self._open() if self._open is not None else None


class GridView(QTableView):
    #: ``(copied block text)`` after Ctrl+C; ``(cells changed)`` after a paste or clearing.
    copied = Signal(str)
    edited = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.delegate = CellDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setTabKeyNavigation(True)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(False)

    # -- the model behind the proxy -------------------------------------------------------

    def grid_model(self) -> MonthGridModel | None:
        model: QAbstractItemModel | None = self.model()
        while isinstance(model, QAbstractProxyModel):
            model = model.sourceModel()
        return model if isinstance(model, MonthGridModel) else None

    def _source(self, index: QModelIndex) -> QModelIndex:
        model = self.model()
        while isinstance(model, QAbstractProxyModel):
            index = model.mapToSource(index)
            model = model.sourceModel()
        return index

    # -- editing --------------------------------------------------------------------------

    def is_editing(self) -> bool:
        return self.state() == QAbstractItemView.State.EditingState

    def commit_editing(self) -> None:
        """Write what the open editor holds into the model and close it (before a save)."""
        editor = self.delegate.open_editor()
        if editor is not None and self.is_editing():
            self.commitData(editor)
            self.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)

    def closeEditor(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:
        super().closeEditor(editor, hint)
        if hint == QAbstractItemDelegate.EndEditHint.SubmitModelCache:  # Enter
            self.move_current(1)

    def move_current(self, rows: int) -> None:
        current = self.currentIndex()
        if not current.isValid():
            return
        row = min(max(current.row() + rows, 0), self.model().rowCount() - 1)
        target = self.model().index(row, current.column())
        self.selectionModel().setCurrentIndex(
            target, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.scrollTo(target)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.is_editing():
            if event.matches(QKeySequence.StandardKey.Copy):
                self.copy_selection()
                event.accept()
                return
            if event.matches(QKeySequence.StandardKey.Paste):
                self.paste()
                event.accept()
                return
            plain = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if event.key() in _CLEAR and plain == Qt.KeyboardModifier.NoModifier:
                self.clear_selection()
                event.accept()
                return
            if event.key() in _ENTER and plain in (
                Qt.KeyboardModifier.NoModifier,
                Qt.KeyboardModifier.ShiftModifier,
            ):
                self.move_current(-1 if plain == Qt.KeyboardModifier.ShiftModifier else 1)
                event.accept()
                return
        super().keyPressEvent(event)

    # -- blocks ---------------------------------------------------------------------------

    def _selected_block(self) -> tuple[int, int, int, int] | None:
        """(top, left, bottom, right) around the selected cells, else the current cell."""
        indexes = self.selectionModel().selectedIndexes()
        if not indexes:
            current = self.currentIndex()
            if not current.isValid():
                return None
            indexes = [current]
        rows = [i.row() for i in indexes]
        columns = [i.column() for i in indexes]
        return min(rows), min(columns), max(rows), max(columns)

    def selected_text(self) -> str:
        block = self._selected_block()
        if block is None:
            return ""
        top, left, bottom, right = block
        model = self.model()
        selection = self.selectionModel()
        out: list[list[str]] = []
        for row in range(top, bottom + 1):
            cells: list[str] = []
            for column in range(left, right + 1):
                index = model.index(row, column)
                chosen = selection.isSelected(index) or index == self.currentIndex()
                value = index.data(Qt.ItemDataRole.EditRole) if chosen else ""
                cells.append("" if value is None else str(value))
            out.append(cells)
        return format_block(out)

    def copy_selection(self) -> str:
        text = self.selected_text()
        if text:
            clipboard = QGuiApplication.clipboard()
            clipboard.setText(text)
            self.copied.emit(text)
        return text

    def paste(self, text: str | None = None) -> int:
        """Paste a block (the clipboard's text unless given); returns the cells changed."""
        if text is None:
            text = QGuiApplication.clipboard().text()
        block = parse_block(text)
        grid = self.grid_model()
        current = self.currentIndex()
        if not block or grid is None or not current.isValid():
            return 0
        model = self.model()
        edits: list[tuple[int, int, str]] = []
        selected = self.selectionModel().selectedIndexes()
        if len(block) == 1 and len(block[0]) == 1 and len(selected) > 1:
            targets = [(i.row(), i.column(), block[0][0]) for i in selected]  # fill the selection
        else:
            targets = [
                (current.row() + r, current.column() + c, value)
                for r, cells in enumerate(block)
                for c, value in enumerate(cells)
            ]
        last_row, last_column = current.row(), current.column()
        for row, column, value in targets:
            if row >= model.rowCount() or column >= model.columnCount():
                continue
            source = self._source(model.index(row, column))
            edits.append((source.row(), source.column(), value.strip()))
            last_row, last_column = max(last_row, row), max(last_column, column)
        changed = grid.set_texts(edits)
        if len(targets) > 1 and len(selected) <= 1:  # show where the block landed
            area = QItemSelection(current, model.index(last_row, last_column))
            self.selectionModel().select(area, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.edited.emit(changed)
        return changed

    def clear_selection(self) -> int:
        """Empty every selected cell that can be typed in; returns the cells changed."""
        grid = self.grid_model()
        if grid is None:
            return 0
        indexes = self.selectionModel().selectedIndexes() or [self.currentIndex()]
        edits: list[tuple[int, int, str]] = []
        for index in indexes:
            if index.isValid():
                source = self._source(index)
                edits.append((source.row(), source.column(), ""))
        changed = grid.set_texts(edits)
        self.edited.emit(changed)
        return changed
