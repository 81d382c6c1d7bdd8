"""The tables of the Lead sources page and of the lead-cost dialog.

``RoiTableModel`` shows a report's sources (``SOURCE_COLUMNS``) or its rows by person
(``AGENT_COLUMNS``): money in the office's currency, "—" where a ratio has nothing to divide by;
``RoiSortProxy`` sorts them (numbers as numbers) and narrows the rows by person to one source.
``CostSheetModel`` is the dialog's editable month: a line per cost row (source, for whom, cost),
with what a refused save said beside each line, and the lines added, changed and deleted since
the month was read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette

from app.domain.money import format_money
from app.domain.roi import AgentRoi, Figures, RoiReport, SourceRoi
from app.gui import theme
from app.services.analytics.lead_costs import FIELD_LABELS, WHOLE_OFFICE, CostChange, CostRow

Index = QModelIndex | QPersistentModelIndex

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's SourceRoi / AgentRoi
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # a str or a float, one type per column
KEY_ROLE = Qt.ItemDataRole.UserRole + 3  # the row's source key (None: no source)
PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 4  # the cost sheet: what is wrong with the cell
AGENT_ROLE = Qt.ItemDataRole.UserRole + 5  # the cost sheet: the line's person id (None: office)
NULL_SORT = -1.0  # a ratio with nothing to divide by sorts below every figure


# -- the report's tables ------------------------------------------------------------------------


def money(value: Decimal | None, currency: str) -> str:
    """Money as the page shows it ("—" for a ratio with nothing to divide by)."""
    return format_money(value, currency)


def _number(value: Decimal | int | None) -> float:
    return NULL_SORT if value is None else float(value)


@dataclass(frozen=True)
class RoiColumn:
    header: str
    text: Callable[[Any, str], str]  # (row, currency) → what the cell says
    sort: Callable[[Any], str | float]
    numeric: bool = True
    tip: str = ""


def _figure_columns(cost_header: str, cost_tip: str) -> tuple[RoiColumn, ...]:
    def fig(row: Any) -> Figures:
        figures: Figures = row.figures
        return figures

    return (
        RoiColumn(
            cost_header, lambda r, c: money(fig(r).cost, c), lambda r: _number(fig(r).cost),
            tip=cost_tip,
        ),
        RoiColumn("Leads", lambda r, c: f"{fig(r).leads:,}", lambda r: _number(fig(r).leads),
                  tip="Leads created in the range with this source"),
        RoiColumn(
            "Cost per lead", lambda r, c: money(fig(r).cost_per_lead, c),
            lambda r: _number(fig(r).cost_per_lead), tip="Cost ÷ leads (— without leads)",
        ),
        RoiColumn("Closed", lambda r, c: f"{fig(r).closed:,}", lambda r: _number(fig(r).closed),
                  tip="Deals won in the range with this lead source"),
        RoiColumn(
            "Cost per closed", lambda r, c: money(fig(r).cost_per_closed, c),
            lambda r: _number(fig(r).cost_per_closed),
            tip="Cost ÷ deals closed (— without closed deals)",
        ),
        RoiColumn(
            "Commission", lambda r, c: money(fig(r).commission, c),
            lambda r: _number(fig(r).commission),
            tip="Commission confirmed, invoiced or paid on those closed deals",
        ),
        RoiColumn(
            "Commission per $1", lambda r, c: money(fig(r).commission_per_dollar, c),
            lambda r: _number(fig(r).commission_per_dollar),
            tip="Commission earned for each 1 spent (— without spend)",
        ),
    )  # fmt: skip


def _source_name(row: Any) -> str:
    name: str = row.source
    return name


SOURCE_COLUMNS: tuple[RoiColumn, ...] = (
    RoiColumn("Source", lambda r, c: _source_name(r), lambda r: _source_name(r).casefold(),
              numeric=False, tip="Leads and deals match their source ignoring case"),
    *_figure_columns("Cost", "The spend of the months in the range, prorated by days"),
)  # fmt: skip
AGENT_COLUMNS: tuple[RoiColumn, ...] = (
    RoiColumn("Person", lambda r, c: str(r.name), lambda r: str(r.name).casefold(),
              numeric=False),
    RoiColumn("Source", lambda r, c: _source_name(r), lambda r: _source_name(r).casefold(),
              numeric=False),
    *_figure_columns(
        "Own spend", "Only the spend bought for this person; office-wide spend is not shared out"
    ),
)  # fmt: skip
SOURCE_COST = 1  # the source table's cost column (sorted on, highest first)
AGENT_NAME = 0


class RoiTableModel(QAbstractTableModel):
    """A report's sources or its rows by person, through ``columns``.

    The model sorts itself (``sort``), with Python's ``sorted`` over each row's key: a large
    office has thousands of rows by person, and a proxy's comparisons would each call back
    into Python (half a second for 5,600 rows). ``RoiSortProxy`` passes sorting on to it."""

    def __init__(self, columns: Sequence[RoiColumn], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.currency = "USD"
        self._rows: list[SourceRoi | AgentRoi] = []
        self._sort: tuple[int, Qt.SortOrder] | None = None

    def set_rows(self, rows: Sequence[SourceRoi | AgentRoi], currency: str = "USD") -> None:
        self.beginResetModel()
        self._rows = self._sorted(list(rows))
        self.currency = currency
        self.endResetModel()

    def rows(self) -> list[SourceRoi | AgentRoi]:
        return list(self._rows)

    def row_at(self, row: int) -> SourceRoi | AgentRoi:
        return self._rows[row]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            self._sort = None
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        keep = [(self._rows[i.row()], i.column()) for i in before]
        self._rows = self._sorted(self._rows)
        where = {id(row): n for n, row in enumerate(self._rows)}
        self.changePersistentIndexList(
            before, [self.index(where[id(row)], column) for row, column in keep]
        )
        self.layoutChanged.emit()

    def _sorted(self, rows: list[SourceRoi | AgentRoi]) -> list[SourceRoi | AgentRoi]:
        if self._sort is None:
            return rows
        column, order = self._sort
        key = self.columns[column].sort
        return sorted(rows, key=key, reverse=order == Qt.SortOrder.DescendingOrder)

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
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tip or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
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
            return column.text(row, self.currency)
        if role == SORT_ROLE:
            return column.sort(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
            return _row_tip(row, self.currency)
        if role == ROW_ROLE:
            return row
        if role == KEY_ROLE:
            return row.key
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


def _row_tip(row: SourceRoi | AgentRoi, currency: str) -> str:
    f = row.figures
    if isinstance(row, AgentRoi):
        head = f"{row.name} ({row.email}), {row.source}"
    else:
        head = row.source if row.key is not None else "Leads and deals without a source"
    return (
        f"{head}: {money(f.cost, currency)} spent, {f.leads:,} leads, {f.closed:,} closed, "
        f"{money(f.commission, currency)} commission"
    )


class RoiSortProxy(QSortFilterProxyModel):
    """Passes sorting on to its ``RoiTableModel`` (which sorts in Python) and keeps its order;
    ``set_source`` narrows the rows to one source key."""

    ALL = object()  # every source

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._key: object = self.ALL
        self._sorted_by: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sorted_by = (column, order)
        source = self.sourceModel()
        if isinstance(source, RoiTableModel):
            source.sort(column, order)
        else:
            super().sort(column, order)

    def sorted_by(self) -> tuple[int, Qt.SortOrder]:
        """The column and order asked for (the proxy itself keeps its model's order)."""
        return self._sorted_by

    def source_key(self) -> object:
        return self._key

    def set_source(self, key: object) -> None:
        """Only the rows of source ``key`` (None: without a source; ``ALL``: every row)."""
        everything = key is self.ALL
        if everything == (self._key is self.ALL) and (everything or key == self._key):
            return
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+
            self.beginFilterChange()
            self._key = key
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._key = key
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if self._key is self.ALL:
            return True
        source = self.sourceModel()
        if isinstance(source, RoiTableModel):  # the row itself: thousands of rows by person
            return source.row_at(source_row).key == self._key
        index = source.index(source_row, 0, source_parent)
        return bool(index.data(KEY_ROLE) == self._key)


def totals_text(report: RoiReport) -> str:
    """The line under the sources: everything the range cost and brought in."""
    f, c = report.totals, report.currency
    return (
        f"Total: {money(f.cost, c)} spent · {f.leads:,} leads at {money(f.cost_per_lead, c)} "
        f"each · {f.closed:,} closed at {money(f.cost_per_closed, c)} each · "
        f"{money(f.commission, c)} commission, {money(f.commission_per_dollar, c)} per "
        f"{money(Decimal(1), c)} spent"
    )


# -- the cost sheet (the dialog's editable month) -----------------------------------------------

SHEET_SOURCE, SHEET_AGENT, SHEET_COST, SHEET_PROBLEM = 0, 1, 2, 3
SHEET_HEADERS = ("Source", "For", "Cost", "Problem")
_SHEET_FIELDS = {SHEET_SOURCE: "source", SHEET_AGENT: "agent", SHEET_COST: "cost"}
_FIELD_COLUMNS = {name: column for column, name in _SHEET_FIELDS.items()}


def cost_text(value: Decimal) -> str:
    """A stored cost as the sheet shows and edits it: '1,250.50'."""
    return f"{value:,.2f}"


@dataclass
class CostLine:
    """One line of the sheet: a stored row (``id``) or a new one."""

    source: str = ""
    agent_id: int | None = None
    cost: str = ""
    id: int | None = None
    version: int | None = None
    stored: tuple[str, int | None, str] | None = None  # (source, agent, cost) as read
    editable: bool = True
    problems: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, row: CostRow, editable: bool) -> CostLine:
        text = cost_text(row.cost)
        return cls(
            row.source, row.agent_id, text, row.id, row.version,
            (row.source, row.agent_id, text), editable,
        )  # fmt: skip

    def values(self) -> tuple[str, int | None, str]:
        return (self.source, self.agent_id, self.cost)

    def is_blank(self) -> bool:
        return not self.source.strip() and not self.cost.strip()

    def changed(self) -> bool:
        if self.stored is None:
            return not self.is_blank()
        return self.values() != self.stored


