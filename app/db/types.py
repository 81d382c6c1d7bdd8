"""Column types that behave the same on SQLite and PostgreSQL.

SQLite keeps NUMERIC as a float, so ten 0.10 summed in SQL give 0.9999999999999999.
``ScaledDecimal`` stores an exact scaled integer there (cents for money) and a true
NUMERIC on PostgreSQL, so SQL aggregates are exact on both backends.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from app.domain.money import quantize


class ScaledDecimal(TypeDecorator[Decimal]):
    """NUMERIC(p, s) on PostgreSQL; an integer of value × 10^s on SQLite."""

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int = 16, scale: int = 2) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        value = quantize(value, self.scale)
        if dialect.name == "sqlite":
            return int(value.scaleb(self.scale))
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            if isinstance(value, float):  # AVG() and friends return floats
                return Decimal(repr(value)).scaleb(-self.scale)
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value)

    def coerce_compared_value(self, op: Any, value: Any) -> sa.types.TypeEngine[Any]:
        return self


def Money() -> ScaledDecimal:
    return ScaledDecimal(16, 2)


def Rate() -> ScaledDecimal:
    """A rate such as a commission rate or a confidence: NUMERIC(5,4)."""
    return ScaledDecimal(5, 4)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC in and out; naive datetimes are refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime: times are stored as timezone-aware UTC")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        when: dt.datetime = value
        if when.tzinfo is None:
            return when.replace(tzinfo=dt.UTC)
        return when.astimezone(dt.UTC)


def enum_type(enum_cls: type[StrEnum], name: str) -> sa.Enum:
    """Stored by value (not member name) as VARCHAR with a CHECK on both backends."""
    return sa.Enum(
        enum_cls,
        name=name,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(m.value) for m in enum_cls),
    )


def json_document() -> sa.types.TypeEngine[Any]:
    """JSON on SQLite, JSONB on PostgreSQL; Python None is SQL NULL."""
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def scaled_between(
    name: str, precision: int, scale: int, low: int | str, high: int | str
) -> sa.ColumnElement[bool]:
    """``low <= name <= high`` for a ScaledDecimal column, rendered right on each backend.

    A CHECK written as text would compare SQLite's scaled integer with an unscaled bound.
    """
    col = sa.column(name, ScaledDecimal(precision, scale))
    return sa.and_(col >= Decimal(str(low)), col <= Decimal(str(high)))
