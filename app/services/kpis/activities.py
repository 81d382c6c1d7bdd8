"""Calls, emails and meetings (SPEC §8): activities with no record of their own, entered (or
imported) as a count per person and period.

Rules where SPEC.md is silent (also in docs/rules.md):
- one count per (person, activity, period type, period start); the start given is moved to
  the first day of the period holding it; entering again replaces the count;
- counts are whole numbers from 0 to 100,000; a period that has not started is refused;
- a person enters their own; a manager for the members of the teams they manage; an admin
  for anyone (the KPI write rule, plus one's own).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from app.db.models import User
from app.db.models.goals import ActivityEntry
from app.domain.enums import ActivityType, PeriodType
from app.domain.errors import PermissionDenied, ValidationError
from app.domain.periods import period_of
from app.services.database import Database
from app.services.kpis.access import kpi_scope
from app.services.records import Acting, resolve_actor

MAX_COUNT = 100_000
ACTIVITY_LABELS: Mapping[str, str] = {
    ActivityType.CALLS.value: "Calls",
    ActivityType.EMAILS.value: "Emails",
    ActivityType.MEETINGS.value: "Meetings",
}


@dataclass(frozen=True)
class ActivityRow:
    user_id: int
    activity_type: str
    period_type: str
    period_start: dt.date
    count: int


def check_count(text: str | int) -> int:
    raw = str(text).strip()
    if not raw:
        raise ValidationError("Count: required")
    try:
        n = int(raw)
    except ValueError:
        raise ValidationError(f"Count: {raw!r} is not a whole number") from None
    if not 0 <= n <= MAX_COUNT:
        raise ValidationError(f"Count: must be from 0 to {MAX_COUNT:,}")
    return n


def enter_activities(
    db: Database,
    user_id: int,
    period_type: str,
    day: dt.date,
    counts: Mapping[str, str | int],
    acting: Acting = None,
    today: dt.date | None = None,
) -> dt.date:
    """Enter (or replace) a person's counts for the period holding ``day``; a blank count
    leaves that activity as it was. Returns the period's first day."""
    kind = PeriodType(period_type)
    p = period_of(kind, day)
    if p.start > (today or dt.datetime.now(dt.UTC).date()):
        raise ValidationError("Period: this period has not started yet")
    parsed: dict[str, int] = {}
    for activity, text in counts.items():
        if activity not in ACTIVITY_LABELS:
            raise ValidationError(f"Unknown activity {activity!r}")
        if str(text).strip():
            parsed[activity] = check_count(text)
    with db.session() as s:
        actor = resolve_actor(s, db, acting)
        user = s.get(User, user_id)
        if user is None or not user.is_active:
            raise ValidationError("Choose an active person.")
        if not (actor is not None and actor.id == user.id) and not kpi_scope(s, actor).may_write(
            user.id
        ):
            raise PermissionDenied(
                f"You may not enter activities for {user.email}: only they, the manager of "
                "their team or an admin may."
            )
        for activity, n in parsed.items():
            row = s.scalar(
                sa.select(ActivityEntry).where(
                    ActivityEntry.user_id == user.id,
                    ActivityEntry.activity_type == activity,
                    ActivityEntry.period_type == kind.value,
                    ActivityEntry.period_start == p.start,
                )
            )
            if row is None:
                s.add(
                    ActivityEntry(
                        user_id=user.id, activity_type=activity, period_type=kind.value,
                        period_start=p.start, count=n,
                    )
                )  # fmt: skip
            else:
                row.count = n
    return p.start


def activities_of(
    db: Database, user_id: int, period_type: str, day: dt.date, acting: Acting = None
) -> dict[str, int]:
    """The counts entered for the period holding ``day`` (absent: not entered)."""
    p = period_of(PeriodType(period_type), day)
    with db.read() as s:
        scope = kpi_scope(s, resolve_actor(s, db, acting))
        if not scope.may_read(user_id):
            raise PermissionDenied("You may not see that person's activities.")
        rows = s.execute(
            sa.select(ActivityEntry.activity_type, ActivityEntry.count).where(
                ActivityEntry.user_id == user_id,
                ActivityEntry.period_type == PeriodType(period_type).value,
                ActivityEntry.period_start == p.start,
            )
        )
        return {str(a): int(n) for a, n in rows}
