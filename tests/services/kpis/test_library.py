"""The built-in KPI library is there from the first start (migration 0010)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa

from app.db.models import KpiDefinition
from app.domain.kpi_sources import BUILTIN_KPIS, BuiltinSource, parse_source
from app.services.database import Database

MIGRATION = Path(__file__).parents[3] / "migrations" / "versions" / "0010_kpi_library.py"


def _migration_builtins() -> tuple[tuple[str, ...], ...]:
    spec = importlib.util.spec_from_file_location("m0010", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BUILTINS  # type: ignore[no-any-return]


def test_the_migration_writes_the_domain_library() -> None:
    expected = tuple(
        (k.name, k.description, k.category, k.metric, k.unit, k.period.value, k.target_type.value)
        for k in BUILTIN_KPIS
    )
    assert _migration_builtins() == expected


def test_a_new_database_has_the_library(db: Database) -> None:
    with db.read() as s:
        rows = s.scalars(sa.select(KpiDefinition).order_by(KpiDefinition.id)).all()
    assert [r.name for r in rows] == [k.name for k in BUILTIN_KPIS]
    for row, kpi in zip(rows, BUILTIN_KPIS, strict=True):
        assert row.is_builtin and row.is_active
        assert parse_source(row.calculation_type, row.data_source) == BuiltinSource(kpi.metric)
        assert row.unit == kpi.unit and row.target_type == kpi.target_type
    with db.session() as s:  # ids continue after the library
        s.add(
            KpiDefinition(
                name="Mine", calculation_type="manual", aggregation_period="monthly",
                target_type="exact",
            )
        )  # fmt: skip
        s.flush()
        assert s.scalar(sa.select(sa.func.max(KpiDefinition.id))) == len(BUILTIN_KPIS) + 1
