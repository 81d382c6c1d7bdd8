"""The ``agent-kpis`` job: each agent's month of SPEC §2 figures, stored in
``agent_monthly_kpis`` (seed ``agent_kpis``) for the agent report's history.

Rules chosen (docs/rules.md, Agent KPIs, applied to a calendar month):
- A row per (active agent, calendar month): ``period_start`` the 1st, ``period_end`` the
  last day of the month, so the running month keeps one row that each run updates (upsert on
  UNIQUE(user_id, period_start, period_end); never a duplicate, on either backend).
- The month containing ``as_of`` is month to date: it counts up to the end of ``as_of``
  (UTC); ``backfill_months`` N also stores the N previous whole months. Nothing created after
  the window's end counts; statuses are the current ones.
- Over the window ``[1st 00:00 UTC, end)``: leads as SPEC §2 with the month as the period
  (``total_leads`` all non-private leads created before the end, ``new_leads`` those created
  within the month, ``converted_leads`` converted, ``conversion_rate`` 2 decimals);
  appointments starting within the month (scheduled = not cancelled, completed, no-shows,
  ``show_rate`` 1 decimal); production is the month's, not the year's: escrows opened within
  the month with status Active, Pending or Closed (``total_escrows``, ``total_volume``,
  ``total_commission``); ``total_clients`` / ``active_listings`` are the active ones created
  before the end; ``last_activity`` as SPEC §2 (a login after the end is ignored).
- Every active agent (role ``agent``) gets a row, zeros included; rows of people no longer
  active are left as they were. ``broker_id`` is the agent's broker, or the agent themself
  when they have none (the column may not be empty). ``days_active`` is not computed (null).
- Private leads and appointments count nowhere, as in the report.
- ``created_at`` says when the row's figures were computed: each run sets it (the seed's
  table has no other time), but a row for a window that stops before the month's end (the
  month to date) is never stamped later than that window's end. So a row whose
  ``created_at`` is at or after the month's end (the 1st of the next month, 00:00 UTC) was
  counted over the whole month after it ended: the month's final figures (``is_final``),
  which the agent report's history reads instead of counting again. A replay with a pinned
  ``--as-of`` inside a month stamps its row with that day's end, so it never passes for final.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db.models import AgentMonthlyKpi, User
from app.domain.agent_kpis import ReportPeriod, conversion_rate_pct, latest, show_rate_pct
from app.domain.enums import Role
from app.domain.errors import PermissionDenied, ValidationError
from app.services.jobs.runner import Job, JobContext, person_login, register
from app.services.reports.agents import ZERO, office_figures

NAME = "agent-kpis"
MAX_BACKFILL_MONTHS = 120


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _month_start(day: dt.date, months_back: int = 0) -> dt.date:
    index = day.year * 12 + (day.month - 1) - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def month_windows(as_of: dt.date, backfill_months: int = 0) -> list[ReportPeriod]:
    """The months to store, oldest first: ``backfill_months`` whole months, then the month
    containing ``as_of`` up to the end of ``as_of``. ``period.as_of`` is the month's last day;
    ``start``/``ytd_start`` its first instant, ``end`` the window's end (excluded)."""
    if (
        isinstance(backfill_months, bool)
        or not isinstance(backfill_months, int)
        or not 0 <= backfill_months <= MAX_BACKFILL_MONTHS
    ):
        raise ValidationError(
            f"backfill_months must be a whole number from 0 to {MAX_BACKFILL_MONTHS} "
            f"(got {backfill_months!r})"
        )
    periods = []
    for back in range(backfill_months, -1, -1):
        first = _month_start(as_of, back)
        next_first = _month_start(first, -1)
        last = next_first - dt.timedelta(days=1)
        end = _midnight(min(next_first, as_of + dt.timedelta(days=1)))
        start = _midnight(first)
        periods.append(
            ReportPeriod(
                as_of=last,
                period_days=(end - start).days,
                start=start,
                end=end,
                ytd_start=start,
            )
        )
    return periods


