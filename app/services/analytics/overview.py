"""The Analytics page (issue 7): an agent's, a team's or everyone's trends from the daily
performance snapshots (SPEC §10), and the office's own figures beside the benchmarks.

Everything is summed by the database: one grouped query over the snapshot rows of the range
(15,000 rows for 500 agents over 30 days), the JSON ratios read only for the end day, and the
benchmark comparison from the deals closed in the range grouped by asset and deal type. Never
a query per agent or per day.

Several agents add up as sums; the rates are ratios of those sums (SPEC §4): conversion =
Σ won / Σ (won + lost) × 100, average cycle days = Σ cycle days / Σ won, never a mean of the
agents' own rates.

Who may look at what follows the deals (SPEC §1, ``deal_scope``): one's own figures; a
broker's agents'; the members of the teams a manager manages; everyone's for an admin (or
the one local person).

Rules where SPEC.md is silent (also in docs/rules.md):
- A range is 1 to 366 days, its last day not before its first. A day of the range with no
  snapshot row for the chosen people is a gap (the job did not run), never a zero.
- "Closed-won volume in the range" on a day is, summed over the agents with a row that day,
  the agent's closed-won volume less their baseline: their row of the day before the range
  when there is one, else their first row in the range (whose own wins then count as before
  the range). So an agent who joins or leaves during the range (rows start or stop) moves
  nothing; the count of deals won likewise. ``baseline_day`` is the day before the range when
  it has rows, else the range's first day with rows.
- The end day's figures (the cards, the stage donut) are those of the latest day of the
  range that has rows; with no row in the range there are none ("No snapshots for these days
  yet").
- Teams offered: an admin (or the one local person) every team; a manager the teams they
  manage; a broker the teams they lead or that hold one of their agents; others none. A team's
  figures sum its members whose deals the person sees, active or not (a person who left keeps
  their history). "Everyone" sums every snapshot row the person may see.
- The currency is the one the end day's snapshots were summed in; the office's when they
  disagree or there are none.
- Benchmarks: "ours" is computed from the deals closed (status won or lost; a cancelled deal
  counts nowhere) with their close date in the range: conversion rate (won / (won + lost) ×
  100, 2 decimals), average cycle days (``app.domain.pipeline.cycle_days`` over the won
  ones, 1 decimal) and commission rate (the mean ``commission_rate`` of the confirmed,
  invoiced or paid commission records on the won deals, 4 decimals as a fraction), per
  (asset type, deal type) and overall. A row is listed only when a benchmark applies to it
  (``app.domain.benchmarks.applicable`` as of the range's last day). Better / worse compares
  ours, rounded as shown, with the industry average: higher is better for the conversion and
  commission rates, lower for the cycle days; equal is "level"; nothing is said without both
  figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.db.models import AgentPerformanceSnapshot, CommissionRecord, Deal, Team, User
from app.domain.benchmarks import BenchmarkRow, applicable
from app.domain.enums import BenchmarkCohort, CommissionStatus, DealStage, DealStatus, Role
from app.domain.errors import PermissionDenied, ValidationError
from app.domain.money import quantize
from app.services.analytics.benchmarks import load_benchmarks
from app.services.database import Database
from app.services.office import get_currency
from app.services.pipeline.common import deal_scope
from app.services.records import Acting, Actor, resolve_viewer

#: A range covers at most this many days.
MAX_RANGE_DAYS = 366
ONE_DAY = dt.timedelta(days=1)
HUNDRED = Decimal(100)
ZERO = Decimal(0)
PRODUCERS = (Role.AGENT.value, Role.BROKER.value)
EARNED = (CommissionStatus.CONFIRMED, CommissionStatus.INVOICED, CommissionStatus.PAID)

#: The metrics compared with benchmarks: key, plain name, higher is better, decimals shown.
CONVERSION_RATE = "conversion_rate"
AVG_CYCLE_DAYS = "avg_cycle_days"
COMMISSION_RATE = "commission_rate"
METRICS: tuple[tuple[str, str, bool, int], ...] = (
    (CONVERSION_RATE, "Conversion rate", True, 2),
    (AVG_CYCLE_DAYS, "Average cycle days", False, 1),
    (COMMISSION_RATE, "Commission rate", True, 4),
)
METRIC_NAMES: dict[str, str] = {key: name for key, name, _h, _d in METRICS}
BETTER, WORSE, LEVEL = "better", "worse", "level"


# -- what the selectors offer -----------------------------------------------------------------


@dataclass(frozen=True)
class AnalyticsScope:
    """Whose figures: one agent, one team, or (neither) everyone the person sees."""

    agent_id: int | None = None
    team_id: int | None = None


@dataclass(frozen=True)
class AgentChoice:
    id: int
    email: str
    name: str
    team_id: int | None


@dataclass(frozen=True)
class TeamChoice:
    id: int
    name: str
    members: int  # its active agents and brokers the person sees


@dataclass(frozen=True)
class AnalyticsChoices:
    agents: tuple[AgentChoice, ...]
    teams: tuple[TeamChoice, ...]


def _name(first: str, last: str, email: str) -> str:
    return f"{first} {last}".strip() or email


def _visible(actor: Actor | None) -> list[sa.ColumnElement[bool]]:
    """Conditions on ``User`` (a deal's or a snapshot's agent) for what ``actor`` sees."""
    scope = deal_scope(actor)
    return [] if scope is None else [scope]


def _offered_teams(actor: Actor | None) -> sa.Select[int, str]:
    stmt = sa.select(Team.id, Team.name)
    if actor is None or actor.is_admin:
        return stmt
    if actor.role == Role.MANAGER.value:
        return stmt.where(Team.manager_id == actor.id)
    if actor.role == Role.BROKER.value:
        theirs = sa.select(User.team_id).where(
            User.broker_id == actor.id, User.team_id.is_not(None)
        )
        return stmt.where(sa.or_(Team.broker_id == actor.id, Team.id.in_(theirs)))
    return stmt.where(sa.false())


def analytics_choices(db: Database, acting: Acting = None) -> AnalyticsChoices:
    """The agents (active agents and brokers) and teams whose figures the person may see."""
    with db.read() as s:
        actor = resolve_viewer(s, db, acting)
        people = s.execute(
            sa.select(User.id, User.email, User.first_name, User.last_name, User.team_id)
            .where(User.is_active.is_(True), User.role.in_(PRODUCERS), *_visible(actor))
            .order_by(User.first_name, User.last_name, User.email)
        ).all()
        teams = s.execute(_offered_teams(actor).order_by(Team.name)).all()
    agents = tuple(
        AgentChoice(int(uid), str(email), _name(first, last, email), team)
        for uid, email, first, last, team in people
    )
    members: dict[int, int] = defaultdict(int)
    for agent in agents:
        if agent.team_id is not None:
            members[agent.team_id] += 1
    return AnalyticsChoices(
        agents, tuple(TeamChoice(int(tid), str(name), members[int(tid)]) for tid, name in teams)
    )


# -- the overview -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DayPoint:
    """The scope's figures at the end of one day (sums over its agents' snapshots)."""

    day: dt.date
    agents: int  # snapshot rows summed
    weighted_pipeline: Decimal
    gross_pipeline: Decimal
    deals_open: int
    deals_closed_won: int  # all won by then
    deals_closed_lost: int
    won_in_range: int  # won within the range so far (see the module's rules)
    volume_in_range: Decimal  # their closed-won volume
    conversion_rate: Decimal | None
    avg_cycle_days: Decimal | None
    confirmed_commission: Decimal
    disputed_commission: Decimal


@dataclass(frozen=True)
class BenchmarkFigure:
    value: Decimal | None
    text: str | None
    source: str
    effective_date: dt.date


@dataclass(frozen=True)
class BenchmarkComparison:
    metric_key: str
    metric: str  # its plain name
    asset_type: str | None  # None: every asset type (the overall row)
    deal_type: str | None
    ours: Decimal | None  # rounded as shown; None when there is nothing to compute it from
    basis: int  # what ours counts: deals closed, deals won, or commission records
    higher_is_better: bool
    industry_avg: BenchmarkFigure | None
    top_quartile: BenchmarkFigure | None
    internal_avg: BenchmarkFigure | None
    verdict: str | None  # "better" | "worse" | "level" than the industry average


@dataclass(frozen=True)
class AnalyticsOverview:
    scope: AnalyticsScope
    scope_label: str
    start: dt.date
    end: dt.date
    points: tuple[DayPoint, ...]  # the days of the range that have rows, oldest first
    missing_days: tuple[dt.date, ...]
    baseline_day: dt.date | None  # what "in the range" is counted from
    totals: DayPoint | None  # the end day's (the latest day with rows)
    deals_by_stage: dict[str, int] = field(default_factory=dict)  # on the end day
    pending_commission: Decimal = ZERO
    currency: str = "USD"
    comparisons: tuple[BenchmarkComparison, ...] = ()

    @property
    def end_day(self) -> dt.date | None:
        return None if self.totals is None else self.totals.day

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def check_range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise ValidationError(
            f"The range ends ({end.isoformat()}) before it starts ({start.isoformat()}): "
            "choose its days again."
        )
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise ValidationError(
            f"A range covers at most {MAX_RANGE_DAYS} days; {start.isoformat()} to "
            f"{end.isoformat()} covers {days:,}."
        )


def _scope_conditions(
    s: Session, actor: Actor | None, scope: AnalyticsScope
) -> tuple[list[sa.ColumnElement[bool]], str]:
    """Conditions on ``User`` (the agent) for ``scope``, and the scope said in words; refuses
    an agent or team the person may not see."""
    if scope.agent_id is not None and scope.team_id is not None:
        raise ValidationError("Choose an agent or a team, not both.")
    visible = _visible(actor)
    if scope.agent_id is not None:
        person = s.execute(
            sa.select(User.first_name, User.last_name, User.email).where(User.id == scope.agent_id)
        ).first()
        if person is None:
            raise ValidationError(f"There is no person {scope.agent_id} in the office.")
        name = _name(*person)
        seen = s.scalar(sa.select(User.id).where(User.id == scope.agent_id, *visible))
        if seen is None:
            raise PermissionDenied(
                f"You may not see {name}'s figures: only they, their broker, the manager of "
                "their team and admins may."
            )
        return [User.id == scope.agent_id], name
    if scope.team_id is not None:
        team = s.scalar(sa.select(Team.name).where(Team.id == scope.team_id))
        if team is None:
            raise ValidationError(f"There is no team {scope.team_id} in the office.")
        offered = s.scalar(
            sa.select(sa.func.count()).select_from(
                _offered_teams(actor).where(Team.id == scope.team_id).subquery()
            )
        )
        if not offered:
            raise PermissionDenied(
                f"You may not see team {team}'s figures: only its manager, the broker of its "
                "agents and admins may."
            )
        return [User.team_id == scope.team_id, *visible], f"Team {team}"
    return visible, "Everyone you see"


def _daily_rows(
    s: Session, conditions: Sequence[sa.ColumnElement[bool]], first: dt.date, last: dt.date
) -> list[Any]:
    """Per day from ``first`` to ``last``: the scope's sums, and the sums of the baselines of
    the agents with a row that day (each agent's first row from ``first`` on)."""
    snap = AgentPerformanceSnapshot
    window = (snap.as_of_date >= first, snap.as_of_date <= last)

    def scoped(stmt: sa.Select[*tuple[Any, ...]]) -> sa.Select[*tuple[Any, ...]]:
        if conditions:
            stmt = stmt.join(User, User.id == snap.agent_id).where(*conditions)
        return stmt

    first_rows = (
        scoped(sa.select(snap.agent_id, sa.func.min(snap.as_of_date).label("day")).where(*window))
        .group_by(snap.agent_id)
        .subquery("first_rows")
    )
    base = aliased(snap, name="base")
    baselines = (
        sa.select(
            base.agent_id.label("agent_id"),
            base.deals_closed_won.label("won"),
            base.closed_won_volume.label("volume"),
        )
        .join(
            first_rows,
            sa.and_(base.agent_id == first_rows.c.agent_id, base.as_of_date == first_rows.c.day),
        )
        .subquery("baselines")
    )
    stmt = (
        scoped(
            sa.select(
                snap.as_of_date,
                sa.func.count(),
                sa.func.sum(snap.weighted_pipeline_value),
                sa.func.sum(snap.gross_pipeline_value),
                sa.func.sum(snap.deals_open),
                sa.func.sum(snap.deals_closed_won),
                sa.func.sum(snap.deals_closed_lost),
                sa.func.sum(snap.closed_won_volume),
                sa.func.sum(snap.cycle_days_total),
                sa.func.sum(snap.confirmed_commission_amount),
                sa.func.sum(snap.disputed_commission_amount),
                sa.func.sum(baselines.c.won),
                sa.func.sum(baselines.c.volume),
            ).where(*window)
        )
        .join(baselines, baselines.c.agent_id == snap.agent_id)
        .group_by(snap.as_of_date)
        .order_by(snap.as_of_date)
    )
    return list(s.execute(stmt))


def _money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value)


