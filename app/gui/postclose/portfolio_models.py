"""The Portfolio page's tables: one model per kind of table (a breakdown by market, strategy or
buyer; the properties; the buy boxes below 60 %; one property's months), each described by
columns over the service's frozen rows.

Sorting is done by the model itself (``sort``): the properties table holds up to 5,000 rows,
and a proxy's ``lessThan`` calling back into Python for each comparison costs far more than
one ``list.sort`` with a key. Rows without a value (no month entered yet) sort last either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QGuiApplication

from app.gui import theme
from app.gui.postclose.catalog_models import band_color, grade_color, level_color
from app.gui.postclose.portfolio_data import (
    DASH,
    day_text,
    flags_text,
    money,
    month_text,
    rate,
    ratio,
    signed_money,
    strategy_text,
)
from app.gui.postclose.record_view import FLAG_WORDS, is_dark
from app.services.postclose.portfolio import (
    BuyBoxFigures,
    HistoryPoint,
    PortfolioRecord,
    PortfolioSummary,
)

Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's dataclass
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # the value the column sorts on (None: last)
GRADES = ("A", "B", "C", "D")
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)


def negative_color(value: Decimal | None) -> QColor | None:
    """Below the pro forma: the theme's error colour."""
    if value is None or value >= 0:
        return None
    return QColor(theme.colors(is_dark(QGuiApplication.palette()))["error"])


@dataclass(frozen=True)
class Col:
    """How one column shows a row (given the office's currency) and sorts it."""

    header: str
    text: Callable[[Any, str], str]
    key: Callable[[Any], Any] | None = None  # default: the text, case-folded
    align: int | None = None
    color: Callable[[Any], QColor | None] | None = None
    bold: bool = False
    tip: str = ""  # the header's tooltip
    cell_tip: Callable[[Any], str | None] | None = None


