"""Goals: user_email*, goal_type*, period_type*, period_start*, period_end*, target_value*,
current_value, description (SPEC §8, §11).

Each row is checked by the rules of New goal… (``app/services/kpis/goals.py``) and written as
it writes a goal, progress and status included. Rules (where SPEC.md is silent, chosen here
or taken from the form):
- a row is a person's goal (the file has no team column: team goals are set in PerfDesk);
  the person is named by email regardless of case and must be active;
- ``goal_type`` is revenue, orders, leads, opportunities, conversion_rate or custom;
  ``period_type`` daily, weekly, monthly, quarterly or yearly (any case);
- the period is exactly one period of its type: ``period_start`` its first day (a Monday for
  a week) and ``period_end`` its last; anything else is an error naming the period expected
  (the form instead moves a start to its period's first day). Ended and future periods may
  be imported: a goal whose period has ended (before ``--as-of``) is finalised at once,
  ``achieved`` or ``missed``;
- the target is a number more than 0 with at most 4 decimals, less than 10^12 (NUMERIC(16,4));
  ``current_value`` likewise, 0 or more;
- ``current_value`` is kept only for a custom goal (empty: 0). The progress of the other
  kinds is computed from PerfDesk's records (SPEC §8), so a value given for them is left
  aside and said in a note after the import;
- progress and status are computed in the same transaction, as when a goal is saved in the
  form (``refresh_goals``): reaching 100 % notifies the person and their team's manager, once;
- ``description`` is at most 2,000 characters;
- one goal per (person, goal type, period type, period start): the same four twice in the
  file, or a goal already stored, is an error (imports add, they never overwrite; change it
  in PerfDesk);
- only the manager of the person's team or an admin sets goals (SPEC §1; local mode with
  nobody named may do everything): someone who may set goals for nobody is refused the whole
  file; otherwise each person who is not theirs is an error on that row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa

from app.db.models import User
from app.db.models.goals import Goal
from app.domain import csvrules as cr
from app.domain.enums import GoalType, PeriodType
from app.domain.errors import PermissionDenied
from app.domain.goals import goal_status
from app.domain.kpis import achievement_pct
from app.domain.periods import Period, period_of
from app.services.audit import WRITE_BLOCK
from app.services.database import Database
from app.services.importing.kinds.kpi_assignments import kpi_number
from app.services.importing.spec import CHUNK, Column, Identity, ImportContext, ImportKind, Row
from app.services.kpis.access import KpiScope, kpi_scope
from app.services.kpis.goals import GOAL_LABELS, refresh_goals

DESCRIPTION_MAX = 2000
MAX_ROWS_NAMED = 10  # in the note about current values left aside

#: What one period of each type is called in messages.
PERIOD_NOUNS = {
    PeriodType.DAILY.value: "day",
    PeriodType.WEEKLY.value: "week (Monday to Sunday)",
    PeriodType.MONTHLY.value: "month",
    PeriodType.QUARTERLY.value: "quarter",
    PeriodType.YEARLY.value: "year",
}


def span(p: Period) -> str:
    return f"{p.start.isoformat()} to {p.end.isoformat()}"


def whole_period(kind: str, start: dt.date) -> tuple[Period, str | None]:
    """The period of ``kind`` holding ``start``, and why ``start`` is not its first day."""
    p = period_of(PeriodType(kind), start)
    if p.start == start:
        return p, None
    noun = PERIOD_NOUNS[kind]
    return p, (
        f"is not the first day of a {noun}: the {noun.split(' ')[0]} holding it is {span(p)}"
    )


def _target(text: str) -> Decimal:
    number = kpi_number(text)
    if number <= 0:
        raise ValueError("must be more than 0")
    return number


def _current(text: str) -> Decimal:
    number = kpi_number(text)
    if number < 0:
        raise ValueError("cannot be negative")
    return number


class Someone(NamedTuple):
    """A person a row names."""

    id: int
    email: str
    active: bool


def load_people(ctx: ImportContext, emails: set[str]) -> dict[str, Someone]:
    """The users the rows name, by lower-case email, in a few queries."""
    wanted = sorted(e.lower() for e in emails)
    found: dict[str, Someone] = {}
    for start in range(0, len(wanted), CHUNK):
        stmt = sa.select(User.id, User.email, User.is_active).where(
            sa.func.lower(User.email).in_(wanted[start : start + CHUNK])
        )
        for uid, email, active in ctx.session.execute(stmt):
            found[str(email).lower()] = Someone(int(uid), str(email), bool(active))
    return found


def goal_label(kind: str) -> str:
    return GOAL_LABELS.get(kind, kind).lower()


class GoalsImport(ImportKind):
    USER_EMAIL = Column("user_email", cr.email, required=True)
    GOAL_TYPE = Column("goal_type", cr.one_of(GoalType), required=True)
    PERIOD_TYPE = Column("period_type", cr.one_of(PeriodType), required=True)
    PERIOD_START = Column("period_start", cr.iso_date, required=True)
    PERIOD_END = Column("period_end", cr.iso_date, required=True)
    TARGET_VALUE = Column("target_value", _target, required=True)
    CURRENT_VALUE = Column("current_value", _current)
    DESCRIPTION = Column("description", cr.text(DESCRIPTION_MAX))

    name = "goals"
    noun = "goal"
    columns = (
        USER_EMAIL, GOAL_TYPE, PERIOD_TYPE, PERIOD_START, PERIOD_END, TARGET_VALUE,
        CURRENT_VALUE, DESCRIPTION,
    )  # fmt: skip

    def __init__(self) -> None:
        self._scope = KpiScope(None, None, None)
        self._people: dict[str, Someone] = {}
        self._left_aside: list[int] = []  # rows whose current_value is computed instead

    # ------------------------------------------------------------------------- checking

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        self._scope = kpi_scope(ctx.session, ctx.actor)
        if not self._scope.may_assign:
            role = ctx.actor.role if ctx.actor is not None else ""
            raise PermissionDenied(
                "Only the manager of a team (for its members) or an admin may import goals; "
                f"you are signed in as {role}."
            )
        self._people = load_people(
            ctx, {e for row in rows if (e := row.get(self.USER_EMAIL)) is not None}
        )

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        person = self._person(row, ctx)
        period = self._period(row, ctx)
        kind = row.get(self.GOAL_TYPE)
        if person is None or period is None or kind is None or ctx.is_bad(row):
            return
        current = row.get(self.CURRENT_VALUE)
        if kind != GoalType.CUSTOM.value and current is not None:
            self._left_aside.append(row.number)
            current = None
        row.data = {
            "user_id": person.id,
            "email": person.email,
            "goal_type": kind,
            "period_type": row[self.PERIOD_TYPE],
            "period_start": period.start,
            "period_end": period.end,
            "target_value": row[self.TARGET_VALUE],
            "current_value": current if current is not None else Decimal(0),
            "description": row.get(self.DESCRIPTION),
        }

    def _person(self, row: Row, ctx: ImportContext) -> Someone | None:
        email = row.get(self.USER_EMAIL)
        if email is None:
            return None
        person = self._people.get(email.lower())
        if person is None:
            ctx.error(row, self.USER_EMAIL, f"no user with email {email}")
            return None
        if not person.active:
            ctx.error(row, self.USER_EMAIL, f"{person.email} has been deactivated")
            return None
        if not self._scope.may_write(person.id):
            ctx.error(
                row,
                self.USER_EMAIL,
                f"you may not set goals for {person.email}: only the manager of their team "
                "or an admin may",
            )
            return None
        return person

    def _period(self, row: Row, ctx: ImportContext) -> Period | None:
        kind, start = row.get(self.PERIOD_TYPE), row.get(self.PERIOD_START)
        end = row.get(self.PERIOD_END)
        if kind is None or start is None:
            return None
        p, problem = whole_period(kind, start)
        if problem is not None:
            ctx.error(row, self.PERIOD_START, problem)
            return None
        if end is None:
            return None
        if end != p.end:
            ctx.error(
                row,
                self.PERIOD_END,
                f"a {kind} goal from {p.start.isoformat()} ends on {p.end.isoformat()}",
            )
            return None
        return p

    def identity(self, row: Row) -> Identity | None:
        if not row.data:
            return None
        d = row.data
        return Identity(
            (d["user_id"], d["goal_type"], d["period_type"], d["period_start"]),
            self.PERIOD_START.name,
            f"{d['email']}'s {goal_label(d['goal_type'])} goal for "
            f"{d['period_start'].isoformat()} to {d['period_end'].isoformat()}",
        )

    def check_existing(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        wanted: dict[tuple[int, str, str, dt.date], Row] = {}
        for r in rows:
            if r.data:
                d = r.data
                wanted[(d["user_id"], d["goal_type"], d["period_type"], d["period_start"])] = r
        if not wanted:
            return
        ids = sorted({key[0] for key in wanted})
        first = min(key[3] for key in wanted)
        last = max(key[3] for key in wanted)
        for start in range(0, len(ids), CHUNK):
            stmt = sa.select(
                Goal.user_id, Goal.goal_type, Goal.period_type, Goal.period_start
            ).where(
                Goal.user_id.in_(ids[start : start + CHUNK]),
                Goal.period_start >= first,
                Goal.period_start <= last,
            )
            for uid, kind, period, begin in ctx.session.execute(stmt):
                row = wanted.get((uid or 0, str(kind), str(period), begin))
                if row is None:
                    continue
                d = row.data
                ctx.error(
                    row,
                    self.PERIOD_START,
                    f"{d['email']} already has a {goal_label(d['goal_type'])} goal for "
                    f"{d['period_start'].isoformat()} to {d['period_end'].isoformat()} "
                    "(imports add, they never overwrite; change it in PerfDesk)",
                )

    # ------------------------------------------------------------------------- writing

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        if not rows:
            return 0
        s = ctx.session
        now = dt.datetime.now(dt.UTC)
        records: list[dict[str, Any]] = []
        for row in rows:
            d = row.data
            ended = d["period_end"] < ctx.as_of
            # A goal under way gets its status from the refresh below (which also tells the
            # people when it is achieved); one that has not started keeps this one.
            pct = None
            if d["period_start"] > ctx.as_of:
                pct = achievement_pct(d["current_value"], d["target_value"], "higher_better")
            records.append(
                {
                    "user_id": d["user_id"],
                    "team_id": None,
                    "goal_type": d["goal_type"],
                    "period_type": d["period_type"],
                    "period_start": d["period_start"],
                    "period_end": d["period_end"],
                    "target_value": d["target_value"],
                    "current_value": d["current_value"],
                    "status": goal_status(pct, ended).value,
                    "description": d["description"],
                    "finalized_at": None,
                    "created_at": now,
                    "version": 1,
                }
            )
        table: sa.Table = Goal.__table__  # type: ignore[assignment]
        insert = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        connection = s.connection()
        ids: list[int] = []
        for start in range(0, len(records), WRITE_BLOCK):
            block = records[start : start + WRITE_BLOCK]
            ids.extend(int(i) for i in connection.execute(insert, block).scalars())
        for start in range(0, len(ids), CHUNK):
            refresh_goals(s, ctx.as_of, ids[start : start + CHUNK])
        return len(ids)

    def after_commit(self, db: Database, rows: Sequence[Row]) -> list[str]:
        aside = self._left_aside
        if not aside:
            return []
        numbers = ", ".join(str(n) for n in aside[:MAX_ROWS_NAMED])
        if len(aside) > MAX_ROWS_NAMED:
            numbers += f" and {len(aside) - MAX_ROWS_NAMED} more"
        return [
            f"current_value was left aside on row{'s' if len(aside) > 1 else ''} {numbers}: "
            "only a custom goal's is entered; the others' progress is computed from "
            "PerfDesk's records"
        ]
