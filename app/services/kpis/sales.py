"""Sales performance by person for a period (SPEC §8), computed from PerfDesk's own records.

Set-based: one grouped query per kind of record for everyone at once, never one per person.
The period is ``start``–``end`` inclusive, as UTC days (times are stored in UTC).

- ``leads``: leads created in the period (any privacy: these are counts, SPEC §1);
  ``converted_leads``: those of them now ``converted``;
- ``opportunities``: deals created in the period;
- ``deals_won`` / ``deals_lost``: deals at closed won / closed lost whose
  ``actual_close_date`` is in the period (the day the move to that stage was made);
- ``escrows_opened``: escrows created in the period and not cancelled; ``escrows_closed``:
  escrows Closed with ``closed_at`` in the period;
- ``orders`` = deals won + escrows closed;
- ``revenue`` = ``my_commission`` of those escrows + the commission amounts, confirmed,
  invoiced or paid, of the person's commission records on the deals won in the period;
- ``avg_deal_size`` = revenue / orders; ``conversion_rate`` = orders / leads × 100;
  ``win_rate`` = won / (won + lost) × 100; each null when its divisor is 0;
- ``appointments_completed`` / ``no_shows``: appointments starting in the period;
  ``show_rate`` = completed / (completed + no-shows) × 100;
- ``lead_conversion`` = converted leads / leads × 100 (the built-in KPI);
- ``avg_cycle_days``: mean days from a won deal's creation (UTC date) to its close date
  (SPEC §4's rule, ``app.domain.pipeline.cycle_days``; summed in SQL);
- ``calls`` / ``emails`` / ``meetings``: entered activities (``activity_entries``) whose
  period starts within the period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import Appointment, CommissionRecord, Deal, Escrow, Lead
from app.db.models.goals import ActivityEntry
from app.domain.enums import (
    AppointmentStatus,
    CommissionStatus,
    DealStage,
    EscrowStatus,
    LeadStatus,
)

HUNDRED = Decimal(100)
EARNED = (CommissionStatus.CONFIRMED, CommissionStatus.INVOICED, CommissionStatus.PAID)


def _ratio(part: Decimal | int, whole: Decimal | int, scale: Decimal = HUNDRED) -> Decimal | None:
    if not whole:
        return None
    return Decimal(part) / Decimal(whole) * scale


@dataclass
class SalesFigures:
    user_id: int
    leads: int = 0
    converted_leads: int = 0
    opportunities: int = 0
    deals_won: int = 0
    deals_lost: int = 0
    escrows_opened: int = 0
    escrows_closed: int = 0
    revenue: Decimal = Decimal(0)
    appointments_completed: int = 0
    no_shows: int = 0
    #: Days from creation (UTC date) to close, summed over the deals won.
    cycle_days_total: int = 0
    calls: int = 0
    emails: int = 0
    meetings: int = 0

    @property
    def orders(self) -> int:
        return self.deals_won + self.escrows_closed

    @property
    def avg_deal_size(self) -> Decimal | None:
        return _ratio(self.revenue, self.orders, Decimal(1))

    @property
    def conversion_rate(self) -> Decimal | None:
        return _ratio(self.orders, self.leads)

    @property
    def win_rate(self) -> Decimal | None:
        return _ratio(self.deals_won, self.deals_won + self.deals_lost)

    @property
    def show_rate(self) -> Decimal | None:
        return _ratio(self.appointments_completed, self.appointments_completed + self.no_shows)

    @property
    def lead_conversion(self) -> Decimal | None:
        return _ratio(self.converted_leads, self.leads)

    @property
    def avg_cycle_days(self) -> Decimal | None:
        return _ratio(self.cycle_days_total, self.deals_won, Decimal(1))

    def metric(self, key: str) -> Decimal | None:
        """A figure by its key (a built-in KPI metric or a §8 metric); None: undefined."""
        value: Any = getattr(self, key)
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)


METRIC_KEYS = (
    "leads", "converted_leads", "opportunities", "deals_won", "deals_lost", "escrows_opened",
    "escrows_closed", "orders", "revenue", "avg_deal_size", "conversion_rate", "win_rate",
    "appointments_completed", "no_shows", "show_rate", "lead_conversion", "avg_cycle_days",
    "calls", "emails", "meetings",
)  # fmt: skip


def bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants [start 00:00, end + 1 day 00:00) of an inclusive day range."""
    lo = dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC)
    after = end + dt.timedelta(days=1)
    return lo, dt.datetime(after.year, after.month, after.day, tzinfo=dt.UTC)


