"""KPI definitions (SPEC §7): list them; create, change and deactivate them from a form's text.

Rules where SPEC.md is silent (also in docs/rules.md):
- a name is required, at most 255 characters and unique regardless of case;
- a manual KPI's allowed range is optional (either bound); min ≤ max;
- a query KPI's SQL passes app/domain/kpi_query.py's checks and a dry run: it is run,
  read-only and time-limited, for the acting person (or the first active person) over the
  current period, and must give a single number (or nothing: no rows counted yet);
- a formula's inputs are each a query (checked and dry-run the same way) or another active
  KPI by name; the formula may use only its inputs; a KPI input that leads back to this
  KPI (directly or through others) is refused, naming the circle;
- an api KPI's provider settings pass the adapter's checks (no call is made when saving);
- the built-in library's definitions keep their source and calculation; their name,
  description, category, unit, period and target type may change, and they may be
  deactivated like any other;
- deactivating keeps every assignment and measurement; a deactivated KPI is not computed
  and cannot be newly assigned; reactivating brings it back;
- an update names the ``version`` it was read at; if the stored row moved on, nothing is
  written and ``ConflictError`` says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.db.models import KpiAssignment, KpiDefinition, User
from app.domain.enums import CalculationType, PeriodType, TargetType
from app.domain.errors import ConflictError, PerfDeskError, ValidationError
from app.domain.formula import FormulaError
from app.domain.kpi_query import check_query_text
from app.domain.kpi_sources import (
    ApiSource,
    BuiltinSource,
    FormulaInput,
    FormulaSource,
    ManualSource,
    QuerySource,
    Source,
    parse_source,
    source_document,
)
from app.domain.kpis import find_cycle
from app.domain.money import parse_decimal
from app.domain.periods import period_of
from app.services.database import Database
from app.services.kpis import adapters, query
from app.services.kpis.access import kpi_scope
from app.services.records import Acting, Actor, resolve_actor

NAME_MAX = 255
CATEGORY_MAX = 100
UNIT_MAX = 50

FIELD_LABELS: Mapping[str, str] = {
    "name": "Name",
    "description": "Description",
    "category": "Category",
    "calculation_type": "Calculation",
    "unit": "Unit",
    "aggregation_period": "Period",
    "target_type": "Target type",
    "min_value": "Allowed minimum",
    "max_value": "Allowed maximum",
    "query": "Query",
    "formula": "Formula",
    "inputs": "Inputs",
    "api": "Data source",
}

CALCULATION_LABELS: Mapping[str, str] = {
    CalculationType.MANUAL.value: "Manual",
    CalculationType.QUERY.value: "Query",
    CalculationType.FORMULA.value: "Formula",
    CalculationType.API.value: "API",
}
PERIOD_LABELS: Mapping[str, str] = {p.value: p.value.capitalize() for p in PeriodType}
TARGET_LABELS: Mapping[str, str] = {
    TargetType.HIGHER_BETTER.value: "Higher is better",
    TargetType.LOWER_BETTER.value: "Lower is better",
    TargetType.EXACT.value: "Exact",
}


class DefinitionError(ValidationError):
    """One or more fields break a rule; nothing was written. ``errors`` maps field → reason."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(
            "; ".join(f"{FIELD_LABELS.get(k, k)}: {v}" for k, v in self.errors.items())
        )


@dataclass(frozen=True)
class DefinitionRow:
    id: int
    version: int
    name: str
    description: str | None
    category: str | None
    calculation_type: str
    unit: str | None
    aggregation_period: str
    target_type: str
    min_value: Decimal | None
    max_value: Decimal | None
    data_source: Mapping[str, Any] | None
    is_active: bool
    is_builtin: bool
    assignments: int

    @property
    def calculation_label(self) -> str:
        if self.is_builtin:
            return "Built-in"
        return CALCULATION_LABELS.get(self.calculation_type, self.calculation_type)


