"""Daily performance snapshots (SPEC §10): computed for every agent, stored by upsert.

``store_snapshots(s, dialect, first, last)`` rebuilds each day's figures from the records'
history (``app.domain.snapshots``) and upserts one row per (agent, day) on
UNIQUE(agent_id, as_of_date): a second run over the same day updates its rows, never adds.

Who gets a row: every active agent and broker (a broker is an agent first). Under a person's
own login on PostgreSQL, only the people whose records that login sees (row-level security
would hide the others' deals, and refuses their rows), so a broker's login computes their
agents right; the scheduled job runs under the office's owner login (schedule.py).

Set-based, one pass: the deals (50,000 on the ``large`` demo) are read once; only the deals
with a stage event since the first day's start have their events read; commissions whose
status has not changed since then are summed per agent and status in SQL, the rest are
read with their stamps. Then one sweep over the changes in time order gives every day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import AgentPerformanceSnapshot, CommissionRecord, Deal, DealStageEvent, User
from app.db.models.people import AppSetting
from app.domain import snapshots as snap
from app.domain.enums import DealStage, DealStatus, Role
from app.domain.errors import PerfDeskError, ValidationError
from app.services.office import CURRENCY_KEY, DEFAULT_CURRENCY

#: A backfill covers at most this many days (a year and a bit).
MAX_DAYS = 400
_STAMP_COLUMNS = {
    "confirmed": CommissionRecord.confirmed_at,
    "invoiced": CommissionRecord.invoiced_at,
    "paid": CommissionRecord.paid_at,
    "disputed": CommissionRecord.disputed_at,
    "resolved": CommissionRecord.resolved_at,
    "written_off": CommissionRecord.written_off_at,
}
_KEY = ("agent_id", "as_of_date")

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SnapshotRun:
    days: int
    agents: int
    rows: int


def check_days(days: object) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationError(f"days must be a whole number from 1 to {MAX_DAYS} (got {days!r})")
    return days


def office_currency(s: Session) -> str:
    row = s.get(AppSetting, CURRENCY_KEY)
    return row.value if row is not None else DEFAULT_CURRENCY


def snapshot_agents(s: Session, dialect: str) -> list[int]:
    """Active agents and brokers; under a person's login, only those whose records it sees."""
    stmt = sa.select(User.id).where(
        User.is_active.is_(True), User.role.in_((Role.AGENT.value, Role.BROKER.value))
    )
    if dialect == "postgresql":
        from app.services.jobs.runner import person_login

        if person_login(s, dialect) is not None:
            seen = sa.select(sa.func.public.perfdesk_visible_owners())
            stmt = stmt.where(User.id.in_(seen))
    return list(s.scalars(stmt.order_by(User.id)))


def _moved_since(start: dt.datetime) -> sa.Select[int]:
    """Deals with a stage event at or after ``start`` (the index on (to_stage, recorded_at)
    is used through the IN list of every stage)."""
    return (
        sa.select(DealStageEvent.deal_id)
        .where(
            DealStageEvent.to_stage.in_([st.value for st in DealStage]),
            DealStageEvent.recorded_at >= start,
        )
        .distinct()
    )


def _raw(column: Any, dialect: str) -> Any:
    """A ScaledDecimal column as the number stored (cents on SQLite), for exact SQL products."""
    return sa.type_coerce(column, sa.Integer() if dialect == "sqlite" else sa.Numeric())