def _ratio(part: int | Decimal, whole: int, scale: Decimal = HUNDRED) -> Decimal | None:
    return None if not whole else Decimal(part) * scale / Decimal(whole)


def _points(rows: list[Any], start: dt.date) -> tuple[list[DayPoint], dt.date | None]:
    before = [r for r in rows if r[0] < start]
    inside = [r for r in rows if r[0] >= start]
    base = before[-1] if before else (inside[0] if inside else None)
    points: list[DayPoint] = []
    for row in inside:
        day, n, weighted, gross, open_, won, lost, volume, cycle, confirmed, disputed = row[:11]
        base_won, base_volume = row[11:]
        won, lost, cycle = int(won or 0), int(lost or 0), int(cycle or 0)
        points.append(
            DayPoint(
                day=day,
                agents=int(n),
                weighted_pipeline=_money(weighted),
                gross_pipeline=_money(gross),
                deals_open=int(open_ or 0),
                deals_closed_won=won,
                deals_closed_lost=lost,
                won_in_range=won - int(base_won or 0),
                volume_in_range=_money(volume) - _money(base_volume),
                conversion_rate=_ratio(won, won + lost),
                avg_cycle_days=_ratio(cycle, won, Decimal(1)),
                confirmed_commission=_money(confirmed),
                disputed_commission=_money(disputed),
            )
        )
    return points, (base[0] if base is not None else None)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _decimal(value: Any) -> Decimal:
    try:
        found = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ZERO
    return found if found.is_finite() else ZERO