def list_definitions(db: Database, include_inactive: bool = True) -> list[DefinitionRow]:
    """Every definition (everyone reads them), by name, with its active assignment count."""
    counts = (
        sa.select(KpiAssignment.kpi_definition_id, sa.func.count().label("n"))
        .where(KpiAssignment.is_active.is_(True))
        .group_by(KpiAssignment.kpi_definition_id)
        .subquery()
    )
    stmt = (
        sa.select(KpiDefinition, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.kpi_definition_id == KpiDefinition.id)
        .order_by(sa.func.lower(KpiDefinition.name))
    )
    if not include_inactive:
        stmt = stmt.where(KpiDefinition.is_active.is_(True))
    with db.read() as s:
        return [_row(d, int(n)) for d, n in s.execute(stmt)]


def _row(d: KpiDefinition, assignments: int) -> DefinitionRow:
    return DefinitionRow(
        d.id, d.version, d.name, d.description, d.category, str(d.calculation_type), d.unit,
        str(d.aggregation_period), str(d.target_type), d.min_value, d.max_value,
        d.data_source, d.is_active, d.is_builtin, assignments,
    )  # fmt: skip


def get_definition(db: Database, definition_id: int) -> DefinitionRow:
    with db.read() as s:
        d = s.get(KpiDefinition, definition_id)
        if d is None:
            raise ValidationError("That KPI definition no longer exists.")
        n = s.scalar(
            sa.select(sa.func.count()).where(
                KpiAssignment.kpi_definition_id == d.id, KpiAssignment.is_active.is_(True)
            )
        )
        return _row(d, int(n or 0))


# -- reading a form -----------------------------------------------------------------------------


def _text(values: Mapping[str, Any], key: str) -> str:
    raw = values.get(key)
    return "" if raw is None else str(raw).strip()


def _choice(
    values: Mapping[str, Any], key: str, labels: Mapping[str, str], errors: dict[str, str]
) -> str:
    text = _text(values, key)
    for value, label in labels.items():
        if text.casefold() in (value.casefold(), label.casefold()):
            return value
    errors[key] = "required" if not text else f"{text!r} is not one of {', '.join(labels)}"
    return ""


def _bound(values: Mapping[str, Any], key: str, errors: dict[str, str]) -> Decimal | None:
    text = _text(values, key)
    if not text:
        return None
    try:
        return parse_decimal(text)
    except (ValueError, ArithmeticError, ValidationError):
        errors[key] = f"{text!r} is not a number"
        return None


def _inputs(raw: Any, errors: dict[str, str]) -> list[dict[str, Any]]:
    """Formula inputs as typed: a list of {"variable", "query"} or {"variable", "kpi"}."""
    out: list[dict[str, Any]] = []
    for item in raw or ():
        name = str(item.get("variable") or item.get("name") or "").strip()
        if item.get("kpi"):
            out.append({"variable": name, "kpi": str(item["kpi"]).strip()})
        else:
            sql = str(item.get("query") or "").strip()
            out.append({"variable": name, "source": {"type": "database", "query": sql}})
    if not out:
        errors["inputs"] = "a formula needs at least one input"
    return out


def _source_document(
    values: Mapping[str, Any], calculation: str, errors: dict[str, str]
) -> dict[str, Any] | None:
    if calculation == CalculationType.MANUAL.value:
        low, high = _bound(values, "min_value", errors), _bound(values, "max_value", errors)
        rng: dict[str, Any] = {}
        if low is not None:
            rng["min"] = str(low)
        if high is not None:
            rng["max"] = str(high)
        return {"type": "manual", "allowed_range": rng}
    if calculation == CalculationType.QUERY.value:
        return {"type": "database", "query": _text(values, "query")}
    if calculation == CalculationType.FORMULA.value:
        inputs = _inputs(values.get("inputs"), errors)
        return {"type": "formula", "formula": _text(values, "formula"), "inputs": inputs}
    if calculation == CalculationType.API.value:
        api = values.get("api")
        return {"type": "api", **(dict(api) if isinstance(api, Mapping) else {})}
    return None


# -- checks that read the database ------------------------------------------------------------


def _dry_run_person(s: Session, actor: Actor | None) -> int | None:
    if actor is not None:
        return actor.id
    return s.scalar(sa.select(sa.func.min(User.id)).where(User.is_active.is_(True)))


