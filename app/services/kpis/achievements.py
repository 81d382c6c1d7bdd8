"""Badges (SPEC §8): rules that award themselves, manual awards, and the timeline.

A rule (``achievement_definitions``) names a metric, a threshold and a period type: it is
earned by whoever's figure for a period of that type reaches the threshold ("First $10K":
revenue ≥ 10,000 in a month; "3 closings in a month": orders ≥ 3). The metric is a SPEC §8
figure (``sales.METRIC_KEYS``) or ``kpi:<KPI name>``, a KPI's measured value.

Rules where SPEC.md is silent (also in docs/rules.md):
- the ``achievements`` job looks at the current period of each rule's type (to date) and the
  one before it (whole), so a badge comes the day it is earned and a late record still
  counts; a badge is earned at most once per person, rule and period;
- rates (conversion, win, show) are only earned with at least one thing counted (a rate of
  a period with no leads is no rate);
- a manual award names the person, the badge and the period (the period holding the day
  given); only the manager of the person's team or an admin awards; the person is told
  (``achievement.earned``) as for a rule's award;
- rules are written by admins; a rule's key is lower-case letters, digits and _; its metric
  (``kpi:`` and the KPI's name included) is at most 40 characters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import KpiAssignment, KpiDefinition, KpiMeasurement, User
from app.db.models.goals import AchievementDefinition, UserAchievement
from app.domain.enums import NotificationType, PeriodType
from app.domain.errors import ValidationError
from app.domain.money import parse_decimal
from app.domain.periods import Period, period_of
from app.services.database import Database
from app.services.kpis.access import kpi_scope
from app.services.kpis.alerts import notify
from app.services.kpis.sales import METRIC_KEYS, sales_figures
from app.services.records import Acting, resolve_actor

KEY_RE = re.compile(r"^[a-z0-9_]{1,60}$")
KPI_PREFIX = "kpi:"
METRIC_MAX = 40  # achievement_definitions.metric
METRIC_LABELS: Mapping[str, str] = {
    "revenue": "Revenue",
    "orders": "Orders",
    "leads": "Leads",
    "opportunities": "Opportunities",
    "deals_won": "Deals won",
    "escrows_closed": "Escrows closed",
    "conversion_rate": "Conversion rate %",
    "win_rate": "Win rate %",
    "show_rate": "Show rate %",
    "appointments_completed": "Appointments completed",
    "calls": "Calls",
    "emails": "Emails",
    "meetings": "Meetings",
}


@dataclass(frozen=True)
class BadgeRule:
    id: int
    version: int
    key: str
    name: str
    description: str | None
    metric: str
    threshold: Decimal
    period_type: str
    icon: str | None
    is_active: bool
    earned: int


@dataclass(frozen=True)
class Earned:
    id: int
    user_id: int
    person: str
    badge: str
    description: str | None
    icon: str | None
    period_start: dt.date
    period_type: str
    earned_at: dt.datetime


def list_rules(db: Database) -> list[BadgeRule]:
    counts = (
        sa.select(UserAchievement.achievement_id, sa.func.count().label("n"))
        .group_by(UserAchievement.achievement_id)
        .subquery()
    )
    with db.read() as s:
        rows = s.execute(
            sa.select(AchievementDefinition, sa.func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.achievement_id == AchievementDefinition.id)
            .order_by(AchievementDefinition.name)
        )
        return [
            BadgeRule(
                r.id,
                r.version,
                r.key,
                r.name,
                r.description,
                r.metric,
                r.threshold,
                str(r.period_type),
                r.icon,
                r.is_active,
                int(n),
            )
            for r, n in rows
        ]


def timeline(
    db: Database, acting: Acting = None, user_id: int | None = None, limit: int = 200
) -> list[Earned]:
    """Badges earned, newest first, of the people the acting person may read."""
    with db.read() as s:
        scope = kpi_scope(s, resolve_actor(s, db, acting))
        stmt = (
            sa.select(UserAchievement, AchievementDefinition, User)
            .join(AchievementDefinition, AchievementDefinition.id == UserAchievement.achievement_id)
            .join(User, User.id == UserAchievement.user_id)
            .order_by(UserAchievement.earned_at.desc(), UserAchievement.id.desc())
            .limit(limit)
        )
        if user_id is not None:
            stmt = stmt.where(UserAchievement.user_id == user_id)
        if scope.readable is not None:
            stmt = stmt.where(UserAchievement.user_id.in_(list(scope.readable)))
        return [
            Earned(
                ua.id,
                u.id,
                f"{u.first_name} {u.last_name}".strip(),
                d.name,
                d.description,
                d.icon,
                ua.period_start,
                str(d.period_type),
                ua.earned_at,
            )
            for ua, d, u in s.execute(stmt)
        ]


# -- awarding -------------------------------------------------------------------------------------


def _kpi_values(s: Session, name: str, p: Period) -> dict[int, Decimal]:
    rows = s.execute(
        sa.select(KpiAssignment.user_id, KpiMeasurement.actual_value)
        .join(KpiAssignment, KpiAssignment.id == KpiMeasurement.assignment_id)
        .join(KpiDefinition, KpiDefinition.id == KpiAssignment.kpi_definition_id)
        .where(KpiDefinition.name == name, KpiMeasurement.period_start == p.start)
    )
    return {int(uid): value for uid, value in rows if uid is not None}


def _values(
    s: Session, rule: AchievementDefinition, p: Period, upto: dt.date
) -> dict[int, Decimal]:
    if rule.metric.startswith(KPI_PREFIX):
        return _kpi_values(s, rule.metric[len(KPI_PREFIX) :], p)
    out: dict[int, Decimal] = {}
    for uid, f in sales_figures(s, p.start, min(p.end, upto)).items():
        value = f.metric(rule.metric)  # a rate with nothing to divide by is None: no badge
        if value is not None:
            out[uid] = value
    return out


def award_due(s: Session, as_of: dt.date) -> int:
    """The ``achievements`` job: award every active rule's badges for the current period of
    its type (to ``as_of``) and the one before; how many were awarded."""
    rules = list(s.scalars(sa.select(AchievementDefinition).where(AchievementDefinition.is_active)))
    active = set(s.scalars(sa.select(User.id).where(User.is_active.is_(True))))
    awarded = 0
    for rule in rules:
        current = period_of(PeriodType(rule.period_type), as_of)
        before = period_of(PeriodType(rule.period_type), current.start - dt.timedelta(days=1))
        for p in (before, current):
            have = set(
                s.scalars(
                    sa.select(UserAchievement.user_id).where(
                        UserAchievement.achievement_id == rule.id,
                        UserAchievement.period_start == p.start,
                    )
                )
            )
            for uid, value in sorted(_values(s, rule, p, as_of).items()):
                if uid in have or uid not in active or value < rule.threshold:
                    continue
                awarded += _award(s, uid, rule, p)
    s.flush()
    return awarded


def _award(s: Session, user_id: int, rule: AchievementDefinition, p: Period) -> int:
    row = UserAchievement(user_id=user_id, achievement_id=rule.id, period_start=p.start)
    s.add(row)
    s.flush()
    span = p.start.isoformat() if p.start == p.end else f"{p.start.isoformat()} to {p.end}"
    notify(
        s, NotificationType.ACHIEVEMENT_EARNED, row.id, [user_id], f"Badge earned: {rule.name}",
        f"{rule.description or rule.name} ({span})", agent_id=user_id,
    )  # fmt: skip
    return 1


def award_manually(
    db: Database, user_id: int, achievement_id: int, day: dt.date, acting: Acting = None
) -> int:
    """Award a badge by hand for the period holding ``day``; returns the award's id."""
    with db.session() as s:
        actor = resolve_actor(s, db, acting)
        user = s.get(User, user_id)
        if user is None or not user.is_active:
            raise ValidationError("Choose an active person.")
        kpi_scope(s, actor).check_write(user.id, user.email)
        rule = s.get(AchievementDefinition, achievement_id)
        if rule is None:
            raise ValidationError("That badge no longer exists.")
        p = period_of(PeriodType(rule.period_type), day)
        taken = s.scalar(
            sa.select(UserAchievement.id).where(
                UserAchievement.user_id == user.id,
                UserAchievement.achievement_id == rule.id,
                UserAchievement.period_start == p.start,
            )
        )
        if taken is not None:
            raise ValidationError(
                f"{user.first_name} {user.last_name} already has {rule.name} for that period."
            )
        _award(s, user.id, rule, p)
        found = s.scalar(
            sa.select(UserAchievement.id).where(
                UserAchievement.user_id == user.id,
                UserAchievement.achievement_id == rule.id,
                UserAchievement.period_start == p.start,
            )
        )
        return int(found or 0)


