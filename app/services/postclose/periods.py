"""Monthly rent-roll periods (SPEC §9): one entered, one edited, or a whole month at once.

Every write grades the period (SPEC §9) and refreshes its record, buy box and buyer in the
same transaction, and returns the alerts that raised. Who: brokers, managers and admins
(SPEC §1); in shared mode the server's grants and policies say the same.

Rules where SPEC.md is silent:
- editing a period keeps who entered it and when, and stamps who changed it and when;
- a month-end save writes every row or none: any bad row refuses the whole month, with each
  problem named by property and field; a row left wholly empty is skipped (not entered yet).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, aliased

from app.db.models import BuyBox, Buyer, DealPerformance, PerformancePeriod, User
from app.domain.errors import ConflictError, ValidationError
from app.domain.postclose import DEFAULT_REQUIRED_DSCR, Projection, assess
from app.domain.rentroll import (
    LABELS,
    PERIOD_FIELDS,
    FieldErrors,
    PeriodValues,
    check_month,
    parse_period,
    period_texts,
)
from app.services.database import Database
from app.services.pipeline.common import acting_user_id
from app.services.postclose.alerts import notify_managers
from app.services.postclose.feedback import Alert, refresh_after_periods
from app.services.postclose.records import WRITERS, RecordNotFound, allowed, writing
from app.services.postclose.regrade import period_assessment_columns
from app.services.records import Acting, resolve_actor

R = DealPerformance
P = PerformancePeriod


class PeriodExists(ValidationError):
    """The month is entered already; ``period_id`` is the existing one (to open it)."""

    def __init__(self, message: str, period_id: int) -> None:
        super().__init__(message)
        self.period_id = period_id


@dataclass(frozen=True)
class PeriodSaved:
    period_id: int
    grade: str
    flags: tuple[str, ...]
    alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class PeriodRow:
    id: int
    performance_id: int
    year: int
    month: int
    texts: dict[str, str]
    values: dict[str, Any]
    grade: str
    flags: tuple[str, ...]
    version: int
    entered_by: str
    entered_at: dt.datetime
    updated_by: str | None
    updated_at: dt.datetime | None


def month_label(year: int, month: int) -> str:
    return dt.date(year, month, 1).strftime("%B %Y")


def _context(s: Session, performance_id: int) -> tuple[str, str | None, Projection, Decimal]:
    """(label, loan type, projection, required DSCR) of a record, or RecordNotFound."""
    found = _contexts(s, [performance_id]).get(performance_id)
    if found is None:
        raise RecordNotFound(f"There is no performance record #{performance_id}.")
    return found


def _graded(values: PeriodValues, projection: Projection, req: Decimal) -> dict[str, Any]:
    return {
        **values.columns(),
        **period_assessment_columns(assess(projection, values.actuals(), req)),
    }


def _saved(
    s: Session, db: Database, period_id: int, cols: dict[str, Any], performance_id: int
) -> PeriodSaved:
    feedback = refresh_after_periods(s, [performance_id])
    notify_managers(s, db, feedback.alerts)
    return PeriodSaved(period_id, cols["grade"], tuple(cols["flags"]), tuple(feedback.alerts))


def add_period(
    db: Database,
    performance_id: int,
    year: int,
    month: int,
    texts: Mapping[str, str | None],
    acting: Acting = None,
    today: dt.date | None = None,
) -> PeriodSaved:
    """Enter one month. PeriodExists when it is entered already; FieldErrors on bad input."""
    with writing(db) as s:
        actor = resolve_actor(s, db, acting)
        allowed(actor, WRITERS, "enter rent-roll months")
        label, loan, projection, req = _context(s, performance_id)
        subject = f"{label}, {month_label(year, month)}"
        late = check_month(year, month, today or dt.date.today())
        if late is not None:
            raise FieldErrors({"month": late}, subject)
        existing = s.scalar(
            sa.select(P.id).where(
                P.performance_id == performance_id, P.year == year, P.month == month
            )
        )
        if existing is not None:
            raise PeriodExists(f"{subject} is entered already; open it to change it.", existing)
        cols = _graded(parse_period(texts, loan, subject), projection, req)
        period = P(
            performance_id=performance_id, year=year, month=month,
            entered_by=acting_user_id(s, actor), entered_at=dt.datetime.now(dt.UTC), **cols,
        )  # fmt: skip
        try:
            with s.begin_nested():  # another workstation may enter the month meanwhile
                s.add(period)
                s.flush()
        except sa.exc.IntegrityError:
            raise PeriodExists(
                f"{subject} was entered on another workstation a moment ago; open it to change it.",
                _existing(s, [performance_id], year, month)[performance_id],
            ) from None
        return _saved(s, db, period.id, cols, performance_id)


def update_period(
    db: Database,
    period_id: int,
    texts: Mapping[str, str | None],
    version: int,
    acting: Acting = None,
) -> PeriodSaved:
    """Change one month's figures; keeps entered_by/at, stamps updated_by/at."""
    with writing(db) as s:
        actor = resolve_actor(s, db, acting)
        allowed(actor, WRITERS, "change rent-roll months")
        found = s.execute(
            sa.select(P.performance_id, P.year, P.month).where(P.id == period_id)
        ).one_or_none()
        if found is None:
            raise RecordNotFound("That month has been removed; nothing was changed.")
        performance_id, year, month = found
        label, loan, projection, req = _context(s, performance_id)
        subject = f"{label}, {month_label(year, month)}"
        cols = _graded(parse_period(texts, loan, subject), projection, req)
        _update(s, period_id, version, cols, acting_user_id(s, actor), subject)
        return _saved(s, db, period_id, cols, performance_id)