def _dry_run(db: Database, sql: str, person: int | None, period: str) -> None:
    check_query_text(sql)
    if person is None:
        return  # nobody in the office yet to try it for; the text checks stand
    p = period_of(PeriodType(period), dt.datetime.now(dt.UTC).date())
    query.dry_run(db, sql, person, p.start, p.end)


def _check_formula_kpis(
    s: Session, name: str, source: FormulaSource, errors: dict[str, str]
) -> None:
    wanted = source.kpi_names
    if not wanted:
        return
    rows = s.execute(
        sa.select(
            KpiDefinition.name, KpiDefinition.calculation_type, KpiDefinition.data_source
        ).where(KpiDefinition.is_active.is_(True))
    ).all()
    by_name = {str(n).casefold(): (str(n), c, d) for n, c, d in rows}
    # The KPI being saved is not stored yet (or stored as it was): naming itself is a circle.
    missing = [k for k in wanted if k.casefold() not in by_name and k.casefold() != name.casefold()]
    if missing:
        errors["inputs"] = f"no active KPI named {', '.join(missing)}"
        return
    # This KPI first, so that the circle found is named from it.
    graph: dict[str, list[str]] = {name.casefold(): [k.casefold() for k in wanted]}
    for n, calc, doc in by_name.values():
        if calc != CalculationType.FORMULA.value or n.casefold() == name.casefold():
            continue
        try:
            src = parse_source(calc, doc)
        except PerfDeskError:
            continue
        if isinstance(src, FormulaSource):
            graph[n.casefold()] = [k.casefold() for k in src.kpi_names]
    cycle = find_cycle(graph)
    if cycle and name.casefold() in cycle:
        names = {n.casefold(): n for n, _c, _d in by_name.values()}
        names[name.casefold()] = name
        errors["inputs"] = "the KPIs refer to each other in a circle: " + " → ".join(
            names.get(c, c) for c in cycle
        )


def _check_source(
    db: Database,
    s: Session,
    actor: Actor | None,
    name: str,
    calculation: str,
    period: str,
    document: Mapping[str, Any],
    errors: dict[str, str],
) -> Source | None:
    key = {
        CalculationType.QUERY.value: "query",
        CalculationType.FORMULA.value: "formula",
        CalculationType.API.value: "api",
    }.get(calculation, "min_value")
    try:
        source = parse_source(calculation, document)
    except FormulaError as exc:
        errors.setdefault("formula" if "formula" in str(exc).lower() else "inputs", str(exc))
        return None
    except ValidationError as exc:
        errors.setdefault(key, str(exc))
        return None
    person = _dry_run_person(s, actor)
    try:
        if isinstance(source, QuerySource) and period:
            _dry_run(db, source.sql, person, period)
        elif isinstance(source, FormulaSource):
            for item in source.inputs:
                if item.sql is not None and period:
                    try:
                        _dry_run(db, item.sql, person, period)
                    except ValidationError as exc:
                        errors.setdefault("inputs", f"input {item.name}: {exc}")
            _check_formula_kpis(s, name, source, errors)
        elif isinstance(source, ApiSource):
            adapters.check_source(source.config)
    except ValidationError as exc:
        errors.setdefault(key, str(exc))
    return source


# -- saving -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefinitionSaved:
    id: int
    created: bool


