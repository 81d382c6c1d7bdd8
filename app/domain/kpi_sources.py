"""Where a KPI's value comes from (SPEC §7): the ``data_source`` document of a definition.

Shapes (JSON, stored in ``kpi_definitions.data_source``):
- manual: ``{"type": "manual", "allowed_range": {"min": 1, "max": 5}}`` (either bound may be
  left out; the columns ``min_value``/``max_value`` hold the same range);
- query: ``{"type": "database", "query": "SELECT …", "parameters": [...]}``; or, for the
  built-in library, ``{"type": "builtin", "metric": "revenue"}`` (computed by PerfDesk from
  its own records, set-based, see ``BUILTIN_METRICS``);
- formula: ``{"type": "formula", "formula": "a / b * 100", "inputs": [{"variable": "a",
  "source": {"type": "database", "query": …}} | {"variable": "b", "kpi": "Other KPI"}]}``;
- api: ``{"type": "api", "provider": "intercom" | "aircall" | "http_json", …}`` (checked by
  the adapters, app/services/kpis/adapters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.enums import CalculationType, PeriodType, TargetType
from app.domain.errors import ValidationError
from app.domain.formula import Formula, FormulaError, check_input_name


@dataclass(frozen=True)
class BuiltinMetric:
    key: str
    label: str
    unit: str


#: What the built-in library computes from PerfDesk's own records (app/services/kpis/sales.py).
BUILTIN_METRICS: Mapping[str, BuiltinMetric] = {
    m.key: m
    for m in (
        BuiltinMetric("deals_won", "Deals moved to closed won", "count"),
        BuiltinMetric("revenue", "Commission revenue (SPEC §8)", "$"),
        BuiltinMetric("lead_conversion", "Leads converted, % of new leads", "%"),
        BuiltinMetric("show_rate", "Completed, % of completed and no-shows", "%"),
        BuiltinMetric("escrows_opened", "Escrows opened, not cancelled", "count"),
        BuiltinMetric("avg_cycle_days", "Days from deal created to closed won", "days"),
        BuiltinMetric("leads", "Leads created", "count"),
        BuiltinMetric("appointments_completed", "Appointments completed", "count"),
        BuiltinMetric("orders", "Orders: deals won and escrows closed", "count"),
        BuiltinMetric("conversion_rate", "Orders, % of leads (SPEC §8)", "%"),
    )
}


@dataclass(frozen=True)
class BuiltinKpi:
    name: str
    description: str
    category: str
    metric: str
    period: PeriodType
    target_type: TargetType

    @property
    def unit(self) -> str:
        return BUILTIN_METRICS[self.metric].unit

    @property
    def data_source(self) -> dict[str, Any]:
        return {"type": "builtin", "metric": self.metric}


#: The library every database has from its first start: migration 0010 inserts these rows
#: (``is_builtin``), each unless a definition of that name is there already; a test keeps the
#: migration's copy and this one the same.
BUILTIN_KPIS: tuple[BuiltinKpi, ...] = (
    BuiltinKpi("Deals Closed", "Deals moved to closed won in the period.", "production",
               "deals_won", PeriodType.MONTHLY, TargetType.HIGHER_BETTER),
    BuiltinKpi("Revenue", "Commission on escrows closed and on deals won (confirmed, "
               "invoiced or paid).", "production", "revenue", PeriodType.MONTHLY,
               TargetType.HIGHER_BETTER),
    BuiltinKpi("Lead Conversion Rate", "Leads created in the period and converted, as a "
               "share of those leads.", "sales", "lead_conversion", PeriodType.MONTHLY,
               TargetType.HIGHER_BETTER),
    BuiltinKpi("Show Rate", "Completed appointments over completed plus no-shows.",
               "sales", "show_rate", PeriodType.MONTHLY, TargetType.HIGHER_BETTER),
    BuiltinKpi("Escrows Opened", "Escrows opened in the period and not cancelled.",
               "production", "escrows_opened", PeriodType.MONTHLY, TargetType.HIGHER_BETTER),
    BuiltinKpi("Average Cycle Days", "Average days from a deal's creation to closed won, "
               "over the deals won in the period.", "production", "avg_cycle_days",
               PeriodType.MONTHLY, TargetType.LOWER_BETTER),
    BuiltinKpi("Leads Generated", "New leads added to the pipeline.", "sales", "leads",
               PeriodType.MONTHLY, TargetType.HIGHER_BETTER),
    BuiltinKpi("Appointments Completed", "Appointments that took place.", "sales",
               "appointments_completed", PeriodType.MONTHLY, TargetType.HIGHER_BETTER),
)  # fmt: skip


@dataclass(frozen=True)
class ManualSource:
    low: Decimal | None
    high: Decimal | None


@dataclass(frozen=True)
class QuerySource:
    sql: str


@dataclass(frozen=True)
class BuiltinSource:
    metric: str


@dataclass(frozen=True)
class FormulaInput:
    name: str
    sql: str | None = None
    kpi: str | None = None


@dataclass(frozen=True)
class FormulaSource:
    formula: Formula
    inputs: tuple[FormulaInput, ...]

    @property
    def kpi_names(self) -> tuple[str, ...]:
        return tuple(i.kpi for i in self.inputs if i.kpi)


@dataclass(frozen=True)
class ApiSource:
    config: Mapping[str, Any]

    @property
    def provider(self) -> str:
        return str(self.config.get("provider", ""))


Source = ManualSource | QuerySource | BuiltinSource | FormulaSource | ApiSource


def _number(value: Any, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(f"{what} must be a number, not {value!r}.") from None
    if not number.is_finite():
        raise ValidationError(f"{what} must be a number, not {value!r}.")
    return number


def _doc(data: Any) -> Mapping[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValidationError("The data source must be a JSON object.")
    return data


def parse_source(calculation: CalculationType | str, data: Any) -> Source:
    """The typed source of a definition; ValidationError says what is wrong with the document.

    Query text is only checked for shape here (app/domain/kpi_query.py checks the SQL)."""
    kind = CalculationType(calculation)
    doc = _doc(data)
    if kind is CalculationType.MANUAL:
        rng = doc.get("allowed_range") or {}
        if not isinstance(rng, Mapping):
            raise ValidationError("allowed_range must be an object with min and max.")
        low = _number(rng.get("min"), "The allowed minimum")
        high = _number(rng.get("max"), "The allowed maximum")
        if low is not None and high is not None and low > high:
            raise ValidationError("The allowed minimum is more than the maximum.")
        return ManualSource(low, high)
    if kind is CalculationType.QUERY:
        if doc.get("type") == "builtin":
            metric = str(doc.get("metric", ""))
            if metric not in BUILTIN_METRICS:
                raise ValidationError(f"Unknown built-in metric {metric!r}.")
            return BuiltinSource(metric)
        sql = doc.get("query")
        if not isinstance(sql, str) or not sql.strip():
            raise ValidationError("A query KPI needs its SQL.")
        return QuerySource(sql.strip())
    if kind is CalculationType.FORMULA:
        return _formula(doc)
    if not doc.get("provider"):
        raise ValidationError("An API KPI needs a provider.")
    return ApiSource(dict(doc))


def _formula(doc: Mapping[str, Any]) -> FormulaSource:
    raw_inputs = doc.get("inputs") or []
    if not isinstance(raw_inputs, list):
        raise ValidationError("A formula's inputs must be a list.")
    inputs: list[FormulaInput] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_inputs, start=1):
        if not isinstance(raw, Mapping):
            raise ValidationError(f"Input {n} must be an object.")
        name = str(raw.get("variable") or "")
        check_input_name(name)
        if name in seen:
            raise FormulaError(f"The input name {name} is used twice.")
        seen.add(name)
        kpi = raw.get("kpi")
        source = raw.get("source")
        if kpi:
            inputs.append(FormulaInput(name, kpi=str(kpi)))
        elif isinstance(source, Mapping) and isinstance(source.get("query"), str):
            inputs.append(FormulaInput(name, sql=str(source["query"]).strip()))
        else:
            raise ValidationError(f"Input {name} needs a query or another KPI.")
    formula = Formula.parse(str(doc.get("formula") or ""), {i.name: i for i in inputs})
    unused = sorted(seen - set(formula.names))
    if unused:
        raise FormulaError(f"The formula does not use the input {', '.join(unused)}.")
    return FormulaSource(formula, tuple(inputs))


def source_document(source: Source) -> dict[str, Any]:
    """The JSON document a source is stored as."""
    if isinstance(source, ManualSource):
        rng: dict[str, Any] = {}
        if source.low is not None:
            rng["min"] = str(source.low)
        if source.high is not None:
            rng["max"] = str(source.high)
        return {"type": "manual", "allowed_range": rng}
    if isinstance(source, QuerySource):
        return {
            "type": "database",
            "query": source.sql,
            "parameters": ["user_id", "start_date", "end_date"],
        }
    if isinstance(source, BuiltinSource):
        return {"type": "builtin", "metric": source.metric}
    if isinstance(source, FormulaSource):
        inputs: list[dict[str, Any]] = []
        for i in source.inputs:
            if i.kpi:
                inputs.append({"variable": i.name, "kpi": i.kpi})
            else:
                src = source_document(QuerySource(i.sql or ""))
                inputs.append({"variable": i.name, "source": src})
        return {"type": "formula", "formula": source.formula.text, "inputs": inputs}
    return dict(source.config)
