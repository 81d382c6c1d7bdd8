"""One agent's SPEC §2 figures month by month over a date range (the agent report window).

The numbers are the agent report's own aggregates (``app.services.reports.agents``), run for
one owner over each month's window, so a month here counts exactly what the ``agent-kpis``
job stores for it (docs/rules.md, Agent KPIs and Jobs):
- A row per calendar month touched by ``[start, end]``; the first month counts from
  ``start`` and the last up to the end of ``end`` (UTC), the others are whole months.
- Leads: ``total_leads`` every non-private lead created before the window's end,
  ``new_leads`` those created within it, ``converted_leads`` the converted ones (current
  status), conversion rate 2 decimals. Appointments starting within the window (scheduled
  = not cancelled, completed, no-shows), show rate 1 decimal. Production is the window's:
  escrows opened within it with status Active, Pending or Closed. Active clients and
  listings are those created before the window's end.
- The totals are the same figures over the whole range (so the rates are the range's, not
  an average of the months' rates).
- Visibility is the agent report's (SPEC §1): a broker sees their agents, a manager their
  teams', an agent only themself, an admin (or local mode without ``acting_email``) everyone.
  Asking for anyone else raises PermissionDenied. Private leads and appointments count nowhere.
- Stored months: a whole calendar month of the range whose ``agent_monthly_kpis`` row is
  final (computed by the ``agent-kpis`` job over the whole month after it ended:
  ``agent_kpis.is_final``) is read from that row, as it stood when the job counted it
  (statuses of that time). Every other month is counted live: the running month, a first
  or last month the range cuts, a month the job has not stored or stored only month to
  date. Each ``MonthFigures`` says which (``stored_at``, ``source``).
- The totals are always counted live over the whole range, never summed from the months:
  ``total_leads`` and the active clients and listings are counts as at the range's end, not
  sums, and the rates are the range's own, not averages of monthly rates.
- Shared mode: the stored rows are read under the login's own row-level security
  (``agent_monthly_kpis``: owner, owner's broker, manager of a team the login manages,
  admin), which shows a row only where the live count would show its figures too. A row the
  login may not read (e.g. a manager's own, unmanaged team) is simply not found and the
  month is counted live; so is every month when the table cannot be read at all (the
  lookup runs in a savepoint). Either way the person sees what the live report shows.

``to_xlsx`` writes the history as a workbook (openpyxl); the PDF is made by the window.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.db.models import AgentMonthlyKpi, Client, Listing, Team, User
from app.domain.agent_kpis import ReportPeriod, conversion_rate_pct, show_rate_pct
from app.domain.enums import ClientStatus, ListingStatus
from app.domain.errors import PermissionDenied, ValidationError
from app.services import office
from app.services.database import Database
from app.services.jobs.agent_kpis import MAX_BACKFILL_MONTHS, is_final, month_end, month_windows
from app.services.reports.agents import (
    _APPOINTMENT_COUNTS,
    _LEAD_COUNTS,
    _ONE_SNAPSHOT,
    ZERO,
    _active,
    _appointments,
    _by_owner,
    _definer_counts,
    _escrows,
    _leads,
    _login,
    _Scope,
    _scope,
)

log = logging.getLogger(__name__)

#: The longest range a history covers (the job's backfill limit, plus the running month).
MAX_MONTHS = MAX_BACKFILL_MONTHS + 1


@dataclass(frozen=True)
class MonthFigures:
    """One month of an agent's SPEC §2 figures (or the range's totals)."""

    month: dt.date  # the 1st of the month (the range's start for the totals)
    first_day: dt.date
    last_day: dt.date
    total_leads: int
    new_leads: int
    converted_leads: int
    conversion_rate_pct: Decimal | None
    appointments_scheduled: int
    appointments_completed: int
    no_shows: int
    show_rate_pct: Decimal | None
    escrows: int
    volume: Decimal
    commission: Decimal
    active_clients: int
    active_listings: int
    #: When the ``agent-kpis`` job computed the stored row this month was read from; None
    #: when the month was counted from the records now.
    stored_at: dt.datetime | None = None

    @property
    def label(self) -> str:
        return self.month.strftime("%b %Y")

    @property
    def source(self) -> str:
        """ "stored YYYY-MM-DD" (the day the job computed it, UTC) or "live"."""
        if self.stored_at is None:
            return "live"
        return f"stored {self.stored_at.astimezone(dt.UTC):%Y-%m-%d}"


@dataclass(frozen=True)
class AgentHistory:
    user_id: int
    email: str
    name: str
    team: str | None
    start: dt.date
    end: dt.date
    currency: str
    months: tuple[MonthFigures, ...]
    totals: MonthFigures


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def history_windows(start: dt.date, end: dt.date) -> list[ReportPeriod]:
    """The months of ``[start, end]``, oldest first: the job's month windows, the first one
    clipped to begin at ``start``."""
    if start > end:
        raise ValidationError(f"the range must not end ({end}) before it starts ({start})")
    months = (end.year - start.year) * 12 + end.month - start.month
    if months >= MAX_MONTHS:
        raise ValidationError(f"a report covers at most {MAX_MONTHS} months")
    windows = month_windows(end, months)
    first = _midnight(start)
    windows[0] = dataclasses.replace(windows[0], start=first, ytd_start=first)
    return windows


def _figures(
    s: Session, login: Any, scope: _Scope, uid: int, period: ReportPeriod, month: dt.date
) -> MonthFigures:
    if login is None:
        leads = _by_owner(s, _leads(period, scope))
        appointments = _by_owner(s, _appointments(period, scope))
    else:  # a person's login: the server's definer functions count (never list) for them
        leads = _by_owner(s, _definer_counts("perfdesk_lead_counts", _LEAD_COUNTS, period))
        appointments = _by_owner(
            s, _definer_counts("perfdesk_appointment_counts", _APPOINTMENT_COUNTS, period)
        )
    escrows = _by_owner(s, _escrows(period, scope))
    clients = _by_owner(s, _active(Client, ClientStatus.ACTIVE, period, scope))
    listings = _by_owner(s, _active(Listing, ListingStatus.ACTIVE, period, scope))
    total, new, converted, _ = leads.get(uid, (0, 0, 0, None))
    scheduled, completed, no_shows, _ = appointments.get(uid, (0, 0, 0, None))
    n_escrows, volume, commission, _ = escrows.get(uid, (0, None, None, None))
    return MonthFigures(
        month=month,
        first_day=period.start.date(),
        last_day=(period.end - dt.timedelta(days=1)).date(),
        total_leads=int(total),
        new_leads=int(new),
        converted_leads=int(converted),
        conversion_rate_pct=conversion_rate_pct(int(converted), int(total)),
        appointments_scheduled=int(scheduled),
        appointments_completed=int(completed),
        no_shows=int(no_shows),
        show_rate_pct=show_rate_pct(int(completed), int(no_shows)),
        escrows=int(n_escrows),
        volume=Decimal(volume) if volume is not None else ZERO,
        commission=Decimal(commission) if commission is not None else ZERO,
        active_clients=int(clients.get(uid, (0,))[0]),
        active_listings=int(listings.get(uid, (0,))[0]),
    )


def _whole_month(period: ReportPeriod) -> bool:
    first = period.as_of.replace(day=1)
    return period.start == _midnight(first) and period.end == month_end(period.as_of)


def _stored_months(
    s: Session, dialect: str, uid: int, windows: list[ReportPeriod]
) -> dict[dt.date, MonthFigures]:
    """The final stored rows of ``uid`` for the whole months among ``windows``, by month."""
    firsts = [period.as_of.replace(day=1) for period in windows if _whole_month(period)]
    if not firsts:
        return {}
    k = AgentMonthlyKpi
    query = sa.select(
        k.period_start,
        k.period_end,
        k.created_at,
        k.total_leads,
        k.new_leads,
        k.converted_leads,
        k.conversion_rate,
        k.total_appointments,
        k.completed_appointments,
        k.no_shows,
        k.show_rate,
        k.total_escrows,
        k.total_volume,
        k.total_commission,
        k.total_clients,
        k.active_listings,
    ).where(k.user_id == uid, k.period_start.in_(firsts))
    if dialect == "postgresql":
        try:
            with s.begin_nested():  # a refusal must not end the report's transaction
                rows = s.execute(query).all()
        except DBAPIError:
            log.warning("agent_monthly_kpis cannot be read here; counting every month live")
            return {}
    else:
        rows = s.execute(query).all()
    months: dict[dt.date, MonthFigures] = {}
    for row in rows:
        first, last, created = row.period_start, row.period_end, row.created_at
        next_first = (first + dt.timedelta(days=32)).replace(day=1)
        if last != next_first - dt.timedelta(days=1) or not is_final(last, created):
            continue
        months[first] = MonthFigures(
            month=first,
            first_day=first,
            last_day=last,
            total_leads=int(row.total_leads or 0),
            new_leads=int(row.new_leads or 0),
            converted_leads=int(row.converted_leads or 0),
            conversion_rate_pct=_places(row.conversion_rate, "0.01"),
            appointments_scheduled=int(row.total_appointments or 0),
            appointments_completed=int(row.completed_appointments or 0),
            no_shows=int(row.no_shows or 0),
            show_rate_pct=_places(row.show_rate, "0.1"),
            escrows=int(row.total_escrows or 0),
            volume=Decimal(row.total_volume) if row.total_volume is not None else ZERO,
            commission=Decimal(row.total_commission) if row.total_commission is not None else ZERO,
            active_clients=int(row.total_clients or 0),
            active_listings=int(row.active_listings or 0),
            stored_at=created,
        )
    return months


def _places(value: Decimal | None, places: str) -> Decimal | None:
    """A stored rate with the decimals the live rule gives it (show rate: 1, not NUMERIC's 2)."""
    return None if value is None else Decimal(value).quantize(Decimal(places), ROUND_HALF_UP)


def agent_history(
    db: Database,
    user_id: int,
    start: dt.date,
    end: dt.date,
    acting_email: str | None = None,
) -> AgentHistory:
    """``user_id``'s figures for each month of ``[start, end]``, and the range's totals.

    ``acting_email`` as for ``agent_report``. Raises ValidationError for a bad range or an
    unknown person, PermissionDenied when the agent is not one ``acting_email`` may see.
    """
    windows = history_windows(start, end)
    whole = dataclasses.replace(
        windows[-1],
        start=windows[0].start,
        ytd_start=windows[0].start,
        period_days=(windows[-1].end - windows[0].start).days,
    )
    with db.read() as s:
        if db.dialect == "postgresql":
            s.connection(execution_options=_ONE_SNAPSHOT)
        login = _login(s, db)
        scope = _scope(s, login, acting_email)
        person = s.execute(
            sa.select(
                User.id,
                User.email,
                User.first_name,
                User.last_name,
                Team.name,
                sa.case((scope.cards, True), else_=False),
            )
            .outerjoin(Team, Team.id == User.team_id)
            .where(User.id == user_id)
        ).one_or_none()
        if person is None:
            raise ValidationError(f"there is nobody with the id {user_id}")
        uid, email, first, last, team, in_view = person
        if not in_view:
            raise PermissionDenied(
                f"the report of {email} is not yours to see (SPEC §1: a broker sees their "
                "agents, a manager their teams, an agent only themself)"
            )
        one = _Scope(people=User.id == uid, cards=User.id == uid, single=uid)
        stored = _stored_months(s, db.dialect, uid, windows)
        months = tuple(
            stored.get(period.as_of.replace(day=1))
            or _figures(s, login, one, uid, period, period.as_of.replace(day=1))
            for period in windows
        )
        totals = _figures(s, login, one, uid, whole, start)
    return AgentHistory(
        user_id=uid,
        email=email,
        name=f"{first} {last}".strip(),
        team=team,
        start=start,
        end=end,
        currency=office.get_currency(db),
        months=months,
        totals=totals,
    )


# ---------------------------------------------------------------------------- XLSX

#: (header, attribute, kind) of each column of the table and of the workbook.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Month", "label", "text"),
    ("Total leads", "total_leads", "int"),
    ("New leads", "new_leads", "int"),
    ("Converted", "converted_leads", "int"),
    ("Conversion %", "conversion_rate_pct", "pct"),
    ("Appointments", "appointments_scheduled", "int"),
    ("Completed", "appointments_completed", "int"),
    ("No-shows", "no_shows", "int"),
    ("Show rate %", "show_rate_pct", "pct"),
    ("Escrows", "escrows", "int"),
    ("Volume", "volume", "money"),
    ("Commission", "commission", "money"),
    ("Active clients", "active_clients", "int"),
    ("Active listings", "active_listings", "int"),
)


