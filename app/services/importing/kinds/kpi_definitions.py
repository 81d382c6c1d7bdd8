"""KPI definitions: name*, description, category, calculation_type*, unit,
aggregation_period*, target_type*, data_source (JSON) (SPEC §7, §11).

Each row is checked by the rules of the definition form (``app/services/kpis/definitions.py``,
``app/domain/kpi_sources.py``), so the file and the form accept and refuse the same things.
Rules (where SPEC.md is silent, chosen here or taken from the form):
- only an admin imports definitions (SPEC §1); local mode with nobody named may;
- ``name`` is at most 255 characters and unique regardless of case: the same name twice in the
  file, or a name already in the database (active or not), is an error (imports add, they
  never overwrite);
- ``calculation_type`` (manual/query/formula/api), ``aggregation_period``
  (daily/weekly/monthly/quarterly/yearly) and ``target_type`` (higher_better/lower_better/
  exact) are matched regardless of case, by value or by the form's label ("Higher is better");
- ``data_source`` is the JSON document stored with the definition (see ``kpi_sources``). Bad
  JSON is an error giving the position of the fault. Its ``type``, when given, must be the one
  of the calculation (manual, database, formula, api); ``builtin`` is the built-in library's
  own and is refused, as in the form. It may be left empty only for a manual KPI (no allowed
  range);
- manual: ``allowed_range`` ``{"min", "max"}`` (either optional, min ≤ max) becomes the
  definition's ``min_value``/``max_value``; each bound has at most 4 decimals and is less than
  10^12 in size (what NUMERIC(16,4) holds, so nothing is rounded silently);
- query: the SQL passes ``check_query_text`` (one SELECT/WITH statement using ``:user_id``,
  and only ``:user_id``, ``:start_date``, ``:end_date``). It is NOT dry-run against the
  database here (the form does): the KPI job's first run reports a query the database refuses;
- formula: the formula parses and uses every input; a query input passes the same SQL checks;
  a KPI input names an active KPI in the database or a KPI defined on an earlier row of the
  file (regardless of case); a chain of KPI inputs that comes back on itself is refused,
  naming the circle;
- api: the provider settings pass the adapter's checks (``adapters.check_source``); no call is
  made;
- the stored document is the form's (``source_document``); each definition is active, not
  built-in, created by the acting person (none in local mode with nobody named).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.db.models import KpiDefinition
from app.domain import csvrules as cr
from app.domain.enums import CalculationType
from app.domain.errors import PerfDeskError, ValidationError
from app.domain.kpi_query import check_query_text
from app.domain.kpi_sources import (
    ApiSource,
    FormulaSource,
    ManualSource,
    QuerySource,
    Source,
    parse_source,
    source_document,
)
from app.domain.kpis import find_cycle
from app.domain.money import quantize
from app.services.importing.spec import Column, Identity, ImportContext, ImportKind, Row
from app.services.kpis import adapters
from app.services.kpis.access import kpi_scope
from app.services.kpis.definitions import (
    CALCULATION_LABELS,
    CATEGORY_MAX,
    NAME_MAX,
    PERIOD_LABELS,
    TARGET_LABELS,
    UNIT_MAX,
    _choice,
)

#: What NUMERIC(16,4) holds: a KPI value, target or bound is less than this in size.
VALUE_LIMIT = Decimal(10) ** 12
VALUE_SCALE = 4

#: The ``type`` a data source of each calculation has.
SOURCE_TYPES: Mapping[str, str] = {
    CalculationType.MANUAL.value: "manual",
    CalculationType.QUERY.value: "database",
    CalculationType.FORMULA.value: "formula",
    CalculationType.API.value: "api",
}


def _reason(exc: Exception) -> str:
    return str(exc).rstrip(".")


def _form_choice(key: str, labels: Mapping[str, str]) -> Callable[[str], str]:
    """A cell read by the definition form's own rule for ``key`` (value or label, any case)."""

    def parse(text: str) -> str:
        errors: dict[str, str] = {}
        value = _choice({key: text}, key, labels, errors)
        if key in errors:
            raise ValueError(errors[key])
        return value

    return parse


