"""The tables of the KPI assignments page: the assignments (with what the page knows about
each: the team it came from, whether the acting person may change it, its definition), a
measurement history, the proxy that filters them, and how periods and numbers are said.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtGui import QColor

from app.domain.enums import CalculationType, PeriodType
from app.domain.periods import period_of
from app.gui import theme
from app.gui.row_models import (
    ID_ROLE,
    ROW_ROLE,
    SORT_ROLE,
    Column,
    Index,
    RowFilterProxy,
    RowTableModel,
)
from app.services.kpis.assignments import AssignmentRow
from app.services.kpis.definitions import (
    CALCULATION_LABELS,
    PERIOD_LABELS,
    TARGET_LABELS,
    DefinitionRow,
)
from app.services.kpis.measurements import MeasurementRow

__all__ = ["ID_ROLE", "ROW_ROLE", "SORT_ROLE"]

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
METHOD_LABELS = {
    "manual": "Manual",
    "builtin": "Built-in",
    "query": "Query",
    "formula": "Formula",
    "api": "API",
    "import": "Import",
}


# -- words and numbers ------------------------------------------------------------------------


def short_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"


def period_label(kind: PeriodType | str, day: dt.date) -> str:
    """The period of ``kind`` holding ``day`` as a person says it: "October 2026",
    "Week of 5 Oct 2026", "Q4 2026", "2026", "Mon 5 Oct 2026"."""
    kind = PeriodType(kind)
    p = period_of(kind, day)
    if kind is PeriodType.DAILY:
        return f"{DAYS[p.start.weekday()]} {short_date(p.start)}"
    if kind is PeriodType.WEEKLY:
        return f"Week of {short_date(p.start)}"
    if kind is PeriodType.MONTHLY:
        return f"{MONTHS[p.start.month - 1]} {p.start.year}"
    if kind is PeriodType.QUARTERLY:
        return f"Q{(p.start.month - 1) // 3 + 1} {p.start.year}"
    return str(p.start.year)


def plain(value: Decimal | None) -> str:
    """A number without trailing zeros, with thousands separators: 1,250.5; "—" for none."""
    if value is None:
        return "—"
    text = f"{value.normalize():,f}"
    return "0" if text in ("-0", "0") else text


def shown_unit(unit: str | None) -> str:
    """The unit as written after a number ("count" says nothing a number does not)."""
    return "" if unit is None or unit.strip().casefold() in ("", "count") else unit.strip()


def with_unit(value: Decimal | None, unit: str | None) -> str:
    text = plain(value)
    unit = shown_unit(unit)
    if value is None or not unit:
        return text
    if unit == "%":
        return f"{text}%"
    if unit == "$":
        return f"${text}"
    return f"{text} {unit}"


def pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}%"


def period_name(period: str) -> str:
    return PERIOD_LABELS.get(period, period)


def target_name(target_type: str) -> str:
    return TARGET_LABELS.get(target_type, target_type)


def _float(value: Decimal | None) -> float:
    return float("-inf") if value is None else float(value)


# -- what the page shows per assignment --------------------------------------------------------


@dataclass(frozen=True)
class AssignmentItem:
    """An assignment as the page shows it."""

    row: AssignmentRow
    team_name: str  # "" when not from a team assignment
    may_write: bool  # the acting person may change it and enter its values
    definition: DefinitionRow | None

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def manual(self) -> bool:
        return self.row.calculation_type == CalculationType.MANUAL.value

    @property
    def calculation_label(self) -> str:
        if self.definition is not None:
            return self.definition.calculation_label
        kind = self.row.calculation_type
        return CALCULATION_LABELS.get(kind, kind)

    def ended(self, today: dt.date) -> bool:
        end = self.row.end_date
        return not self.row.is_active or (end is not None and end < today)


# -- the assignments ---------------------------------------------------------------------------


def _muted() -> QColor:
    return QColor("#8c9199")  # the palettes' placeholder grey, readable on light and dark


def _active_text(item: AssignmentItem) -> str:
    if not item.row.is_active:
        return "No"
    end = item.row.end_date
    if end is not None and end < dt.date.today():
        return "Ended"
    return "Yes"


def _active_tip(item: AssignmentItem) -> str | None:
    if not item.row.is_active:
        return "Ended with End assignment: no longer computed or scored"
    if item.row.end_date is not None and item.row.end_date < dt.date.today():
        return f"Its end date, {item.row.end_date.isoformat()}, has passed"
    return None


ASSIGNMENT_COLUMNS: tuple[Column, ...] = (
    Column("Person", lambda i: i.row.person, tooltip=lambda i: i.row.email),
    Column("KPI", lambda i: i.row.kpi_name),
    Column(
        "Target",
        lambda i: with_unit(i.row.target_value, i.row.unit),
        lambda i: float(i.row.target_value),
        numeric=True,
        tooltip=lambda i: target_name(i.row.target_type),
    ),
    Column("Weight", lambda i: plain(i.row.weight), lambda i: float(i.row.weight), numeric=True),
    Column("Start", lambda i: i.row.start_date.isoformat()),
    Column(
        "End",
        lambda i: i.row.end_date.isoformat() if i.row.end_date else "",
        lambda i: i.row.end_date.isoformat() if i.row.end_date else "9999",
    ),
    Column("From team", lambda i: i.team_name),
    Column(
        "Active",
        _active_text,
        color=lambda i: None if _active_text(i) == "Yes" else _muted(),
        tooltip=_active_tip,
    ),
)
(
    COL_PERSON,
    COL_KPI,
    COL_TARGET,
    COL_WEIGHT,
    COL_START,
    COL_END,
    COL_TEAM,
    COL_ACTIVE,
) = range(len(ASSIGNMENT_COLUMNS))


def assignments_model(parent: Any = None) -> RowTableModel:
    return RowTableModel(ASSIGNMENT_COLUMNS, parent)


class AssignmentFilterProxy(RowFilterProxy):
    """Text over every column, one person (or everyone), and ended assignments or not."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._person: int | None = None
        self._show_ended = False
        self.today = dt.date.today()

    @property
    def person(self) -> int | None:
        return self._person

    def set_person(self, user_id: int | None) -> None:
        if user_id != self._person:
            self.refilter(lambda: setattr(self, "_person", user_id))

    def set_show_ended(self, show: bool) -> None:
        if show != self._show_ended:
            self.refilter(lambda: setattr(self, "_show_ended", show))

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        item = model.index(source_row, 0, source_parent).data(ROW_ROLE)
        if isinstance(item, AssignmentItem):
            if self._person is not None and item.row.user_id != self._person:
                return False
            if not self._show_ended and item.ended(self.today):
                return False
        return super().filterAcceptsRow(source_row, source_parent)