def money_format(currency: str) -> str:
    """An Excel number format showing the currency code: ``#,##0.00 "USD"``."""
    code = "".join(ch for ch in currency if ch.isalnum()) or "USD"
    return f'#,##0.00 "{code}"'


def to_xlsx(history: AgentHistory, path: str | Path) -> None:
    """The history as a one-sheet workbook: a title, a header row, a row per month (money
    as numbers formatted with the currency, rates as numbers) and a totals row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Agent report"
    ws.append([f"{history.name} <{history.email}>, {history.start} to {history.end}"])
    ws["A1"].font = Font(bold=True)
    ws.append([header for header, _, _ in COLUMNS])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    money = money_format(history.currency)
    for figures in (*history.months, history.totals):
        row: list[Any] = []
        for _, attribute, kind in COLUMNS:
            value = getattr(figures, attribute)
            if figures is history.totals and attribute == "label":
                value = "Total"
            elif kind in ("pct", "money") and value is not None:
                value = float(value)
            row.append(value)
        ws.append(row)
        for cell, (_, _, kind) in zip(ws[ws.max_row], COLUMNS, strict=True):
            if kind == "money":
                cell.number_format = money
            elif kind == "pct":
                cell.number_format = "0.0#"
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "B3"
    for index, (header, _, _) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[ws.cell(row=2, column=index).column_letter].width = max(
            12, len(header) + 2
        )
    wb.save(str(path))
