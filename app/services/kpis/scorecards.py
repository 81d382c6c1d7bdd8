"""Scorecards (SPEC §7): a person's KPIs (My KPIs), a team's members (Team view), and the
``report kpis`` figures.

Rules where SPEC.md is silent (also in docs/rules.md):
- a card is an active assignment on the day looked at (default today); it shows the newest
  measurement whose period started on or before that day, and up to the 6 newest
  measurements as a sparkline (oldest first);
- the overall score of a scorecard is SPEC §7 over the cards that have a measurement
  (their newest), weighted by the assignments' weights;
- for a date range (``report kpis --period-start --period-end``), an assignment counts with
  its newest measurement whose period starts within the range; the overall score is SPEC §7
  over those;
- Team view: the members of the team (or of every team the acting person manages, or the
  whole office for an admin), each with their overall score, how many KPIs are below target
  (achievement < 100) and how many are missing a measurement; the team's average is the
  mean of the members' overall scores that exist; per KPI, the mean achievement of the
  members who have one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import KpiAssignment, KpiDefinition, KpiMeasurement, Team, User
from app.domain.errors import PermissionDenied, ValidationError
from app.domain.kpis import Scored, overall_score
from app.domain.money import quantize
from app.services.database import Database
from app.services.kpis.access import KpiScope, kpi_scope
from app.services.records import Acting, resolve_actor

SPARK = 6


@dataclass(frozen=True)
class Point:
    period_start: dt.date
    actual: Decimal
    achievement: Decimal | None


@dataclass(frozen=True)
class Card:
    assignment_id: int
    kpi_id: int
    kpi: str
    category: str | None
    unit: str | None
    target_type: str
    period: str
    calculation_type: str
    weight: Decimal
    target: Decimal
    latest: Point | None
    latest_target: Decimal | None
    history: tuple[Point, ...]

    @property
    def achievement(self) -> Decimal | None:
        return self.latest.achievement if self.latest else None


@dataclass(frozen=True)
class Scorecard:
    user_id: int
    name: str
    email: str
    as_of: dt.date
    cards: tuple[Card, ...]
    overall: Decimal | None
    weights_total: Decimal


def _name(u: User) -> str:
    return f"{u.first_name} {u.last_name}".strip()


def _active_on(day: dt.date) -> list[sa.ColumnElement[bool]]:
    return [
        KpiAssignment.is_active.is_(True),
        KpiAssignment.start_date <= day,
        sa.or_(KpiAssignment.end_date.is_(None), KpiAssignment.end_date >= day),
    ]


def _recent(
    s: Session,
    assignment_ids: Collection[int],
    *,
    upto: dt.date | None = None,
    since: dt.date | None = None,
    keep: int = SPARK,
) -> dict[int, list[Any]]:
    """Per assignment its ``keep`` newest measurements (newest first), chosen in SQL."""
    if not assignment_ids:
        return {}
    conditions: list[sa.ColumnElement[bool]] = [
        KpiMeasurement.assignment_id.in_(list(assignment_ids))
    ]
    if upto is not None:
        conditions.append(KpiMeasurement.period_start <= upto)
    if since is not None:
        conditions.append(KpiMeasurement.period_start >= since)
    columns = (
        KpiMeasurement.assignment_id,
        KpiMeasurement.period_start,
        KpiMeasurement.actual_value,
        KpiMeasurement.target_value,
        KpiMeasurement.achievement_pct,
    )
    if keep == 1:
        # The newest only: MAX over the (assignment, period) index, then those rows; a
        # window over every measurement of a team's daily KPIs costs ten times more.
        newest = (
            sa.select(
                KpiMeasurement.assignment_id.label("aid"),
                sa.func.max(KpiMeasurement.period_start).label("start"),
            )
            .where(*conditions)
            .group_by(KpiMeasurement.assignment_id)
            .subquery()
        )
        stmt = sa.select(*columns).join(
            newest,
            sa.and_(
                KpiMeasurement.assignment_id == newest.c.aid,
                KpiMeasurement.period_start == newest.c.start,
            ),
        )
        rows: Any = s.execute(stmt)
    else:
        rank = (
            sa.func.row_number()
            .over(
                partition_by=KpiMeasurement.assignment_id,
                order_by=KpiMeasurement.period_start.desc(),
            )
            .label("rank")
        )
        ranked = sa.select(*columns, rank).where(*conditions).subquery()
        rows = s.execute(
            sa.select(
                ranked.c.assignment_id,
                ranked.c.period_start,
                ranked.c.actual_value,
                ranked.c.target_value,
                ranked.c.achievement_pct,
            )
            .where(ranked.c.rank <= keep)
            .order_by(ranked.c.assignment_id, ranked.c.period_start.desc())
        )
    out: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        out[int(row[0])].append(row)
    return out


def _assignments(
    s: Session, user_ids: Collection[int], day: dt.date
) -> list[tuple[KpiAssignment, KpiDefinition]]:
    return [
        (a, d)
        for a, d in s.execute(
            sa.select(KpiAssignment, KpiDefinition)
            .join(KpiDefinition, KpiDefinition.id == KpiAssignment.kpi_definition_id)
            .where(KpiAssignment.user_id.in_(list(user_ids)), *_active_on(day))
            .order_by(KpiAssignment.user_id, KpiAssignment.weight.desc(), KpiDefinition.name)
        )
    ]


def _cards(
    pairs: Sequence[tuple[KpiAssignment, KpiDefinition]], recent: dict[int, list[Any]]
) -> list[Card]:
    cards: list[Card] = []
    for a, d in pairs:
        rows = recent.get(a.id, [])
        points = tuple(Point(r[1], r[2], r[4]) for r in reversed(rows))
        cards.append(
            Card(
                a.id, d.id, d.name, d.category, d.unit, str(d.target_type),
                str(d.aggregation_period), str(d.calculation_type), a.weight, a.target_value,
                points[-1] if points else None, rows[0][3] if rows else None, points,
            )
        )  # fmt: skip
    return cards


def _score(cards: Sequence[Card]) -> Decimal | None:
    return overall_score(Scored(c.weight, c.achievement) for c in cards if c.latest)


def _scope(db: Database, s: Session, acting: Acting) -> KpiScope:
    return kpi_scope(s, resolve_actor(s, db, acting))


def my_kpis(
    db: Database, user_id: int | None = None, acting: Acting = None, as_of: dt.date | None = None
) -> Scorecard:
    """A person's scorecard (default: the acting person's own)."""
    day = as_of or dt.datetime.now(dt.UTC).date()
    with db.read() as s:
        scope = _scope(db, s, acting)
        uid = user_id if user_id is not None else (scope.actor.id if scope.actor else None)
        if uid is None:
            raise ValidationError("Choose whose KPIs to show.")
        if not scope.may_read(uid):
            raise PermissionDenied("You may not see that person's KPIs.")
        user = s.get(User, uid)
        if user is None:
            raise ValidationError("That person is not in the office.")
        pairs = _assignments(s, [uid], day)
        recent = _recent(s, [a.id for a, _ in pairs], upto=day)
        cards = _cards(pairs, recent)
        weights = sum((c.weight for c in cards), Decimal(0))
        return Scorecard(uid, _name(user), user.email, day, tuple(cards), _score(cards), weights)


# -- Team view ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberScore:
    user_id: int
    name: str
    email: str
    team: str | None
    overall: Decimal | None
    kpis: int
    below_target: int
    unmeasured: int


@dataclass(frozen=True)
class KpiAverage:
    kpi: str
    members: int
    average_achievement: Decimal | None


@dataclass(frozen=True)
class TeamView:
    title: str
    as_of: dt.date
    members: tuple[MemberScore, ...]
    average: Decimal | None
    by_kpi: tuple[KpiAverage, ...]


def viewable_teams(db: Database, acting: Acting = None) -> list[tuple[int, str]]:
    """The teams whose Team view the acting person may open (managed; all for an admin or
    in local mode; a broker's teams)."""
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        stmt = sa.select(Team.id, Team.name).order_by(Team.name)
        if actor is not None and actor.role != "admin":
            stmt = stmt.where(sa.or_(Team.manager_id == actor.id, Team.broker_id == actor.id))
        return [(int(i), str(n)) for i, n in s.execute(stmt)]


def team_view(
    db: Database, team_id: int | None = None, acting: Acting = None, as_of: dt.date | None = None
) -> TeamView:
    """Members' overall scores for one team (or every team the acting person may view)."""
    day = as_of or dt.datetime.now(dt.UTC).date()
    teams = dict(viewable_teams(db, acting))
    if team_id is not None and team_id not in teams:
        raise PermissionDenied("You may not see that team's KPIs.")
    wanted = [team_id] if team_id is not None else list(teams)
    with db.read() as s:
        scope = _scope(db, s, acting)
        people = [
            u
            for u in s.scalars(
                sa.select(User)
                .where(User.team_id.in_(wanted), User.is_active.is_(True))
                .order_by(User.last_name, User.first_name)
            )
            if scope.may_read(u.id)
        ]
        pairs = _assignments(s, [u.id for u in people], day)
        recent = _recent(s, [a.id for a, _ in pairs], upto=day, keep=1)
        by_person: dict[int, list[tuple[KpiAssignment, KpiDefinition]]] = defaultdict(list)
        for a, d in pairs:
            by_person[int(a.user_id or 0)].append((a, d))
        members: list[MemberScore] = []
        per_kpi: dict[str, list[Decimal]] = defaultdict(list)
        for u in people:
            cards = _cards(by_person.get(u.id, []), recent)
            for c in cards:
                if c.achievement is not None:
                    per_kpi[c.kpi].append(c.achievement)
            members.append(
                MemberScore(
                    u.id, _name(u), u.email, teams.get(u.team_id or 0), _score(cards),
                    len(cards), sum(1 for c in cards if c.achievement is not None
                                    and c.achievement < 100),
                    sum(1 for c in cards if c.latest is None),
                )
            )  # fmt: skip
    scores = [m.overall for m in members if m.overall is not None]
    average = quantize(sum(scores, Decimal(0)) / len(scores), 2) if scores else None
    by_kpi = tuple(
        KpiAverage(k, len(v), quantize(sum(v, Decimal(0)) / len(v), 2))
        for k, v in sorted(per_kpi.items())
    )
    title = teams[team_id] if team_id is not None else "All my teams"
    return TeamView(title, day, tuple(members), average, by_kpi)


# -- report kpis -----------------------------------------------------------------------------------


def _value(unit: str | None, value: Decimal) -> Any:
    """Money ($ KPIs) as a string with 2 decimals, anything else as a number (SPEC §12)."""
    if unit == "$":
        return f"{quantize(value, 2):.2f}"
    return float(value)


def kpi_report(db: Database, start: dt.date, end: dt.date, acting: Acting = None) -> dict[str, Any]:
    """``report kpis`` (SPEC §12): every readable person with assignments active in the range,
    their newest measurement per assignment with a period starting in the range, and the
    overall score over those."""
    if end < start:
        raise ValidationError("The period ends before it starts.")
    with db.read() as s:
        scope = _scope(db, s, acting)
        stmt = (
            sa.select(KpiAssignment, KpiDefinition, User)
            .join(KpiDefinition, KpiDefinition.id == KpiAssignment.kpi_definition_id)
            .join(User, User.id == KpiAssignment.user_id)
            .where(
                KpiAssignment.is_active.is_(True),
                KpiAssignment.start_date <= end,
                sa.or_(KpiAssignment.end_date.is_(None), KpiAssignment.end_date >= start),
            )
            .order_by(User.email, KpiDefinition.name, KpiAssignment.start_date)
        )
        if scope.readable is not None:
            stmt = stmt.where(KpiAssignment.user_id.in_(list(scope.readable)))
        rows: list[tuple[KpiAssignment, KpiDefinition, User]] = [
            (a, d, u) for a, d, u in s.execute(stmt).all()
        ]
        recent = _recent(s, [a.id for a, _d, _u in rows], upto=end, since=start, keep=1)
    users: dict[str, dict[str, Any]] = {}
    parts: dict[str, list[Scored]] = defaultdict(list)
    for a, d, u in rows:
        entry = users.setdefault(u.email, {"email": u.email, "overall_score": None, "kpis": []})
        latest = recent.get(a.id)
        m = latest[0] if latest else None
        entry["kpis"].append(
            {
                "name": d.name,
                "actual": None if m is None else _value(d.unit, m[2]),
                "target": _value(d.unit, m[3] if m is not None else a.target_value),
                "achievement_pct": None if m is None or m[4] is None else float(m[4]),
                "weight": float(a.weight),
            }
        )
        if m is not None:
            parts[u.email].append(Scored(a.weight, m[4]))
    for email, entry in users.items():
        score = overall_score(parts.get(email, []))
        entry["overall_score"] = None if score is None else float(score)
    return {"users": list(users.values())}


def scorecard_people(db: Database, acting: Acting = None) -> list[tuple[int, str]]:
    """(id, name) of the active people whose scorecards the acting person may open: the acting
    person first, then those with KPIs assigned, each group by name."""
    today = dt.datetime.now(dt.UTC).date()
    with db.read() as s:
        scope = _scope(db, s, acting)
        assigned = set(
            s.scalars(sa.select(KpiAssignment.user_id).where(*_active_on(today)).distinct())
        )
        people = [
            (u.id, _name(u))
            for u in s.scalars(
                sa.select(User)
                .where(User.is_active.is_(True))
                .order_by(User.last_name, User.first_name)
            )
            if scope.may_read(u.id)
        ]
    me = scope.actor.id if scope.actor else None
    return sorted(people, key=lambda p: (p[0] != me, p[0] not in assigned))
