"""The Leaderboard page's badge tables: the timeline of badges earned (newest first) and the
badge rules (what each counts, its threshold and period, how often it was earned)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from app.domain.money import format_money
from app.gui.kpis.assignment_models import period_label, period_name, plain, when_text
from app.services.kpis.achievements import KPI_PREFIX, METRIC_LABELS, BadgeRule, Earned

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the Earned / BadgeRule
ID_ROLE = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex
RowT = TypeVar("RowT", Earned, BadgeRule)

MONEY_METRICS = frozenset({"revenue", "avg_deal_size"})
RATE_METRICS = frozenset({"conversion_rate", "win_rate", "show_rate", "lead_conversion"})


def metric_label(metric: str) -> str:
    """ "Revenue", "Conversion rate %", "KPI: Calls made"."""
    if metric.startswith(KPI_PREFIX):
        return f"KPI: {metric[len(KPI_PREFIX) :]}"
    return METRIC_LABELS.get(metric, metric.replace("_", " ").capitalize())


def threshold_text(metric: str, threshold: Decimal, currency: str = "USD") -> str:
    if metric in MONEY_METRICS:
        return format_money(threshold, currency)
    if metric in RATE_METRICS:
        return f"{plain(threshold)}%"
    return plain(threshold)


@dataclass(frozen=True)
class Column(Generic[RowT]):
    header: str
    text: Callable[[RowT], str]
    numeric: bool = False
    tooltip: Callable[[RowT], str | None] | None = None


class _RowsModel(QAbstractTableModel, Generic[RowT]):
    """Rows of one frozen dataclass with an ``id``, shown through columns."""

    def __init__(self, columns: Sequence[Column[RowT]], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns: tuple[Column[RowT], ...] = tuple(columns)
        self._rows: list[RowT] = []

    def set_rows(self, rows: Sequence[RowT]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[RowT]:
        return list(self._rows)

    def row_of_id(self, row_id: int) -> int:
        return next((r for r, row in enumerate(self._rows) if row.id == row_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].header
        if role == Qt.ItemDataRole.TextAlignmentRole and self.columns[section].numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self.columns):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(row)
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


TIMELINE_COLUMNS: tuple[Column[Earned], ...] = (
    Column("When", lambda e: when_text(e.earned_at)),
    Column("Person", lambda e: e.person),
    Column("Badge", lambda e: e.badge, tooltip=lambda e: e.description),
    Column(
        "Period",
        lambda e: period_label(e.period_type, e.period_start),
        tooltip=lambda e: f"{period_name(e.period_type)} period from {e.period_start}",
    ),
)
TL_WHEN, TL_PERSON, TL_BADGE, TL_PERIOD = range(len(TIMELINE_COLUMNS))


class TimelineModel(_RowsModel[Earned]):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(TIMELINE_COLUMNS, parent)


class RulesModel(_RowsModel[BadgeRule]):
    """The badge rules; ``currency`` says money thresholds."""

    def __init__(self, parent: Any = None) -> None:
        self.currency = "USD"
        columns: tuple[Column[BadgeRule], ...] = (
            Column("Badge", lambda r: r.name, tooltip=lambda r: r.description or r.key),
            Column("Counts", lambda r: metric_label(r.metric)),
            Column(
                "Threshold",
                lambda r: threshold_text(r.metric, r.threshold, self.currency),
                numeric=True,
                tooltip=lambda r: "Earned when the figure for a period reaches this",
            ),
            Column("Period", lambda r: period_name(r.period_type)),
            Column("Earned", lambda r: f"{r.earned:,}", numeric=True,
                   tooltip=lambda r: "How many times the badge was earned, by everyone"),
            Column("Active", lambda r: "Yes" if r.is_active else "No"),
        )  # fmt: skip
        super().__init__(columns, parent)

    def set_currency(self, currency: str) -> None:
        self.currency = currency
        if self._rows:
            self.dataChanged.emit(self.index(0, 2), self.index(len(self._rows) - 1, 2))


RULE_NAME, RULE_METRIC, RULE_THRESHOLD, RULE_PERIOD, RULE_EARNED, RULE_ACTIVE = range(6)
