"""The ``kpis`` job (SPEC §12): the measurements of every computed KPI (query, formula, api).

Each run computes, for every period type, the newest whole period that ended before the
run's day (engine.periods_due): a monthly KPI is measured on the 1st for the month just
ended, and again on the days after, which writes nothing unless the records changed.
Option ``periods``: how many whole periods back to compute (default 1, at most 36), e.g.
after importing a year of records. Values that cannot be computed are listed in the job
log's message; the other KPIs still compute (SPEC §7). Then, for the newest period of each
type, a member who missed a KPI's target three periods running is reported to their team's
manager (streaks.py). Rows affected: measurements written plus alerts raised.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.domain.enums import PeriodType
from app.domain.errors import ValidationError
from app.domain.periods import period_of
from app.services.jobs.runner import Job, JobContext, JobOutcome, register
from app.services.kpis.engine import CalcResult, calculate, last_whole_period
from app.services.kpis.streaks import alert_missed_streaks

NAME = "kpis"
MAX_PERIODS = 36


def _periods(ctx: JobContext) -> int:
    raw = ctx.options.get("periods", 1)
    try:
        n = int(raw)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"periods must be a whole number, not {raw!r}") from None
    if isinstance(raw, bool) or (not isinstance(raw, str) and n != raw):  # True, 2.5
        raise ValidationError(f"periods must be a whole number, not {raw!r}")
    if not 1 <= n <= MAX_PERIODS:
        raise ValidationError(f"periods must be from 1 to {MAX_PERIODS}")
    return n


def _run(s: Session, ctx: JobContext) -> JobOutcome:
    if ctx.database is None:
        raise ValidationError("the kpis job needs its database")
    total = CalcResult()
    alerts = 0
    for period in PeriodType:
        p = last_whole_period(period, ctx.as_of)
        newest = p.start
        for _ in range(_periods(ctx)):
            r = calculate(s, ctx.database, period, p.start)
            total.written += r.written
            total.unchanged += r.unchanged
            total.no_value += r.no_value
            total.problems.extend(r.problems)
            p = period_of(period, p.start - dt.timedelta(days=1))
        alerts += alert_missed_streaks(s, period, newest)
    return JobOutcome(total.written + alerts, total.summary())


JOB = register(
    Job(
        name=NAME,
        description="measure every query, formula and api KPI for the periods just ended",
        run=_run,
    )
)
