"""Sales goals (SPEC §8): per person or per team, for a period, with progress computed from
PerfDesk's own records and finalised when the period ends.

Rules where SPEC.md is silent (also in docs/rules.md):
- a goal's period is a whole period of its type: the start given is moved to the start of
  the period holding it (a monthly goal from 2026-10-15 is October's);
- ``current_value`` of revenue, orders, leads, opportunities and conversion-rate goals is the
  SPEC §8 figure over the goal's period up to the day it is computed (a team's: its active
  members' figures summed, the rate from the sums); a custom goal's is entered by hand;
- achievement % is SPEC §7's higher-is-better rule; the status is SPEC §8's; when the period
  has ended (its last day is before the day of the run) the goal is finalised, ``achieved``
  or ``missed``, and never recomputed after;
- reaching 100 % (the status becoming ``achieved``) notifies the person and their team's
  manager, or a team goal's manager and members (alerts.py), once;
- only the manager of the person's (or the team's) team, or an admin, sets goals; the
  target is more than 0;
- one goal per (person or team, goal type, period type, period): a second is refused (the
  import refuses it too).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.db.models import Team, User
from app.db.models.goals import Goal
from app.domain.enums import GoalStatus, GoalType, NotificationType, PeriodType
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.domain.goals import goal_status
from app.domain.kpis import achievement_pct, stored_pct
from app.domain.money import parse_decimal, quantize
from app.domain.periods import period_of
from app.services.database import Database
from app.services.kpis.access import kpi_scope
from app.services.kpis.alerts import notify, team_manager
from app.services.kpis.sales import SalesFigures, sales_figures, team_figures
from app.services.records import Acting, resolve_actor

GOAL_LABELS: Mapping[str, str] = {
    GoalType.REVENUE.value: "Revenue",
    GoalType.ORDERS.value: "Orders",
    GoalType.LEADS.value: "Leads",
    GoalType.OPPORTUNITIES.value: "Opportunities",
    GoalType.CONVERSION_RATE.value: "Conversion rate",
    GoalType.CUSTOM.value: "Custom",
}
STATUS_LABELS: Mapping[str, str] = {
    GoalStatus.ACHIEVED.value: "Achieved",
    GoalStatus.ON_TRACK.value: "On track",
    GoalStatus.BEHIND.value: "Behind",
    GoalStatus.AT_RISK.value: "At risk",
    GoalStatus.MISSED.value: "Missed",
}
FIELD_LABELS: Mapping[str, str] = {
    "user_id": "Person",
    "team_id": "Team",
    "goal_type": "Goal",
    "period_type": "Period",
    "period_start": "Starting",
    "target_value": "Target",
    "current_value": "Current value",
    "description": "Description",
}
_FIGURE_OF = {
    GoalType.REVENUE.value: "revenue",
    GoalType.ORDERS.value: "orders",
    GoalType.LEADS.value: "leads",
    GoalType.OPPORTUNITIES.value: "opportunities",
    GoalType.CONVERSION_RATE.value: "conversion_rate",
}


class GoalError(ValidationError):
    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(
            "; ".join(f"{FIELD_LABELS.get(k, k)}: {v}" for k, v in self.errors.items())
        )


@dataclass(frozen=True)
class GoalRow:
    id: int
    version: int
    user_id: int | None
    team_id: int | None
    owner: str  # the person's name, or the team's
    email: str | None
    goal_type: str
    period_type: str
    period_start: dt.date
    period_end: dt.date
    target_value: Decimal
    current_value: Decimal
    achievement_pct: Decimal | None
    status: str
    description: str | None
    finalized: bool

    @property
    def progress(self) -> float:
        """0–1 for a progress bar (capped)."""
        if self.achievement_pct is None:
            return 0.0
        return float(min(Decimal(1), max(Decimal(0), self.achievement_pct / 100)))


def figure(goal_type: str, figures: SalesFigures) -> Decimal:
    value = figures.metric(_FIGURE_OF[goal_type])
    return Decimal(0) if value is None else quantize(value, 4)


def _row(g: Goal, users: Mapping[int, User], teams: Mapping[int, str]) -> GoalRow:
    user = users.get(g.user_id or 0)
    owner = f"{user.first_name} {user.last_name}".strip() if user else teams.get(g.team_id or 0, "")
    pct = stored_pct(achievement_pct(g.current_value, g.target_value, "higher_better"))
    return GoalRow(
        g.id, g.version, g.user_id, g.team_id, owner, user.email if user else None,
        str(g.goal_type), str(g.period_type), g.period_start, g.period_end, g.target_value,
        g.current_value, pct, str(g.status), g.description, g.finalized_at is not None,
    )  # fmt: skip


def list_goals(
    db: Database,
    acting: Acting = None,
    *,
    user_id: int | None = None,
    team_id: int | None = None,
    open_only: bool = False,
) -> list[GoalRow]:
    """The goals the acting person may read, newest period first."""
    with db.read() as s:
        scope = kpi_scope(s, resolve_actor(s, db, acting))
        stmt = sa.select(Goal).order_by(Goal.period_start.desc(), Goal.id)
        if user_id is not None:
            stmt = stmt.where(Goal.user_id == user_id)
        if team_id is not None:
            stmt = stmt.where(Goal.team_id == team_id)
        if open_only:
            stmt = stmt.where(Goal.finalized_at.is_(None))
        goals = list(s.scalars(stmt))
        users = {u.id: u for u in s.scalars(sa.select(User))}
        teams = {int(i): str(n) for i, n in s.execute(sa.select(Team.id, Team.name))}
        if scope.readable is not None:
            team_ids = {users[u].team_id for u in scope.readable if u in users}
            goals = [
                g
                for g in goals
                if (g.user_id is not None and g.user_id in scope.readable)
                or (g.user_id is None and g.team_id in team_ids)
            ]
        return [_row(g, users, teams) for g in goals]


def _json_value(goal_type: str, value: Decimal) -> Any:
    """Money as a string with 2 decimals, counts and rates as numbers (SPEC §12)."""
    if goal_type == GoalType.REVENUE.value:
        return f"{quantize(value, 2):.2f}"
    return float(value)


def goals_json(rows: Sequence[GoalRow]) -> dict[str, Any]:
    """``report goals`` (SPEC §12)."""
    return {
        "goals": [
            {
                "user_email": r.email,
                "team": None if r.user_id is not None else r.owner,
                "goal_type": r.goal_type,
                "period_start": r.period_start.isoformat(),
                "period_end": r.period_end.isoformat(),
                "target_value": _json_value(r.goal_type, r.target_value),
                "current_value": _json_value(r.goal_type, r.current_value),
                "achievement_pct": None if r.achievement_pct is None else float(r.achievement_pct),
                "status": r.status,
            }
            for r in rows
        ]
    }


# -- computing ----------------------------------------------------------------------------------


@dataclass
class GoalRefresh:
    updated: int = 0
    finalized: int = 0
    achieved: int = 0
    notified: int = 0


def refresh_goals(s: Session, as_of: dt.date, goal_ids: Sequence[int] | None = None) -> GoalRefresh:
    """Recompute every open goal whose period has begun by ``as_of``; finalise those whose
    period ended before it; notify on reaching 100 %. Set-based: one figures pass per
    distinct period (to date)."""
    out = GoalRefresh()
    goals = list(
        s.scalars(
            sa.select(Goal).where(
                Goal.finalized_at.is_(None),
                Goal.period_start <= as_of,
                *([Goal.id.in_(list(goal_ids))] if goal_ids is not None else []),
            )
        )
    )
    members = _members(s)
    periods: dict[tuple[dt.date, dt.date], dict[int, SalesFigures]] = {}
    now = dt.datetime.now(dt.UTC)
    for g in goals:
        ended = g.period_end < as_of
        upto = min(g.period_end, as_of)
        if g.goal_type != GoalType.CUSTOM.value:
            key = (g.period_start, upto)
            if key not in periods:
                periods[key] = sales_figures(s, g.period_start, upto)
            figures = periods[key]
            if g.user_id is not None:
                value = figure(g.goal_type, figures.get(g.user_id) or SalesFigures(g.user_id))
            else:
                team = [figures.get(u) or SalesFigures(u) for u in members.get(g.team_id or 0, [])]
                value = figure(g.goal_type, team_figures(team))
        else:
            value = g.current_value
        pct = achievement_pct(value, g.target_value, "higher_better")
        status = goal_status(pct, ended).value
        was = str(g.status)
        if value != g.current_value or status != was:
            g.current_value, g.status = value, status
            out.updated += 1
        if ended:
            g.finalized_at = now
            out.finalized += 1
        if status == GoalStatus.ACHIEVED.value and was != GoalStatus.ACHIEVED.value:
            out.achieved += 1
            out.notified += _tell_achieved(s, g, members)
    s.flush()
    return out


def _members(s: Session) -> dict[int, list[int]]:
    """The active members of each team, by team id."""
    members: dict[int, list[int]] = defaultdict(list)
    rows = s.execute(
        sa.select(User.id, User.team_id).where(User.is_active.is_(True)).order_by(User.id)
    )
    for uid, tid in rows:
        if tid is not None:
            members[int(tid)].append(int(uid))
    return members


def _tell_achieved(s: Session, g: Goal, members: Mapping[int, list[int]]) -> int:
    label = GOAL_LABELS.get(str(g.goal_type), str(g.goal_type))
    span = f"{g.period_start.isoformat()} to {g.period_end.isoformat()}"
    if g.user_id is not None:
        who = s.get(User, g.user_id)
        name = f"{who.first_name} {who.last_name}".strip() if who else "Someone"
        recipients = [g.user_id]
        manager = team_manager(s, g.user_id)
        if manager is not None:
            recipients.append(manager)
    else:
        team = s.get(Team, g.team_id)
        name = team.name if team else "A team"
        recipients = list(members.get(g.team_id or 0, []))
        if team is not None and team.manager_id is not None:
            recipients.append(team.manager_id)
    title = f"{name} reached the {label.lower()} goal ({span})"
    body = f"Target {g.target_value.normalize():f}; now {g.current_value.normalize():f}."
    return notify(s, NotificationType.GOAL_ACHIEVED, g.id, recipients, title, body,
                  agent_id=g.user_id)  # fmt: skip


# -- setting goals ------------------------------------------------------------------------------


def _text(values: Mapping[str, Any], key: str) -> str:
    raw = values.get(key)
    return "" if raw is None else str(raw).strip()


def _number(values: Mapping[str, Any], key: str, errors: dict[str, str]) -> Decimal | None:
    raw, text = values.get(key), _text(values, key)
    if not text:
        return None
    try:
        return raw if isinstance(raw, Decimal) else parse_decimal(text)
    except (ValueError, ArithmeticError, ValidationError):
        errors[key] = f"{text!r} is not a number"
        return None


def _owner(
    s: Session, values: Mapping[str, Any], acting: Any, errors: dict[str, str]
) -> tuple[int | None, int | None]:
    scope = kpi_scope(s, acting)
    user_id, team_id = values.get("user_id"), values.get("team_id")
    if user_id:
        user = s.get(User, int(user_id))
        if user is None or not user.is_active:
            errors["user_id"] = "choose an active person"
            return None, None
        if not scope.may_write(user.id):
            raise PermissionDenied(
                f"You may not set goals for {user.email}: only the manager of their team or "
                "an admin may."
            )
        return user.id, None
    if team_id:
        team = s.get(Team, int(team_id))
        if team is None:
            errors["team_id"] = "choose a team"
            return None, None
        actor = scope.actor
        if actor is not None and actor.role != "admin" and team.manager_id != actor.id:
            raise PermissionDenied(
                f"You may not set goals for {team.name}: only its manager or an admin may."
            )
        return None, team.id
    errors["user_id"] = "choose a person or a team"
    return None, None


def save_goal(
    db: Database,
    values: Mapping[str, Any],
    goal_id: int | None = None,
    version: int | None = None,
    acting: Acting = None,
    today: dt.date | None = None,
) -> int:
    """Create (no ``goal_id``) or change a goal from a form's values; returns its id.

    ``values``: user_id | team_id, goal_type, period_type, period_start, target_value,
    description, and current_value for a custom goal. A finalised goal cannot change."""
    day = today or dt.datetime.now(dt.UTC).date()
    try:
        with db.session() as s:
            actor = resolve_actor(s, db, acting)
            errors: dict[str, str] = {}
            existing = s.get(Goal, goal_id) if goal_id is not None else None
            if goal_id is not None and existing is None:
                raise ValidationError("That goal no longer exists.")
            was = str(existing.status) if existing is not None else None
            if existing is not None and existing.finalized_at is not None:
                raise ValidationError("That goal's period has ended; it is final.")
            if existing is None:
                user_id, team_id = _owner(s, values, actor, errors)
            else:
                owner = {"user_id": existing.user_id, "team_id": existing.team_id}
                user_id, team_id = _owner(s, owner, actor, errors)
            kind = _text(values, "goal_type")
            if kind not in GOAL_LABELS:
                errors["goal_type"] = "choose what the goal counts"
            period = _text(values, "period_type")
            if period not in {p.value for p in PeriodType}:
                errors["period_type"] = "choose a period"
            start_raw = values.get("period_start")
            start: dt.date | None = None
            if isinstance(start_raw, dt.date):
                start = start_raw
            elif _text(values, "period_start"):
                try:
                    start = dt.date.fromisoformat(_text(values, "period_start"))
                except ValueError:
                    errors["period_start"] = "not a date (YYYY-MM-DD)"
            else:
                errors["period_start"] = "required"
            target = _number(values, "target_value", errors)
            if target is None and "target_value" not in errors:
                errors["target_value"] = "required"
            elif target is not None and target <= 0:
                errors["target_value"] = "must be more than 0"
            current = _number(values, "current_value", errors)
            if current is not None and current < 0:
                errors["current_value"] = "cannot be negative"
            if errors or start is None or target is None:
                raise GoalError(errors)
            p = period_of(PeriodType(period), start)
            twin = s.scalar(
                sa.select(Goal.id).where(
                    Goal.user_id.is_(None) if user_id is None else Goal.user_id == user_id,
                    Goal.team_id.is_(None) if team_id is None else Goal.team_id == team_id,
                    Goal.goal_type == kind,
                    Goal.period_type == period,
                    Goal.period_start == p.start,
                    Goal.id != (goal_id or 0),
                )
            )
            if twin is not None:
                label = GOAL_LABELS[kind].lower()
                raise GoalError(
                    {"period_start": f"there is a {label} goal for this period already; "
                     "edit that one"}
                )  # fmt: skip
            g = existing or Goal(user_id=user_id, team_id=team_id, current_value=Decimal(0))
            if existing is not None and version is not None and existing.version != version:
                raise _conflict()
            g.goal_type, g.period_type = kind, period
            g.period_start, g.period_end = p.start, p.end
            g.target_value = target
            g.description = _text(values, "description") or None
            if kind == GoalType.CUSTOM.value and current is not None:
                g.current_value = current
            pct = achievement_pct(g.current_value, target, "higher_better")
            g.status = goal_status(pct, p.end < day).value
            if existing is None:
                s.add(g)
            s.flush()
            # Its progress at once (the job keeps it current and finalises it).
            refresh_goals(s, day, [g.id])
            # The status was set above, so the refresh cannot see it become achieved (a
            # custom value entered, a target lowered): tell them here (notify says it once).
            if str(g.status) == GoalStatus.ACHIEVED.value and was != GoalStatus.ACHIEVED.value:
                _tell_achieved(s, g, _members(s))
            return int(g.id)
    except StaleDataError:
        raise _conflict() from None


def _conflict() -> ConflictError:
    return ConflictError(
        "Someone else changed this goal while you were editing it; reload it and try again. "
        "Nothing was saved."
    )
