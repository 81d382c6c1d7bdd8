"""The KPI calculation engine (SPEC §7): measurements of query, formula and api KPIs.

For a day and a period type, every active definition of that aggregation period that is
computed (not manual) gets, for each active assignment overlapping the period, one
measurement of the period holding the day: ``actual`` from its source, the assignment's
target as a snapshot, and the achievement. Set-based: the built-in library's figures come
from one pass over each kind of record for everyone (sales.py), and a query KPI runs as one
statement for all its people (query.py); only api KPIs ask per person, since the providers
answer per person.

Rules (also in docs/rules.md):
- a value that cannot be computed (a formula dividing by zero, a rate with nothing to count,
  a query the database refuses, an API that times out or answers garbage) gives no
  measurement and a stated reason (``CalcProblem``); a measurement already stored for that
  period is left as it was; the other KPIs and people still compute;
- a formula input that is another KPI takes that KPI's value for the same person and period,
  computed in the same run (definitions are taken in dependency order; a cycle, refused
  when saved, is refused here too); a person it gives no value in this run (a manual KPI, or
  one not computed in this run) gets the value stored for that period, if any; KPI names
  match regardless of case, as when a formula is saved;
- a measurement is written only when its value, target or achievement changed; a manual
  one (``calculated_by`` set, no method) is never overwritten by a computed one;
- values are kept to 4 decimals (NUMERIC(16,4)), achievements to 2, both half-up; a value
  of 10^12 or more, or an achievement of 10^7 % or more, cannot be kept and is a problem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import KpiAssignment, KpiDefinition, KpiMeasurement, User
from app.domain.enums import CalculationType, PeriodType
from app.domain.errors import PerfDeskError
from app.domain.formula import FormulaError
from app.domain.kpi_sources import (
    ApiSource,
    BuiltinSource,
    FormulaSource,
    QuerySource,
    Source,
    parse_source,
)
from app.domain.kpis import achievement_pct, find_cycle, stored_pct
from app.domain.money import quantize
from app.domain.periods import Period, period_of
from app.services.database import Database
from app.services.kpis import adapters, query
from app.services.kpis.sales import SalesFigures, sales_figures

Values = dict[int, Decimal | None]
#: Providers that answer nothing without a token: said once per KPI, not once per person.
NEEDS_TOKEN = frozenset({"intercom", "aircall"})
Fetch = Callable[..., Decimal]
TokenLoader = Callable[[str], "str | None"]
#: What kpi_measurements can hold: actual_value NUMERIC(16,4), achievement_pct NUMERIC(9,2).
MAX_VALUE = Decimal(10) ** 12
MAX_PCT = Decimal(10) ** 7


@dataclass(frozen=True)
class CalcProblem:
    kpi: str
    person: str | None  # email; None: the KPI as a whole
    reason: str

    def describe(self) -> str:
        who = f" for {self.person}" if self.person else ""
        return f"{self.kpi}{who}: {self.reason}"


@dataclass
class CalcResult:
    written: int = 0
    unchanged: int = 0
    no_value: int = 0
    problems: list[CalcProblem] = field(default_factory=list)

    def summary(self) -> str | None:
        """One line for the job log (None when nothing went wrong)."""
        if not self.problems:
            return None
        first = self.problems[0].describe()
        more = len(self.problems) - 1
        return f"{len(self.problems)} KPI value(s) not computed; {first}" + (
            f" (and {more} more)" if more else ""
        )


@dataclass(frozen=True)
class _Assignment:
    id: int
    user_id: int
    email: str
    target: Decimal


@dataclass
class _Definition:
    id: int
    name: str
    calculation: CalculationType
    target_type: str
    source: Source
    assignments: list[_Assignment] = field(default_factory=list)


class _Run:
    def __init__(
        self,
        s: Session,
        db: Database | None,
        result: CalcResult,
        fetch: Fetch,
        token: TokenLoader,
        acting_id: int | None,
    ) -> None:
        self.s, self.db, self.result = s, db, result
        self.fetch, self.token, self.acting_id = fetch, token, acting_id
        self.figures: dict[tuple[dt.date, dt.date], dict[int, SalesFigures]] = {}
        #: (KPI name casefolded, period start) → values by person, for formula inputs.
        self.values: dict[tuple[str, dt.date], Values] = {}

    def problem(self, kpi: str, person: str | None, reason: str) -> None:
        self.result.problems.append(CalcProblem(kpi, person, reason))

    # -- sources ---------------------------------------------------------------------------
    def builtin(self, metric: str, people: Sequence[_Assignment], p: Period) -> Values:
        key = (p.start, p.end)
        if key not in self.figures:
            self.figures[key] = sales_figures(self.s, p.start, p.end)
        figures = self.figures[key]
        out: Values = {}
        for a in people:
            f = figures.get(a.user_id) or SalesFigures(a.user_id)
            out[a.user_id] = f.metric(metric)
        return out

    def run_query(self, kpi: str, sql: str, people: Sequence[_Assignment], p: Period) -> Values:
        if self.db is None:
            raise PerfDeskError("query KPIs need the database they run on")
        ids = sorted({a.user_id for a in people})
        try:
            return dict(query.run_for_people(self.db, sql, ids, p.start, p.end))
        except PerfDeskError as exc:
            self.problem(kpi, None, str(exc))
            return {}

    def api(self, d: _Definition, source: ApiSource, p: Period) -> Values:
        token = self.token(source.provider)
        out: Values = {}
        if token is None and source.provider in NEEDS_TOKEN:
            name = adapters.PROVIDERS.get(source.provider, source.provider)
            self.problem(d.name, None, f"no {name} token is saved on this computer")
            return out
        for a in d.assignments:
            try:
                out[a.user_id] = self.fetch(
                    source.config, person_email=a.email, start=p.start, end=p.end, token=token
                )
            except PerfDeskError as exc:
                self.problem(d.name, a.email, str(exc))
        return out

    def formula(self, d: _Definition, source: FormulaSource, p: Period) -> tuple[Values, Any]:
        inputs: dict[str, Values] = {}
        for item in source.inputs:
            if item.kpi:
                inputs[item.name] = self.kpi_values(item.kpi, d.assignments, p)
            else:
                inputs[item.name] = self.run_query(d.name, item.sql or "", d.assignments, p)
        out: Values = {}
        used: dict[int, dict[str, str | None]] = {}
        for a in d.assignments:
            args = {name: vals.get(a.user_id) for name, vals in inputs.items()}
            used[a.user_id] = {k: None if v is None else str(v) for k, v in args.items()}
            try:
                out[a.user_id] = source.formula.evaluate(args)
            except FormulaError as exc:
                self.problem(d.name, a.email, str(exc))
        return out, used

    def kpi_values(self, name: str, people: Sequence[_Assignment], p: Period) -> Values:
        """Another KPI's values for ``people`` in ``p``: computed in this run, else stored."""
        computed = self.values.get((name.casefold(), p.start), {})
        out: Values = {a.user_id: computed.get(a.user_id) for a in people}
        missing = [uid for uid, value in out.items() if value is None]
        if not missing:
            return out
        kpi_ids = [
            kid
            for kid, kname in self.s.execute(sa.select(KpiDefinition.id, KpiDefinition.name))
            if str(kname).casefold() == name.casefold()
        ]
        if not kpi_ids:
            return out
        stored = self.s.execute(
            sa.select(KpiAssignment.user_id, KpiMeasurement.actual_value)
            .join(KpiAssignment, KpiAssignment.id == KpiMeasurement.assignment_id)
            .where(
                KpiAssignment.kpi_definition_id.in_(kpi_ids),
                KpiAssignment.user_id.in_(missing),
                KpiMeasurement.period_start == p.start,
                KpiMeasurement.period_end == p.end,
            )
            .order_by(KpiAssignment.start_date)
        )
        for uid, value in stored:  # of two assignments in the period, the later one stands
            if uid is not None:
                out[uid] = value
        return out

    # -- one definition ----------------------------------------------------------------------
    def compute(self, d: _Definition, p: Period) -> tuple[Values, dict[int, dict[str, Any]]]:
        src = d.source
        meta: dict[int, dict[str, Any]] = {}
        if isinstance(src, BuiltinSource):
            values = self.builtin(src.metric, d.assignments, p)
            method: dict[str, Any] = {"method": "builtin", "metric": src.metric}
        elif isinstance(src, QuerySource):
            values = self.run_query(d.name, src.sql, d.assignments, p)
            method = {"method": "query"}
        elif isinstance(src, FormulaSource):
            values, used = self.formula(d, src, p)
            for uid, args in used.items():
                meta[uid] = {"method": "formula", "inputs": args}
            method = {"method": "formula"}
        elif isinstance(src, ApiSource):
            values = self.api(d, src, p)
            method = {"method": "api", "provider": src.provider}
        else:
            return {}, {}
        for a in d.assignments:
            meta.setdefault(a.user_id, dict(method))
        return values, meta