def _deal_groups(
    s: Session, dialect: str, start: dt.datetime, currency: str
) -> list[snap.DealGroup]:
    """Deals created before ``start`` with no stage event since: their current stage held
    through the window. Summed per agent and stage in SQL (exact: products of the stored
    integers on SQLite, NUMERIC on PostgreSQL)."""
    same = Deal.estimated_value_currency == currency
    value = _raw(Deal.estimated_value_amount, dialect)
    weighted = value * _raw(Deal.confidence, dialect)
    won = Deal.pipeline_stage == DealStage.CLOSED_WON
    days = sa.func.coalesce(_days_to_close(dialect), 0)
    rows = s.execute(
        sa.select(
            Deal.agent_id,
            Deal.pipeline_stage,
            sa.func.count(),
            sa.func.count().filter(sa.not_(same)),
            sa.func.coalesce(sa.func.sum(sa.case((same, value), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((same, weighted), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((won, days), else_=0)), 0),
        )
        .where(
            Deal.status != DealStatus.CANCELLED,
            Deal.created_at < start,
            Deal.id.not_in(_moved_since(start)),
        )
        .group_by(Deal.agent_id, Deal.pipeline_stage)
    ).all()
    cents, product = (Decimal("0.01"), Decimal("0.000001")) if dialect == "sqlite" else (1, 1)
    return [
        snap.DealGroup(
            agent_id,
            DealStage(stage).value,
            int(count),
            int(other),
            Decimal(value_sum) * cents,
            Decimal(weighted_sum) * product,
            round(float(day_sum)),
        )
        for agent_id, stage, count, other, value_sum, weighted_sum, day_sum in rows
    ]


def _days_to_close(dialect: str) -> sa.ColumnElement[Any]:
    """Days from a deal's creation (its UTC date) to its close date (app.domain.pipeline)."""
    if dialect == "postgresql":
        return Deal.actual_close_date - sa.cast(sa.func.timezone("UTC", Deal.created_at), sa.Date)
    return sa.func.julianday(Deal.actual_close_date) - sa.func.julianday(
        sa.func.date(Deal.created_at)
    )


def _deal_tracks(s: Session, start: dt.datetime, currency: str) -> list[snap.DealTrack]:
    """Deals created since ``start`` or moved since: each with its states in time order."""
    moved = _moved_since(start)
    moves: dict[int, list[snap.StageMove]] = defaultdict(list)
    for deal_id, recorded_at, from_stage, to_stage in s.execute(
        sa.select(
            DealStageEvent.deal_id,
            DealStageEvent.recorded_at,
            DealStageEvent.from_stage,
            DealStageEvent.to_stage,
        )
        .where(DealStageEvent.deal_id.in_(moved))
        .order_by(DealStageEvent.deal_id, DealStageEvent.recorded_at, DealStageEvent.id)
    ):
        moves[deal_id].append(
            snap.StageMove(
                recorded_at,
                None if from_stage is None else DealStage(from_stage).value,
                DealStage(to_stage).value,
            )
        )
    tracks: list[snap.DealTrack] = []
    for row in s.execute(
        sa.select(
            Deal.id,
            Deal.agent_id,
            Deal.created_at,
            Deal.pipeline_stage,
            Deal.actual_close_date,
            Deal.estimated_value_amount,
            Deal.estimated_value_currency,
            Deal.confidence,
        ).where(
            Deal.status != DealStatus.CANCELLED,
            sa.or_(Deal.created_at >= start, Deal.id.in_(moved)),
        )
    ):
        deal_id, agent_id, created_at, stage, close_date, value, cur, conf = row
        same = cur == currency
        facts = snap.DealFacts(
            agent_id,
            created_at.astimezone(dt.UTC).date(),
            value if same else None,
            value * conf if same else None,
        )
        stage_value = DealStage(stage).value
        current = snap.DealState(stage_value, close_date if stage_value == snap.WON else None)
        tracks.append(
            snap.DealTrack(facts, snap.deal_timeline(created_at, moves[deal_id], current))
        )
    return tracks


def _commissions(
    s: Session, start: dt.datetime, currency: str
) -> tuple[list[snap.Constant], list[snap.CommissionTrack]]:
    stamps = list(_STAMP_COLUMNS.values())
    unchanged = sa.and_(
        CommissionRecord.created_at < start, *(sa.or_(c.is_(None), c < start) for c in stamps)
    )
    in_currency = Deal.estimated_value_currency == currency
    constants = [
        snap.Constant(agent_id, str(getattr(status, "value", status)), Decimal(amount or 0))
        for agent_id, status, amount in s.execute(
            sa.select(
                CommissionRecord.agent_id,
                CommissionRecord.status,
                sa.func.sum(CommissionRecord.commission_amount),
            )
            .join(Deal, Deal.id == CommissionRecord.deal_id)
            .where(unchanged, in_currency)
            .group_by(CommissionRecord.agent_id, CommissionRecord.status)
        )
    ]
    tracks: list[snap.CommissionTrack] = []
    for row in s.execute(
        sa.select(
            CommissionRecord.agent_id,
            CommissionRecord.commission_amount,
            CommissionRecord.status,
            CommissionRecord.created_at,
            *stamps,
        )
        .join(Deal, Deal.id == CommissionRecord.deal_id)
        .where(sa.not_(unchanged), in_currency)
    ):
        agent_id, amount, status, created_at, *times = row
        timeline = snap.commission_timeline(
            created_at,
            dict(zip(_STAMP_COLUMNS, times, strict=True)),
            str(getattr(status, "value", status)),
        )
        tracks.append(snap.CommissionTrack(agent_id, amount, timeline))
    return constants, tracks


def _row(agent_id: int, day: dt.date, f: snap.SnapshotFigures, now: dt.datetime) -> dict[str, Any]:
    return {
        "agent_id": agent_id,
        "as_of_date": day,
        "deals_open": f.deals_open,
        "deals_closed_won": f.deals_closed_won,
        "deals_closed_lost": f.deals_closed_lost,
        "gross_pipeline_value": f.gross_pipeline_value,
        "weighted_pipeline_value": f.weighted_pipeline_value,
        "closed_won_volume": f.closed_won_volume,
        "cycle_days_total": f.cycle_days_total,
        "avg_cycle_days": f.avg_cycle_days,
        "conversion_rate": f.conversion_rate,
        "confirmed_commission_amount": f.confirmed_commission_amount,
        "disputed_commission_amount": f.disputed_commission_amount,
        "ratios": f.ratios,
        "computed_at": now,
    }


def _upsert(s: Session, dialect: str, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(AgentPerformanceSnapshot)
    elif dialect == "sqlite":
        stmt = sqlite.insert(AgentPerformanceSnapshot)
    else:  # pragma: no cover - PerfDesk runs on SQLite and PostgreSQL only
        raise ValidationError(f"snapshots do not support {dialect}")
    updated = {name: stmt.excluded[name] for name in rows[0] if name not in _KEY}
    s.execute(stmt.on_conflict_do_update(index_elements=list(_KEY), set_=updated), rows)
    return len(rows)


def store_snapshots(
    s: Session,
    dialect: str,
    first: dt.date,
    last: dt.date,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> SnapshotRun:
    """Compute and upsert every agent's snapshot for each day ``first``–``last``."""
    if last < first:
        raise ValidationError(f"the last day {last} is before the first {first}")
    days = snap.days_between(first, last)
    check_days(len(days))
    currency = office_currency(s)
    agents = snapshot_agents(s, dialect)
    start = snap.day_start(first)
    groups = _deal_groups(s, dialect, start, currency)
    deals = _deal_tracks(s, start, currency)
    constants, commissions = _commissions(s, start, currency)
    now = utcnow()
    rows = 0
    for day, figures in snap.sweep(
        days, agents, deals, commissions, constants, groups, currency, progress, cancelled
    ):
        rows += _upsert(s, dialect, [_row(a, day, f, now) for a, f in figures.items()])
    if cancelled is not None and cancelled():
        raise PerfDeskError("Cancelled: no snapshot was stored.")
    return SnapshotRun(len(days), len(agents), rows)


def last_days(as_of: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """The ``days`` days ending on ``as_of``."""
    check_days(days)
    return as_of - dt.timedelta(days=days - 1), as_of


def stored_days(s: Session, first: dt.date, last: dt.date) -> Sequence[dt.date]:
    """The days in ``first``–``last`` that have snapshots (any agent's)."""
    return list(
        s.scalars(
            sa.select(AgentPerformanceSnapshot.as_of_date)
            .where(AgentPerformanceSnapshot.as_of_date.between(first, last))
            .distinct()
            .order_by(AgentPerformanceSnapshot.as_of_date)
        )
    )
