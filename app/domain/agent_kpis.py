"""Agent KPIs of the broker dashboard (SPEC §2): the card's numbers, the period, the rates.

The service counts; this module says what the counts mean. A report "as of" a day covers
everything up to the end of that day in UTC: the period is the ``period_days`` whole days
ending with ``as_of`` (half-open ``[start, end)``, ``end`` = midnight UTC after ``as_of``),
and the year to date starts on 1 January of ``as_of``'s year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.domain.errors import ValidationError
from app.domain.money import quantize

DEFAULT_PERIOD_DAYS = 30


@dataclass(frozen=True)
class ReportPeriod:
    """The instants a report as of ``as_of`` compares with (all UTC, ``end`` excluded)."""

    as_of: dt.date
    period_days: int
    start: dt.datetime
    end: dt.datetime
    ytd_start: dt.datetime


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def report_period(as_of: dt.date, period_days: int = DEFAULT_PERIOD_DAYS) -> ReportPeriod:
    """The period of ``period_days`` whole days ending with ``as_of`` (end of day, UTC).

    A record created at ``t`` is "within the period" when ``start <= t < end``, i.e. within
    (as_of − period_days, as_of] counted in days.
    """
    if isinstance(period_days, bool) or not isinstance(period_days, int) or period_days < 1:
        raise ValidationError(
            f"the period must be a whole number of days, 1 or more (got {period_days!r})"
        )
    try:
        end = _midnight(as_of + dt.timedelta(days=1))
        start = end - dt.timedelta(days=period_days)
    except OverflowError:
        raise ValidationError(
            f"a period of {period_days} days ending {as_of} is out of range"
        ) from None
    return ReportPeriod(
        as_of=as_of,
        period_days=period_days,
        start=start,
        end=end,
        ytd_start=_midnight(dt.date(as_of.year, 1, 1)),
    )


def _percent(part: int, whole: int, places: int) -> Decimal | None:
    """part / whole × 100 rounded half-up to ``places`` decimals, exactly (integer arithmetic)."""
    if whole <= 0:
        return None
    quotient, remainder = divmod(part * 100 * 10**places, whole)
    if 2 * remainder >= whole:
        quotient += 1
    return Decimal(quotient).scaleb(-places)


def conversion_rate_pct(converted: int, total: int) -> Decimal | None:
    """converted / total × 100, 2 decimals half-up; None (shown "—") with no leads."""
    return _percent(converted, total, 2)


def show_rate_pct(completed: int, no_shows: int) -> Decimal | None:
    """completed / (completed + no_shows) × 100, 1 decimal half-up; None when both are 0.

    Scheduled and cancelled appointments count neither for nor against.
    """
    return _percent(completed, completed + no_shows, 1)


@dataclass(frozen=True)
class AgentKpis:
    """One agent's card (SPEC §2). ``user_id`` and ``team`` are for the window, not the JSON."""

    user_id: int
    email: str
    name: str
    team: str | None
    total_leads: int
    new_leads: int
    converted_leads: int
    conversion_rate_pct: Decimal | None
    appointments_scheduled: int
    appointments_completed: int
    no_shows: int
    show_rate_pct: Decimal | None
    escrows_ytd: int
    volume_ytd: Decimal
    commission_ytd: Decimal
    active_clients: int
    active_listings: int
    last_activity: dt.datetime | None


@dataclass(frozen=True)
class BrokerageTotals:
    """Production of everyone the report covers, the broker's own escrows and clients included."""

    volume_ytd: Decimal
    escrows_ytd: int
    active_clients: int
    active_listings: int


@dataclass(frozen=True)
class AgentReport:
    period: ReportPeriod
    agents: tuple[AgentKpis, ...]
    brokerage: BrokerageTotals

    @property
    def as_of(self) -> dt.date:
        return self.period.as_of


def latest(*moments: dt.datetime | None) -> dt.datetime | None:
    """The latest of the given times, ignoring None; None when there are none."""
    present = [m for m in moments if m is not None]
    return max(present) if present else None


# ---------------------------------------------------------------------------- shown


def money_text(value: Decimal) -> str:
    """Money in JSON: a string with exactly 2 decimals ("3200000.00")."""
    return format(quantize(value), "f")


def iso_utc(moment: dt.datetime | None) -> str | None:
    """``2025-10-22T14:03:07Z`` (seconds, UTC), or None."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _number(value: Decimal | None) -> float | None:
    # A percentage rounded to 1 or 2 decimals is printed by json exactly as rounded.
    return None if value is None else float(value)


def agent_json(kpis: AgentKpis) -> dict[str, Any]:
    return {
        "email": kpis.email,
        "name": kpis.name,
        "total_leads": kpis.total_leads,
        "new_leads": kpis.new_leads,
        "converted_leads": kpis.converted_leads,
        "conversion_rate_pct": _number(kpis.conversion_rate_pct),
        "appointments_scheduled": kpis.appointments_scheduled,
        "appointments_completed": kpis.appointments_completed,
        "no_shows": kpis.no_shows,
        "show_rate_pct": _number(kpis.show_rate_pct),
        "escrows_ytd": kpis.escrows_ytd,
        "volume_ytd": money_text(kpis.volume_ytd),
        "commission_ytd": money_text(kpis.commission_ytd),
        "active_clients": kpis.active_clients,
        "active_listings": kpis.active_listings,
        "last_activity": iso_utc(kpis.last_activity),
    }


def report_json(report: AgentReport) -> dict[str, Any]:
    """SPEC §12 ``report agents --json``."""
    totals = report.brokerage
    return {
        "as_of": report.as_of.isoformat(),
        "agents": [agent_json(a) for a in report.agents],
        "brokerage": {
            "volume_ytd": money_text(totals.volume_ytd),
            "escrows_ytd": totals.escrows_ytd,
            "active_clients": totals.active_clients,
            "active_listings": totals.active_listings,
        },
    }


def time_ago(moment: dt.datetime | None, now: dt.datetime) -> str:
    """ "2 h ago" for the card's last activity; "never" for None.

    Whole units, rounded down: just now (< 1 min), N min, N h (< 1 day), N d (< 60 days),
    N mo (30-day months, < 1 year), N y. A time after ``now`` (another clock) is "just now".
    """
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h ago"
    days = hours // 24
    if days < 60:
        return f"{days} d ago"
    if days < 365:
        return f"{days // 30} mo ago"
    return f"{days // 365} y ago"


def reference_time(as_of: dt.date, now: dt.datetime) -> dt.datetime:
    """What "ago" counts from: now, or the end of ``as_of`` when the report is pinned earlier."""
    return min(now, _midnight(as_of + dt.timedelta(days=1)))