def _end_day_ratios(
    s: Session, conditions: Sequence[sa.ColumnElement[bool]], day: dt.date
) -> tuple[dict[str, int], Decimal, set[str]]:
    """The deals by stage and pending commission summed over the end day's JSON ratios."""
    snap = AgentPerformanceSnapshot
    stmt = sa.select(snap.ratios).where(snap.as_of_date == day)
    if conditions:
        stmt = stmt.join(User, User.id == snap.agent_id).where(*conditions)
    stages = {stage.value: 0 for stage in DealStage}
    pending = ZERO
    currencies: set[str] = set()
    for ratios in s.scalars(stmt):
        if not isinstance(ratios, dict):
            continue
        by_stage = ratios.get("deals_by_stage")
        if isinstance(by_stage, dict):
            for stage in stages:
                stages[stage] += _int(by_stage.get(stage, 0))
        pending += _decimal(ratios.get("pending_commission_amount", 0))
        currency = ratios.get("currency")
        if isinstance(currency, str) and currency:
            currencies.add(currency)
    return stages, pending, currencies


def analytics_overview(
    db: Database,
    scope: AnalyticsScope,
    start: dt.date,
    end: dt.date,
    acting: Acting = None,
) -> AnalyticsOverview:
    check_range(start, end)
    with db.read() as s:
        actor = resolve_viewer(s, db, acting)
        conditions, label = _scope_conditions(s, actor, scope)
        rows = _daily_rows(s, conditions, start - ONE_DAY, end)
        points, baseline = _points(rows, start)
        totals = points[-1] if points else None
        stages: dict[str, int] = {stage.value: 0 for stage in DealStage}
        pending = ZERO
        currencies: set[str] = set()
        if totals is not None:
            stages, pending, currencies = _end_day_ratios(s, conditions, totals.day)
        groups = _closed_deal_groups(s, conditions, start, end)
        benchmarks = load_benchmarks(s)
    currency = next(iter(currencies)) if len(currencies) == 1 else get_currency(db)
    present = {p.day for p in points}
    missing = tuple(
        day
        for day in (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
        if day not in present
    )
    return AnalyticsOverview(
        scope=scope,
        scope_label=label,
        start=start,
        end=end,
        points=tuple(points),
        missing_days=missing,
        baseline_day=baseline,
        totals=totals,
        deals_by_stage=stages,
        pending_commission=pending,
        currency=currency,
        comparisons=compare(groups, benchmarks, end),
    )


# -- ours beside the benchmarks ---------------------------------------------------------------


@dataclass
class ClosedGroup:
    """The deals of one (asset type, deal type) closed in the range."""

    asset_type: str | None
    deal_type: str | None
    won: int = 0
    lost: int = 0
    cycle_days: int = 0  # Σ over the won ones
    rate_total: Decimal = ZERO  # Σ commission_rate of the earned records on the won ones
    rates: int = 0

    def add(self, other: ClosedGroup) -> None:
        self.won += other.won
        self.lost += other.lost
        self.cycle_days += other.cycle_days
        self.rate_total += other.rate_total
        self.rates += other.rates

    def figure(self, metric: str) -> tuple[Decimal | None, int]:
        if metric == CONVERSION_RATE:
            return _ratio(self.won, self.won + self.lost), self.won + self.lost
        if metric == AVG_CYCLE_DAYS:
            return _ratio(self.cycle_days, self.won, Decimal(1)), self.won
        return _ratio(self.rate_total, self.rates, Decimal(1)), self.rates


def _days_to_close(dialect: str) -> sa.ColumnElement[Any]:
    """Whole days from a deal's creation (its UTC date) to its close date, in SQL (the rule of
    ``app.domain.pipeline.cycle_days``)."""
    if dialect == "postgresql":
        made = sa.cast(sa.func.timezone("UTC", Deal.created_at), sa.Date)
        return Deal.actual_close_date - made
    # SQLite keeps UTC times as text: date() is their UTC day.
    return sa.func.julianday(Deal.actual_close_date) - sa.func.julianday(
        sa.func.date(Deal.created_at)
    )


def _closed_deal_groups(
    s: Session,
    conditions: Sequence[sa.ColumnElement[bool]],
    start: dt.date,
    end: dt.date,
) -> list[ClosedGroup]:
    """The deals closed in the range by (asset type, deal type): two grouped queries. Closed
    by status (a cancelled deal counts nowhere), which also lets both backends read the
    range off ``ix_deals_close_date`` (by stage, SQLite walked every closed deal: 85 ms
    instead of 9 on the ``large`` demo)."""

    def scoped(stmt: sa.Select[*tuple[Any, ...]]) -> sa.Select[*tuple[Any, ...]]:
        # ``agent_id + 0``: the deals are found by their close date, then their agent checked.
        # Joined plainly, SQLite went from the people seen to all their closed deals
        # (``ix_deals_agent_status``): 160 ms for a broker of 500 agents instead of 15.
        if conditions:
            stmt = stmt.join(User, User.id == Deal.agent_id + 0).where(*conditions)
        return stmt

    in_range = (Deal.actual_close_date >= start, Deal.actual_close_date <= end)
    days = _days_to_close(s.get_bind().dialect.name)
    deals = scoped(
        sa.select(
            Deal.asset_type,
            Deal.deal_type,
            Deal.status,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(days), 0),
        ).where(Deal.status.in_([DealStatus.CLOSED_WON, DealStatus.CLOSED_LOST]), *in_range)
    ).group_by(Deal.asset_type, Deal.deal_type, Deal.status)
    groups: dict[tuple[str | None, str | None], ClosedGroup] = {}

    def group(asset: str | None, deal: str | None) -> ClosedGroup:
        found = groups.get((asset, deal))
        if found is None:
            found = groups[(asset, deal)] = ClosedGroup(asset, deal)
        return found

    for asset, deal, status, n, total in s.execute(deals):
        g = group(asset, deal)
        if status == DealStatus.CLOSED_WON:
            g.won += int(n)
            g.cycle_days += round(float(total))
        else:
            g.lost += int(n)
    rates = scoped(
        sa.select(
            Deal.asset_type,
            Deal.deal_type,
            sa.func.sum(CommissionRecord.commission_rate),
            sa.func.count(),
        )
        .select_from(CommissionRecord)
        .join(Deal, Deal.id == CommissionRecord.deal_id)
        .where(
            Deal.status == DealStatus.CLOSED_WON,
            *in_range,
            CommissionRecord.status.in_(EARNED),
        )
    ).group_by(Deal.asset_type, Deal.deal_type)
    for asset, deal, total, n in s.execute(rates):
        g = group(asset, deal)
        g.rate_total += _money(total)
        g.rates += int(n)
    return sorted(groups.values(), key=lambda g: (g.asset_type or "", g.deal_type or ""))


