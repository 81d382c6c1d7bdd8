"""The demo loader's stored forms are SQLAlchemy's own, fast paths included (no database)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.dialects.sqlite import pysqlite
from sqlalchemy.engine import Dialect

import app.db.models  # noqa: F401 - every table in the metadata
from app.db.base import Base
from app.db.types import ScaledDecimal, UTCDateTime
from app.services.demo.stored import reference_converter, row_shape

DIALECTS: dict[str, Dialect] = {
    "sqlite": pysqlite.dialect(),
    "postgresql": psycopg.dialect(),  # type: ignore[no-untyped-call]
}
LA = ZoneInfo("America/Los_Angeles")


def _samples(column: sa.Column[Any], rng: random.Random) -> list[Any]:
    t = column.type
    if isinstance(t, UTCDateTime):
        base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        out: list[Any] = [base, base.replace(microsecond=0), dt.datetime(2025, 3, 9, 2, tzinfo=LA)]
        out += [base + dt.timedelta(seconds=rng.uniform(0, 4e7)) for _ in range(50)]
        return out
    if isinstance(t, ScaledDecimal):
        top = 10 ** (t.precision - t.scale) - 1
        out = [Decimal(0), Decimal("0.005"), Decimal("-0.005"), Decimal("1.23456789"), 7, 2.5]
        out += [Decimal(str(round(rng.uniform(-top, top), t.scale + 2))) for _ in range(50)]
        return out
    if isinstance(t, sa.Enum):
        members = list(t.enum_class) if t.enum_class else []
        return members + [m.value for m in members]
    if isinstance(t, sa.Boolean):
        return [True, False]
    if isinstance(t, sa.Date) and not isinstance(t, sa.DateTime):
        return [dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 2000)) for _ in range(20)]
    return []


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_every_fast_path_stores_what_sqlalchemy_would(dialect_name: str) -> None:
    dialect = DIALECTS[dialect_name]
    rng = random.Random(1)
    checked = 0
    for table in Base.metadata.sorted_tables:
        shape = row_shape(table, [c.name for c in table.columns], dialect)
        for index, fast, reference in shape.fast_paths:
            column = table.columns[shape.columns[index]]
            values = [None if column.nullable else v for v in (None,)] + _samples(column, rng)
            for value in values:
                if value is None and not column.nullable:
                    continue
                mine, theirs = fast(value), reference(value)
                assert mine == theirs and type(mine) is type(theirs), (column, value)
                checked += 1
    assert checked > 1000


def test_a_row_shape_names_every_required_column() -> None:
    table = Base.metadata.tables["leads"]
    with pytest.raises(ValueError, match="required column"):
        row_shape(table, ["id", "owner_id", "name"], DIALECTS["sqlite"])
    with pytest.raises(ValueError, match="no column"):
        row_shape(table, ["id", "nope"], DIALECTS["sqlite"])


def test_sqlite_stores_money_as_cents_and_times_as_naive_utc_text() -> None:
    sqlite = DIALECTS["sqlite"]
    escrows = Base.metadata.tables["escrows"]
    money = reference_converter(escrows.c.purchase_price, sqlite)
    when = reference_converter(escrows.c.created_at, sqlite)
    assert money is not None and when is not None
    assert money(Decimal("450000.005")) == 45000001
    pacific = dt.datetime(2025, 7, 1, 5, 6, 7, 89, tzinfo=LA)
    assert when(pacific) == "2025-07-01 12:06:07.000089"
    shape = row_shape(escrows, ["id", "agent_id", "property_address", "purchase_price",
                                "escrow_status", "created_at", "version"], sqlite)  # fmt: skip
    stored = shape.convert((1, 2, "1 Main St", Decimal("10.10"), "Active", pacific, 1))
    assert stored == (1, 2, "1 Main St", 1010, "Active", "2025-07-01 12:06:07.000089", 1)
