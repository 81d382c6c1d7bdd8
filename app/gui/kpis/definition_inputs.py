"""A formula KPI's inputs, edited in a table: each a name, a kind (a query, or another KPI) and
the SQL or the KPI it reads. The model holds what is typed; the service checks it on save."""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.kpi_sources import FormulaInput

Index = QModelIndex | QPersistentModelIndex

QUERY, KPI = "query", "kpi"
KIND_LABELS = {QUERY: "Query", KPI: "KPI"}
INPUT_NAME, INPUT_KIND, INPUT_SOURCE = range(3)
HEADERS = ("Name", "Kind", "Query or KPI")


@dataclass(frozen=True)
class InputLine:
    name: str = ""
    kind: str = QUERY
    sql: str = ""
    kpi: str = ""

    @property
    def source(self) -> str:
        return self.kpi if self.kind == KPI else self.sql

    def value(self) -> dict[str, str]:
        """As the service reads a form's input: {variable, query} or {variable, kpi}."""
        if self.kind == KPI:
            return {"variable": self.name.strip(), "kpi": self.kpi.strip()}
        return {"variable": self.name.strip(), "query": self.sql.strip()}

    @classmethod
    def of(cls, item: FormulaInput) -> InputLine:
        if item.kpi:
            return cls(item.name, KPI, "", item.kpi)
        return cls(item.name, QUERY, item.sql or "", "")


class InputsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._lines: list[InputLine] = []

    def set_lines(self, lines: Sequence[InputLine]) -> None:
        self.beginResetModel()
        self._lines = list(lines)
        self.endResetModel()

    def lines(self) -> list[InputLine]:
        return list(self._lines)

    def add_line(self, line: InputLine) -> int:
        row = len(self._lines)
        self.beginInsertRows(QModelIndex(), row, row)
        self._lines.append(line)
        self.endInsertRows()
        return row

    def remove_line(self, row: int) -> None:
        if not 0 <= row < len(self._lines):
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._lines[row]
        self.endRemoveRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        line = self._lines[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == INPUT_NAME:
                return line.name
            if column == INPUT_KIND:
                return KIND_LABELS.get(line.kind, line.kind)
            if column == INPUT_SOURCE:
                return " ".join(line.source.split())  # the SQL on one line
            return None
        if role == Qt.ItemDataRole.EditRole:
            return (line.name, line.kind, line.source)[column] if 0 <= column < 3 else None
        if role == Qt.ItemDataRole.ToolTipRole and column == INPUT_SOURCE and line.source:
            return line.source
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        if not 0 <= index.row() < len(self._lines):
            return False
        line = self._lines[index.row()]
        text = "" if value is None else str(value)
        column = index.column()
        if column == INPUT_NAME:
            new = replace(line, name=text.strip())
        elif column == INPUT_KIND:
            if text not in KIND_LABELS:
                return False
            new = replace(line, kind=text)
        elif column == INPUT_SOURCE:
            new = replace(line, kpi=text) if line.kind == KPI else replace(line, sql=text)
        else:
            return False
        if new == line:
            return True
        self._lines[index.row()] = new
        last = INPUT_SOURCE if column == INPUT_KIND else column
        self.dataChanged.emit(self.index(index.row(), column), self.index(index.row(), last))
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsEditable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


class InputsDelegate(QStyledItemDelegate):
    """A drop-down for the kind and for a KPI input's KPI; a monospace line for the SQL."""

    def __init__(self, kpis: Sequence[str], parent: Any = None) -> None:
        super().__init__(parent)
        self.kpis = list(kpis)

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        if index.column() == INPUT_KIND:
            combo = QComboBox(parent)
            combo.setObjectName("inputKindCombo")
            for kind, label in KIND_LABELS.items():
                combo.addItem(label, kind)
            return combo
        if index.column() == INPUT_SOURCE:
            kind = index.model().index(index.row(), INPUT_KIND).data(Qt.ItemDataRole.EditRole)
            if kind == KPI:
                combo = QComboBox(parent)
                combo.setObjectName("inputKpiCombo")
                combo.addItems(self.kpis)
                return combo
            edit = QLineEdit(parent)
            edit.setObjectName("inputSqlEdit")
            edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            edit.setPlaceholderText("SELECT count(*) FROM … WHERE … = :user_id")
            return edit
        return super().createEditor(parent, option, index)

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        value = str(index.data(Qt.ItemDataRole.EditRole) or "")
        if isinstance(editor, QComboBox):
            at = editor.findData(value)
            if at < 0:
                at = editor.findText(value)
            if at < 0 and value:  # a KPI no longer active: keep it showing
                editor.addItem(value)
                at = editor.count() - 1
            editor.setCurrentIndex(max(at, 0))
            return
        if isinstance(editor, QLineEdit):
            editor.setText(value)
            return
        super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        if isinstance(editor, QComboBox):
            data = editor.currentData()
            model.setData(index, data if isinstance(data, str) else editor.currentText())
            return
        if isinstance(editor, QLineEdit):
            model.setData(index, editor.text())
            return
        super().setModelData(editor, model, index)


class InputsEditor(QWidget):
    """The inputs table with Add input and Remove input; ``changed`` whenever a line does."""

    changed = Signal()

    def __init__(self, kpis: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = InputsModel(self)
        self.table = QTableView()
        self.table.setObjectName("inputsTable")
        self.table.setModel(self.model)
        self.delegate = InputsDelegate(kpis, self.table)
        self.table.setItemDelegate(self.delegate)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.table.verticalHeader().hide()
        self.table.setMinimumHeight(110)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(INPUT_NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(INPUT_KIND, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(INPUT_NAME, 90)
        self.table.setColumnWidth(INPUT_KIND, 80)
        self.setFocusProxy(self.table)

        self.add_button = QPushButton("Add &input")
        self.add_button.setObjectName("addInputButton")
        self.add_button.setToolTip("Add an input the formula can use by its name")
        self.add_button.clicked.connect(self.add_input)
        self.remove_button = QPushButton("Re&move input")
        self.remove_button.setObjectName("removeInputButton")
        self.remove_button.clicked.connect(self.remove_input)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

        for signal in (
            self.model.dataChanged,
            self.model.rowsInserted,
            self.model.rowsRemoved,
            self.model.modelReset,
        ):
            signal.connect(self._emit_changed)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def set_lines(self, lines: Sequence[InputLine]) -> None:
        self.model.set_lines(lines)

    def values(self) -> list[dict[str, str]]:
        return [line.value() for line in self.model.lines()]

    def _free_name(self) -> str:
        taken = {line.name for line in self.model.lines()}
        for letter in string.ascii_lowercase:
            if letter not in taken:
                return letter
        n = 1
        while f"input{n}" in taken:
            n += 1
        return f"input{n}"

    @Slot()
    def add_input(self) -> int:
        row = self.model.add_line(InputLine(self._free_name()))
        index = self.model.index(row, INPUT_SOURCE)
        self.table.setCurrentIndex(index)
        self.table.setFocus()
        return row

    @Slot()
    def remove_input(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        current = rows[0].row() if rows else self.table.currentIndex().row()
        if current >= 0:
            self.model.remove_line(current)
        self._update_buttons()

    @Slot()
    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(
            self.model.rowCount() > 0 and self.table.currentIndex().isValid()
        )

    @Slot()
    def _emit_changed(self) -> None:
        self._update_buttons()
        self.changed.emit()