def json_object(text: str) -> dict[str, Any]:
    """A JSON object; ValueError gives the position of the fault."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        where = (
            f"character {exc.pos + 1}"
            if exc.lineno == 1
            else f"line {exc.lineno}, character {exc.colno}"
        )
        raise ValueError(f"is not valid JSON: {exc.msg} at {where}") from None
    if not isinstance(doc, dict):
        raise ValueError('must be a JSON object, e.g. {"type": "manual"}')
    return doc


def stored_number_problem(value: Decimal) -> str | None:
    """Why ``value`` would not be stored as given in NUMERIC(16,4), or None."""
    if abs(value) >= VALUE_LIMIT:
        return f"{value} is too large (at most 999,999,999,999.9999)"
    if quantize(value, VALUE_SCALE) != value:
        return f"{value} has more than four decimals"
    return None


class KpiDefinitionsImport(ImportKind):
    NAME = Column("name", cr.text(NAME_MAX), required=True)
    DESCRIPTION = Column("description", str)
    CATEGORY = Column("category", cr.text(CATEGORY_MAX))
    CALCULATION_TYPE = Column(
        "calculation_type", _form_choice("calculation_type", CALCULATION_LABELS), required=True
    )
    UNIT = Column("unit", cr.text(UNIT_MAX))
    AGGREGATION_PERIOD = Column(
        "aggregation_period", _form_choice("aggregation_period", PERIOD_LABELS), required=True
    )
    TARGET_TYPE = Column("target_type", _form_choice("target_type", TARGET_LABELS), required=True)
    DATA_SOURCE = Column("data_source", json_object)

    name = "kpi_definitions"
    noun = "KPI definition"
    columns = (
        NAME, DESCRIPTION, CATEGORY, CALCULATION_TYPE, UNIT, AGGREGATION_PERIOD, TARGET_TYPE,
        DATA_SOURCE,
    )  # fmt: skip

    def __init__(self) -> None:
        #: Every definition's name, by its case-folded form (active or not).
        self._stored: dict[str, str] = {}
        #: The names a formula may use: active definitions and the file's earlier rows.
        self._usable: dict[str, str] = {}
        #: Formula KPI → the KPIs it uses (case-folded), the database's active ones and the file's.
        self._graph: dict[str, list[str]] = {}
        self._created_by: int | None = None

    # ------------------------------------------------------------------------- checking

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        kpi_scope(ctx.session, ctx.actor).check_define()
        self._created_by = ctx.actor.id if ctx.actor is not None else None
        stmt = sa.select(
            KpiDefinition.name,
            KpiDefinition.is_active,
            KpiDefinition.calculation_type,
            KpiDefinition.data_source,
        )
        for name, active, calculation, document in ctx.session.execute(stmt):
            key = str(name).casefold()
            self._stored[key] = str(name)
            if not active:
                continue
            self._usable[key] = str(name)
            if calculation != CalculationType.FORMULA.value:
                continue
            try:
                source = parse_source(calculation, document)
            except PerfDeskError:
                continue
            if isinstance(source, FormulaSource):
                self._graph[key] = [k.casefold() for k in source.kpi_names]

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        name = row.get(self.NAME)
        if name is not None:
            stored = self._stored.get(name.casefold())
            if stored is not None:
                ctx.error(
                    row,
                    self.NAME,
                    f"a KPI named {stored!r} exists already (imports add, they never overwrite)",
                )
        calculation = row.get(self.CALCULATION_TYPE)
        source: Source | None = None
        if calculation is not None and row.ok(self.DATA_SOURCE) and name is not None:
            source = self._source(row, ctx, name, calculation)
        if name is not None and name.casefold() not in self._usable:
            # Later rows may use it as a formula input, whatever else is wrong with this one.
            self._usable[name.casefold()] = name
        if source is None or ctx.is_bad(row):
            return
        assert name is not None and calculation is not None
        manual = source if isinstance(source, ManualSource) else None
        description = row.get(self.DESCRIPTION)
        row.data = {
            "name": name,
            "description": description or None,
            "category": row.get(self.CATEGORY),
            "calculation_type": calculation,
            "unit": row.get(self.UNIT),
            "aggregation_period": row[self.AGGREGATION_PERIOD],
            "target_type": row[self.TARGET_TYPE],
            "data_source": source_document(source),
            "min_value": manual.low if manual else None,
            "max_value": manual.high if manual else None,
        }

    def _source(self, row: Row, ctx: ImportContext, name: str, calculation: str) -> Source | None:
        """The row's data source checked by the form's rules; None after reporting why not."""
        document = row.get(self.DATA_SOURCE)
        expected = SOURCE_TYPES[calculation]
        given = document.get("type") if document is not None else None
        if given == "builtin":
            ctx.error(
                row,
                self.DATA_SOURCE,
                '"type": "builtin" belongs to the built-in library and cannot be imported; '
                'write the SQL as {"type": "database", "query": "SELECT …"}',
            )
            return None
        if given is not None and given != expected:
            ctx.error(
                row,
                self.DATA_SOURCE,
                f'a {calculation} KPI\'s data source has "type": "{expected}", not {given!r}',
            )
            return None
        if document is not None and calculation == CalculationType.API.value:
            document = {"type": "api", **document}
        try:
            source = parse_source(calculation, document)
            self._check_source(source, name)
        except ValidationError as exc:
            ctx.error(row, self.DATA_SOURCE, _reason(exc))
            return None
        return source

    def _check_source(self, source: Source, name: str) -> None:
        if isinstance(source, ManualSource):
            for bound, what in ((source.low, "minimum"), (source.high, "maximum")):
                problem = None if bound is None else stored_number_problem(bound)
                if problem:
                    raise ValidationError(f"the allowed {what}: {problem}")
        elif isinstance(source, QuerySource):
            check_query_text(source.sql)
        elif isinstance(source, FormulaSource):
            self._check_formula(source, name)
        elif isinstance(source, ApiSource):
            adapters.check_source(source.config)

    def _check_formula(self, source: FormulaSource, name: str) -> None:
        for item in source.inputs:
            if item.sql is not None:
                try:
                    check_query_text(item.sql)
                except ValidationError as exc:
                    raise ValidationError(f"input {item.name}: {_reason(exc)}") from None
        key = name.casefold()
        uses = [k.casefold() for k in source.kpi_names]
        known = self._usable.keys() | {key}  # itself: refused below as a circle
        missing = [k for k in source.kpi_names if k.casefold() not in known]
        if missing:
            raise ValidationError(
                f"no active KPI named {', '.join(repr(m) for m in missing)} in the database or "
                "on an earlier row"
            )
        self._graph[key] = uses
        cycle = find_cycle(self._reachable(key))
        if cycle:
            names = {**self._usable, key: name}
            raise ValidationError(
                "the KPIs refer to each other in a circle: "
                + " → ".join(names.get(k, k) for k in cycle)
            )

    def _reachable(self, start: str) -> dict[str, list[str]]:
        """The part of the formula graph ``start`` depends on."""
        out: dict[str, list[str]] = {}
        todo = [start]
        while todo:
            node = todo.pop()
            if node in out:
                continue
            out[node] = self._graph.get(node, [])
            todo.extend(out[node])
        return out

    def identity(self, row: Row) -> Identity | None:
        name = row.get(self.NAME)
        if name is None:
            return None
        return Identity(name.casefold(), self.NAME.name, f"the KPI name {name!r}")

    # ------------------------------------------------------------------------- writing

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        if not rows:
            return 0
        now = dt.datetime.now(dt.UTC)
        extra = {
            "is_active": True,
            "is_builtin": False,
            "created_by": self._created_by,
            "created_at": now,
            "version": 1,
        }
        table: sa.Table = KpiDefinition.__table__  # type: ignore[assignment]
        ctx.session.connection().execute(table.insert(), [{**r.data, **extra} for r in rows])
        return len(rows)