def monthly_rows(s: Session, period: ReportPeriod) -> list[dict[str, Any]]:
    """The ``agent_monthly_kpis`` values of every active agent for one month window."""
    figures = office_figures(s, period)
    agents = s.execute(
        sa.select(User.id, User.broker_id, User.last_login)
        .where(User.role == Role.AGENT.value, User.is_active.is_(True))
        .order_by(User.id)
    ).all()
    first = period.start.date()
    rows = []
    for uid, broker_id, last_login in agents:
        total, new, converted, last_lead = figures.leads.get(uid, (0, 0, 0, None))
        scheduled, completed, no_shows, last_appt = figures.appointments.get(uid, (0, 0, 0, None))
        escrows, volume, commission, last_escrow = figures.escrows.get(uid, (0, None, None, None))
        login = last_login if last_login is not None and last_login < period.end else None
        rows.append(
            {
                "user_id": uid,
                "broker_id": broker_id if broker_id is not None else uid,
                "period_start": first,
                "period_end": period.as_of,
                "total_leads": total,
                "new_leads": new,
                "converted_leads": converted,
                "conversion_rate": conversion_rate_pct(converted, total),
                "total_appointments": scheduled,
                "completed_appointments": completed,
                "no_shows": no_shows,
                "show_rate": show_rate_pct(completed, no_shows),
                "total_escrows": escrows,
                "total_clients": figures.clients.get(uid, (0,))[0],
                "active_listings": figures.listings.get(uid, (0,))[0],
                "total_volume": Decimal(volume) if volume is not None else ZERO,
                "total_commission": Decimal(commission) if commission is not None else ZERO,
                "last_activity": latest(login, last_lead, last_appt, last_escrow),
                "days_active": None,
            }
        )
    return rows


_KEY = ("user_id", "period_start", "period_end")


def _upsert(s: Session, dialect: str, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(AgentMonthlyKpi)
    elif dialect == "sqlite":
        stmt = sqlite.insert(AgentMonthlyKpi)
    else:  # pragma: no cover - PerfDesk runs on SQLite and PostgreSQL only
        raise ValidationError(f"the {NAME} job does not support {dialect}")
    updated = {name: stmt.excluded[name] for name in rows[0] if name not in _KEY}
    s.execute(stmt.on_conflict_do_update(index_elements=list(_KEY), set_=updated), rows)
    return len(rows)


def month_end(period_end: dt.date) -> dt.datetime:
    """The first instant after a month whose last day is ``period_end`` (UTC)."""
    return _midnight(period_end + dt.timedelta(days=1))


def computed_stamp(period: ReportPeriod, now: dt.datetime) -> dt.datetime:
    """The ``created_at`` of a row computed at ``now`` over ``period``: ``now``, but never
    later than the window's end when the window stops before the month's end."""
    if period.end >= month_end(period.as_of):
        return now
    return min(now, period.end)


def is_final(period_end: dt.date, created_at: dt.datetime) -> bool:
    """True when a stored row was computed over its whole month after the month ended."""
    return created_at >= month_end(period_end)


def store_agent_kpis(
    s: Session,
    dialect: str,
    as_of: dt.date,
    backfill_months: int = 0,
    now: dt.datetime | None = None,
) -> int:
    """Upsert every active agent's month(s); returns the number of rows written.

    ``now`` (default: the clock, UTC) is the computing time stamped in ``created_at``."""
    clock = now if now is not None else dt.datetime.now(dt.UTC)
    written = 0
    for period in month_windows(as_of, backfill_months):
        stamp = computed_stamp(period, clock)
        rows = [{**row, "created_at": stamp} for row in monthly_rows(s, period)]
        written += _upsert(s, dialect, rows)
    return written


def _refuse_a_persons_login(s: Session, dialect: str) -> None:
    """Under row-level security a person's login sees only their own leads and appointments,
    so the office's figures would be too low: the job runs under the office's owner login."""
    person = person_login(s, dialect)
    if person is not None:
        raise PermissionDenied(
            f"the {NAME} job must run under the office's database owner login, not {person}'s: "
            "a person's login sees only their own leads and appointments"
        )


def _run(s: Session, ctx: JobContext) -> int:
    unknown = set(ctx.options) - {"backfill_months"}
    if unknown:
        raise ValidationError(f"the {NAME} job has no option {', '.join(sorted(unknown))}")
    _refuse_a_persons_login(s, ctx.dialect)
    return store_agent_kpis(s, ctx.dialect, ctx.as_of, ctx.options.get("backfill_months", 0))


JOB = register(
    Job(
        name=NAME,
        description="store each agent's monthly KPIs (month to date, and backfilled months)",
        run=_run,
    )
)