def _update(
    s: Session, period_id: int, version: int, cols: dict[str, Any], by: int, subject: str
) -> None:
    changed = s.execute(
        sa.update(P)
        .where(P.id == period_id, P.version == version)
        .values(version=version + 1, updated_by=by, updated_at=dt.datetime.now(dt.UTC), **cols)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], changed).rowcount != 1:
        raise ConflictError(
            f"{subject} was changed on another workstation; it has been read again. "
            "Nothing was changed."
        )


def _rows(s: Session, where: sa.ColumnElement[bool]) -> list[PeriodRow]:
    enterer, updater = aliased(User), aliased(User)
    stmt = (
        sa.select(P, enterer.first_name, enterer.last_name, updater.first_name, updater.last_name)
        .join(enterer, enterer.id == P.entered_by)
        .outerjoin(updater, updater.id == P.updated_by)
        .where(where)
        .order_by(P.year, P.month)
    )
    out: list[PeriodRow] = []
    for p, ef, el, uf, ul in s.execute(stmt):
        values = {name: getattr(p, name) for name in PERIOD_FIELDS}
        out.append(
            PeriodRow(
                p.id,
                p.performance_id,
                p.year,
                p.month,
                period_texts(values),
                {**values, **{k: getattr(p, k) for k in _ASSESSED}},
                p.grade,
                tuple(p.flags or ()),
                p.version,
                f"{ef} {el}",
                p.entered_at,
                None if uf is None else f"{uf} {ul}",
                p.updated_at,
            )
        )
    return out


_ASSESSED = (
    "cash_flow_variance", "cash_flow_variance_pct", "rent_variance", "rent_variance_pct",
    "expense_variance", "expense_variance_pct", "dscr_variance",
)  # fmt: skip


def get_period(db: Database, period_id: int) -> PeriodRow:
    with db.read() as s:
        rows = _rows(s, P.id == period_id)
    if not rows:
        raise RecordNotFound("That month has been removed.")
    return rows[0]


def history(db: Database, performance_id: int) -> list[PeriodRow]:
    """A record's months, oldest first."""
    with db.read() as s:
        return _rows(s, P.performance_id == performance_id)


# ---------------------------------------------------------------------------- a whole month


@dataclass(frozen=True)
class SheetRow:
    performance_id: int
    label: str
    market_key: str
    buyer: str
    loan_type: str | None
    projection: Projection
    required_dscr: Decimal
    period_id: int | None
    version: int | None
    texts: dict[str, str]


def month_sheet(db: Database, year: int, month: int) -> list[SheetRow]:
    """One row per record closed by the end of the month, with the month's figures if any."""
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    with db.read() as s:
        records = s.execute(
            sa.select(
                R.id,
                R.ref,
                R.market_key,
                Buyer.name,
                R.loan_type,
                R.projected_rent,
                R.projected_noi,
                R.projected_monthly_cash_flow,
                R.projected_dscr,
                BuyBox.min_dscr,
            )
            .join(Buyer, Buyer.id == R.buyer_id)
            .outerjoin(BuyBox, BuyBox.id == R.buy_box_id)
            .where(R.closed_date < first_next)
            .order_by(R.market_key, R.ref, R.id)
        ).all()
        entered = {
            p.performance_id: p
            for p in s.scalars(sa.select(P).where(P.year == year, P.month == month))
        }
    out: list[SheetRow] = []
    for rid, ref, market, buyer, loan, rent, noi, cf, dscr, min_dscr in records:
        p = entered.get(rid)
        texts = (
            period_texts({n: getattr(p, n) for n in PERIOD_FIELDS})
            if p is not None
            else dict.fromkeys(PERIOD_FIELDS, "")
        )
        out.append(
            SheetRow(
                rid,
                ref or f"#{rid}",
                market,
                buyer,
                loan,
                Projection(rent, noi, cf, dscr),
                DEFAULT_REQUIRED_DSCR if min_dscr is None else min_dscr,
                None if p is None else p.id,
                None if p is None else p.version,
                texts,
            )
        )
    return out


@dataclass(frozen=True)
class GridRow:
    performance_id: int
    texts: Mapping[str, str | None]
    period_id: int | None = None
    version: int | None = None


@dataclass(frozen=True)
class RowProblem:
    performance_id: int
    label: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.label}: {LABELS.get(self.field, self.field)}: {self.message}"


