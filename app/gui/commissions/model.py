"""The ledger's table: rows arrive a page at a time (``canFetchMore`` / ``fetchMore`` ask the
page for the next one, which reads it in the background) and sorting is done by the database
over the whole filtered set (``sort`` asks the page to read again in the new order)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from app.domain.commissions import STATUS_LABELS
from app.domain.enums import CommissionStatus, CommissionType
from app.domain.money import format_money
from app.gui.records.format import full_time, local_date
from app.services.commissions import CommissionRow, LedgerSort

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the CommissionRow
ID_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3  # the stored status value ("written_off")

Index = QModelIndex | QPersistentModelIndex

TYPE_LABELS: dict[CommissionType, str] = {
    CommissionType.INTRODUCER: "Introducer",
    CommissionType.EXCLUSIVE: "Exclusive",
    CommissionType.CO_BROKE: "Co-broke",
    CommissionType.REFERRAL: "Referral",
    CommissionType.BONUS: "Bonus",
}


def rate_text(rate: Decimal) -> str:
    """0.0250 → '2.5%'; 0.0125 → '1.25%'."""
    percent = (rate * 100).normalize()
    text = f"{percent:f}"
    return f"{text}%"


def money(row: CommissionRow, value: Decimal, office_currency: str) -> str:
    return format_money(value, row.currency or office_currency)


def _dates_tooltip(row: CommissionRow) -> str:
    stamps = [
        ("Created", row.created_at),
        ("Introduced", row.introduced_at),
        ("Confirmed", row.confirmed_at),
        ("Invoiced", row.invoiced_at),
        ("Paid", row.paid_at),
        ("Disputed", row.disputed_at),
        ("Resolved", row.resolved_at),
        ("Written off", row.written_off_at),
    ]
    return "\n".join(f"{label}: {full_time(when)}" for label, when in stamps if when is not None)


def _status_tooltip(row: CommissionRow) -> str | None:
    lines: list[str] = []
    if row.status is CommissionStatus.DISPUTED and row.disputed_from is not None:
        lines.append(f"Disputed while {STATUS_LABELS[row.disputed_from].lower()}")
    if row.dispute_reason:
        lines.append(f"Reason: {row.dispute_reason}")
    if row.dispute_document_uri:
        lines.append(f"Document: {row.dispute_document_uri}")
    if not row.writable:
        lines.append("Only whoever sees the deal may change this commission.")
    return "\n".join(lines) or None


@dataclass(frozen=True)
class Column:
    header: str
    sort: LedgerSort
    text: Callable[[CommissionRow, str], str]
    numeric: bool = False
    tooltip: Callable[[CommissionRow], str | None] | None = None


COLUMNS: tuple[Column, ...] = (
    Column("Deal", LedgerSort.DEAL, lambda r, _c: r.deal_label, tooltip=lambda r: r.deal_label),
    Column("Agent", LedgerSort.AGENT, lambda r, _c: r.agent_name, tooltip=lambda r: r.agent_email),
    Column("Type", LedgerSort.TYPE, lambda r, _c: TYPE_LABELS[r.commission_type]),
    Column("Basis", LedgerSort.BASIS, lambda r, c: money(r, r.basis_amount, c), numeric=True),
    Column("Rate", LedgerSort.RATE, lambda r, _c: rate_text(r.commission_rate), numeric=True),
    Column(
        "Amount", LedgerSort.AMOUNT, lambda r, c: money(r, r.commission_amount, c), numeric=True
    ),
    Column(
        "Adjustments",
        LedgerSort.ADJUSTMENTS,
        lambda r, c: money(r, r.adjustments_total, c) if r.adjustments_total else "—",
        numeric=True,
    ),
    Column("Net", LedgerSort.NET, lambda r, c: money(r, r.net_amount, c), numeric=True),
    Column("Status", LedgerSort.STATUS, lambda r, _c: r.status_label, tooltip=_status_tooltip),
    Column(
        "Created",
        LedgerSort.CREATED,
        lambda r, _c: local_date(r.created_at),
        tooltip=_dates_tooltip,
    ),
    Column(
        "Status date",
        LedgerSort.CHANGED,
        lambda r, _c: local_date(r.status_changed_at),
        tooltip=_dates_tooltip,
    ),
)
COLUMN_OF_SORT: dict[LedgerSort, int] = {c.sort: i for i, c in enumerate(COLUMNS)}


class LedgerModel(QAbstractTableModel):
    """Rows of the ledger as read so far; asks for more with ``fetch_requested(offset)``."""

    fetch_requested = Signal(int)
    sort_requested = Signal(object, bool)  # LedgerSort, descending

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[CommissionRow] = []
        self._has_more = False
        self._fetching = False
        self._currency = "USD"
        self.sort_key = LedgerSort.CREATED
        self.descending = True

    # -- what the page gives it ------------------------------------------------------------

    def reset(
        self, rows: Sequence[CommissionRow], has_more: bool, currency: str | None = None
    ) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._has_more = has_more
        self._fetching = False
        if currency:
            self._currency = currency
        self.endResetModel()

    def append(self, rows: Sequence[CommissionRow], has_more: bool) -> None:
        """The next page. Rows already held (moved by a change meanwhile) are not repeated."""
        self._fetching = False
        held = {r.id for r in self._rows}
        fresh = [r for r in rows if r.id not in held]
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            self.endInsertRows()
        self._has_more = has_more

    def fetch_failed(self) -> None:
        """The page could not be read; scrolling to the end asks again."""
        self._fetching = False

    def replace_row(self, row: CommissionRow) -> bool:
        for i, held in enumerate(self._rows):
            if held.id == row.id:
                self._rows[i] = row
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))
                return True
        return False

    @property
    def currency(self) -> str:
        return self._currency

    @property
    def has_more(self) -> bool:
        return self._has_more

    @property
    def fetching(self) -> bool:
        return self._fetching

    def rows(self) -> list[CommissionRow]:
        return list(self._rows)

    def row_at(self, row: int) -> CommissionRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of_id(self, commission_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == commission_id), -1)

    # -- Qt --------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._has_more and not self._fetching

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        self._fetching = True
        self.fetch_requested.emit(len(self._rows))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        key = COLUMNS[column].sort
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self.sort_key, self.descending):
            return
        self.sort_key, self.descending = key, descending
        self.sort_requested.emit(key, descending)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        column = COLUMNS[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
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
            return column.text(row, self._currency)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(row)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(row, column)
        if role == ROW_ROLE:
            return row
        if role == ID_ROLE:
            return row.id
        if role == STATUS_ROLE:
            return row.status.value
        return None

    def _foreground(self, row: CommissionRow, column: Column) -> QColor | None:
        palette = QApplication.palette()
        if column.sort is LedgerSort.ADJUSTMENTS and row.adjustments_total < 0:
            return QColor("#c0392b")
        if row.status is CommissionStatus.WRITTEN_OFF:
            return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        if column.sort is LedgerSort.STATUS and row.status is CommissionStatus.DISPUTED:
            return QColor("#d35400")
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


def local_day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in this computer's time zone, as an aware time."""
    return dt.datetime(day.year, day.month, day.day).astimezone()
