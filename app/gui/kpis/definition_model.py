"""The KPI definitions table: a model over the service's ``DefinitionRow``s and the proxy that
filters and sorts it. A deactivated definition is greyed and says so."""

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
from PySide6.QtGui import QGuiApplication, QPalette

from app.services.kpis.definitions import PERIOD_LABELS, TARGET_LABELS, DefinitionRow

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the whole DefinitionRow
ID_ROLE = Qt.ItemDataRole.UserRole + 2
SORT_ROLE = Qt.ItemDataRole.UserRole + 3  # a str or a float, one type per column

Index = QModelIndex | QPersistentModelIndex

INACTIVE_TIP = (
    "Deactivated: it is not computed and cannot be newly assigned; its assignments and "
    "measurements are kept"
)


@dataclass(frozen=True)
class Column:
    header: str
    text: Callable[[DefinitionRow], str]
    sort_key: Callable[[DefinitionRow], str | float] | None = None  # default: the text
    numeric: bool = False
    tooltip: Callable[[DefinitionRow], str | None] | None = None


_PERIOD_ORDER = {period: float(n) for n, period in enumerate(PERIOD_LABELS)}


def _assigned_tip(row: DefinitionRow) -> str:
    n = row.assignments
    return f"{n:,} active assignment{'' if n == 1 else 's'}"


COLUMNS: tuple[Column, ...] = (
    Column("Name", lambda r: r.name, tooltip=lambda r: r.description or None),
    Column("Category", lambda r: r.category or ""),
    Column(
        "Calculation",
        lambda r: r.calculation_label,
        tooltip=lambda r: "Computed by PerfDesk from its own records" if r.is_builtin else None,
    ),
    Column(
        "Period",
        lambda r: PERIOD_LABELS.get(r.aggregation_period, r.aggregation_period),
        sort_key=lambda r: _PERIOD_ORDER.get(r.aggregation_period, 99.0),  # daily … yearly
    ),
    Column("Target type", lambda r: TARGET_LABELS.get(r.target_type, r.target_type)),
    Column("Unit", lambda r: r.unit or ""),
    Column(
        "Assigned",
        lambda r: f"{r.assignments:,}",
        sort_key=lambda r: float(r.assignments),
        numeric=True,
        tooltip=_assigned_tip,
    ),
    Column("Active", lambda r: "Active" if r.is_active else "Inactive"),
)
NAME, CATEGORY, CALCULATION, PERIOD, TARGET, UNIT, ASSIGNED, ACTIVE = range(len(COLUMNS))


def inactive_color() -> Any:
    """The palette's disabled text colour: how a deactivated definition is greyed."""
    return QGuiApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)


class DefinitionsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[DefinitionRow] = []

    def set_rows(self, rows: Sequence[DefinitionRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[DefinitionRow]:
        return list(self._rows)

    def row_of_id(self, definition_id: int) -> int:
        return next((n for n, row in enumerate(self._rows) if row.id == definition_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].header
        if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[section].numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(COLUMNS):
            return None
        row = self._rows[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == SORT_ROLE:
            return column.sort_key(row) if column.sort_key else column.text(row).casefold()
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and not row.is_active:
            return inactive_color()
        if role == Qt.ItemDataRole.ToolTipRole:
            if not row.is_active:
                return INACTIVE_TIP
            return column.tooltip(row) if column.tooltip else None
        if role == ROW_ROLE:
            return row
        if role == ID_ROLE:
            return row.id
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


class DefinitionsProxy(QSortFilterProxyModel):
    """Case-insensitive filter over every column's text; sorts on SORT_ROLE."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setSortRole(SORT_ROLE)