class GridErrors(ValidationError):
    """Rows of a month that break a rule; nothing was written."""

    def __init__(self, problems: Sequence[RowProblem], month: str) -> None:
        self.problems = list(problems)
        rows = len({p.performance_id for p in problems})
        head = f"{month}: {rows} row{'s' if rows != 1 else ''} to correct; nothing was saved."
        super().__init__("\n".join([head, *(str(p) for p in problems)]))


@dataclass(frozen=True)
class MonthSaved:
    added: int
    updated: int
    alerts: tuple[Alert, ...] = field(default_factory=tuple)


_ENTERED_ELSEWHERE = "entered already on another workstation; reload the month"


def _empty(texts: Mapping[str, str | None]) -> bool:
    return not any((v or "").strip() for v in texts.values())


def save_month(
    db: Database,
    year: int,
    month: int,
    rows: Sequence[GridRow],
    acting: Acting = None,
    today: dt.date | None = None,
) -> MonthSaved:
    """Write every filled row of the month (new or changed) or none."""
    when = month_label(year, month)
    late = check_month(year, month, today or dt.date.today())
    if late is not None:
        raise ValidationError(f"{when}: {late}; nothing was saved.")
    filled = [r for r in rows if not _empty(r.texts)]
    counts = Counter(r.performance_id for r in filled)
    twice = sorted(rid for rid, n in counts.items() if n > 1)
    if twice:
        named = ", ".join(f"#{rid}" for rid in twice)
        raise ValidationError(f"{when}: a property is given twice ({named}); nothing was saved.")
    with writing(db) as s:
        actor = resolve_actor(s, db, acting)
        allowed(actor, WRITERS, "enter rent-roll months")
        ids = [r.performance_id for r in filled]
        contexts = _contexts(s, ids)
        existing = _existing(s, ids, year, month)
        problems: list[RowProblem] = []
        inserts: list[dict[str, Any]] = []
        updates: list[tuple[GridRow, dict[str, Any]]] = []
        for row in filled:
            ctx = contexts.get(row.performance_id)
            if ctx is None:
                problems.append(
                    RowProblem(
                        row.performance_id, f"#{row.performance_id}", "record", "no such record"
                    )
                )
                continue
            label, loan, projection, req = ctx
            try:
                cols = _graded(parse_period(row.texts, loan), projection, req)
            except FieldErrors as exc:
                problems.extend(
                    RowProblem(row.performance_id, label, f, m) for f, m in exc.errors.items()
                )
                continue
            stored = existing.get(row.performance_id)
            if row.period_id is None and stored is not None:
                problems.append(
                    RowProblem(
                        row.performance_id,
                        label,
                        "month",
                        _ENTERED_ELSEWHERE,
                    )
                )
            elif row.period_id is None:
                inserts.append(
                    {"performance_id": row.performance_id, "year": year, "month": month, **cols}
                )
            else:
                updates.append((row, cols))
        if problems:
            raise GridErrors(problems, when)
        by = acting_user_id(s, actor)
        now = dt.datetime.now(dt.UTC)
        if inserts:
            try:
                with s.begin_nested():  # another workstation may enter a row meanwhile
                    s.execute(
                        sa.insert(P),
                        [{**i, "entered_by": by, "entered_at": now, "version": 1} for i in inserts],
                    )
            except sa.exc.IntegrityError:
                taken = _existing(s, [i["performance_id"] for i in inserts], year, month)
                raise GridErrors(
                    [
                        RowProblem(rid, contexts[rid][0], "month", _ENTERED_ELSEWHERE)
                        for rid in sorted(taken)
                    ],
                    when,
                ) from None
        for row, cols in updates:
            assert row.period_id is not None and row.version is not None
            _update(
                s,
                row.period_id,
                row.version,
                cols,
                by,
                f"{contexts[row.performance_id][0]}, {when}",
            )
        feedback = refresh_after_periods(s, ids)
        notify_managers(s, db, feedback.alerts)
        return MonthSaved(len(inserts), len(updates), tuple(feedback.alerts))


def _contexts(
    s: Session, ids: Sequence[int]
) -> dict[int, tuple[str, str | None, Projection, Decimal]]:
    out: dict[int, tuple[str, str | None, Projection, Decimal]] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for rid, ref, market, loan, rent, noi, cf, dscr, min_dscr in s.execute(
            sa.select(
                R.id,
                R.ref,
                R.market_key,
                R.loan_type,
                R.projected_rent,
                R.projected_noi,
                R.projected_monthly_cash_flow,
                R.projected_dscr,
                BuyBox.min_dscr,
            )
            .outerjoin(BuyBox, BuyBox.id == R.buy_box_id)
            .where(R.id.in_(part))
        ):
            req = DEFAULT_REQUIRED_DSCR if min_dscr is None else min_dscr
            out[rid] = (
                f"{ref or f'#{rid}'} ({market})",
                loan,
                Projection(rent, noi, cf, dscr),
                req,
            )
    return out


def _existing(s: Session, ids: Sequence[int], year: int, month: int) -> dict[int, int]:
    out: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for rid, pid in s.execute(
            sa.select(P.performance_id, P.id).where(
                P.performance_id.in_(part), P.year == year, P.month == month
            )
        ):
            out[rid] = pid
    return out
