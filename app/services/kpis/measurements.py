"""Manual KPI measurements (SPEC §7) and an assignment's history.

Rules where SPEC.md is silent (also in docs/rules.md):
- values are entered for manual KPIs only (the others are computed by the engine); any day
  of the period may be picked, the measurement is stored for the whole period holding it
  (a Monday-to-Sunday week, a month, a quarter, a year);
- the period must overlap the assignment (not before its start, not after its end) and may
  not be in the future (it may be the current, unfinished period);
- the value must lie within the KPI's allowed range;
- one measurement per (assignment, period): entering a period that has one changes it, and
  the form must name the version it read (else ``ConflictError``);
- the target is the assignment's at the time of entry (snapshot), the achievement is SPEC §7;
- only the manager of the person's team or an admin enters values (SPEC §1);
- every entry writes an audit entry on the assignment's chain (``kpi.measurement_entered``)
  with the period, the old and the new value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from app.db.models import KpiAssignment, KpiDefinition, KpiMeasurement, User
from app.domain.enums import CalculationType, PeriodType
from app.domain.errors import ConflictError, ValidationError
from app.domain.kpis import achievement_pct, check_in_range, stored_pct
from app.domain.money import parse_decimal, quantize
from app.domain.periods import Period, period_of
from app.services.audit import append_entry
from app.services.database import Database
from app.services.kpis.access import kpi_scope
from app.services.kpis.assignments import ENTITY, chain_key
from app.services.pipeline.common import acting_user_id
from app.services.records import Acting, resolve_actor

ENTERED = "kpi.measurement_entered"
NOTES_MAX = 2000


class MeasurementError(ValidationError):
    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        label = {"value": "Value", "period": "Period", "notes": "Notes"}.get(field, field)
        super().__init__(f"{label}: {reason}")


@dataclass(frozen=True)
class MeasurementRow:
    id: int
    version: int
    period_start: dt.date
    period_end: dt.date
    actual_value: Decimal
    target_value: Decimal
    achievement_pct: Decimal | None
    method: str
    calculated_at: dt.datetime
    calculated_by: str | None
    notes: str | None


def history(db: Database, assignment_id: int, acting: Acting = None) -> list[MeasurementRow]:
    """The assignment's measurements, newest period first (SPEC §1 read rules)."""
    with db.read() as s:
        scope = kpi_scope(s, resolve_actor(s, db, acting))
        a = s.get(KpiAssignment, assignment_id)
        if a is None or a.user_id is None or not scope.may_read(a.user_id):
            raise ValidationError("That KPI assignment is not there (or not yours to see).")
        rows = s.execute(
            sa.select(KpiMeasurement, User.first_name, User.last_name)
            .outerjoin(User, User.id == KpiMeasurement.calculated_by)
            .where(KpiMeasurement.assignment_id == assignment_id)
            .order_by(KpiMeasurement.period_start.desc())
        )
        out: list[MeasurementRow] = []
        for m, first, last in rows:
            method = str((m.calculation_metadata or {}).get("method") or "manual")
            by = f"{first} {last}".strip() if first is not None else None
            out.append(
                MeasurementRow(
                    m.id, m.version, m.period_start, m.period_end, m.actual_value,
                    m.target_value, m.achievement_pct, method, m.calculated_at, by, m.notes,
                )
            )  # fmt: skip
        return out


def period_for(period: PeriodType | str, day: dt.date) -> Period:
    return period_of(PeriodType(period), day)


@dataclass(frozen=True)
class Entered:
    id: int
    period: Period
    achievement_pct: Decimal | None
    created: bool


def enter_value(
    db: Database,
    assignment_id: int,
    day: dt.date,
    value: str | Decimal,
    notes: str = "",
    version: int | None = None,
    acting: Acting = None,
    today: dt.date | None = None,
) -> Entered:
    """Enter (or change) the value of a manual KPI for the period holding ``day``."""
    text = str(value).strip()
    if not text:
        raise MeasurementError("value", "required")
    try:
        number = value if isinstance(value, Decimal) else parse_decimal(text)
    except (ValueError, ArithmeticError, ValidationError):
        raise MeasurementError("value", f"{text!r} is not a number") from None
    if quantize(number, 4) != number:
        raise MeasurementError("value", "at most four decimals")
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise MeasurementError("notes", f"at most {NOTES_MAX} characters")
    now = dt.datetime.now(dt.UTC)
    try:
        with db.session() as s:
            actor = resolve_actor(s, db, acting)
            a = s.get(KpiAssignment, assignment_id)
            if a is None or a.user_id is None:
                raise ValidationError("That KPI assignment no longer exists.")
            user = s.get_one(User, a.user_id)
            kpi_scope(s, actor).check_write(user.id, user.email)
            d = s.get_one(KpiDefinition, a.kpi_definition_id)
            if d.calculation_type != CalculationType.MANUAL.value:
                raise MeasurementError(
                    "value", f"{d.name} is computed ({d.calculation_type}); it is not entered"
                )
            p = period_for(d.aggregation_period, day)
            _check_period(p, a, today or now.date())
            try:
                check_in_range(number, d.min_value, d.max_value)
            except ValidationError as exc:
                raise MeasurementError("value", str(exc)) from None
            pct = stored_pct(achievement_pct(number, a.target_value, d.target_type))
            old = s.scalar(
                sa.select(KpiMeasurement).where(
                    KpiMeasurement.assignment_id == a.id, KpiMeasurement.period_start == p.start
                )
            )
            by = acting_user_id(s, actor)
            previous = None if old is None else str(old.actual_value)
            if old is None:
                m = KpiMeasurement(
                    assignment_id=a.id, period_start=p.start, period_end=p.end,
                    actual_value=number, target_value=a.target_value, achievement_pct=pct,
                    calculation_metadata={"method": "manual"}, calculated_at=now,
                    calculated_by=by, notes=notes or None,
                )  # fmt: skip
                s.add(m)
            else:
                if version is not None and old.version != version:
                    raise _conflict()
                m = old
                m.actual_value, m.target_value, m.achievement_pct = number, a.target_value, pct
                m.calculation_metadata = {"method": "manual"}
                m.calculated_at, m.calculated_by, m.notes = now, by, notes or None
            s.flush()
            append_entry(
                s, chain_key(a.id), ENTERED, ENTITY, a.id, by,
                {"kpi": d.name, "user_id": user.id, "period_start": p.start.isoformat(),
                 "period_end": p.end.isoformat(), "old_value": previous,
                 "new_value": str(number), "target_value": a.target_value,
                 "achievement_pct": pct},
            )  # fmt: skip
            return Entered(m.id, p, pct, old is None)
    except StaleDataError:
        raise _conflict() from None


def _check_period(p: Period, a: KpiAssignment, today: dt.date) -> None:
    if p.end < a.start_date:
        raise MeasurementError(
            "period", f"the assignment starts on {a.start_date.isoformat()}, after this period"
        )
    if a.end_date is not None and p.start > a.end_date:
        raise MeasurementError(
            "period", f"the assignment ended on {a.end_date.isoformat()}, before this period"
        )
    if p.start > today:
        raise MeasurementError("period", "this period has not started yet")


def _conflict() -> ConflictError:
    return ConflictError(
        "Someone else entered a value for this period while you were typing; reload it and "
        "try again. Nothing was saved."
    )
