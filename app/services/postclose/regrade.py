"""Grading stored periods again (SPEC §9): after a buy box's minimum DSCR changes, and
"Recalculate all".

300,000 periods must be graded in a few seconds, so the rows are read as the driver gives
them (no per-value type conversion: SQLite's scaled integers are scaled here), only the
periods whose grade, flags or variances differ are written, and the reading streams in
blocks (a server-side cursor on PostgreSQL) so memory stays flat.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import PerformancePeriod
from app.domain.errors import PerfDeskError
from app.domain.postclose import DEFAULT_REQUIRED_DSCR, Assessment, assess_scaled
from app.services.database import Database
from app.services.postclose.alerts import notify_managers
from app.services.postclose.feedback import Feedback, refresh_after_periods, refresh_everything

BLOCK = 5000
PCT_LIMIT = Decimal("9999999.99")  # NUMERIC(9,2)

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]

#: (column, scale): read as the scaled integer SQLite stores; on PostgreSQL the NUMERIC is
#: scaled in SQL, so both backends hand Python plain integers (cheap to read).
_COLUMNS = (
    ("p.id", None), ("p.actual_rent_collected", 2), ("p.actual_vacancy_rate", 4),
    ("p.expenses_total", 2), ("p.actual_monthly_cash_flow", 2), ("p.actual_dscr", 2),
    ("p.grade", None), ("p.flags", "json"), ("p.cash_flow_variance", 2),
    ("p.cash_flow_variance_pct", 2), ("p.rent_variance", 2), ("p.rent_variance_pct", 2),
    ("p.expense_variance", 2), ("p.expense_variance_pct", 2), ("p.dscr_variance", 2),
    ("r.id", None), ("r.projected_rent", 2), ("r.projected_noi", 2),
    ("r.projected_monthly_cash_flow", 2), ("r.projected_dscr", 2), ("b.min_dscr", 2),
)  # fmt: skip
_FROM = """
FROM performance_periods p
JOIN deal_performances r ON r.id = p.performance_id
LEFT JOIN buy_boxes b ON b.id = r.buy_box_id
"""


def _select(dialect: str) -> str:
    if dialect == "sqlite":
        cols = [name for name, _scale in _COLUMNS]
    else:
        cols = [
            f"({name} * {10**scale})::bigint" if isinstance(scale, int)
            else f"{name}::text" if scale == "json" else name
            for name, scale in _COLUMNS
        ]  # fmt: skip
    return "SELECT " + ", ".join(cols) + _FROM


class RecalculationCancelled(PerfDeskError):
    """ "Recalculate all" was cancelled; nothing was changed."""


def stored_pct(value: Decimal | None) -> Decimal | None:
    """A percentage as NUMERIC(9,2) holds it: a tiny projection's huge ratio is clamped."""
    if value is None:
        return None
    return max(-PCT_LIMIT, min(PCT_LIMIT, value))


def _d(value: int | None, scale: int) -> Decimal | None:
    """A scaled integer as the Decimal it stands for."""
    return None if value is None else Decimal(value).scaleb(-scale)


def _flags(value: str | None, cache: dict[str, list[str]]) -> list[str]:
    if value is None:
        return []
    found = cache.get(value)
    if found is None:
        found = cache[value] = list(json.loads(value))
    return found


def _update_row(period_id: int, new: tuple[Any, ...]) -> dict[str, Any]:
    """The update of one period from ``assess_scaled``'s integers."""
    grade, flags, cf, cf_pct, rent, rent_pct, exp, exp_pct, dscr = new
    return {
        "pid": period_id,
        "grade": grade,
        "flags": flags,
        "cash_flow_variance": _d(cf, 2),
        "cash_flow_variance_pct": _d(cf_pct, 2),
        "rent_variance": _d(rent, 2),
        "rent_variance_pct": _d(rent_pct, 2),
        "expense_variance": _d(exp, 2),
        "expense_variance_pct": _d(exp_pct, 2),
        "dscr_variance": _d(dscr, 2),
    }


