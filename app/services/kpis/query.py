"""Running query KPIs (SPEC §7): read-only, time-limited, one statement for many people.

The SQL first passes ``check_query_text`` (app/domain/kpi_query.py). Then:

- ``run_for_people`` runs ONE statement for all the people (per chunk of ``CHUNK`` people):
  the query becomes a correlated scalar subquery,
  ``SELECT p.id, (<query with :user_id → p.id>) FROM <the ids> p``; the ids are one bound
  parameter (``json_each`` on SQLite, ``unnest`` of an array on PostgreSQL). A query that
  gives no row gives None for that person. On PostgreSQL a query that gives several rows for
  a person is refused (the server's "more than one row returned by a subquery"); SQLite
  silently takes the first row, which is acceptable because ``dry_run`` refuses such a query
  when it is saved.
- ``dry_run`` runs the query itself for one person and requires exactly one row of one
  column: it is what a KPI's editor calls before saving.
- ``:start_date`` is the period's first day and ``:end_date`` the day after its last. They
  are bound as dates on PostgreSQL (the transaction's time zone is UTC, so a date means UTC
  midnight) and as ISO text ``'YYYY-MM-DD'`` on SQLite, where times are naive UTC text and
  compare correctly with it.
- A value becomes a Decimal: None stays None; ints, floats (through ``str``), Decimals and
  numeric text are numbers; anything else (a text, a date) is refused.

Read-only and time limit:

- SQLite: a separate ``sqlite3`` connection opens the file with ``mode=ro``; an authorizer
  allows only reading (SELECT, READ, FUNCTION, RECURSIVE; plus the schema check SQLite makes
  when a table-valued function such as ``json_each`` is built, harmless on a read-only
  connection) and denies everything else, PRAGMA included; a progress handler stops the
  query once ``timeout_s`` has passed. An in-memory database cannot be opened a second time,
  so query KPIs need a database file.
- PostgreSQL: a connection from the engine's pool runs ``SET TRANSACTION READ ONLY`` and
  ``SET LOCAL statement_timeout`` before the query, and the transaction is always rolled
  back. The query runs under the connection's own login, so the server's row-level security
  applies to the person who runs it: a calculation shows what that person may see.

Money caveat: on SQLite a money column holds integer hundredths (``ScaledDecimal``), so a
custom query that sums money there gets cents, while PostgreSQL gives the amount itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.domain.kpi_query import QueryRefused, check_query_text, rewrite
from app.services.database import Database

DEFAULT_TIMEOUT_S = 5.0
#: People per statement in ``run_for_people``; the time limit applies to each statement.
CHUNK = 1000

_PEOPLE = "kpi_people_"
_PERSON = "kpi_person_id_"
_IDS = "kpi_person_ids_"
_SINGLE = "it must return a single number"
_READ_ONLY = "the query tries to change data or settings; KPI queries may only read"

Params = dict[str, Any]


@dataclass(frozen=True)
class _Result:
    columns: int
    rows: list[tuple[Any, ...]]


# --- the public API -------------------------------------------------------------------------


def run_for_people(
    db: Database,
    sql: str,
    user_ids: Sequence[int],
    start: dt.date,
    end_inclusive: dt.date,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> dict[int, Decimal | None]:
    """Each person's value of the query KPI ``sql`` for ``start``–``end_inclusive``.

    One statement per ``CHUNK`` people; every id asked for is in the result (None: no value).
    """
    checked = check_query_text(sql)
    ids = list(dict.fromkeys(int(u) for u in user_ids))
    if not ids:
        return {}
    bounds = _bounds(db, start, end_inclusive)
    values: dict[int, Decimal | None] = {}
    for n in range(0, len(ids), CHUNK):
        chunk = ids[n : n + CHUNK]
        result = _execute(db, *_wrapped(db, checked, chunk, bounds), timeout_s, None)
        for person, value in result.rows:
            values[int(person)] = _number(value)
    return {uid: values.get(uid) for uid in ids}


def dry_run(
    db: Database,
    sql: str,
    user_id: int,
    start: dt.date,
    end_inclusive: dt.date,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Decimal | None:
    """The query's value for one person, run as written; it must give one row, one column."""
    checked = check_query_text(sql)
    params: Params = {"user_id": int(user_id), **_bounds(db, start, end_inclusive)}
    result = _execute(db, _plain(db, checked), params, timeout_s, 2)
    if result.columns != 1:
        raise _columns_refusal(result.columns)
    if not result.rows:
        raise QueryRefused(f"the query returned no row; {_SINGLE}")
    if len(result.rows) > 1:
        raise QueryRefused(f"the query returned {len(result.rows)} rows; {_SINGLE}")
    return _number(result.rows[0][0])


