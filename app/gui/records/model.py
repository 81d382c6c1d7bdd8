"""One table of records: a model over the service's row dataclasses, described by columns,
and the proxy that sorts it and filters it by text and by status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from app.services.records import RecordRow

RECORD_ROLE = Qt.ItemDataRole.UserRole + 1  # the whole row dataclass
RECORD_ID_ROLE = Qt.ItemDataRole.UserRole + 2
SORT_ROLE = Qt.ItemDataRole.UserRole + 3  # a str or an int, one type per column
STATUS_ROLE = Qt.ItemDataRole.UserRole + 4  # the row's status as stored ("no_show")

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    """How one column shows a row: its text (given the office currency) and how it sorts."""

    header: str
    text: Callable[[Any, str], str]
    sort_key: Callable[[Any], str | int] | None = None  # default: the text, lower-cased
    numeric: bool = False  # right-aligned
    searchable: bool = True  # looked at by the filter box
    is_owner: bool = False  # hidden when nobody else's records can appear
    tooltip: Callable[[Any], str | None] | None = None


class RecordTableModel(QAbstractTableModel):
    def __init__(
        self,
        columns: Sequence[Column],
        status_of: Callable[[Any], str],
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self._status_of = status_of
        self._rows: list[RecordRow] = []
        self._currency = "USD"

    @property
    def currency(self) -> str:
        return self._currency

    def set_rows(self, rows: Sequence[RecordRow], currency: str | None = None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        if currency:
            self._currency = currency
        self.endResetModel()

    def rows(self) -> list[RecordRow]:
        return list(self._rows)

    def row_at(self, row: int) -> RecordRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of_id(self, record_id: int) -> int:
        return next((r for r, rec in enumerate(self._rows) if rec.id == record_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self.columns):
            return None
        record = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(record, self._currency)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(record)
        if role == SORT_ROLE:
            if column.sort_key is not None:
                return column.sort_key(record)
            return column.text(record, self._currency).lower()
        if role == RECORD_ID_ROLE:
            return record.id
        if role == RECORD_ROLE:
            return record
        if role == STATUS_ROLE:
            return self._status_of(record)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


class RecordFilterProxy(QSortFilterProxyModel):
    """Sorts on SORT_ROLE; keeps rows whose searchable text contains the filter (any case)
    and, when a status is chosen, whose status is that one."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setSortRole(SORT_ROLE)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._status: str | None = None

    @property
    def status(self) -> str | None:
        return self._status

    def set_status(self, status: str | None) -> None:
        if status == self._status:
            return
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+; invalidateRowsFilter is deprecated
            self.beginFilterChange()
            self._status = status
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._status = status
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        status = self._status
        if (
            status is not None
            and model.index(source_row, 0, source_parent).data(STATUS_ROLE) != status
        ):
            return False
        pattern = self.filterRegularExpression()
        if not pattern.pattern():
            return True
        columns: Sequence[Column] = getattr(model, "columns", ())
        return any(
            pattern.match(str(model.index(source_row, c, source_parent).data())).hasMatch()
            for c, column in enumerate(columns)
            if column.searchable
        )