class SortedRowsModel(QAbstractTableModel):
    """Rows of one dataclass shown through ``columns``; ``sort`` reorders the rows."""

    def __init__(self, columns: Sequence[Col], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.currency = "USD"
        self._rows: list[Any] = []
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._bold = QFont()
        self._bold.setBold(True)

    # -- rows ------------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[Any], currency: str | None = None) -> None:
        self.beginResetModel()
        if currency is not None:
            self.currency = currency
        self._rows = list(rows)
        if self._sort is not None:
            self._rows = self._sorted(self._rows, *self._sort)
        self.endResetModel()

    def rows(self) -> list[Any]:
        return list(self._rows)

    def row(self, row: int) -> Any:
        return self._rows[row]

    def _sort_value(self, column: int) -> Callable[[Any], Any]:
        spec = self.columns[column]
        if spec.key is not None:
            return spec.key
        currency = self.currency
        return lambda row: spec.text(row, currency).casefold()

    def _sorted(self, rows: list[Any], column: int, order: Qt.SortOrder) -> list[Any]:
        value = self._sort_value(column)
        keyed = [(value(r), r) for r in rows]
        present = [pair for pair in keyed if pair[0] is not None]
        missing = [r for k, r in keyed if k is None]
        descending = order == Qt.SortOrder.DescendingOrder
        present.sort(key=lambda pair: pair[0], reverse=descending)  # stable either way
        return [r for _, r in present] + missing

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        before = self._rows
        self._rows = self._sorted(before, column, order)
        persistent = self.persistentIndexList()
        if persistent:
            where = {id(r): i for i, r in enumerate(self._rows)}
            moved = [
                self.index(where[id(before[p.row()])], p.column()) if p.isValid() else p
                for p in persistent
            ]
            self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    # -- Qt --------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        spec = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return spec.header
        if role == Qt.ItemDataRole.ToolTipRole:
            return spec.tip or None
        if role == Qt.ItemDataRole.TextAlignmentRole and spec.align is not None:
            return spec.align
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if not (0 <= r < len(self._rows) and 0 <= c < len(self.columns)):
            return None
        row, spec = self._rows[r], self.columns[c]
        if role == Qt.ItemDataRole.DisplayRole:
            return spec.text(row, self.currency)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return spec.align
        if role == Qt.ItemDataRole.ForegroundRole and spec.color is not None:
            return spec.color(row)
        if role == Qt.ItemDataRole.FontRole and spec.bold:
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole and spec.cell_tip is not None:
            return spec.cell_tip(row)
        if role == ROW_ROLE:
            return row
        if role == SORT_ROLE:
            return self._sort_value(c)(row)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


# -- breakdowns --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """One row of a breakdown: what it is shown as, the filter value it stands for, figures."""

    name: str
    key: str
    summary: PortfolioSummary


def _grade_col(grade: str) -> Col:
    return Col(
        grade,
        lambda g, _c: f"{g.summary.grade_distribution.get(grade, 0):,}",
        lambda g: g.summary.grade_distribution.get(grade, 0),
        _RIGHT,
        tip=f"Properties graded {grade} now",
    )


def breakdown_columns(title: str) -> tuple[Col, ...]:
    return (
        Col(title, lambda g, _c: g.name, bold=True),
        Col("Deals", lambda g, _c: f"{g.summary.total_deals:,}", lambda g: g.summary.total_deals,
            _RIGHT, tip="Properties followed after close"),
        *(_grade_col(grade) for grade in GRADES),
        Col("Not graded", lambda g, _c: f"{g.summary.ungraded:,}", lambda g: g.summary.ungraded,
            _RIGHT, tip="No month entered yet"),
        Col("Performance", lambda g, _c: rate(g.summary.performance_rate),
            lambda g: g.summary.performance_rate, _RIGHT,
            color=lambda g: band_color(g.summary.performance_rate), bold=True,
            tip="Share of the graded properties at A or B"),
        Col("Mean CF variance", lambda g, c: signed_money(g.summary.average_cash_flow_variance, c),
            lambda g: g.summary.average_cash_flow_variance, _RIGHT,
            color=lambda g: negative_color(g.summary.average_cash_flow_variance),
            tip="Mean of actual − projected monthly cash flow, latest months"),
        Col("Mean DSCR variance", lambda g, _c: ratio(g.summary.average_dscr_variance),
            lambda g: g.summary.average_dscr_variance, _RIGHT,
            color=lambda g: negative_color(g.summary.average_dscr_variance),
            tip="Mean of actual − projected DSCR, latest months"),
    )  # fmt: skip


NOT_GRADED_COLUMN = 6


class BreakdownModel(SortedRowsModel):
    """The report by market, by strategy or by buyer."""

    def __init__(self, title: str, parent: Any = None) -> None:
        super().__init__(breakdown_columns(title), parent)

    def set_groups(
        self, groups: dict[str, PortfolioSummary], currency: str, strategy: bool
    ) -> None:
        name = strategy_text if strategy else str
        self.set_rows([Group(name(k), k, s) for k, s in groups.items()], currency)


# -- properties --------------------------------------------------------------------------------


def _flags_tip(r: PortfolioRecord) -> str | None:
    if not r.flags:
        return None
    return "\n".join(f"{FLAG_WORDS[f][0]}: {FLAG_WORDS[f][1]}" if f in FLAG_WORDS else f
                     for f in r.flags)  # fmt: skip


RECORD_COLUMNS: tuple[Col, ...] = (
    Col("Property", lambda r, _c: r.ref or f"#{r.id}", bold=True),
    Col("Market", lambda r, _c: r.market),
    Col("Buyer", lambda r, _c: r.buyer),
    Col("Closed", lambda r, _c: day_text(r.closed_date), lambda r: r.closed_date, _RIGHT),
    Col("Grade", lambda r, _c: r.grade or DASH, lambda r: r.grade, _CENTER,
        tip="The grade of the latest month entered",
        cell_tip=lambda r: None if r.grade else "No month entered yet"),
    Col("CF variance", lambda r, c: signed_money(r.cash_flow_variance, c),
        lambda r: r.cash_flow_variance, _RIGHT,
        color=lambda r: negative_color(r.cash_flow_variance),
        tip="Actual − projected monthly cash flow, latest month"),
    Col("DSCR variance", lambda r, _c: ratio(r.dscr_variance), lambda r: r.dscr_variance, _RIGHT,
        color=lambda r: negative_color(r.dscr_variance),
        tip="Actual − projected DSCR, latest month"),
    Col("Flags", lambda r, _c: flags_text(r.flags), cell_tip=_flags_tip),
)  # fmt: skip
GRADE_COLUMN = 4


class RecordsModel(SortedRowsModel):
    """Every property of the report (up to 5,000 on the large demo)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(RECORD_COLUMNS, parent)

    def row_of(self, record_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == record_id), -1)


# -- buy boxes below the line ------------------------------------------------------------------

LEVEL_ORDER = {"CRITICAL": 0, "WARNING": 1}


def _level_tip(b: BuyBoxFigures) -> str:
    line = 40 if b.warning == "CRITICAL" else 60
    return f"Fewer than {line}% of its graded properties are at A or B"


WARNING_COLUMNS: tuple[Col, ...] = (
    Col("Buy box", lambda b, _c: f"{b.ref} · {b.name}" if b.ref else b.name,
        color=lambda b: level_color(b.warning), cell_tip=lambda b: b.name),
    Col("Performance", lambda b, _c: rate(b.performance_rate), lambda b: b.performance_rate,
        _RIGHT, color=lambda b: level_color(b.warning), bold=True,
        tip="Share of its graded properties at A or B"),
    Col("Level", lambda b, _c: (b.warning or "").title(),
        lambda b: LEVEL_ORDER.get(b.warning or ""),
        color=lambda b: level_color(b.warning), bold=True, cell_tip=_level_tip),
)  # fmt: skip


def below_the_line(boxes: Sequence[BuyBoxFigures]) -> list[BuyBoxFigures]:
    """The boxes at WARNING or CRITICAL, the worst first."""
    flagged = [b for b in boxes if b.warning in LEVEL_ORDER]
    return sorted(
        flagged,
        key=lambda b: (LEVEL_ORDER[b.warning or ""], b.performance_rate or Decimal(0), b.name),
    )


class WarningsModel(SortedRowsModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(WARNING_COLUMNS, parent)

    def set_boxes(self, boxes: Sequence[BuyBoxFigures]) -> None:
        self.set_rows(below_the_line(boxes))


# -- one property's months ---------------------------------------------------------------------


def _grade_text_color(p: HistoryPoint) -> QColor | None:
    return grade_color(p.grade)


MONTH_COLUMNS: tuple[Col, ...] = (
    Col("Month", lambda p, _c: month_text(p.year, p.month), lambda p: (p.year, p.month)),
    Col("Cash flow", lambda p, c: money(p.actual_cash_flow, c), lambda p: p.actual_cash_flow,
        _RIGHT),
    Col("Projected", lambda p, c: money(p.projected_cash_flow, c),
        lambda p: p.projected_cash_flow, _RIGHT),
    Col("Variance", lambda p, c: signed_money(p.actual_cash_flow - p.projected_cash_flow, c),
        lambda p: p.actual_cash_flow - p.projected_cash_flow, _RIGHT,
        color=lambda p: negative_color(p.actual_cash_flow - p.projected_cash_flow)),
    Col("DSCR", lambda p, _c: f"{p.actual_dscr:.2f}", lambda p: p.actual_dscr, _RIGHT),
    Col("Projected DSCR", lambda p, _c: f"{p.projected_dscr:.2f}", lambda p: p.projected_dscr,
        _RIGHT),
    Col("Grade", lambda p, _c: p.grade, lambda p: p.grade, _CENTER, color=_grade_text_color),
    Col("Flags", lambda p, _c: flags_text(p.flags) or "None",
        cell_tip=lambda p: "\n".join(flags_text(p.flags).split(", ")) or None),
)  # fmt: skip
MONTH_GRADE_COLUMN = 6


class MonthsModel(SortedRowsModel):
    """One property's months, the newest first."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(MONTH_COLUMNS, parent)

    def set_points(self, points: Sequence[HistoryPoint], currency: str) -> None:
        self.set_rows(list(reversed(points)), currency)
