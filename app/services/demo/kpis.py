"""KPI definitions, assignments with targets and weights, and a year of measurements.

Measurements of query and formula KPIs carry the values the office's own records give
(counted while those records were generated), so a KPI recalculation agrees with them;
manual and api KPIs get plausible entered values. Score snapshots are left to the job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.domain.enums import CalculationType, PeriodType, TargetType
from app.domain.kpi_sources import BUILTIN_KPIS
from app.domain.money import quantize
from app.domain.periods import Period, first_whole_month, months_between, periods_between
from app.services.demo.context import Context, Person

Q_LEADS = (
    "SELECT COUNT(*) FROM leads WHERE owner_id = :user_id"
    " AND created_at >= :start_date AND created_at < :end_date"
)
Q_CONVERTED = Q_LEADS + " AND status = 'converted'"
Q_APPTS = (
    "SELECT COUNT(*) FROM appointments WHERE agent_id = :user_id"
    " AND start_time >= :start_date AND start_time < :end_date"
)
Q_COMPLETED = Q_APPTS + " AND status = 'completed'"
Q_NO_SHOWS = Q_APPTS + " AND status = 'no_show'"
Q_ESCROWS = (
    "SELECT COUNT(*) FROM escrows WHERE agent_id = :user_id"
    " AND created_at >= :start_date AND created_at < :end_date"
    " AND escrow_status <> 'Cancelled'"
)
Q_LISTINGS = (
    "SELECT COUNT(*) FROM listings WHERE agent_id = :user_id"
    " AND created_at >= :start_date AND created_at < :end_date"
)


def _query(sql: str) -> dict[str, Any]:
    return {"type": "database", "query": sql, "parameters": ["user_id", "start_date", "end_date"]}


def _formula(formula: str, **inputs: str) -> dict[str, Any]:
    return {
        "type": "formula",
        "formula": formula,
        "inputs": [{"variable": k, "source": _query(q)} for k, q in inputs.items()],
    }


@dataclass(frozen=True)
class KpiSpec:
    name: str
    description: str
    category: str
    calculation: CalculationType
    data_source: dict[str, Any]
    unit: str
    period: PeriodType
    target_type: TargetType
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    #: The monthly stat (see records/pipeline) a query KPI counts, or a formula's parts.
    stat: str | None = None
    #: Of the built-in library: the row is there already (migration 0010), not written here.
    builtin: bool = False


def _builtin(name: str, stat: str, period: PeriodType = PeriodType.MONTHLY) -> KpiSpec:
    """A KPI of the built-in library (migration 0010 made it; the demo assigns it)."""
    kpi = next(k for k in BUILTIN_KPIS if k.name == name)
    return KpiSpec(
        kpi.name, kpi.description, kpi.category, CalculationType.QUERY, kpi.data_source,
        kpi.unit, period, kpi.target_type, stat=stat, builtin=True,
    )  # fmt: skip


KPIS: tuple[KpiSpec, ...] = (
    _builtin("Leads Generated", "leads"),
    _builtin("Appointments Completed", "completed"),
    _builtin("Show Rate", "show_rate"),
    _builtin("Lead Conversion Rate", "conversion"),
    _builtin("Escrows Opened", "escrows_opened"),
    KpiSpec(
        "Listings Taken", "New listing agreements.", "production", CalculationType.QUERY,
        _query(Q_LISTINGS), "count", PeriodType.QUARTERLY, TargetType.HIGHER_BETTER,
        stat="listings",
    ),
    KpiSpec(
        "No-Show Rate", "No-shows, as a share of appointments that were due to take place.",
        "sales", CalculationType.FORMULA,
        _formula("no_shows / (completed + no_shows) * 100", completed=Q_COMPLETED,
                 no_shows=Q_NO_SHOWS),
        "%", PeriodType.QUARTERLY, TargetType.LOWER_BETTER, stat="no_show_rate",
    ),
    KpiSpec(
        "Speed to Lead", "Median minutes to the first reply to a new conversation (Intercom).",
        "responsiveness", CalculationType.API,
        {"type": "api", "provider": "intercom", "metric": "first_response_time"},
        "minutes", PeriodType.MONTHLY, TargetType.LOWER_BETTER,
    ),
    KpiSpec(
        "Client Satisfaction", "Average post-close survey score (1–5).", "service",
        CalculationType.MANUAL, {"type": "manual", "allowed_range": {"min": 1, "max": 5}},
        "score", PeriodType.QUARTERLY, TargetType.HIGHER_BETTER, Decimal(1), Decimal(5),
    ),
    KpiSpec(
        "Calls Made", "Outbound prospecting calls logged.", "activity", CalculationType.MANUAL,
        {"type": "manual", "allowed_range": {"min": 0, "max": 5000}}, "count",
        PeriodType.MONTHLY, TargetType.HIGHER_BETTER, Decimal(0), Decimal(5000),
    ),
    KpiSpec(
        "List-to-Sale Price Ratio", "Sale price over final list price, in percent.",
        "production", CalculationType.MANUAL,
        {"type": "manual", "allowed_range": {"min": 50, "max": 150}}, "%",
        PeriodType.QUARTERLY, TargetType.EXACT, Decimal(50), Decimal(150),
    ),
)  # fmt: skip

#: Everyone's core KPIs and their weights (they add up to 100 with the optional ones).
CORE = {
    "Leads Generated": 20,
    "Appointments Completed": 20,
    "Show Rate": 10,
    "Lead Conversion Rate": 15,
    "Escrows Opened": 15,
}
OPTIONAL = ("Speed to Lead", "Client Satisfaction", "Calls Made", "Listings Taken",
            "List-to-Sale Price Ratio", "No-Show Rate")  # fmt: skip


def achievement(actual: Decimal, target: Decimal, kind: TargetType) -> Decimal | None:
    """SPEC §7: achievement % of ``actual`` against ``target``; None when not scored."""
    if target == 0:
        return None
    if kind is TargetType.HIGHER_BETTER:
        return actual / target * 100
    if kind is TargetType.LOWER_BETTER:
        if actual == 0:
            return Decimal(100)
        return target / actual * 100
    return max(Decimal(0), 100 - abs(actual - target) / abs(target) * 100)


class KpiGenerator:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("kpis")
        self.office = ctx.the_office
        w = ctx.writer
        self.add_def = w.table(
            "kpi_definitions",
            ("id", "name", "description", "category", "calculation_type", "data_source", "unit",
             "aggregation_period", "target_type", "min_value", "max_value", "is_active",
             "is_builtin", "created_by", "created_at", "version"),
        )  # fmt: skip
        self.add_assignment = w.table(
            "kpi_assignments",
            ("id", "kpi_definition_id", "user_id", "team_id", "target_value", "weight",
             "start_date", "end_date", "assigned_by", "is_active", "created_at", "version"),
        )  # fmt: skip
        self.add_measurement = w.table(
            "kpi_measurements",
            ("id", "assignment_id", "period_start", "period_end", "actual_value", "target_value",
             "achievement_pct", "calculation_metadata", "calculated_at", "calculated_by",
             "notes", "version"),
        )  # fmt: skip

    def run(self) -> None:
        ctx, rng = self.ctx, self.rng
        clock = ctx.clock
        start = first_whole_month(clock.start)
        defined_at = clock.at(start - dt.timedelta(days=rng.randint(10, 40)), 10 * 3600)
        ids: dict[str, int] = {
            str(name): int(kid)
            for kid, name in ctx.writer.target.execute(
                "SELECT id, name FROM kpi_definitions WHERE is_builtin"
            )
        }
        existing = ctx.writer.target.execute("SELECT COALESCE(MAX(id), 0) FROM kpi_definitions")
        ctx.ids.skip_to("kpi_definitions", int(existing[0][0]))
        for spec in KPIS:
            if spec.builtin:
                if spec.name not in ids:
                    raise RuntimeError(f"the built-in KPI {spec.name!r} is missing (migrate)")
                continue
            kid = ctx.ids.next("kpi_definitions")
            ids[spec.name] = kid
            self.add_def(
                (kid, spec.name, spec.description, spec.category, spec.calculation,
                 spec.data_source, spec.unit, spec.period, spec.target_type, spec.min_value,
                 spec.max_value, True, False, self.office.admin.id, defined_at, 1),
            )  # fmt: skip
        by_name = {s.name: s for s in KPIS}
        for person in self.office.producers:
            chosen = dict(CORE)
            extras = rng.sample(OPTIONAL, 2)
            chosen[extras[0]] = 10
            chosen[extras[1]] = 10
            for name, weight in chosen.items():
                spec = by_name[name]
                self._assign(person, spec, ids[name], Decimal(weight), start)

    def _assign(
        self, person: Person, spec: KpiSpec, kpi_id: int, weight: Decimal, start: dt.date
    ) -> None:
        ctx, rng = self.ctx, self.rng
        office = self.office
        clock = ctx.clock
        manager = office.managers.get(person.team_id or -1)
        team_id = person.team_id if spec.name == "Leads Generated" and manager else None
        assigned_by = (manager or office.admin).id if team_id else office.admin.id
        # A tenth of the people had their target revised mid-year: two assignments.
        revised: dt.date | None = None
        if rng.random() < 0.1:
            months = months_between(start, clock.as_of)
            if len(months) >= 4:
                y, m = months[len(months) // 2]
                revised = dt.date(y, m, 1)
        spans = [(start, revised)] if revised is None else [(start, revised), (revised, None)]
        for n, (begin, end_excl) in enumerate(spans):
            target = self._target(person, spec)
            if n == 1:
                target = _tidy(target * Decimal(str(rng.uniform(1.05, 1.2))), spec)
            aid = ctx.ids.next("kpi_assignments")
            end = end_excl - dt.timedelta(days=1) if end_excl else None
            created = clock.at(begin - dt.timedelta(days=rng.randint(1, 6)), 9.5 * 3600)
            self.add_assignment(
                (aid, kpi_id, person.id, team_id, target, weight, begin, end, assigned_by,
                 end is None, created, 1),
            )  # fmt: skip
            for period in periods_between(spec.period, begin, end_excl or clock.as_of):
                self._measure(person, spec, aid, target, period, manager)

    def _target(self, person: Person, spec: KpiSpec) -> Decimal:
        rng = self.rng
        stats, clock = self.ctx.stats, self.ctx.clock
        months = months_between(first_whole_month(clock.start), clock.as_of)
        per_month = len(months) or 1
        factor = rng.uniform(0.9, 1.3)
        if spec.stat in ("leads", "completed", "escrows_opened", "listings"):
            monthly = stats.count(person.id, months, spec.stat) / per_month
            scale = 3 if spec.period is PeriodType.QUARTERLY else 1
            value = Decimal(str(max(1.0, monthly * scale * factor)))
        elif spec.stat == "show_rate":
            value = Decimal(rng.choice((75, 78, 80, 85)))
        elif spec.stat == "conversion":
            value = Decimal(rng.choice(("2.5", "3.0", "3.5")))
        elif spec.stat == "no_show_rate":
            value = Decimal(rng.choice((10, 12, 15)))
        elif spec.name == "Speed to Lead":
            value = Decimal(rng.choice((5, 10, 15)))
        elif spec.name == "Client Satisfaction":
            value = Decimal(rng.choice(("4.5", "4.6", "4.8")))
        elif spec.name == "Calls Made":
            value = Decimal(rng.choice((300, 400, 500, 600)))
        else:
            value = Decimal(100)
        return _tidy(value, spec)

    def _measure(
        self,
        person: Person,
        spec: KpiSpec,
        assignment_id: int,
        target: Decimal,
        period: Period,
        manager: Person | None,
    ) -> None:
        ctx, rng = self.ctx, self.rng
        stats, clock = ctx.stats, ctx.clock
        months = period.months
        meta: dict[str, Any] | None = None
        notes: str | None = None
        by: int | None = None
        if spec.stat in ("leads", "completed", "escrows_opened", "listings"):
            actual = Decimal(stats.count(person.id, months, spec.stat))
            meta = {"method": "query", "rows": 1}
        elif spec.stat == "show_rate":
            done = stats.count(person.id, months, "completed")
            missed = stats.count(person.id, months, "no_shows")
            if done + missed == 0:
                return  # nothing to score this month
            actual = quantize(Decimal(done * 100) / (done + missed), 4)
            meta = {"method": "formula", "inputs": {"completed": done, "no_shows": missed}}
        elif spec.stat == "conversion":
            conv = stats.count(person.id, months, "converted")
            leads = stats.count(person.id, months, "leads")
            if leads == 0:
                return
            actual = quantize(Decimal(conv * 100) / leads, 4)
            meta = {"method": "builtin", "metric": "lead_conversion"}
        elif spec.stat == "no_show_rate":
            done = stats.count(person.id, months, "completed")
            missed = stats.count(person.id, months, "no_shows")
            if done + missed == 0:
                return
            actual = quantize(Decimal(missed * 100) / (done + missed), 4)
            meta = {"method": "formula", "inputs": {"completed": done, "no_shows": missed}}
        else:
            actual = self._entered(spec, target)
            by = (manager or self.office.admin).id
            if spec.calculation is CalculationType.API:
                by, meta = None, {"method": "api", "provider": "intercom"}
            elif spec.name == "Client Satisfaction":
                notes = f"Post-close survey, {rng.randint(2, 9)} responses."
        pct = achievement(actual, target, spec.target_type)
        when = clock.at(period.end + dt.timedelta(days=1), rng.uniform(6, 10) * 3600)
        if when >= ctx.now:
            return
        self.add_measurement(
            (ctx.ids.next("kpi_measurements"), assignment_id, period.start, period.end, actual,
             target, None if pct is None else quantize(pct, 2), meta, when, by, notes, 1),
        )  # fmt: skip

    def _entered(self, spec: KpiSpec, target: Decimal) -> Decimal:
        rng = self.rng
        if spec.name == "Speed to Lead":
            return Decimal(str(round(max(1.0, rng.lognormvariate(0, 0.45) * float(target)), 1)))
        if spec.name == "Client Satisfaction":
            return Decimal(str(round(min(5.0, max(3.0, rng.gauss(4.55, 0.3))), 2)))
        if spec.name == "Calls Made":
            return Decimal(max(0, int(rng.gauss(float(target) * 0.95, float(target) * 0.2))))
        return Decimal(str(round(min(110.0, max(90.0, rng.gauss(98.8, 2.2))), 1)))


def _tidy(value: Decimal, spec: KpiSpec) -> Decimal:
    if spec.unit == "count":
        return Decimal(max(1, round(value)))
    return quantize(value, 2)


def generate_kpis(ctx: Context) -> None:
    ctx.writer.phase("KPIs…")
    KpiGenerator(ctx).run()