def _figure(row: BenchmarkRow | None) -> BenchmarkFigure | None:
    if row is None:
        return None
    return BenchmarkFigure(row.value_numeric, row.value_text, row.source, row.effective_date)


def verdict(ours: Decimal | None, industry: Decimal | None, higher_is_better: bool) -> str | None:
    """Whether ours is better or worse than the industry average (None: nothing to say)."""
    if ours is None or industry is None:
        return None
    if ours == industry:
        return LEVEL
    return BETTER if (ours > industry) == higher_is_better else WORSE


def compare(
    groups: Iterable[ClosedGroup], rows: Sequence[BenchmarkRow], as_of: dt.date
) -> tuple[BenchmarkComparison, ...]:
    """Ours beside the benchmarks that apply, per metric: the overall row, then each
    (asset type, deal type) by name. Only rows with a benchmark are listed."""
    listed = list(groups)
    overall = ClosedGroup(None, None)
    for g in listed:
        overall.add(g)
    out: list[BenchmarkComparison] = []
    for key, name, higher, places in METRICS:
        for g in (overall, *listed):
            found = applicable(rows, key, g.asset_type, g.deal_type, as_of=as_of)
            if not found:
                continue
            value, basis = g.figure(key)
            ours = None if value is None else quantize(value, places)
            industry = _figure(found.get(BenchmarkCohort.INDUSTRY_AVG.value))
            out.append(
                BenchmarkComparison(
                    metric_key=key,
                    metric=name,
                    asset_type=g.asset_type,
                    deal_type=g.deal_type,
                    ours=ours,
                    basis=basis,
                    higher_is_better=higher,
                    industry_avg=industry,
                    top_quartile=_figure(found.get(BenchmarkCohort.TOP_QUARTILE.value)),
                    internal_avg=_figure(found.get(BenchmarkCohort.INTERNAL_AVG.value)),
                    verdict=verdict(ours, None if industry is None else industry.value, higher),
                )
            )
    return tuple(out)