class CostSheetModel(QAbstractTableModel):
    """A month of spend, edited as text; nothing is stored until ``changes()`` are saved."""

    #: The number of lines added, changed or deleted since the month was read.
    changed_count = Signal(int)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._lines: list[CostLine] = []
        self._deleted: list[CostLine] = []
        self._names: dict[int, str] = {}
        self.read_only = False
        self._last_count = 0

    # -- contents -------------------------------------------------------------------------

    def load(
        self,
        rows: Sequence[CostRow],
        names: Mapping[int, str],
        may_write: Callable[[int | None], bool],
    ) -> None:
        """Show a month as read; ``may_write(agent_id)`` says which lines may be edited."""
        self.beginResetModel()
        self._names = dict(names)
        for row in rows:
            if row.agent_id is not None and row.agent_id not in self._names:
                self._names[row.agent_id] = row.who
        self._lines = [CostLine.read(row, may_write(row.agent_id)) for row in rows]
        self._deleted = []
        self.endResetModel()
        self._count_changed()

    def line(self, row: int) -> CostLine:
        return self._lines[row]

    def lines(self) -> list[CostLine]:
        return list(self._lines)

    def who(self, agent_id: int | None) -> str:
        if agent_id is None:
            return WHOLE_OFFICE
        return self._names.get(agent_id, f"person #{agent_id}")

    def add_line(self, agent_id: int | None = None) -> int:
        """A new, empty line at the end; returns its row."""
        row = len(self._lines)
        self.beginInsertRows(QModelIndex(), row, row)
        self._lines.append(CostLine(agent_id=agent_id))
        self.endInsertRows()
        self._count_changed()
        return row

    def remove_line(self, row: int) -> CostLine | None:
        """Take a line out; a stored one is deleted when the month is saved."""
        if not 0 <= row < len(self._lines) or self.read_only or not self._lines[row].editable:
            return None
        self.beginRemoveRows(QModelIndex(), row, row)
        line = self._lines.pop(row)
        self.endRemoveRows()
        if line.id is not None:
            self._deleted.append(line)
        self._renumbered(row)
        self._count_changed()
        return line

    def deleted(self) -> list[CostLine]:
        return list(self._deleted)

    def changed_lines(self) -> int:
        return sum(1 for line in self._lines if line.changed()) + len(self._deleted)

    def has_changes(self) -> bool:
        return self.changed_lines() > 0

    def changes(self) -> list[CostChange]:
        """What to save: deletions, changed stored lines and new lines that are not blank, each
        with its row number (1 = the first line) to name it in problems."""
        out = [
            CostChange(0, line.source, line.agent_id, line.cost, line.id, line.version, True)
            for line in self._deleted
        ]
        for n, line in enumerate(self._lines, start=1):
            if line.changed():
                out.append(
                    CostChange(n, line.source, line.agent_id, line.cost, line.id, line.version)
                )
        return out

    def set_problems(self, by_row: Mapping[int, Mapping[str, str]]) -> None:
        """What a refused save said, by row number, shown beside each line until edited."""
        for n, line in enumerate(self._lines, start=1):
            problems = dict(by_row.get(n, {}))
            if problems != line.problems:
                line.problems = problems
                self._row_changed(n - 1)

    def problem_rows(self) -> list[int]:
        return [r for r, line in enumerate(self._lines) if line.problems]

    # -- QAbstractTableModel --------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(SHEET_HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if not 0 <= section < len(SHEET_HEADERS):
                return None
            if role == Qt.ItemDataRole.DisplayRole:
                return SHEET_HEADERS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section == SHEET_COST:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if not 0 <= section < len(self._lines):
            return None
        line = self._lines[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        if role == Qt.ItemDataRole.ToolTipRole:
            if line.stored is None:
                return f"Row {section + 1}: new; not saved yet"
            return f"Row {section + 1}: changed; not saved yet" if line.changed() else None
        if role == Qt.ItemDataRole.FontRole and line.changed():
            font = QFont()
            font.setBold(True)
            return font
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )
        line = self._lines[index.row()]
        if index.column() in _SHEET_FIELDS and line.editable and not self.read_only:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        line = self._lines[index.row()]
        column = index.column()
        name = _SHEET_FIELDS.get(column)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == SHEET_SOURCE:
                return line.source
            if column == SHEET_AGENT:
                return self.who(line.agent_id)
            if column == SHEET_COST:
                return line.cost
            return "; ".join(
                f"{FIELD_LABELS.get(f, f)}: {reason}" for f, reason in line.problems.items()
            )
        if role == Qt.ItemDataRole.EditRole:
            if column == SHEET_AGENT:
                return line.agent_id
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == SHEET_COST:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(line, column)
        if role == Qt.ItemDataRole.BackgroundRole and name in line.problems:
            return problem_background()
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == SHEET_PROBLEM:
                return QColor(theme.colors()["error"])
            if not line.editable:
                return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        if role == PROBLEM_ROLE:
            return line.problems.get(name or "") if name else None
        if role == AGENT_ROLE:
            return line.agent_id
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        if not self.flags(index) & Qt.ItemFlag.ItemIsEditable:
            return False
        line = self._lines[index.row()]
        column = index.column()
        if column == SHEET_AGENT:
            agent = None if value is None or value == "" else int(value)
            if agent == line.agent_id:
                return True
            line.agent_id = agent
        else:
            text = "" if value is None else str(value)
            attribute = "source" if column == SHEET_SOURCE else "cost"
            if getattr(line, attribute) == text:
                return True
            setattr(line, attribute, text)
        name = _SHEET_FIELDS[column]
        line.problems.pop(name, None)
        if name == "agent":  # "given twice for …" is about the pair
            line.problems.pop("source", None)
        self._row_changed(index.row())
        self._count_changed()
        return True

    def _tooltip(self, line: CostLine, column: int) -> str | None:
        name = _SHEET_FIELDS.get(column)
        if name is not None and name in line.problems:
            return f"{FIELD_LABELS[name]}: {line.problems[name]}"
        if not line.editable:
            return "You may read this spend but not change it"
        if column == SHEET_COST:
            return "What the source cost in the month, e.g. 1,250.50 (at most 2 decimals)"
        if column == SHEET_AGENT:
            return "The whole office, or the person the spend was bought for"
        if column == SHEET_SOURCE:
            return "Pick a source or type a new one (case and blanks are ignored when matching)"
        return None

    def _row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(SHEET_HEADERS) - 1))
        self.headerDataChanged.emit(Qt.Orientation.Vertical, row, row)

    def _renumbered(self, first: int) -> None:
        """Rows after a removed one have new numbers: problems naming the old ones go."""
        for row in range(first, len(self._lines)):
            if self._lines[row].problems:
                self._lines[row].problems = {}
                self._row_changed(row)
        if first < len(self._lines):
            self.headerDataChanged.emit(Qt.Orientation.Vertical, first, len(self._lines) - 1)

    def _count_changed(self) -> None:
        count = self.changed_lines()
        if count != self._last_count:
            self._last_count = count
            self.changed_count.emit(count)


def problem_background() -> QColor:
    """A red wash that reads on the light and the dark palette."""
    base = QGuiApplication.palette().color(QPalette.ColorRole.Base)
    error = QColor(theme.colors()["error"])
    share = 0.28
    return QColor(
        round(error.red() * share + base.red() * (1 - share)),
        round(error.green() * share + base.green() * (1 - share)),
        round(error.blue() * share + base.blue() * (1 - share)),
    )


def field_column(name: str) -> int:
    """The sheet's column of a problem's field."""
    return _FIELD_COLUMNS.get(name, SHEET_SOURCE)