# -- rules ---------------------------------------------------------------------------------------


def save_rule(
    db: Database, values: Mapping[str, Any], rule_id: int | None = None, acting: Acting = None
) -> int:
    """Create or change a badge rule (admins)."""
    errors: dict[str, str] = {}
    key = str(values.get("key") or "").strip()
    name = str(values.get("name") or "").strip()
    metric = str(values.get("metric") or "").strip()
    period = str(values.get("period_type") or "").strip()
    if not KEY_RE.match(key):
        errors["key"] = "lower-case letters, digits and _, up to 60"
    if not name or len(name) > 120:
        errors["name"] = "required, up to 120 characters"
    if metric not in METRIC_KEYS and not (metric.startswith(KPI_PREFIX) and len(metric) > 4):
        errors["metric"] = "a sales figure or kpi:<KPI name>"
    elif len(metric) > METRIC_MAX:
        errors["metric"] = f"at most {METRIC_MAX} characters, kpi: and the KPI's name together"
    if period not in {p.value for p in PeriodType}:
        errors["period_type"] = "choose a period"
    threshold: Decimal | None = None
    try:
        threshold = parse_decimal(str(values.get("threshold") or ""))
    except (ValueError, ArithmeticError, ValidationError):
        errors["threshold"] = "a number"
    if errors or threshold is None:
        raise ValidationError("; ".join(f"{k}: {v}" for k, v in errors.items()))
    with db.session() as s:
        kpi_scope(s, resolve_actor(s, db, acting)).check_define()
        clash = s.scalar(
            sa.select(AchievementDefinition.id).where(
                AchievementDefinition.key == key, AchievementDefinition.id != (rule_id or 0)
            )
        )
        if clash is not None:
            raise ValidationError(f"key: a badge with the key {key} exists already")
        rule = s.get(AchievementDefinition, rule_id) if rule_id else AchievementDefinition()
        if rule is None:
            raise ValidationError("That badge no longer exists.")
        rule.key, rule.name, rule.metric, rule.period_type = key, name, metric, period
        rule.threshold = threshold
        rule.description = str(values.get("description") or "").strip() or None
        rule.icon = str(values.get("icon") or "").strip() or None
        rule.is_active = bool(values.get("is_active", True))
        if rule_id is None:
            s.add(rule)
        s.flush()
        return int(rule.id)


def metric_choices() -> Sequence[tuple[str, str]]:
    return tuple(METRIC_LABELS.items())