# -- a measurement history ---------------------------------------------------------------------


def when_text(moment: dt.datetime) -> str:
    local = moment.astimezone() if moment.tzinfo is not None else moment
    return local.strftime("%Y-%m-%d %H:%M")


def _achievement_color(value: Decimal | None) -> QColor | None:
    """Target reached: green; otherwise the palette's text colour."""
    return QColor(theme.colors()["ok"]) if value is not None and value >= 100 else None


class HistoryModel(RowTableModel):
    """One assignment's measurements; ``period`` says how to name their periods."""

    def __init__(self, parent: Any = None) -> None:
        self.period = PeriodType.MONTHLY.value
        self.unit: str | None = None
        super().__init__(self._columns(), parent)

    def set_history(self, rows: Sequence[MeasurementRow], period: str, unit: str | None) -> None:
        self.period, self.unit = period, unit
        self.set_rows(rows)

    def _columns(self) -> tuple[Column, ...]:
        def measured(value: Decimal) -> str:
            return with_unit(value, self.unit)

        return (
            Column(
                "Period",
                lambda m: period_label(self.period, m.period_start),
                lambda m: m.period_start.isoformat(),
                tooltip=lambda m: f"{m.period_start.isoformat()} to {m.period_end.isoformat()}",
            ),
            Column("Actual", lambda m: measured(m.actual_value),
                   lambda m: float(m.actual_value), numeric=True),
            Column("Target", lambda m: measured(m.target_value),
                   lambda m: float(m.target_value), numeric=True,
                   tooltip=lambda _m: "The assignment's target when the value was recorded"),
            Column(
                "Achievement %",
                lambda m: pct(m.achievement_pct),
                lambda m: _float(m.achievement_pct),
                numeric=True,
                color=lambda m: _achievement_color(m.achievement_pct),
                tooltip=lambda m: "Not scored" if m.achievement_pct is None else None,
            ),
            Column("How", lambda m: METHOD_LABELS.get(m.method, m.method.capitalize())),
            Column("By", lambda m: m.calculated_by or ""),
            Column("When", lambda m: when_text(m.calculated_at),
                   lambda m: m.calculated_at.isoformat()),
            Column("Notes", lambda m: (m.notes or "").replace("\n", " "),
                   tooltip=lambda m: m.notes),
        )  # fmt: skip


(
    HIST_PERIOD,
    HIST_ACTUAL,
    HIST_TARGET,
    HIST_ACHIEVEMENT,
    HIST_HOW,
    HIST_BY,
    HIST_WHEN,
    HIST_NOTES,
) = range(8)
