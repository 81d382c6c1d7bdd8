"""KPI measurements: user_email*, kpi_name*, period_start*, period_end*, actual_value*, notes
(SPEC §7, §11).

Each row is checked by the rules of manual entry (``app/services/kpis/measurements.py``,
``app/domain/kpis.py``) and stored as it stores a value. Rules (where SPEC.md is silent,
chosen here or taken from the form):
- a value of a KPI of any calculation type may be imported (e.g. history kept in another
  system); it is stored with ``calculation_metadata`` ``{"method": "import"}``;
- ``kpi_name`` names a KPI definition regardless of case (a deactivated one too: its history
  may still be brought in);
- the period is exactly one of the KPI's periods (SPEC §7): ``period_start`` its first day and
  ``period_end`` its last (a monthly KPI 2026-10-01 to 2026-10-31, a weekly one Monday to
  Sunday, a daily one the same day twice); anything else is an error naming the period
  expected. A period that has not started yet (after ``--as-of``) is refused;
- the person has an assignment of the KPI overlapping the period (starting on or before its
  last day and not ended before its first); with two, the later one stands (as in the
  engine). The target of that assignment is stored as the measurement's snapshot, and the
  achievement is SPEC §7's, to 2 decimals;
- the value is a number with at most 4 decimals, less than 10^12 in size, within the KPI's
  allowed range (manual KPIs); an achievement too large for NUMERIC(9,2) is refused;
- one value per (assignment, period): the same person, KPI and period twice in the file, or a
  value already stored for that period, is an error (imports add, they never overwrite;
  change it in PerfDesk);
- only the manager of the person's team or an admin enters values (SPEC §1; local mode with
  nobody named may do everything): someone who may enter values for nobody is refused the
  whole file; otherwise each person who is not theirs is an error on that row;
- ``notes`` is at most 2,000 characters, as in the form;
- each value is ``calculated_by`` the acting person (local mode: the office's first broker,
  else admin, else manager) and gets a ``kpi.measurement_entered`` audit entry on its
  assignment's chain, with the form's payload (no old value).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa

from app.db.models import KpiAssignment, KpiDefinition, KpiMeasurement
from app.domain import csvrules as cr
from app.domain.enums import PeriodType
from app.domain.errors import PermissionDenied, ValidationError
from app.domain.kpis import achievement_pct, check_in_range, stored_pct
from app.domain.periods import Period, period_of
from app.services.audit import WRITE_BLOCK, AuditItem, append_entries
from app.services.importing.kinds.kpi_assignments import acting_scope, kpi_number
from app.services.importing.spec import CHUNK, Column, Identity, ImportContext, ImportKind, Row
from app.services.kpis.access import KpiScope
from app.services.kpis.assignments import ENTITY, chain_key
from app.services.kpis.definitions import NAME_MAX
from app.services.kpis.measurements import ENTERED, NOTES_MAX

METHOD = {"method": "import"}
PCT_LIMIT = Decimal(10) ** 7  # NUMERIC(9,2)


class _Definition(NamedTuple):
    id: int
    name: str
    period: PeriodType
    target_type: str
    low: Decimal | None
    high: Decimal | None


class _Assignment(NamedTuple):
    id: int
    start: dt.date
    end: dt.date | None
    target: Decimal


def _span(p: Period) -> str:
    return f"{p.start.isoformat()} to {p.end.isoformat()}"


class KpiMeasurementsImport(ImportKind):
    USER_EMAIL = Column("user_email", cr.email, required=True, person=True)
    KPI_NAME = Column("kpi_name", cr.text(NAME_MAX), required=True)
    PERIOD_START = Column("period_start", cr.iso_date, required=True)
    PERIOD_END = Column("period_end", cr.iso_date, required=True)
    ACTUAL_VALUE = Column("actual_value", kpi_number, required=True)
    NOTES = Column("notes", cr.text(NOTES_MAX))

    name = "kpi_measurements"
    noun = "KPI measurement"
    columns = (USER_EMAIL, KPI_NAME, PERIOD_START, PERIOD_END, ACTUAL_VALUE, NOTES)

    def __init__(self) -> None:
        self._scope = KpiScope(None, None, None)
        self._by: int | None = None
        self._definitions: dict[str, _Definition] = {}
        #: (person, KPI) → their assignments of it, by start.
        self._assignments: dict[tuple[int, int], list[_Assignment]] = {}

    # ------------------------------------------------------------------------- checking

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        self._scope, self._by = acting_scope(ctx, "import KPI measurements")
        s = ctx.session
        D = KpiDefinition
        names = sorted({n.casefold() for row in rows if (n := row.get(self.KPI_NAME)) is not None})
        for start in range(0, len(names), CHUNK):
            stmt = sa.select(
                D.id, D.name, D.aggregation_period, D.target_type, D.min_value, D.max_value
            ).where(sa.func.lower(D.name).in_(names[start : start + CHUNK]))
            for kid, kname, period, target_type, low, high in s.execute(stmt):
                self._definitions[str(kname).casefold()] = _Definition(
                    int(kid), str(kname), PeriodType(period), str(target_type), low, high
                )
        user_ids: set[int] = set()
        for row in rows:
            email = row.get(self.USER_EMAIL)
            person = ctx.people.find(email) if email is not None else None
            if person is not None and person.user_id is not None:
                user_ids.add(person.user_id)
        kpi_ids = sorted({d.id for d in self._definitions.values()})
        if not kpi_ids:
            return
        ordered = sorted(user_ids)
        A = KpiAssignment
        for start in range(0, len(ordered), CHUNK):
            assignments = (
                sa.select(A.id, A.user_id, A.kpi_definition_id, A.start_date, A.end_date,
                          A.target_value)
                .where(A.user_id.in_(ordered[start : start + CHUNK]),
                       A.kpi_definition_id.in_(kpi_ids))
                .order_by(A.start_date)
            )  # fmt: skip
            for aid, uid, kid, begin, end, target in s.execute(assignments):
                if uid is None:
                    continue
                self._assignments.setdefault((int(uid), int(kid)), []).append(
                    _Assignment(int(aid), begin, end, target)
                )

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        person = ctx.person(row, self.USER_EMAIL)
        uid = person.user_id if person is not None else None
        if person is not None and uid is not None and not self._scope.may_write(uid):
            ctx.error(
                row,
                self.USER_EMAIL,
                f"you may not enter values for {person.email}: only the manager of their team "
                "or an admin may",
            )
            uid = None
        definition = self._definition(row, ctx)
        period = self._period(row, ctx, definition)
        value = row.get(self.ACTUAL_VALUE)
        if definition is not None and value is not None:
            try:
                check_in_range(value, definition.low, definition.high)
            except ValidationError as exc:
                ctx.error(row, self.ACTUAL_VALUE, str(exc).rstrip("."))
        if uid is None or definition is None or period is None:
            return
        assignment = self._assignment(uid, definition.id, period)
        if assignment is None:
            ctx.error(
                row,
                self.KPI_NAME,
                f"{row[self.USER_EMAIL]} has no assignment of {definition.name} over "
                f"{_span(period)}",
            )
            return
        if value is None or ctx.is_bad(row):
            return
        pct = stored_pct(achievement_pct(value, assignment.target, definition.target_type))
        if pct is not None and abs(pct) >= PCT_LIMIT:
            ctx.error(
                row,
                self.ACTUAL_VALUE,
                f"gives an achievement of {pct}% against the target {assignment.target}, too "
                "large to store",
            )
            return
        row.data = {
            "assignment_id": assignment.id,
            "period_start": period.start,
            "period_end": period.end,
            "actual_value": value,
            "target_value": assignment.target,
            "achievement_pct": pct,
            "notes": row.get(self.NOTES),
            "kpi": definition.name,
            "user_id": uid,
        }

    def _definition(self, row: Row, ctx: ImportContext) -> _Definition | None:
        name = row.get(self.KPI_NAME)
        if name is None:
            return None
        found = self._definitions.get(name.casefold())
        if found is None:
            ctx.error(row, self.KPI_NAME, f"no KPI named {name!r}")
        return found

    def _period(self, row: Row, ctx: ImportContext, d: _Definition | None) -> Period | None:
        """The KPI's period the row names; None after reporting why not (or when unknown)."""
        start, end = row.get(self.PERIOD_START), row.get(self.PERIOD_END)
        if d is None or start is None or end is None:
            return None
        expected = period_of(d.period, start)
        if expected.start != start:
            column = self.PERIOD_START
        elif expected.end != end:
            column = self.PERIOD_END
        else:
            if expected.start > ctx.as_of:
                ctx.error(
                    row,
                    self.PERIOD_START,
                    f"the period {_span(expected)} has not started yet (today is "
                    f"{ctx.as_of.isoformat()})",
                )
                return None
            return expected
        ctx.error(
            row,
            column,
            f"{d.name} is measured {d.period.value}: expected the period {_span(expected)}",
        )
        return None

    def _assignment(self, uid: int, kid: int, p: Period) -> _Assignment | None:
        """The assignment that stands over ``p``: the latest start of those overlapping it."""
        found: _Assignment | None = None
        for a in self._assignments.get((uid, kid), ()):
            if a.start <= p.end and (a.end is None or a.end >= p.start):
                found = a  # ordered by start: a later one stands
        return found

    def identity(self, row: Row) -> Identity | None:
        if not row.data:
            return None
        data = row.data
        return Identity(
            (data["assignment_id"], data["period_start"]),
            self.PERIOD_START.name,
            f"{row[self.USER_EMAIL]}'s {data['kpi']} for "
            f"{data['period_start'].isoformat()} to {data['period_end'].isoformat()}",
        )

    def check_existing(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        wanted: dict[tuple[int, dt.date], Row] = {
            (r.data["assignment_id"], r.data["period_start"]): r for r in rows if r.data
        }
        if not wanted:
            return
        ids = sorted({key[0] for key in wanted})
        first = min(key[1] for key in wanted)
        last = max(key[1] for key in wanted)
        M = KpiMeasurement
        for start in range(0, len(ids), CHUNK):
            stmt = sa.select(M.assignment_id, M.period_start).where(
                M.assignment_id.in_(ids[start : start + CHUNK]),
                M.period_start >= first,
                M.period_start <= last,
            )
            for aid, begin in ctx.session.execute(stmt):
                row = wanted.get((int(aid), begin))
                if row is not None:
                    ctx.error(
                        row,
                        self.PERIOD_START,
                        f"{row[self.USER_EMAIL]}'s {row.data['kpi']} for "
                        f"{row.data['period_start'].isoformat()} to "
                        f"{row.data['period_end'].isoformat()} is stored already (imports add, "
                        "they never overwrite; change it in PerfDesk)",
                    )

    # ------------------------------------------------------------------------- writing

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        if not rows:
            return 0
        if self._by is None:  # prepare reported it; the runner never gets here
            raise PermissionDenied("nobody to record the import in the name of")
        s = ctx.session
        now = dt.datetime.now(dt.UTC)
        keys = ("assignment_id", "period_start", "period_end", "actual_value", "target_value",
                "achievement_pct", "notes")  # fmt: skip
        extra: dict[str, Any] = {
            "calculation_metadata": METHOD,
            "calculated_at": now,
            "calculated_by": self._by,
            "version": 1,
        }
        table: sa.Table = KpiMeasurement.__table__  # type: ignore[assignment]
        insert = table.insert()
        connection = s.connection()
        for start in range(0, len(rows), WRITE_BLOCK):
            block = rows[start : start + WRITE_BLOCK]
            connection.execute(insert, [{**{k: r.data[k] for k in keys}, **extra} for r in block])
        append_entries(s, [self._audit(r.data) for r in rows], now)
        return len(rows)

    def _audit(self, d: dict[str, Any]) -> AuditItem:
        """The entry manual entry writes (``measurements.enter_value``), with no old value."""
        return AuditItem(
            chain_key(d["assignment_id"]), ENTERED, ENTITY, d["assignment_id"], self._by,
            {"kpi": d["kpi"], "user_id": d["user_id"],
             "period_start": d["period_start"].isoformat(),
             "period_end": d["period_end"].isoformat(), "old_value": None,
             "new_value": str(d["actual_value"]), "target_value": d["target_value"],
             "achievement_pct": d["achievement_pct"]},
        )  # fmt: skip
