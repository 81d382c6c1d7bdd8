"""The month-end grid's table: one row per property, the month's figures editable as text.

Each edit parses the row as the save will (``parse_period``): a bad cell gets a red background
and its message as tooltip; a row that reads well shows the grade it would get. A cell that
differs from what was read is bold until saved, and the row is marked in the row header.
The filter proxy narrows the rows by property, market or buyer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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

from app.domain.enums import Grade
from app.domain.money import parse_decimal
from app.domain.rentroll import LABELS, PERIOD_FIELDS, dscr, vacancy
from app.gui import theme
from app.gui.postclose.month_grid_lines import MONEY_FIELDS, GridLine
from app.services.postclose.periods import GridRow, RowProblem, SheetRow

Index = QModelIndex | QPersistentModelIndex

PERFORMANCE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
FIELD_ROLE = Qt.ItemDataRole.UserRole + 2  # the period field of a column, or None
PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 3  # what is wrong with the cell, or None
CHANGED_ROLE = Qt.ItemDataRole.UserRole + 4  # the cell differs from what was read


@dataclass(frozen=True)
class Column:
    header: str
    field: str | None = None  # the period field typed in it; None: read-only
    numeric: bool = False
    tip: str = ""

    @property
    def title(self) -> str:
        """The column's name on one line, as the save's problems name it."""
        return LABELS[self.field] if self.field is not None else self.header


_HEADERS = {  # two lines where one would make the column wider than its figures
    "actual_rent_collected": "Rent\ncollected",
    "property_management": "Property\nmgmt",
    "maintenance": "Mainte-\nnance",
    "other": "Other",
    "expenses_total": "Expenses\ntotal",
    "actual_monthly_cash_flow": "Cash\nflow",
}
_TIPS = {
    "actual_vacancy_rate": "A fraction (0.05) or a percentage (5% or 5)",
    "expenses_total": "Leave empty to use the sum of the breakdown",
    "actual_monthly_cash_flow": "Monthly cash flow after debt service; may be negative",
    "actual_noi": "May be negative",
}

COLUMNS: tuple[Column, ...] = (
    Column("Property", tip="The performance record's reference (projection in the tooltip)"),
    Column("Market"),
    Column("Buyer"),
    *(
        Column(
            _HEADERS.get(name, LABELS[name]),
            name,
            numeric=name != "notes",
            tip=_TIPS.get(name, ""),
        )
        for name in PERIOD_FIELDS
    ),
    Column("Grade", numeric=False, tip="The grade the month would get, from what is typed"),
)
PROPERTY, MARKET, BUYER = 0, 1, 2
GRADE = len(COLUMNS) - 1
NOTES = COLUMNS.index(next(c for c in COLUMNS if c.field == "notes"))
FIRST_FIELD = 3
FIELD_COLUMNS = {c.field: i for i, c in enumerate(COLUMNS) if c.field is not None}

CHANGED_MARK = "●"
FLAG_LABELS = {
    "significant_cash_flow_shortfall": "cash flow more than 20 % short",
    "moderate_cash_flow_shortfall": "cash flow 10–20 % short",
    "dscr_below_projection": "DSCR well below projection",
    "dscr_below_minimum": "DSCR below the required minimum",
    "rent_collection_shortfall": "rent collected more than 15 % short",
    "high_vacancy_rate": "vacancy above 10 %",
    "elevated_vacancy_rate": "vacancy 5–10 %",
    "expense_overrun": "expenses more than 20 % over",
}


def _money_text(value: Decimal) -> str:
    return f"{value:,.2f}"


def shown_text(name: str, text: str) -> str:
    """A typed value as the grid shows it: numbers with separators, vacancy as a percentage;
    what does not read is shown as typed."""
    raw = text.strip()
    if not raw or name == "notes":
        return text.replace("\n", " ⏎ ")
    try:
        if name in MONEY_FIELDS:
            return _money_text(parse_decimal(raw))
        if name == "actual_vacancy_rate":
            return f"{(vacancy(raw) * 100).normalize():f}%"
        if name == "actual_dscr":
            return f"{dscr(raw):.2f}"
    except ValueError:
        pass
    return text


def _mixed(a: QColor, b: QColor, share: float) -> QColor:
    """``share`` of ``a`` over ``b``."""
    return QColor(
        round(a.red() * share + b.red() * (1 - share)),
        round(a.green() * share + b.green() * (1 - share)),
        round(a.blue() * share + b.blue() * (1 - share)),
    )


def problem_background() -> QColor:
    """A red wash that reads on the light and the dark palette."""
    base = QGuiApplication.palette().color(QPalette.ColorRole.Base)
    return _mixed(QColor(theme.colors()["error"]), base, 0.28)


def grade_colour(grade: Grade) -> QColor | None:
    if grade in (Grade.A, Grade.B):
        return QColor(theme.colors()["ok"])
    if grade is Grade.D:
        return QColor(theme.colors()["error"])
    return None


class MonthGridModel(QAbstractTableModel):
    #: The number of rows that differ from what was read.
    changed_count = Signal(int)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._lines: list[GridLine] = []
        self._row_of: dict[int, int] = {}
        self._changed: set[int] = set()  # rows that differ from what was read
        self.read_only = False  # while a save runs

    # -- contents -------------------------------------------------------------------------

    def load(self, rows: Sequence[SheetRow | GridLine]) -> None:
        """Show a month: rows as read, or lines already checked (on a worker, for speed)."""
        self.beginResetModel()
        self._lines = [r if isinstance(r, GridLine) else GridLine.read(r) for r in rows]
        self._row_of = {line.performance_id: i for i, line in enumerate(self._lines)}
        before = len(self._changed)
        self._changed = {i for i, line in enumerate(self._lines) if line.changed()}
        self.endResetModel()
        if len(self._changed) != before:
            self.changed_count.emit(len(self._changed))

    def line(self, row: int) -> GridLine:
        return self._lines[row]

    def lines(self) -> list[GridLine]:
        return list(self._lines)

    def row_of(self, performance_id: int) -> int:
        return self._row_of.get(performance_id, -1)

    def changed_rows(self) -> list[int]:
        return sorted(self._changed)

    def has_changes(self) -> bool:
        return bool(self._changed)

    def entered_count(self) -> int:
        return sum(1 for line in self._lines if line.entered)

    def rows_to_save(self) -> list[GridRow]:
        """The rows that differ from what was read (new months and changed ones)."""
        return [self._lines[i].grid_row() for i in self.changed_rows()]

    def set_texts(self, edits: Iterable[tuple[int, int, str]]) -> int:
        """Type texts into cells, ``(row, column, text)``; read-only cells are left alone.
        One dataChanged per row touched; returns how many cells changed."""
        if self.read_only:
            return 0
        touched: set[int] = set()
        count = 0
        for row, column, text in edits:
            if not (0 <= row < len(self._lines) and 0 <= column < len(COLUMNS)):
                continue
            name = COLUMNS[column].field
            if name is None:
                continue
            if self._lines[row].set_text(name, text):
                touched.add(row)
                count += 1
        before = len(self._changed)
        for row in sorted(touched):
            if self._lines[row].changed():
                self._changed.add(row)
            else:
                self._changed.discard(row)
            self._row_changed(row)
        if len(self._changed) != before:
            self.changed_count.emit(len(self._changed))
        return count

    def set_refused(self, problems: Sequence[RowProblem]) -> None:
        """What a refused save said, shown on the cells until each row is edited."""
        by_row: dict[int, dict[str, str]] = {}
        for p in problems:
            by_row.setdefault(p.performance_id, {}).setdefault(p.field, p.message)
        for row, line in enumerate(self._lines):
            refused = by_row.get(line.performance_id, {})
            if refused != line.refused:
                line.refused = refused
                self._row_changed(row)

    def is_open(self, problem: RowProblem) -> bool:
        """Whether the row still shows the problem (typing may have put it right)."""
        row = self.row_of(problem.performance_id)
        if row < 0:
            return False
        line = self._lines[row]
        return line.problem(problem.field) is not None

    def _row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        self.headerDataChanged.emit(Qt.Orientation.Vertical, row, row)

    # -- QAbstractTableModel --------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if not 0 <= section < len(COLUMNS):
                return None
            column = COLUMNS[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return column.header
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{column.title}: {column.tip}" if column.tip else column.title
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(self._alignment(section) | Qt.AlignmentFlag.AlignVCenter)
            return None
        if not 0 <= section < len(self._lines):
            return None
        line = self._lines[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return CHANGED_MARK if line.changed() else ""
        if role == Qt.ItemDataRole.ToolTipRole and line.changed():
            return "Changed; not saved yet"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )
        if COLUMNS[index.column()].field is not None and not self.read_only:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        if COLUMNS[index.column()].field is None or self.read_only:
            return False
        self.set_texts([(index.row(), index.column(), "" if value is None else str(value))])
        return True

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        line = self._lines[index.row()]
        column = COLUMNS[index.column()]
        name = column.field
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(line, index.column())
        if role == Qt.ItemDataRole.EditRole:
            return line.texts[name] if name is not None else self._display(line, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(self._alignment(index.column()) | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(line, index.column())
        if role == Qt.ItemDataRole.BackgroundRole:
            return problem_background() if self._problem(line, index.column()) else None
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(line, index.column())
        if role == Qt.ItemDataRole.FontRole:
            return self._font(line, index.column())
        if role == PERFORMANCE_ID_ROLE:
            return line.performance_id
        if role == FIELD_ROLE:
            return name
        if role == PROBLEM_ROLE:
            return self._problem(line, index.column())
        if role == CHANGED_ROLE:
            return name is not None and line.is_changed(name)
        return None

    # -- cells ----------------------------------------------------------------------------

    @staticmethod
    def _alignment(column: int) -> Qt.AlignmentFlag:
        if COLUMNS[column].numeric:
            return Qt.AlignmentFlag.AlignRight
        if column == GRADE:
            return Qt.AlignmentFlag.AlignHCenter
        return Qt.AlignmentFlag.AlignLeft

    def _display(self, line: GridLine, column: int) -> str:
        sheet = line.sheet
        if column == PROPERTY:
            return sheet.label
        if column == MARKET:
            return sheet.market_key
        if column == BUYER:
            return sheet.buyer
        if column == GRADE:
            return line.grade.value if line.grade is not None else ""
        name = COLUMNS[column].field
        assert name is not None
        total = line.computed_total() if name == "expenses_total" else None
        if total is not None:
            return _money_text(total)
        return shown_text(name, line.texts[name])

    @staticmethod
    def _problem(line: GridLine, column: int) -> str | None:
        name = COLUMNS[column].field
        if name is not None:
            return line.problem(name)
        if column == PROPERTY:
            return line.row_problem()
        return None

    def _tooltip(self, line: GridLine, column: int) -> str | None:
        problem = self._problem(line, column)
        if problem:
            return f"{COLUMNS[column].title}: {problem}"
        sheet = line.sheet
        if column == PROPERTY:
            p = sheet.projection
            state = "entered" if line.entered else "not entered yet"
            return (
                f"{sheet.label} ({sheet.market_key}), {sheet.buyer}: this month {state}.\n"
                f"Projected: rent {_money_text(p.rent)}, NOI {_money_text(p.noi)}, "
                f"cash flow {_money_text(p.cash_flow)}, DSCR {p.dscr:.2f} "
                f"(required {sheet.required_dscr:.2f})."
            )
        if column == GRADE and line.grade is not None:
            flags = ", ".join(FLAG_LABELS.get(f, f) for f in line.flags)
            return f"Grade {line.grade.value}" + (f": {flags}" if flags else "; no flags")
        name = COLUMNS[column].field
        if name == "expenses_total" and line.computed_total() is not None:
            return "The sum of the breakdown"
        if name == "notes" and line.texts[name].strip():
            return line.texts[name]
        if name is not None and line.is_changed(name):
            was = line.sheet.texts.get(name, "")
            return f"Changed (was {shown_text(name, was) if was.strip() else 'empty'})"
        return None

    def _foreground(self, line: GridLine, column: int) -> QColor | None:
        if column == GRADE and line.grade is not None:
            return grade_colour(line.grade)
        if COLUMNS[column].field == "expenses_total" and line.computed_total() is not None:
            return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        return None

    def _font(self, line: GridLine, column: int) -> QFont | None:
        name = COLUMNS[column].field
        bold = (
            (column == GRADE and line.grade is not None)
            or (name is not None and line.is_changed(name))
            or (column == PROPERTY and line.changed())
        )
        if not bold:
            return None
        font = QFont()
        font.setBold(True)
        return font


class MonthGridFilter(QSortFilterProxyModel):
    """Rows whose property, market or buyer contain the text (any case)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._text = ""

    def set_text(self, text: str) -> None:
        text = text.strip().casefold()
        if text != self._text:
            self.beginFilterChange()
            self._text = text
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def text(self) -> str:
        return self._text

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._text:
            return True
        model = self.sourceModel()
        if not isinstance(model, MonthGridModel):
            return True
        sheet = model.line(source_row).sheet
        return any(self._text in s.casefold() for s in (sheet.label, sheet.market_key, sheet.buyer))