def _among(column: Any, user_ids: Collection[int] | None) -> list[Any]:
    return [] if user_ids is None else [column.in_(list(user_ids))]


class _Figures(dict[int, SalesFigures]):
    def __missing__(self, key: int) -> SalesFigures:
        value = self[key] = SalesFigures(key)
        return value


#: What ``sales_figures`` may read; the orders, revenue and conversion of a leaderboard need
#: only ``RANKING``.
PARTS = frozenset({"leads", "deals", "escrows", "commissions", "appointments", "activities"})
RANKING = frozenset({"leads", "deals", "escrows", "commissions"})


def sales_figures(
    s: Session,
    start: dt.date,
    end: dt.date,
    user_ids: Collection[int] | None = None,
    parts: Collection[str] = PARTS,
) -> dict[int, SalesFigures]:
    """Everyone's (or ``user_ids``') figures for the inclusive period; people with no record
    in it are present only when named in ``user_ids``. ``parts`` leaves out the kinds of
    record a caller does not need (their figures stay 0)."""
    out = _Figures()
    for uid in user_ids or ():
        out[uid] = SalesFigures(uid)
    lo, hi = bounds(start, end)
    if "leads" in parts:
        _leads(s, out, lo, hi, user_ids)
    if "deals" in parts:
        _deals(s, out, start, end, lo, hi, user_ids)
    if "escrows" in parts:
        _escrows(s, out, lo, hi, user_ids)
    if "commissions" in parts:
        _commissions(s, out, start, end, user_ids)
    if "appointments" in parts:
        _appointments(s, out, lo, hi, user_ids)
    if "activities" in parts:
        _activities(s, out, start, end, user_ids)
    return dict(out)


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _leads(s: Session, out: _Figures, lo: Any, hi: Any, ids: Collection[int] | None) -> None:
    rows = s.execute(
        sa.select(Lead.owner_id, sa.func.count(), _count_if(Lead.status == LeadStatus.CONVERTED))
        .where(Lead.created_at >= lo, Lead.created_at < hi, *_among(Lead.owner_id, ids))
        .group_by(Lead.owner_id)
    )
    for uid, n, converted in rows:
        out[uid].leads = int(n)
        out[uid].converted_leads = int(converted)


def _deals(
    s: Session,
    out: _Figures,
    start: dt.date,
    end: dt.date,
    lo: Any,
    hi: Any,
    ids: Collection[int] | None,
) -> None:
    created = s.execute(
        sa.select(Deal.agent_id, sa.func.count())
        .where(Deal.created_at >= lo, Deal.created_at < hi, *_among(Deal.agent_id, ids))
        .group_by(Deal.agent_id)
    )
    for uid, n in created:
        out[uid].opportunities = int(n)
    days = _days_to_close(s.get_bind().dialect.name)
    closed = s.execute(
        sa.select(
            Deal.agent_id,
            Deal.pipeline_stage,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(days), 0),
        )
        .where(
            Deal.pipeline_stage.in_([DealStage.CLOSED_WON, DealStage.CLOSED_LOST]),
            Deal.actual_close_date >= start,
            Deal.actual_close_date <= end,
            *_among(Deal.agent_id, ids),
        )
        .group_by(Deal.agent_id, Deal.pipeline_stage)
    )
    for uid, stage, n, total in closed:
        if stage == DealStage.CLOSED_WON:
            out[uid].deals_won = int(n)
            out[uid].cycle_days_total = round(float(total))
        else:
            out[uid].deals_lost = int(n)


