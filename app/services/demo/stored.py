"""Python values → the form a column stores them in, per backend, by SQLAlchemy's own rules.

The demo loader bypasses the ORM for speed (``executemany`` on SQLite, ``COPY`` on
PostgreSQL), so it must hand the driver exactly what SQLAlchemy would: cents as integers
for ``Money()`` on SQLite, naive-UTC strings for ``UTCDateTime`` on SQLite, enum values,
JSON text, and so on. Rather than re-implementing those rules, each column's converter *is*
the bind processor SQLAlchemy uses for that column's type on that dialect, so the stored
form is right by construction and follows any change to ``app/db/types.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from app.db.types import ScaledDecimal, UTCDateTime

UTC = dt.UTC

Row = tuple[Any, ...]
RowConverter = Callable[[Sequence[Any]], Row]
Converter = Callable[[Any], Any]


@dataclass(frozen=True)
class RowShape:
    """The columns written to one table, and the function turning Python rows into stored rows.

    ``convert`` may use a fast path for a column (see ``_fast_converter``); ``check`` compares
    it with SQLAlchemy's own processor on a sample row, and the loader runs it on every chunk.
    """

    table: sa.Table
    columns: tuple[str, ...]
    convert: RowConverter
    #: (column index, fast converter, SQLAlchemy's converter) for each fast-path column.
    fast_paths: tuple[tuple[int, Converter, Converter], ...] = ()

    @property
    def name(self) -> str:
        return self.table.name

    def check(self, row: Sequence[Any]) -> None:
        """Raise if a fast path stores a value of ``row`` differently from SQLAlchemy."""
        for i, fast, reference in self.fast_paths:
            mine, theirs = fast(row[i]), reference(row[i])
            if mine != theirs or type(mine) is not type(theirs):
                raise AssertionError(
                    f"{self.name}.{self.columns[i]}: stored form {mine!r} != SQLAlchemy's "
                    f"{theirs!r} for {row[i]!r}"
                )


def reference_converter(column: sa.Column[Any], dialect: Dialect) -> Converter | None:
    """SQLAlchemy's bind processor for the column on ``dialect`` (None: stored as given)."""
    processor: Converter | None = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _fast_converter(
    column: sa.Column[Any], dialect: Dialect, reference: Converter
) -> Converter | None:
    """A quicker equivalent of ``reference`` for the hot column types, or None.

    Each falls back to ``reference`` for any value off its fast path, so an unusual value is
    still converted (or refused) exactly as SQLAlchemy would.
    """
    col_type = column.type
    if isinstance(col_type, UTCDateTime):
        if dialect.name == "sqlite":
            # SQLAlchemy's SQLite format: naive UTC, 'YYYY-MM-DD HH:MM:SS.ffffff'.
            return lambda v: (
                None
                if v is None
                else v.isoformat(" ", "microseconds")[:26]
                if v.tzinfo is UTC and v.year >= 1000
                else reference(v)
            )
        return lambda v: v if v is None or v.tzinfo is UTC else reference(v)
    if isinstance(col_type, ScaledDecimal):
        exp = col_type.scale
        step = Decimal(1).scaleb(-exp)
        if dialect.name == "sqlite":  # an integer of value × 10^scale (cents for money)

            def scaled(v: Any) -> Any:
                if v is None:
                    return None
                if type(v) is Decimal and v.is_finite():
                    return int(v.scaleb(exp).to_integral_value(ROUND_HALF_UP))
                return reference(v)

            return scaled

        def rounded(v: Any) -> Any:
            if v is None:
                return None
            if type(v) is Decimal and v.is_finite():
                return v.quantize(step, ROUND_HALF_UP)
            return reference(v)

        return rounded
    if isinstance(col_type, sa.Date) and dialect.name == "sqlite":
        return lambda v: v.isoformat() if type(v) is dt.date else reference(v)
    if isinstance(col_type, sa.Enum) and col_type.enum_class is not None:
        values: dict[Any, str] = {}
        for member in col_type.enum_class:
            values[member] = values[member.value] = member.value
        return lambda v: values[v] if v in values else reference(v)
    if isinstance(col_type, sa.Boolean) and dialect.name == "sqlite":
        return lambda v: (1 if v else 0) if type(v) is bool else reference(v)
    return None


def required_columns(table: sa.Table) -> set[str]:
    """Columns a raw INSERT must name: NOT NULL and without a server-side default."""
    return {
        c.name
        for c in table.columns
        if not c.nullable and c.server_default is None and c.identity is None
    }


def row_shape(table: sa.Table, columns: Sequence[str], dialect: Dialect) -> RowShape:
    """Check the column list against the table and build its row converter."""
    names = tuple(columns)
    unknown = [n for n in names if n not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
    if len(set(names)) != len(names):
        raise ValueError(f"{table.name}: a column is named twice")
    missing = sorted(required_columns(table) - set(names))
    if missing:
        raise ValueError(f"{table.name}: required column(s) {', '.join(missing)} not written")
    converters: list[Converter | None] = []
    fast_paths: list[tuple[int, Converter, Converter]] = []
    for i, n in enumerate(names):
        reference = reference_converter(table.c[n], dialect)
        fast = _fast_converter(table.c[n], dialect, reference) if reference else None
        if fast is not None and reference is not None:
            fast_paths.append((i, fast, reference))
        converters.append(fast or reference)
    return RowShape(table, names, _compile(table.name, converters), tuple(fast_paths))


def _compile(name: str, converters: Sequence[Converter | None]) -> RowConverter:
    # One generated lambda per table: ``(c0(r[0]), r[1], c2(r[2]), …)``. Tens of millions of
    # values go through here at the ``large`` scale; a loop over the columns costs ~3× more.
    namespace: dict[str, Any] = {}
    parts = []
    for i, conv in enumerate(converters):
        if conv is None:
            parts.append(f"r[{i}]")
        else:
            namespace[f"c{i}"] = conv
            parts.append(f"c{i}(r[{i}])")
    source = f"lambda r: ({', '.join(parts)},)"
    fn: RowConverter = eval(compile(source, f"<stored row of {name}>", "eval"), namespace)
    return fn