def period_assessment_columns(a: Assessment) -> dict[str, Any]:
    """The stored columns of a period's assessment (grade, flags, variances)."""
    return {
        "grade": a.grade.value,
        "flags": list(a.flags),
        "cash_flow_variance": a.cash_flow_variance,
        "cash_flow_variance_pct": stored_pct(a.cash_flow_variance_pct),
        "rent_variance": a.rent_variance,
        "rent_variance_pct": stored_pct(a.rent_variance_pct),
        "expense_variance": a.expense_variance,
        "expense_variance_pct": stored_pct(a.expense_variance_pct),
        "dscr_variance": a.dscr_variance,
    }


def _grade_rows(
    s: Session,
    record_ids: Sequence[int] | None,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> list[dict[str, Any]]:
    """The periods whose stored assessment differs from SPEC §9's, as update rows."""
    select = _select(s.get_bind().dialect.name)
    if record_ids is None:
        total = s.scalar(sa.select(sa.func.count()).select_from(PerformancePeriod)) or 0
        stmt = sa.text(select + " ORDER BY p.id")
        params: dict[str, Any] = {}
    else:
        total = 0
        stmt = sa.text(select + " WHERE p.performance_id IN :ids ORDER BY p.id").bindparams(
            sa.bindparam("ids", expanding=True)
        )
        params = {"ids": list(record_ids)}
    result = s.execute(stmt, params, execution_options={"stream_results": True, "yield_per": BLOCK})
    cache: dict[str, list[str]] = {}
    changes: list[dict[str, Any]] = []
    done = 0
    default_req = int(DEFAULT_REQUIRED_DSCR * 100)
    for block in result.partitions(BLOCK):
        if cancelled is not None and cancelled():
            result.close()
            raise RecalculationCancelled("Recalculation cancelled; nothing was changed.")
        for row in block:
            new = assess_scaled(
                row[1], row[2], row[3], row[4], row[5], row[16], row[17], row[18], row[19],
                default_req if row[20] is None else row[20],
            )  # fmt: skip
            if new[0] != row[6] or new[2:] != tuple(row[8:15]) or new[1] != _flags(row[7], cache):
                changes.append(_update_row(row[0], new))
        done += len(block)
        if progress is not None:
            progress(done, max(total, done))
    return changes


def _write(s: Session, changes: list[dict[str, Any]]) -> None:
    if not changes:
        return
    t: sa.Table = PerformancePeriod.__table__  # type: ignore[assignment]
    values: dict[str, Any] = {n: sa.bindparam(n) for n in changes[0] if n != "pid"}
    stmt = t.update().where(t.c.id == sa.bindparam("pid")).values(**values)
    for start in range(0, len(changes), BLOCK):
        s.execute(stmt, changes[start : start + BLOCK])


def regrade_records(s: Session, record_ids: Sequence[int]) -> Feedback:
    """Grade these records' periods again (their buy box's minimum changed), in the caller's
    transaction, and refresh what follows."""
    if not record_ids:
        return Feedback()
    changes = _grade_rows(s, record_ids, None, None)
    _write(s, changes)
    out = refresh_after_periods(s, record_ids)
    notify_managers(s, None, out.alerts)
    return out


def recalculate(
    s: Session, progress: Progress | None = None, cancelled: Cancelled | None = None
) -> Feedback:
    """Every period graded again, then every record, buy box and buyer refreshed."""
    changes = _grade_rows(s, None, progress, cancelled)
    if cancelled is not None and cancelled():
        raise RecalculationCancelled("Recalculation cancelled; nothing was changed.")
    _write(s, changes)
    out = refresh_everything(s)
    notify_managers(s, None, out.alerts)
    out.periods = len(changes)
    return out


def recalculate_all(
    db: Database, progress: Progress | None = None, cancelled: Cancelled | None = None
) -> Feedback:
    """Recalculate all, in one transaction: cancelled, nothing is written.

    The cyclic garbage collector is paused meanwhile: 300,000 rows read in blocks promote
    short-lived tuples to the oldest generation, whose full collections (70-200 ms each,
    holding the interpreter) otherwise stalled the window every half second. Nothing here
    makes cycles; the collector is put back as it was."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        with db.session() as s:
            return recalculate(s, progress, cancelled)
    finally:
        if collecting:
            gc.enable()