def _days_to_close(dialect: str) -> sa.ColumnElement[Any]:
    """Whole days from a deal's creation (its UTC date) to its close date, in SQL (the rule
    of ``app.domain.pipeline.cycle_days``)."""
    if dialect == "postgresql":
        made = sa.cast(sa.func.timezone("UTC", Deal.created_at), sa.Date)
        return Deal.actual_close_date - made
    # SQLite keeps UTC times as text: date() is their UTC day.
    return sa.func.julianday(Deal.actual_close_date) - sa.func.julianday(
        sa.func.date(Deal.created_at)
    )


def _escrows(s: Session, out: _Figures, lo: Any, hi: Any, ids: Collection[int] | None) -> None:
    opened = s.execute(
        sa.select(Escrow.agent_id, sa.func.count())
        .where(
            Escrow.created_at >= lo,
            Escrow.created_at < hi,
            Escrow.escrow_status != EscrowStatus.CANCELLED,
            *_among(Escrow.agent_id, ids),
        )
        .group_by(Escrow.agent_id)
    )
    for uid, n in opened:
        out[uid].escrows_opened = int(n)
    closed = s.execute(
        sa.select(Escrow.agent_id, sa.func.count(), sa.func.sum(Escrow.my_commission))
        .where(
            Escrow.escrow_status == EscrowStatus.CLOSED,
            Escrow.closed_at >= lo,
            Escrow.closed_at < hi,
            *_among(Escrow.agent_id, ids),
        )
        .group_by(Escrow.agent_id)
    )
    for uid, n, commission in closed:
        out[uid].escrows_closed = int(n)
        out[uid].revenue += commission or Decimal(0)


def _commissions(
    s: Session, out: _Figures, start: dt.date, end: dt.date, ids: Collection[int] | None
) -> None:
    rows = s.execute(
        sa.select(CommissionRecord.agent_id, sa.func.sum(CommissionRecord.commission_amount))
        .join(Deal, Deal.id == CommissionRecord.deal_id)
        .where(
            CommissionRecord.status.in_(EARNED),
            Deal.pipeline_stage == DealStage.CLOSED_WON,
            Deal.actual_close_date >= start,
            Deal.actual_close_date <= end,
            *_among(CommissionRecord.agent_id, ids),
        )
        .group_by(CommissionRecord.agent_id)
    )
    for uid, amount in rows:
        out[uid].revenue += amount or Decimal(0)


def _appointments(s: Session, out: _Figures, lo: Any, hi: Any, ids: Collection[int] | None) -> None:
    rows = s.execute(
        sa.select(
            Appointment.agent_id,
            _count_if(Appointment.status == AppointmentStatus.COMPLETED),
            _count_if(Appointment.status == AppointmentStatus.NO_SHOW),
        )
        .where(
            Appointment.start_time >= lo,
            Appointment.start_time < hi,
            *_among(Appointment.agent_id, ids),
        )
        .group_by(Appointment.agent_id)
    )
    for uid, done, missed in rows:
        out[uid].appointments_completed = int(done)
        out[uid].no_shows = int(missed)


def _activities(
    s: Session, out: _Figures, start: dt.date, end: dt.date, ids: Collection[int] | None
) -> None:
    rows = s.execute(
        sa.select(
            ActivityEntry.user_id, ActivityEntry.activity_type, sa.func.sum(ActivityEntry.count)
        )
        .where(
            ActivityEntry.period_start >= start,
            ActivityEntry.period_start <= end,
            *_among(ActivityEntry.user_id, ids),
        )
        .group_by(ActivityEntry.user_id, ActivityEntry.activity_type)
    )
    for uid, kind, n in rows:
        setattr(out[uid], str(kind), int(n or 0))


def team_figures(people: Iterable[SalesFigures], user_id: int = 0) -> SalesFigures:
    """The sum of several people's figures (a team's), rates computed from the sums."""
    total = SalesFigures(user_id)
    for f in people:
        for name in (
            "leads", "converted_leads", "opportunities", "deals_won", "deals_lost",
            "escrows_opened", "escrows_closed", "revenue", "appointments_completed",
            "no_shows", "calls", "emails", "meetings",
        ):  # fmt: skip
            setattr(total, name, getattr(total, name) + getattr(f, name))
        total.cycle_days_total += f.cycle_days_total
    return total