def _definitions(
    s: Session, period: PeriodType, kpi_ids: Collection[int] | None, day: dt.date
) -> list[_Definition]:
    rows = s.execute(
        sa.select(KpiDefinition).where(
            KpiDefinition.is_active.is_(True),
            KpiDefinition.aggregation_period == period,
            KpiDefinition.calculation_type != CalculationType.MANUAL,
            *([KpiDefinition.id.in_(list(kpi_ids))] if kpi_ids is not None else []),
        )
    ).scalars()
    out: list[_Definition] = []
    for row in rows:
        try:
            source = parse_source(row.calculation_type, row.data_source)
        except PerfDeskError:
            continue  # refused when saved; an older row that no longer parses is skipped
        out.append(
            _Definition(row.id, row.name, CalculationType(row.calculation_type),
                        str(row.target_type), source)
        )  # fmt: skip
    return out


def _attach_assignments(
    s: Session, defs: Sequence[_Definition], p: Period, user_ids: Collection[int] | None
) -> None:
    by_id = {d.id: d for d in defs}
    if not by_id:
        return
    rows = s.execute(
        sa.select(
            KpiAssignment.id,
            KpiAssignment.kpi_definition_id,
            KpiAssignment.user_id,
            User.email,
            KpiAssignment.target_value,
        )
        .join(User, User.id == KpiAssignment.user_id)
        .where(
            KpiAssignment.kpi_definition_id.in_(list(by_id)),
            KpiAssignment.is_active.is_(True),
            KpiAssignment.start_date <= p.end,
            sa.or_(KpiAssignment.end_date.is_(None), KpiAssignment.end_date >= p.start),
            *([KpiAssignment.user_id.in_(list(user_ids))] if user_ids is not None else []),
        )
        .order_by(KpiAssignment.user_id, KpiAssignment.start_date)
    )
    for aid, kid, uid, email, target in rows:
        if uid is None:
            continue
        people = by_id[kid].assignments
        # Two assignments of one KPI overlapping one period: the later one stands.
        people[:] = [a for a in people if a.user_id != uid]
        people.append(_Assignment(aid, uid, email, target))


