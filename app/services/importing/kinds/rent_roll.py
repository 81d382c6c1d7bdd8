"""Rent-roll months: performance_ref*, year*, month*, actual_rent_collected*,
actual_vacancy_rate*, maintenance, property_management, taxes, insurance, other,
expenses_total, actual_noi*, actual_monthly_cash_flow*, actual_dscr*, notes (SPEC §11).

Each month is checked by the same parsers and rules as the period form and the month-end
grid (``domain.rentroll``), graded by SPEC §9 (``domain.postclose.assess``) against its
record's locked pro forma and required DSCR (its buy box's minimum, else 1.25), and stored
with its grade, flags and variances exactly as ``postclose.periods`` stores them. In the same
transaction the records' current grades, their buy boxes' performance rates and their
buyers' engagement scores are brought up to date (``postclose.feedback``), so the whole file
and everything it changes are written together or not at all.

Rules (where SPEC.md is silent, chosen here or taken from the form):
- ``performance_ref`` names a record already in the database (imported earlier with its
  ``ref``), compared exactly; a record added by the same import cannot be referred to (import
  the ``deal_performance`` file first);
- ``year`` is 1900–2999 and ``month`` 1–12; a month after the current one (``--as-of``) is
  refused: actuals are entered once the month has begun;
- one month per record: the same (record, year, month) twice in the file, or a month already
  entered, is an error naming it (imports add, they never overwrite; change a month in
  PerfDesk);
- vacancy is a fraction ("0.05"), a percentage ("5%") or a number above 1 read as one ("5");
  rent collected and the expense parts are never negative, NOI and cash flow may be;
- the expenses total is the sum of the breakdown when any part is given (a typed total that
  differs is refused); with no part given, ``expenses_total`` is required;
- a DSCR of 0 is refused when the record has a loan (its loan type is not cash or empty);
- each month is recorded as entered now, by the office's first broker (else admin, else
  manager), the window's local person;
- the alerts the months raise (a buy box entering WARNING or CRITICAL, a buyer's score
  dropping by 10 or more) are shown as notes after the import (the first ten, then how many
  more).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa

from app.db.models import BuyBox, DealPerformance, PerformancePeriod
from app.domain import rentroll as rr
from app.domain.errors import PermissionDenied
from app.domain.postclose import DEFAULT_REQUIRED_DSCR, Projection, assess
from app.services.database import Database
from app.services.importing.spec import CHUNK, Column, Identity, ImportContext, ImportKind, Row
from app.services.pipeline.common import acting_user_id
from app.services.postclose.alerts import notify_managers
from app.services.postclose.feedback import refresh_after_periods
from app.services.postclose.records import WRITERS, allowed
from app.services.postclose.regrade import period_assessment_columns

R = DealPerformance
P = PerformancePeriod
WRITE_BLOCK = 5000
MAX_NOTES = 10  # alerts shown after an import; the rest are counted


class _Record(NamedTuple):
    id: int
    loan_type: str | None
    projection: Projection
    required_dscr: Decimal


def _period_column(name: str) -> Column[Any]:
    """A column read by the period form's parser of the same name."""
    return Column(name, rr.PERIOD_PARSERS[name], required=name in rr.PERIOD_REQUIRED)