# --- the statements -------------------------------------------------------------------------


def _bounds(db: Database, start: dt.date, end_inclusive: dt.date) -> Params:
    if end_inclusive < start:
        raise ValueError(f"the period {start}–{end_inclusive} ends before it starts")
    end = end_inclusive + dt.timedelta(days=1)
    if db.dialect == "sqlite":
        return {"start_date": start.isoformat(), "end_date": end.isoformat()}
    return {"start_date": start, "end_date": end}


def _pg_text(text: str) -> str:
    """psycopg reads ``%`` as a placeholder's start everywhere, so a literal ``%`` doubles."""
    return text.replace("%", "%%")


def _plain(db: Database, sql: str) -> str:
    """The checked query in the driver's parameter style."""
    if db.dialect == "sqlite":
        return sql
    return rewrite(sql, lambda name: f"%({name})s", _pg_text)


def _wrapped(db: Database, sql: str, ids: list[int], bounds: Params) -> tuple[str, Params]:
    """The set-based statement for ``ids``: (person id, value) rows, one per person."""

    def person_or(style: Callable[[str], str]) -> Callable[[str], str]:
        return lambda name: f"{_PEOPLE}.{_PERSON}" if name == "user_id" else style(name)

    # The newlines keep a trailing ``--`` comment from swallowing the closing parenthesis.
    if db.dialect == "sqlite":
        inner = rewrite(sql, person_or(lambda name: f":{name}"))
        people = f"(SELECT CAST(value AS INTEGER) AS {_PERSON} FROM json_each(:{_IDS}))"
        statement = f"SELECT {_PEOPLE}.{_PERSON}, (\n{inner}\n) FROM {people} AS {_PEOPLE}"
        return statement, {**bounds, _IDS: json.dumps(ids)}
    inner = rewrite(sql, person_or(lambda name: f"%({name})s"), _pg_text)
    people = f"unnest(CAST(%({_IDS})s AS bigint[])) AS {_PEOPLE}({_PERSON})"
    statement = f"SELECT {_PEOPLE}.{_PERSON}, (\n{inner}\n) FROM {people}"
    return statement, {**bounds, _IDS: ids}


def _execute(
    db: Database, sql: str, params: Params, timeout_s: float, max_rows: int | None
) -> _Result:
    if db.dialect == "sqlite":
        return _run_sqlite(db.file_path, sql, params, timeout_s, max_rows)
    if db.dialect == "postgresql":
        return _run_pg(db.engine, sql, params, timeout_s, max_rows)
    raise QueryRefused(f"query KPIs cannot run on a {db.dialect} database")


# --- SQLite ---------------------------------------------------------------------------------

#: What a plain SELECT (with CTEs, functions and table-valued functions) needs.
_SQLITE_ALLOWED = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
_PROGRESS_STEPS = 1000