def _ordered(defs: Sequence[_Definition]) -> list[_Definition]:
    """Definitions whose formulas use other KPIs come after those KPIs."""
    names = {d.name: d for d in defs}
    folded = {d.name.casefold(): d.name for d in defs}
    graph = {
        d.name: [folded[n.casefold()] for n in d.source.kpi_names if n.casefold() in folded]
        if isinstance(d.source, FormulaSource)
        else []
        for d in defs
    }
    if find_cycle(graph):
        raise PerfDeskError(
            "KPI formulas refer to each other in a circle: " + " → ".join(find_cycle(graph) or [])
        )
    done: list[_Definition] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep in graph[name]:
            visit(dep)
        done.append(names[name])

    for d in defs:
        visit(d.name)
    return done


def _unkept(value: Decimal, pct: Decimal | None = None) -> str | None:
    """Why kpi_measurements cannot keep this value or achievement; None: it can."""
    if not value.is_finite() or abs(value) >= MAX_VALUE:
        return f"the value {value} is too large to keep"
    if pct is not None and abs(pct) >= MAX_PCT:
        return f"the achievement {pct} % is too large to keep"
    return None


def _store(
    s: Session,
    run: _Run,
    d: _Definition,
    p: Period,
    values: Mapping[int, Decimal | None],
    meta: Mapping[int, Mapping[str, Any]],
) -> None:
    result = run.result
    ids = [a.id for a in d.assignments]
    existing = {
        m.assignment_id: m
        for m in s.scalars(
            sa.select(KpiMeasurement).where(
                KpiMeasurement.assignment_id.in_(ids), KpiMeasurement.period_start == p.start
            )
        )
    }
    now = dt.datetime.now(dt.UTC)
    for a in d.assignments:
        value = values.get(a.user_id)
        if value is None:
            result.no_value += 1
            continue
        reason = _unkept(value)
        if reason is None:
            actual = quantize(value, 4)
            pct = stored_pct(achievement_pct(actual, a.target, d.target_type))
            reason = _unkept(actual, pct)
        if reason is not None:
            run.problem(d.name, a.email, reason)
            result.no_value += 1
            continue
        old = existing.get(a.id)
        if old is not None:
            manual = (old.calculation_metadata or {}).get("method") in (None, "manual")
            if manual and old.calculated_by is not None:
                result.unchanged += 1
                continue
            if (old.actual_value, old.target_value, old.achievement_pct) == (actual, a.target, pct):
                result.unchanged += 1
                continue
            old.actual_value, old.target_value, old.achievement_pct = actual, a.target, pct
            old.period_end = p.end
            old.calculation_metadata = dict(meta.get(a.user_id, {}))
            old.calculated_at = now
            old.calculated_by = run.acting_id
        else:
            s.add(
                KpiMeasurement(
                    assignment_id=a.id, period_start=p.start, period_end=p.end,
                    actual_value=actual, target_value=a.target, achievement_pct=pct,
                    calculation_metadata=dict(meta.get(a.user_id, {})), calculated_at=now,
                    calculated_by=run.acting_id,
                )
            )  # fmt: skip
        result.written += 1


