"""The two tables of the Rent roll page: the performance records, and one record's months."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from app.domain.money import format_money
from app.gui.postclose.record_view import STRATEGY_WORDS, flag_words
from app.services.postclose.periods import PeriodRow
from app.services.postclose.records import RecordInfo

Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class _Rows(QAbstractTableModel):
    """A read-only table of ``rows`` under ``HEADERS``."""

    HEADERS: tuple[str, ...] = ()
    rows: list[Any]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None


class RecordsModel(_Rows):
    HEADERS = ("Property", "Market", "Buyer", "Strategy", "Closed", "Grade")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[RecordInfo] = []

    def set_rows(self, rows: Sequence[RecordInfo]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def data(self, index: Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                r.ref or f"#{r.id}",
                r.market_key,
                r.buyer_name,
                STRATEGY_WORDS.get(str(r.strategy), str(r.strategy)),
                r.closed_date.strftime("%d %b %Y"),
                r.current_grade or "—",
            )[col]
        if role == Qt.ItemDataRole.ToolTipRole and col == 5 and r.current_flags:
            return "\n".join(flag_words(f) for f in r.current_flags)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 5:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == ROW_ROLE:
            return r
        return None

    def row_of(self, record_id: int) -> int | None:
        for i, r in enumerate(self.rows):
            if r.id == record_id:
                return i
        return None


class HistoryModel(_Rows):
    HEADERS = (
        "Month", "Rent", "Vacancy", "Cash flow", "Projected", "Variance", "DSCR", "Grade", "Flags",
    )  # fmt: skip

    def __init__(self, currency: str = "USD", parent: Any = None) -> None:
        super().__init__(parent)
        self.currency = currency
        self.rows: list[PeriodRow] = []
        self.projected_cash_flow: Any = None

    def set_rows(self, rows: Sequence[PeriodRow], projected_cash_flow: Any) -> None:
        self.beginResetModel()
        self.rows = list(reversed(rows))  # newest first
        self.projected_cash_flow = projected_cash_flow
        self.endResetModel()

    def data(self, index: Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        p = self.rows[index.row()]
        col = index.column()
        v = p.values
        if role == Qt.ItemDataRole.DisplayRole:
            cur = self.currency
            return (
                f"{p.year}-{p.month:02d}",
                format_money(v["actual_rent_collected"], cur),
                f"{v['actual_vacancy_rate'] * 100:.1f}%",
                format_money(v["actual_monthly_cash_flow"], cur),
                format_money(self.projected_cash_flow, cur),
                format_money(v["cash_flow_variance"], cur),
                f"{v['actual_dscr']:.2f}",
                p.grade,
                ", ".join(flag_words(f) for f in p.flags),
            )[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and 1 <= col <= 6:
            return _RIGHT
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 7:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == 8 and p.flags:
            return "\n".join(flag_words(f) for f in p.flags)
        if role == ROW_ROLE:
            return p
        return None
