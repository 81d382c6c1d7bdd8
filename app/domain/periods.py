"""Calendar periods (SPEC §7): months, quarters, years, weeks starting on Monday."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.domain.enums import PeriodType


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def months(self) -> list[tuple[int, int]]:
        return [(y, m) for y, m in _iter_months(self.start, self.end)]


def _iter_months(start: dt.date, end: dt.date) -> list[tuple[int, int]]:
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return nxt - dt.timedelta(days=1)


def months_between(start: dt.date, stop: dt.date) -> list[tuple[int, int]]:
    """The (year, month) of every whole month from ``start``'s month that ends before ``stop``."""
    return [(y, m) for y, m in _iter_months(start, stop) if month_end(y, m) < stop]


def period_of(kind: PeriodType | str, day: dt.date) -> Period:
    """The period of ``kind`` that contains ``day``."""
    kind = PeriodType(kind)
    if kind is PeriodType.DAILY:
        return Period(day, day)
    if kind is PeriodType.WEEKLY:
        start = day - dt.timedelta(days=day.weekday())
        return Period(start, start + dt.timedelta(days=6))
    if kind is PeriodType.MONTHLY:
        return Period(day.replace(day=1), month_end(day.year, day.month))
    if kind is PeriodType.QUARTERLY:
        first = 3 * ((day.month - 1) // 3) + 1
        return Period(dt.date(day.year, first, 1), month_end(day.year, first + 2))
    return Period(dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))


def periods_between(kind: PeriodType, start: dt.date, stop: dt.date) -> list[Period]:
    """Every whole period of ``kind`` starting on or after ``start`` and ending before ``stop``."""
    out: list[Period] = []
    p = period_of(kind, start)
    if p.start < start:
        p = period_of(kind, p.end + dt.timedelta(days=1))
    while p.end < stop:
        out.append(p)
        p = period_of(kind, p.end + dt.timedelta(days=1))
    return out


def first_whole_month(day: dt.date) -> dt.date:
    """The first day of the first whole month on or after ``day``."""
    if day.day == 1:
        return day
    return month_end(day.year, day.month) + dt.timedelta(days=1)
