"""The agent report's month table: a row per month, then the totals row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from app.domain.money import format_money
from app.services.reports.agent_history import COLUMNS, AgentHistory, MonthFigures

ModelIndex = QModelIndex | QPersistentModelIndex
DASH = "—"


def cell_text(figures: MonthFigures, attribute: str, kind: str, currency: str) -> str:
    value: Any = getattr(figures, attribute)
    if kind == "money":
        return format_money(value, currency)
    if kind == "pct":
        return DASH if value is None else f"{value}%"
    if kind == "int":
        return f"{value:,}"
    return str(value)


def source_text(figures: MonthFigures, totals: bool = False) -> str:
    """Where a row's figures come from, in words (the first cell's tooltip)."""
    if totals:
        return "Counted from the records now, over the whole range"
    if figures.stored_at is not None:
        when = figures.stored_at.astimezone()  # the workstation's time zone
        return f"Stored by the agent-kpis job on {when:%d %b %Y %H:%M}"
    return "Counted from the records now"


class HistoryModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._history: AgentHistory | None = None
        self._rows: list[MonthFigures] = []

    def set_history(self, history: AgentHistory | None) -> None:
        self.beginResetModel()
        self._history = history
        self._rows = [] if history is None else [*history.months, history.totals]
        self.endResetModel()

    @property
    def history(self) -> AgentHistory | None:
        return self._history

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def is_totals(self, row: int) -> bool:
        return self._history is not None and row == len(self._rows) - 1

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._history is None:
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= column < len(COLUMNS)):
            return None
        figures = self._rows[row]
        _, attribute, kind = COLUMNS[column]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0 and self.is_totals(row):
                return "Total"
            return cell_text(figures, attribute, kind, self._history.currency)
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            span = f"{figures.first_day:%d %b %Y} to {figures.last_day:%d %b %Y}"
            return f"{span}\n{source_text(figures, self.is_totals(row))}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            side = Qt.AlignmentFlag.AlignLeft if column == 0 else Qt.AlignmentFlag.AlignRight
            return int(side | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and self.is_totals(row):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.UserRole:
            value = getattr(figures, attribute)
            return float(value) if isinstance(value, Decimal) else value
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section][0]
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None
