"""Activities (PerfDesk's own kind, not in SPEC §11's table): user_email*, activity_type*,
period_type*, period_start*, count* — calls, emails and meetings, the activities with no
record of their own, counted per person and period (SPEC §8).

Each row is checked by the rules of Enter activities… (``app/services/kpis/activities.py``)
and stored as it stores a count. Rules (where SPEC.md is silent, chosen here or taken from
the form):
- the person is named by email regardless of case and must be active;
- ``activity_type`` is calls, emails or meetings; ``period_type`` daily, weekly, monthly,
  quarterly or yearly (any case);
- ``period_start`` is the first day of a period of that type (a Monday for a week); another
  day is an error naming the period holding it (the form instead moves the day to its
  period's first day). A period that has not started (after ``--as-of``) is refused;
- the count is a whole number from 0 to 100,000;
- one count per (person, activity, period type, period start): the same four twice in the
  file, or a count already entered, is an error (imports add, they never overwrite; the form
  replaces a count: change it there);
- a person enters their own counts, a manager those of the members of the teams they manage,
  an admin anyone's (local mode with nobody named: everyone's); each row naming someone else
  is an error on that row. Nobody is refused the whole file: anyone may enter their own.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from app.db.models.goals import ActivityEntry
from app.domain import csvrules as cr
from app.domain.enums import ActivityType, PeriodType
from app.domain.periods import Period
from app.services.audit import WRITE_BLOCK
from app.services.importing.kinds.goals import Someone, load_people, span, whole_period
from app.services.importing.spec import CHUNK, Column, Identity, ImportContext, ImportKind, Row
from app.services.kpis.access import KpiScope, kpi_scope
from app.services.kpis.activities import MAX_COUNT

_WHOLE = re.compile(r"^[+-]?[0-9]+$")


def _count(text: str) -> int:
    """A whole number from 0 to 100,000 (as the form: no thousands separators)."""
    if not _WHOLE.match(text):
        raise ValueError(f"{text!r} is not a whole number")
    n = int(text)
    if not 0 <= n <= MAX_COUNT:
        raise ValueError(f"must be from 0 to {MAX_COUNT:,}")
    return n


class ActivitiesImport(ImportKind):
    USER_EMAIL = Column("user_email", cr.email, required=True)
    ACTIVITY_TYPE = Column("activity_type", cr.one_of(ActivityType), required=True)
    PERIOD_TYPE = Column("period_type", cr.one_of(PeriodType), required=True)
    PERIOD_START = Column("period_start", cr.iso_date, required=True)
    COUNT = Column("count", _count, required=True)

    name = "activities"
    noun = "activity count"
    columns = (USER_EMAIL, ACTIVITY_TYPE, PERIOD_TYPE, PERIOD_START, COUNT)

    def __init__(self) -> None:
        self._scope = KpiScope(None, None, None)
        self._me: int | None = None
        self._people: dict[str, Someone] = {}

    # ------------------------------------------------------------------------- checking

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        self._scope = kpi_scope(ctx.session, ctx.actor)
        self._me = ctx.actor.id if ctx.actor is not None else None
        self._people = load_people(
            ctx, {e for row in rows if (e := row.get(self.USER_EMAIL)) is not None}
        )

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        person = self._person(row, ctx)
        period = self._period(row, ctx)
        activity = row.get(self.ACTIVITY_TYPE)
        if person is None or period is None or activity is None or ctx.is_bad(row):
            return
        row.data = {
            "user_id": person.id,
            "email": person.email,
            "activity_type": activity,
            "period_type": row[self.PERIOD_TYPE],
            "period_start": period.start,
            "period_end": period.end,
            "count": row[self.COUNT],
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
        if person.id != self._me and not self._scope.may_write(person.id):
            ctx.error(
                row,
                self.USER_EMAIL,
                f"you may not enter activities for {person.email}: only they, the manager of "
                "their team or an admin may",
            )
            return None
        return person

    def _period(self, row: Row, ctx: ImportContext) -> Period | None:
        kind, start = row.get(self.PERIOD_TYPE), row.get(self.PERIOD_START)
        if kind is None or start is None:
            return None
        p, problem = whole_period(kind, start)
        if problem is not None:
            ctx.error(row, self.PERIOD_START, problem)
            return None
        if p.start > ctx.as_of:
            ctx.error(
                row,
                self.PERIOD_START,
                f"the period {span(p)} has not started yet (today is {ctx.as_of.isoformat()})",
            )
            return None
        return p

    def identity(self, row: Row) -> Identity | None:
        if not row.data:
            return None
        d = row.data
        return Identity(
            (d["user_id"], d["activity_type"], d["period_type"], d["period_start"]),
            self.PERIOD_START.name,
            f"{d['email']}'s {d['activity_type']} for {d['period_type']} "
            f"{d['period_start'].isoformat()} to {d['period_end'].isoformat()}",
        )

    def check_existing(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        wanted: dict[tuple[int, str, str, dt.date], Row] = {}
        for r in rows:
            if r.data:
                d = r.data
                wanted[(d["user_id"], d["activity_type"], d["period_type"], d["period_start"])] = r
        if not wanted:
            return
        ids = sorted({key[0] for key in wanted})
        first = min(key[3] for key in wanted)
        last = max(key[3] for key in wanted)
        A = ActivityEntry
        for start in range(0, len(ids), CHUNK):
            stmt = sa.select(A.user_id, A.activity_type, A.period_type, A.period_start).where(
                A.user_id.in_(ids[start : start + CHUNK]),
                A.period_start >= first,
                A.period_start <= last,
            )
            for uid, activity, period, begin in ctx.session.execute(stmt):
                row = wanted.get((int(uid), str(activity), str(period), begin))
                if row is None:
                    continue
                d = row.data
                ctx.error(
                    row,
                    self.PERIOD_START,
                    f"{d['email']}'s {d['activity_type']} for {d['period_type']} "
                    f"{d['period_start'].isoformat()} to {d['period_end'].isoformat()} are "
                    "entered already (imports add, they never overwrite; change them in "
                    "PerfDesk)",
                )

    # ------------------------------------------------------------------------- writing

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        now = dt.datetime.now(dt.UTC)
        keys = ("user_id", "activity_type", "period_type", "period_start", "count")
        records: list[dict[str, Any]] = [
            {**{k: r.data[k] for k in keys}, "created_at": now, "version": 1} for r in rows
        ]
        table: sa.Table = ActivityEntry.__table__  # type: ignore[assignment]
        insert = table.insert()
        connection = ctx.session.connection()
        for start in range(0, len(records), WRITE_BLOCK):
            connection.execute(insert, records[start : start + WRITE_BLOCK])
        return len(records)