def _authorize(
    action: int, arg1: str | None, _arg2: str | None, _db: str | None, _trigger: str | None
) -> int:
    if action in _SQLITE_ALLOWED:
        return sqlite3.SQLITE_OK
    # Building a table-valued function (json_each…) declares its columns, which SQLite checks
    # as an update of the schema table; nothing can write on a mode=ro connection.
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _read_only_uri(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


def _run_sqlite(
    path: Path | None, sql: str, params: Params, timeout_s: float, max_rows: int | None
) -> _Result:
    if path is None:
        raise QueryRefused(
            "query KPIs need a database file: an in-memory database cannot be opened read-only "
            "a second time"
        )
    deadline = time.monotonic() + timeout_s
    try:
        conn = sqlite3.connect(_read_only_uri(path), uri=True, timeout=max(timeout_s, 0.1))
    except sqlite3.Error as exc:
        raise QueryRefused(f"the database file {path} cannot be opened for reading: {exc}") from exc
    with contextlib.closing(conn):
        conn.set_authorizer(_authorize)
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
        try:
            cursor = conn.execute(sql, params)
            columns = len(cursor.description or ())
            rows = cursor.fetchall() if max_rows is None else cursor.fetchmany(max_rows)
        except (sqlite3.Error, sqlite3.Warning) as exc:
            raise _sqlite_refusal(exc, timeout_s) from exc
    return _Result(columns, [tuple(r) for r in rows])


def _sqlite_refusal(exc: Exception, timeout_s: float) -> QueryRefused:
    code = getattr(exc, "sqlite_errorcode", None)
    message = str(exc)
    if code == sqlite3.SQLITE_INTERRUPT or message == "interrupted":
        return _timeout_refusal(timeout_s)
    if code in (sqlite3.SQLITE_AUTH, sqlite3.SQLITE_READONLY) or "not authorized" in message:
        return QueryRefused(_READ_ONLY)
    if message.startswith("sub-select returns"):
        return QueryRefused(f"the query returns several columns; {_SINGLE}")
    return _database_refusal(message)


# --- PostgreSQL -----------------------------------------------------------------------------

_PG_READ_ONLY = "25006"  # read_only_sql_transaction
_PG_CANCELED = "57014"  # query_canceled (the statement timeout)
_PG_CARDINALITY = "21000"  # cardinality_violation
_PG_UNSUPPORTED = "0A000"  # feature_not_supported (a data-modifying WITH in a subquery)


def _run_pg(
    engine: Engine, sql: str, params: Params, timeout_s: float, max_rows: int | None
) -> _Result:
    ms = max(1, math.ceil(timeout_s * 1000))
    with engine.connect() as conn:
        try:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
            conn.exec_driver_sql("SET LOCAL jit = off")  # as for the ledger: RLS inflates costs
            result = conn.exec_driver_sql(sql, params)
            columns = len(result.keys())
            rows = result.fetchall() if max_rows is None else result.fetchmany(max_rows)
            return _Result(columns, [tuple(r) for r in rows])
        except sa.exc.DBAPIError as exc:
            refusal = _pg_refusal(exc, timeout_s)
            if refusal is None:
                raise
            raise refusal from exc
        finally:
            conn.rollback()


def _pg_refusal(exc: sa.exc.DBAPIError, timeout_s: float) -> QueryRefused | None:
    """The refusal for a query the server refused; None for a lost connection and the like."""
    orig = exc.orig
    state: str | None = getattr(orig, "sqlstate", None)
    if state is None or state.startswith("08") or state.startswith("57P"):
        return None
    diag = getattr(orig, "diag", None)
    message = str(getattr(diag, "message_primary", None) or orig)
    if state == _PG_READ_ONLY or (state == _PG_UNSUPPORTED and "data-modifying" in message):
        return QueryRefused(_READ_ONLY)
    if state == _PG_CANCELED:
        return _timeout_refusal(timeout_s)
    if state == _PG_CARDINALITY:
        return QueryRefused(f"the query returned more than one row for a person; {_SINGLE}")
    if message.startswith("subquery must return only one column"):
        return QueryRefused(f"the query returns several columns; {_SINGLE}")
    return _database_refusal(message)


# --- refusals and values --------------------------------------------------------------------


def _timeout_refusal(timeout_s: float) -> QueryRefused:
    return QueryRefused(f"the query ran longer than {timeout_s:g} s and was stopped")


def _database_refusal(message: str) -> QueryRefused:
    first = message.strip().splitlines()[0] if message.strip() else "no reason given"
    return QueryRefused(f"the database refused the query: {first}")


def _columns_refusal(columns: int) -> QueryRefused:
    return QueryRefused(f"the query returns {columns} columns; {_SINGLE}")


def _describe(value: object) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"the text {shown!r}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, bytes | bytearray | memoryview):
        return "binary data"
    return f"a value of type {type(value).__name__}"


def _number(value: object) -> Decimal | None:
    """A query's value as a Decimal; None stays None; anything but a number is refused."""
    if value is None:
        return None
    number: Decimal | None = None
    if isinstance(value, bool | int):
        number = Decimal(int(value))
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        number = Decimal(str(value))
    elif isinstance(value, str):
        with contextlib.suppress(InvalidOperation):
            number = Decimal(value.strip())
    if number is None:
        raise QueryRefused(f"the query returned {_describe(value)}, not a number")
    if not number.is_finite():
        raise QueryRefused(f"the query returned {value!r}, not a finite number")
    return number


__all__ = ["CHUNK", "DEFAULT_TIMEOUT_S", "QueryRefused", "dry_run", "run_for_people"]