def _month_text(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


class RentRollImport(ImportKind):
    PERFORMANCE_REF = Column("performance_ref", rr.ref, required=True)
    YEAR = Column("year", rr.whole(1900, 2999), required=True)
    MONTH = Column("month", rr.whole(1, 12), required=True)

    name = "rent_roll"
    noun = "rent-roll month"
    columns = (
        PERFORMANCE_REF,
        YEAR,
        MONTH,
        *(_period_column(n) for n in rr.PERIOD_FIELDS),
    )

    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}
        self._actor: int | None = None
        self._notes: list[str] = []

    # ------------------------------------------------------------------------- checking

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        allowed(ctx.actor, WRITERS, "import rent-roll months")
        try:
            self._actor = acting_user_id(ctx.session, ctx.actor)
        except PermissionDenied as exc:
            ctx.error(None, None, str(exc).rstrip("."))
        refs = sorted({r for row in rows if (r := row.get(self.PERFORMANCE_REF)) is not None})
        for start in range(0, len(refs), CHUNK):
            stmt = (
                sa.select(
                    R.ref,
                    R.id,
                    R.loan_type,
                    R.projected_rent,
                    R.projected_noi,
                    R.projected_monthly_cash_flow,
                    R.projected_dscr,
                    BuyBox.min_dscr,
                )
                .outerjoin(BuyBox, BuyBox.id == R.buy_box_id)
                .where(R.ref.in_(refs[start : start + CHUNK]))
            )
            for ref, rid, loan, rent, noi, cf, dscr, min_dscr in ctx.session.execute(stmt):
                self._records[str(ref)] = _Record(
                    int(rid),
                    None if loan is None else str(loan),
                    Projection(rent, noi, cf, dscr),
                    DEFAULT_REQUIRED_DSCR if min_dscr is None else min_dscr,
                )

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        ref = row.get(self.PERFORMANCE_REF)
        record = self._records.get(ref) if ref is not None else None
        if ref is not None and record is None:
            ctx.error(row, self.PERFORMANCE_REF, f"no performance record with ref {ref!r}")
        year, month = row.get(self.YEAR), row.get(self.MONTH)
        if year is not None and month is not None:
            late = rr.check_month(year, month, ctx.as_of)
            if late is not None:
                ctx.error(row, self.MONTH, late)
        values: dict[str, object] = {name: row.values.get(name) for name in rr.PERIOD_FIELDS}
        errors: dict[str, str] = {name: "" for name in rr.PERIOD_FIELDS if name in row.failed}
        rr.period_rules(values, errors, record.loan_type if record is not None else None)
        for name, reason in errors.items():
            if name not in row.failed:
                ctx.error(row, name, reason)
        if record is None or year is None or month is None or ctx.is_bad(row):
            return
        period = rr.PeriodValues(**values)  # type: ignore[arg-type]
        assessment = assess(record.projection, period.actuals(), record.required_dscr)
        row.data = {
            "performance_id": record.id,
            "year": year,
            "month": month,
            **period.columns(),
            **period_assessment_columns(assessment),
        }

    def identity(self, row: Row) -> Identity | None:
        if not row.data:
            return None
        ref, year, month = row[self.PERFORMANCE_REF], row.data["year"], row.data["month"]
        return Identity(
            (row.data["performance_id"], year, month),
            self.MONTH.name,
            f"{ref} {_month_text(year, month)}",
        )

    def check_existing(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        wanted: dict[tuple[int, int, int], Row] = {
            (r.data["performance_id"], r.data["year"], r.data["month"]): r for r in rows if r.data
        }
        ids = sorted({key[0] for key in wanted})
        years = sorted({key[1] for key in wanted})
        for start in range(0, len(ids), CHUNK):
            stmt = sa.select(P.performance_id, P.year, P.month).where(
                P.performance_id.in_(ids[start : start + CHUNK]), P.year.in_(years)
            )
            for key in ctx.session.execute(stmt):
                row = wanted.get((key[0], key[1], key[2]))
                if row is not None:
                    ctx.error(
                        row,
                        self.MONTH,
                        f"{row[self.PERFORMANCE_REF]} {_month_text(key[1], key[2])} is entered "
                        "already (imports add, they never overwrite; change it in PerfDesk)",
                    )

    # ------------------------------------------------------------------------- writing

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        if not rows:
            return 0
        if self._actor is None:  # prepare reported it; the runner never gets here
            raise PermissionDenied("nobody to record the import in the name of")
        s = ctx.session
        now = dt.datetime.now(dt.UTC)
        extra = {"entered_by": self._actor, "entered_at": now, "version": 1}
        # Core, not the ORM's bulk path: 60,000 months are one executemany per block.
        table: sa.Table = P.__table__  # type: ignore[assignment]
        insert = table.insert()
        connection = s.connection()
        for start in range(0, len(rows), WRITE_BLOCK):
            block = rows[start : start + WRITE_BLOCK]
            connection.execute(insert, [{**row.data, **extra} for row in block])
        feedback = refresh_after_periods(s, {row.data["performance_id"] for row in rows})
        notify_managers(s, None, feedback.alerts)
        notes = [f"{alert.title}: {alert.body}" for alert in feedback.alerts]
        if len(notes) > MAX_NOTES:
            more = len(notes) - MAX_NOTES
            notes = [*notes[:MAX_NOTES], f"… and {more} more alert{'s' if more != 1 else ''}"]
        self._notes = notes
        return len(rows)

    def after_commit(self, db: Database, rows: Sequence[Row]) -> list[str]:
        return list(self._notes)
