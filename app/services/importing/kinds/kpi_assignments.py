"""KPI assignments: user_email* or team*, kpi_name*, target_value*, weight*, start_date*,
end_date (SPEC §7, §11).

Each row is checked by the assignment form's rules (``app/services/kpis/assignments.py``,
``app/domain/kpis.py``), so the file and the form accept and refuse the same things, and is
written as the form writes it. Rules (where SPEC.md is silent, chosen here or taken from the
form):
- a row names a person (``user_email``) or a team (``team``, by name regardless of case), not
  both; a team gives one assignment to each of its active members, each marked with the team;
  a person must be active, a team must have an active member;
- ``kpi_name`` names an active KPI definition, regardless of case;
- the target is a number, not 0 (lower-is-better: more than 0), with at most 4 decimals and
  less than 10^12 in size (NUMERIC(16,4): nothing is rounded silently); the weight is 0–100
  with at most 2 decimals; the end, when given, is not before the start;
- only the manager of a person's team or an admin assigns to them (SPEC §1; local mode with
  nobody named may do everything): someone who may assign to nobody is refused the whole file;
  otherwise each person on a row who is not theirs is an error on that row;
- one assignment per (person, KPI, start): the same three twice in the file (a team row counts
  for each of its members) or already in the database is an error naming the person (imports
  add, they never overwrite; the form's team assignment instead leaves such a member out);
- weights: for each person and each start date in the file, their assignments active that day
  (the active ones in the database and those of the file) whose weights add up to 0 are an
  error on the weight (no overall score could be computed); weights that do not add up to 100
  are not an error (a manager may be part-way through re-weighting) but a note shown after the
  import (the first ten, then how many more);
- each assignment is ``assigned_by`` the acting person (none in local mode with nobody named,
  as in the form) and gets its ``kpi.assigned`` audit entry on its chain
  ``kpi_assignment:<id>``, with the form's payload, in the name of the acting person (local
  mode: the office's first broker, else admin, else manager).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa

from app.db.models import KpiAssignment, KpiDefinition, Team, User
from app.domain import csvrules as cr
from app.domain.errors import PermissionDenied, ValidationError
from app.domain.kpis import check_target, check_weight, weights_warning
from app.domain.money import parse_decimal
from app.services.audit import WRITE_BLOCK, AuditItem, append_entries
from app.services.database import Database
from app.services.importing.kinds.kpi_definitions import stored_number_problem
from app.services.importing.spec import CHUNK, Column, ImportContext, ImportKind, Row
from app.services.kpis.access import KpiScope, kpi_scope
from app.services.kpis.assignments import ASSIGNED, ENTITY, chain_key
from app.services.kpis.definitions import NAME_MAX
from app.services.pipeline.common import acting_user_id

MAX_NOTES = 10  # weight notes shown after an import; the rest are counted


# -- cells ------------------------------------------------------------------------------------


def _reason(exc: Exception) -> str:
    return str(exc).rstrip(".")


def kpi_number(text: str) -> Decimal:
    """A KPI value or target: a number with at most 4 decimals that NUMERIC(16,4) holds."""
    number = parse_decimal(text)
    problem = stored_number_problem(number)
    if problem:
        raise ValueError(problem)
    return number


def _weight(text: str) -> Decimal:
    number = parse_decimal(text)
    try:
        check_weight(number)
    except ValidationError as exc:
        raise ValueError(_reason(exc)) from None
    return number


# -- audit entries, many at once ------------------------------------------------------------


def acting_scope(ctx: ImportContext, doing: str) -> tuple[KpiScope, int | None]:
    """The acting person's KPI scope and whom the audit entries are recorded as; refuses the
    whole file to someone who may assign to (and enter values for) nobody."""
    scope = kpi_scope(ctx.session, ctx.actor)
    if not scope.may_assign:
        role = ctx.actor.role if ctx.actor is not None else ""
        raise PermissionDenied(
            f"Only the manager of a team (for its members) or an admin may {doing}; you are "
            f"signed in as {role}."
        )
    try:
        recorded_as: int | None = acting_user_id(ctx.session, ctx.actor)
    except PermissionDenied as exc:
        ctx.error(None, None, _reason(exc))
        recorded_as = None
    return scope, recorded_as


def add_notes(notes: list[str]) -> list[str]:
    if len(notes) <= MAX_NOTES:
        return notes
    more = len(notes) - MAX_NOTES
    return [*notes[:MAX_NOTES], f"… and {more} more note{'s' if more != 1 else ''}"]


# -- the kind ---------------------------------------------------------------------------------


class _Person(NamedTuple):
    id: int
    email: str
    name: str
    active: bool


class _Definition(NamedTuple):
    id: int
    name: str
    target_type: str
    active: bool


class _Span(NamedTuple):
    weight: Decimal
    start: dt.date
    end: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or self.end >= day)


def _full(first: str | None, last: str | None) -> str:
    return f"{first or ''} {last or ''}".strip()


class KpiAssignmentsImport(ImportKind):
    USER_EMAIL = Column("user_email", cr.email)
    TEAM = Column("team", cr.text(120))
    KPI_NAME = Column("kpi_name", cr.text(NAME_MAX), required=True)
    TARGET_VALUE = Column("target_value", kpi_number, required=True)
    WEIGHT = Column("weight", _weight, required=True)
    START_DATE = Column("start_date", cr.iso_date, required=True)
    END_DATE = Column("end_date", cr.iso_date)

    name = "kpi_assignments"
    noun = "KPI assignment"
    columns = (USER_EMAIL, TEAM, KPI_NAME, TARGET_VALUE, WEIGHT, START_DATE, END_DATE)

    def __init__(self) -> None:
        self._scope = KpiScope(None, None, None)
        self._recorded_as: int | None = None
        self._assigned_by: int | None = None
        self._people: dict[str, _Person] = {}
        self._teams: dict[str, tuple[int, str]] = {}
        self._members: dict[int, list[_Person]] = {}
        self._definitions: dict[str, _Definition] = {}
        #: (person, KPI, start) → the row that first assigns it.
        self._seen: dict[tuple[int, int, dt.date], int] = {}
        self._notes: list[str] = []

    # ------------------------------------------------------------------------- checking

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        self._scope, self._recorded_as = acting_scope(ctx, "import KPI assignments")
        self._assigned_by = ctx.actor.id if ctx.actor is not None else None
        s = ctx.session
        emails = sorted({e for row in rows if (e := row.get(self.USER_EMAIL)) is not None})
        for start in range(0, len(emails), CHUNK):
            stmt = sa.select(
                User.id, User.email, User.first_name, User.last_name, User.is_active
            ).where(sa.func.lower(User.email).in_(emails[start : start + CHUNK]))
            for uid, email, first, last, active in s.execute(stmt):
                self._people[str(email).lower()] = _Person(
                    int(uid), str(email), _full(first, last), bool(active)
                )
        teams = sorted({t.casefold() for row in rows if (t := row.get(self.TEAM)) is not None})
        for start in range(0, len(teams), CHUNK):
            chunk = teams[start : start + CHUNK]
            for tid, tname in s.execute(
                sa.select(Team.id, Team.name).where(sa.func.lower(Team.name).in_(chunk))
            ):
                self._teams[str(tname).casefold()] = (int(tid), str(tname))
        team_ids = sorted({tid for tid, _n in self._teams.values()})
        for start in range(0, len(team_ids), CHUNK):
            members = (
                sa.select(User.id, User.email, User.first_name, User.last_name, User.team_id)
                .where(User.team_id.in_(team_ids[start : start + CHUNK]), User.is_active)
                .order_by(User.last_name, User.first_name, User.id)
            )
            for uid, email, first, last, of_team in s.execute(members):
                if of_team is None:
                    continue
                self._members.setdefault(int(of_team), []).append(
                    _Person(int(uid), str(email), _full(first, last), True)
                )
        names = sorted({n.casefold() for row in rows if (n := row.get(self.KPI_NAME)) is not None})
        for start in range(0, len(names), CHUNK):
            definitions = sa.select(
                KpiDefinition.id,
                KpiDefinition.name,
                KpiDefinition.target_type,
                KpiDefinition.is_active,
            ).where(sa.func.lower(KpiDefinition.name).in_(names[start : start + CHUNK]))
            for kid, kname, target_type, active in s.execute(definitions):
                self._definitions[str(kname).casefold()] = _Definition(
                    int(kid), str(kname), str(target_type), bool(active)
                )

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        definition = self._definition(row, ctx)
        target = row.get(self.TARGET_VALUE)
        if definition is not None and target is not None:
            try:
                check_target(target, definition.target_type)
            except ValidationError as exc:
                ctx.error(row, self.TARGET_VALUE, _reason(exc))
        start, end = row.get(self.START_DATE), row.get(self.END_DATE)
        if start is not None and end is not None and end < start:
            ctx.error(row, self.END_DATE, "the end is before the start")
        people, team_id = self._assignees(row, ctx)
        if definition is None or start is None or ctx.is_bad(row):
            return
        for person in people:
            key = (person.id, definition.id, start)
            first = self._seen.setdefault(key, row.number)
            if first != row.number:
                ctx.error(
                    row,
                    self.TEAM if team_id is not None else self.USER_EMAIL,
                    f"{person.email} is given {definition.name} from {start.isoformat()} "
                    f"on row {first} already",
                )
        if ctx.is_bad(row):
            return
        row.data = {
            "kpi_id": definition.id,
            "kpi": definition.name,
            "team_id": team_id,
            "people": people,
            "target_value": row[self.TARGET_VALUE],
            "weight": row[self.WEIGHT],
            "start_date": start,
            "end_date": end,
        }

    def _definition(self, row: Row, ctx: ImportContext) -> _Definition | None:
        name = row.get(self.KPI_NAME)
        if name is None:
            return None
        found = self._definitions.get(name.casefold())
        if found is None:
            ctx.error(row, self.KPI_NAME, f"no KPI named {name!r}")
            return None
        if not found.active:
            ctx.error(row, self.KPI_NAME, f"{found.name} is deactivated")
            return None
        return found

    def _assignees(self, row: Row, ctx: ImportContext) -> tuple[list[_Person], int | None]:
        email, team = row.get(self.USER_EMAIL), row.get(self.TEAM)
        if email is not None and team is not None:
            ctx.error(row, self.TEAM, "give user_email or team, not both")
            return [], None
        if email is not None:
            person = self._people.get(email.lower())
            if person is None:
                ctx.error(row, self.USER_EMAIL, f"no user with email {email}")
                return [], None
            if not person.active:
                ctx.error(row, self.USER_EMAIL, f"{person.email} has been deactivated")
                return [], None
            if not self._scope.may_write(person.id):
                ctx.error(
                    row,
                    self.USER_EMAIL,
                    f"you may not assign KPIs to {person.email}: only the manager of their "
                    "team or an admin may",
                )
                return [], None
            return [person], None
        if team is not None:
            found = self._teams.get(team.casefold())
            if found is None:
                ctx.error(row, self.TEAM, f"no team named {team!r}")
                return [], None
            team_id, team_name = found
            members = self._members.get(team_id, [])
            if not members:
                ctx.error(row, self.TEAM, f"{team_name} has no active members")
                return [], None
            barred = [m.email for m in members if not self._scope.may_write(m.id)]
            if barred:
                ctx.error(
                    row,
                    self.TEAM,
                    f"you may not assign KPIs to {', '.join(barred)} of {team_name}: only the "
                    "manager of their team or an admin may",
                )
                return [], None
            return members, team_id
        if self.USER_EMAIL.name not in row.failed and self.TEAM.name not in row.failed:
            ctx.error(row, self.USER_EMAIL, "is required (or team)")
        return [], None

    def check_existing(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        rows = [r for r in rows if r.data]
        user_ids = sorted({p.id for r in rows for p in r.data["people"]})
        kpi_ids = {r.data["kpi_id"] for r in rows}
        taken: set[tuple[int, int, dt.date]] = set()
        spans: dict[int, list[_Span]] = {}
        A = KpiAssignment
        for start in range(0, len(user_ids), CHUNK):
            stmt = sa.select(
                A.user_id, A.kpi_definition_id, A.start_date, A.end_date, A.weight, A.is_active
            ).where(A.user_id.in_(user_ids[start : start + CHUNK]))
            for uid, kid, begin, end, weight, active in ctx.session.execute(stmt):
                if uid is None:
                    continue
                if kid in kpi_ids:
                    taken.add((int(uid), int(kid), begin))
                if active:
                    spans.setdefault(int(uid), []).append(_Span(weight, begin, end))
        for row in rows:
            data = row.data
            for person in data["people"]:
                if (person.id, data["kpi_id"], data["start_date"]) in taken:
                    ctx.error(
                        row,
                        self.START_DATE,
                        f"{person.email} already has {data['kpi']} from "
                        f"{data['start_date'].isoformat()} (imports add, they never overwrite)",
                    )
        self._weights(ctx, rows, spans)

    def _weights(
        self, ctx: ImportContext, rows: Sequence[Row], spans: dict[int, list[_Span]]
    ) -> None:
        """Each person's weights on each start day of the file: 0 is an error, not 100 a note."""
        people: dict[int, _Person] = {}
        days: dict[int, list[tuple[dt.date, Row]]] = {}
        for row in rows:
            data = row.data
            span = _Span(data["weight"], data["start_date"], data["end_date"])
            for person in data["people"]:
                people[person.id] = person
                spans.setdefault(person.id, []).append(span)
                days.setdefault(person.id, []).append((span.start, row))
        notes: list[str] = []
        for uid, starts in days.items():
            person = people[uid]
            for day in sorted({d for d, _r in starts}):
                weights = [s.weight for s in spans[uid] if s.covers(day)]
                if sum(weights, Decimal(0)) == 0:
                    for _d, row in (x for x in starts if x[0] == day):
                        ctx.error(
                            row,
                            self.WEIGHT,
                            f"{person.email}'s weights would add up to 0 from "
                            f"{day.isoformat()}, so no overall score could be computed",
                        )
                    continue
                warning = weights_warning(weights)
                if warning:
                    notes.append(f"{person.name} ({person.email}) on {day.isoformat()}: {warning}")
        self._notes = add_notes(notes)

    # ------------------------------------------------------------------------- writing

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        s = ctx.session
        now = dt.datetime.now(dt.UTC)
        records: list[dict[str, Any]] = []
        for row in rows:
            data = row.data
            for person in data["people"]:
                records.append(
                    {
                        "kpi_definition_id": data["kpi_id"],
                        "user_id": person.id,
                        "team_id": data["team_id"],
                        "target_value": data["target_value"],
                        "weight": data["weight"],
                        "start_date": data["start_date"],
                        "end_date": data["end_date"],
                        "assigned_by": self._assigned_by,
                        "is_active": True,
                        "created_at": now,
                        "version": 1,
                    }
                )
        if not records:
            return 0
        table: sa.Table = KpiAssignment.__table__  # type: ignore[assignment]
        insert = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        connection = s.connection()
        ids: list[int] = []
        for start in range(0, len(records), WRITE_BLOCK):
            block = records[start : start + WRITE_BLOCK]
            ids.extend(int(i) for i in connection.execute(insert, block).scalars())
        kpi_names = {row.data["kpi_id"]: row.data["kpi"] for row in rows}
        append_entries(s, list(self._audit(ids, records, kpi_names)), now)
        return len(records)

    def _audit(
        self, ids: Sequence[int], records: Sequence[Mapping[str, Any]], kpis: Mapping[int, str]
    ) -> Iterable[AuditItem]:
        for aid, r in zip(ids, records, strict=True):
            end = r["end_date"]
            yield AuditItem(
                chain_key(aid), ASSIGNED, ENTITY, aid, self._recorded_as,
                {"kpi": kpis[r["kpi_definition_id"]], "user_id": r["user_id"],
                 "team_id": r["team_id"], "target_value": r["target_value"],
                 "weight": r["weight"], "start_date": r["start_date"].isoformat(),
                 "end_date": end.isoformat() if end else None},
            )  # fmt: skip

    def after_commit(self, db: Database, rows: Sequence[Row]) -> list[str]:
        return list(self._notes)
