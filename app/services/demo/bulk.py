"""Bulk loading in one transaction: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

Rows are plain tuples of Python values (Decimal, aware datetimes, enum members…), buffered
per table and converted to their stored form (see ``stored``) only when a chunk is written.
Every flush writes all buffered tables in foreign-key order, so a child row is never written
before a parent row that was queued ahead of it. Between chunks the loader reports progress
and asks whether to stop; stopping rolls the whole transaction back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy.engine import Dialect

import app.db.models  # noqa: F401  (registers every table in Base.metadata)
from app.db.base import Base
from app.domain.errors import PerfDeskError
from app.services.demo.stored import Row, RowShape, reference_converter, row_shape

ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]


class DemoCancelled(PerfDeskError):
    """The demo data load was cancelled; nothing was written."""


class RawTarget(Protocol):
    """The DB-API side of one load: one open transaction on one connection."""

    dialect: Dialect

    def write(self, shape: RowShape, rows: Sequence[Row]) -> None: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def finish(self, max_ids: dict[str, int]) -> None: ...

    def abort(self) -> None: ...


class SQLiteTarget:
    """One ``BEGIN IMMEDIATE … COMMIT`` on the raw sqlite3 connection; ``executemany`` per chunk."""

    #: Page cache for the load (KiB, negative per SQLite's convention); put back afterwards.
    CACHE_KIB = 131072

    def __init__(self, conn: sqlite3.Connection, dialect: Dialect) -> None:
        self.conn = conn
        self.dialect = dialect
        self._old_cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = -{self.CACHE_KIB}")
        conn.execute("BEGIN IMMEDIATE")
        self._sql: dict[str, str] = {}

    def write(self, shape: RowShape, rows: Sequence[Row]) -> None:
        sql = self._sql.get(shape.name)
        if sql is None:
            marks = ", ".join("?" * len(shape.columns))
            sql = f"INSERT INTO {shape.name} ({', '.join(shape.columns)}) VALUES ({marks})"
            self._sql[shape.name] = sql
        self.conn.executemany(sql, rows)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(sql.replace("%s", "?"), tuple(params)).fetchall())

    def finish(self, max_ids: dict[str, int]) -> None:
        # INTEGER PRIMARY KEY takes the ids given; there is no sequence to move on.
        self.conn.execute("COMMIT")
        self._restore()
        # The load went through the write-ahead log; give its disk space back (if no other
        # connection is reading, else SQLite leaves it for later, which is harmless).
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def abort(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self._restore()

    def _restore(self) -> None:
        self.conn.execute(f"PRAGMA cache_size = {int(self._old_cache)}")


class PostgresTarget:
    """One transaction on the raw psycopg connection; one ``COPY … FROM STDIN`` per chunk."""

    def __init__(self, conn: Any, dialect: Dialect) -> None:
        self.conn = conn
        self.dialect = dialect
        self.cur = conn.cursor()
        # COPY cannot load a table whose row-level security applies to us (PostgreSQL
        # refuses it); only the owner of the schema (or a superuser) can load demo data.
        self.cur.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s)"
            " AND row_security_active(oid) ORDER BY relname",
            ([t.name for t in Base.metadata.sorted_tables],),
        )
        guarded = [r[0] for r in self.cur.fetchall()]
        if guarded:
            conn.rollback()
            raise PerfDeskError(
                "Demo data can be loaded only by the owner of the PerfDesk schema (row-level "
                f"security applies to this login on {', '.join(guarded[:3])}). "
                "Nothing was changed."
            )

    def write(self, shape: RowShape, rows: Sequence[Row]) -> None:
        sql = f"COPY {shape.name} ({', '.join(shape.columns)}) FROM STDIN"
        with self.cur.copy(sql) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cur.execute(sql, tuple(params))
        if self.cur.description is None:
            return []
        return list(self.cur.fetchall())

    def finish(self, max_ids: dict[str, int]) -> None:
        # Ids were assigned here, so each table's sequence must continue after the largest.
        for table, max_id in max_ids.items():
            self.cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
            row = self.cur.fetchone()
            if row and row[0]:
                self.cur.execute("SELECT setval(%s, %s)", (row[0], max_id))
        self.conn.commit()

    def abort(self) -> None:
        self.conn.rollback()


class Writer:
    """Buffers rows per table and writes them in chunks, in foreign-key order."""

    def __init__(
        self,
        target: RawTarget,
        *,
        chunk_rows: int = 50_000,
        progress: ProgressFn | None = None,
        cancelled: CancelFn | None = None,
        total_hint: int = 0,
    ) -> None:
        self.target = target
        self.chunk_rows = chunk_rows
        self._progress = progress
        self._cancelled = cancelled
        self.total = max(total_hint, 1)
        self.label = "Preparing…"
        self.shapes: dict[str, RowShape] = {}
        self.buffers: dict[str, list[Row]] = {}
        self.counts: dict[str, int] = {}
        self.max_ids: dict[str, int] = {}
        self._buffered = 0
        self._written = 0
        self._order = {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}

    # -- declaring and queueing -------------------------------------------------------------
    def table(self, name: str, columns: Sequence[str]) -> Callable[[Row], None]:
        """Declare the columns written to ``name``; returns the function that queues a row."""
        shape = row_shape(Base.metadata.tables[name], columns, self.target.dialect)
        self.shapes[name] = shape
        buf = self.buffers.setdefault(name, [])
        self.counts.setdefault(name, 0)
        id_index = shape.columns.index("id") if "id" in shape.columns else None
        width = len(shape.columns)
        chunk = self.chunk_rows
        max_ids = self.max_ids

        def add(row: Row) -> None:
            if len(row) != width:
                raise ValueError(f"{name}: a row has {len(row)} values for {width} columns")
            buf.append(row)
            self._buffered += 1
            if id_index is not None and row[id_index] > max_ids.get(name, 0):
                max_ids[name] = row[id_index]
            if self._buffered >= chunk:
                self.flush()

        return add

    def phase(self, label: str) -> None:
        """Start a new step: write what is queued, report, check for cancel."""
        self.flush()
        self.label = label
        self._report()

    # -- writing ----------------------------------------------------------------------------
    def flush(self) -> None:
        if self._buffered:
            for name in sorted(self.buffers, key=self._order.__getitem__):
                rows = self.buffers[name]
                if not rows:
                    continue
                shape = self.shapes[name]
                shape.check(rows[0])
                shape.check(rows[-1])
                convert = shape.convert
                self.target.write(shape, [convert(r) for r in rows])
                self.counts[name] += len(rows)
                self._written += len(rows)
                rows.clear()
            self._buffered = 0
        self._report()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement on the load's connection, after everything queued is written."""
        self.flush()
        return self.target.execute(sql, params)

    def stored_value(self, table: str, column: str, value: Any) -> Any:
        """``value`` as ``table.column`` stores it, for the few raw UPDATEs of the load."""
        conv = reference_converter(Base.metadata.tables[table].c[column], self.target.dialect)
        return value if conv is None else conv(value)

    def _report(self) -> None:
        if self._cancelled is not None and self._cancelled():
            raise DemoCancelled("The demo data load was cancelled; nothing was written.")
        if self._progress is not None:
            self.total = max(self.total, self._written)
            self._progress(self._written, self.total, self.label)

    def finish(self) -> dict[str, int]:
        """Write the rest and commit; the counts of rows written per table."""
        self.flush()
        self.target.finish(dict(self.max_ids))
        if self._progress is not None:
            self._progress(self._written, self._written, "Done")
        return dict(self.counts)

    def abort(self) -> None:
        """Stop writing and roll everything back."""
        self.target.abort()

    @property
    def written(self) -> int:
        return self._written


def open_target(conn: Any, dialect: Dialect) -> RawTarget:
    """The loader for the raw DB-API connection of ``dialect``."""
    if dialect.name == "sqlite":
        return SQLiteTarget(conn, dialect)
    if dialect.name == "postgresql":
        return PostgresTarget(conn, dialect)
    raise PerfDeskError(f"Demo data cannot be loaded into a {dialect.name} database.")