def calculate(
    s: Session,
    db: Database | None,
    period: PeriodType,
    day: dt.date,
    *,
    kpi_ids: Collection[int] | None = None,
    user_ids: Collection[int] | None = None,
    acting_id: int | None = None,
    fetch: Fetch | None = None,
    token: TokenLoader | None = None,
) -> CalcResult:
    """Compute and store the measurements of the ``period`` holding ``day``, in ``s``'s
    transaction. ``db`` is the database query KPIs run on (read-only, their own connection)."""
    result = CalcResult()
    p = period_of(period, day)
    defs = _definitions(s, period, kpi_ids, day)
    _attach_assignments(s, defs, p, user_ids)
    run = _Run(s, db, result, fetch or adapters.fetch_value, token or adapters.load_token,
               acting_id)  # fmt: skip
    for d in _ordered(defs):
        if not d.assignments:
            continue
        values, meta = run.compute(d, p)
        run.values[(d.name.casefold(), p.start)] = dict(values)
        _store(s, run, d, p, values, meta)
    s.flush()
    return result


def last_whole_period(period: PeriodType, as_of: dt.date) -> Period:
    """The newest period of this type that ended before ``as_of``."""
    current = period_of(period, as_of)
    return period_of(period, current.start - dt.timedelta(days=1))


def periods_due(as_of: dt.date) -> Iterable[tuple[PeriodType, dt.date]]:
    """What a daily run computes: for each period type, the last whole period before
    ``as_of`` (so a monthly KPI is computed on the 1st for the month just ended, and again
    each day after, which changes nothing unless the records did)."""
    for period in PeriodType:
        yield period, last_whole_period(period, as_of).start