def save_definition(
    db: Database,
    values: Mapping[str, Any],
    definition_id: int | None = None,
    version: int | None = None,
    acting: Acting = None,
) -> DefinitionSaved:
    """Create (no ``definition_id``) or change a definition from a form's values.

    ``values``: name, description, category, calculation_type, unit, aggregation_period,
    target_type, and by calculation: min_value/max_value (manual), query (query), formula and
    inputs [{variable, query | kpi}] (formula), api {provider, metric, url, json_path, …}.
    Raises DefinitionError (by field), ConflictError or PermissionDenied; nothing is written.
    """
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        kpi_scope(s, actor).check_define()
        existing = s.get(KpiDefinition, definition_id) if definition_id is not None else None
        if definition_id is not None and existing is None:
            raise ValidationError("That KPI definition no longer exists.")
        errors: dict[str, str] = {}
        name = _text(values, "name")
        if not name:
            errors["name"] = "required"
        elif len(name) > NAME_MAX:
            errors["name"] = f"at most {NAME_MAX} characters"
        else:
            clash = s.scalar(
                sa.select(KpiDefinition.id).where(
                    sa.func.lower(KpiDefinition.name) == name.lower(),
                    KpiDefinition.id != (definition_id or 0),
                )
            )
            if clash is not None:
                errors["name"] = f"a KPI named {name!r} exists already"
        category, unit = _text(values, "category"), _text(values, "unit")
        if len(category) > CATEGORY_MAX:
            errors["category"] = f"at most {CATEGORY_MAX} characters"
        if len(unit) > UNIT_MAX:
            errors["unit"] = f"at most {UNIT_MAX} characters"
        period = _choice(values, "aggregation_period", PERIOD_LABELS, errors)
        target = _choice(values, "target_type", TARGET_LABELS, errors)
        builtin = existing is not None and existing.is_builtin
        if builtin:
            assert existing is not None
            calculation = str(existing.calculation_type)
            document: dict[str, Any] | None = dict(existing.data_source or {})
            source: Source | None = parse_source(calculation, document)
        else:
            calculation = _choice(values, "calculation_type", CALCULATION_LABELS, errors)
            document = _source_document(values, calculation, errors) if calculation else None
            source = None
            if document is not None:
                source = _check_source(db, s, actor, name, calculation, period, document, errors)
        if errors:
            raise DefinitionError(errors)
    assert source is not None
    low = source.low if isinstance(source, ManualSource) else None
    high = source.high if isinstance(source, ManualSource) else None
    stored_doc = document if isinstance(source, BuiltinSource) else source_document(source)
    fields: dict[str, Any] = {
        "name": name,
        "description": _text(values, "description") or None,
        "category": category or None,
        "unit": unit or None,
        "aggregation_period": period,
        "target_type": target,
        "calculation_type": calculation,
        "data_source": stored_doc,
        "min_value": low,
        "max_value": high,
    }
    return _write(db, fields, definition_id, version, actor)


def _write(
    db: Database,
    fields: Mapping[str, Any],
    definition_id: int | None,
    version: int | None,
    actor: Actor | None,
) -> DefinitionSaved:
    try:
        with db.session() as s:
            if definition_id is None:
                row = KpiDefinition(
                    **fields, is_active=True, is_builtin=False,
                    created_by=actor.id if actor else None,
                )  # fmt: skip
                s.add(row)
                s.flush()
                return DefinitionSaved(row.id, True)
            row = _locked(s, definition_id, version)
            for key, value in fields.items():
                setattr(row, key, value)
            s.flush()
            return DefinitionSaved(row.id, False)
    except StaleDataError:
        raise _conflict() from None
    except sa.exc.IntegrityError as exc:
        if "name" in str(exc.orig).lower() or "unique" in str(exc.orig).lower():
            raise DefinitionError({"name": "a KPI of that name exists already"}) from None
        raise


def _conflict() -> ConflictError:
    return ConflictError(
        "Someone else changed this KPI definition while you were editing it; reload it and "
        "try again. Nothing was saved."
    )


def _locked(s: Session, definition_id: int, version: int | None) -> KpiDefinition:
    row = s.get(KpiDefinition, definition_id)
    if row is None:
        raise ValidationError("That KPI definition no longer exists.")
    if version is not None and row.version != version:
        raise _conflict()
    return row


def set_active(
    db: Database,
    definition_id: int,
    active: bool,
    version: int | None = None,
    acting: Acting = None,
) -> None:
    """Deactivate (or reactivate) a definition; its assignments and measurements stay."""
    with db.read() as s:
        kpi_scope(s, resolve_actor(s, db, acting)).check_define()
    try:
        with db.session() as s:
            row = _locked(s, definition_id, version)
            row.is_active = active
    except StaleDataError:
        raise _conflict() from None


def input_rows(row: DefinitionRow) -> Sequence[FormulaInput]:
    """A formula definition's inputs, for a form to show (empty for other kinds)."""
    try:
        source = parse_source(row.calculation_type, row.data_source)
    except PerfDeskError:
        return ()
    return source.inputs if isinstance(source, FormulaSource) else ()
