"""Engines for both ways to run: a local SQLite file or a shared PostgreSQL server."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from app.domain.audit import canonical_dumps


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_url(path: str) -> str:
    return f"sqlite:///{path}"


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # The driver's own transaction handling is switched off so that SQLAlchemy's
    # BEGIN is the only one (SQLAlchemy's documented SQLite recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA busy_timeout = 5000")
    # A read-only file keeps its journal mode; reads still work.
    with contextlib.suppress(sqlite3.OperationalError):
        cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def create_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine with the pragmas and options PerfDesk relies on.

    JSON documents are written as canonical text (sorted keys, no spaces): the audit chain's
    payloads are then stored exactly as they were hashed (docs/architecture.md).
    """
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        kwargs.setdefault("json_serializer", canonical_dumps)
        engine = sa.create_engine(u, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("json_serializer", canonical_dumps)
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("connect_timeout", 5)
    connect_args.setdefault("application_name", "PerfDesk")
    return sa.create_engine(u, connect_args=connect_args, **kwargs)


def describe(url: str | URL) -> str:
    """What the status bar shows: the local file path, or user@host:port/database."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return f"Local file {u.database or ':memory:'}"
    port = f":{u.port}" if u.port else ""
    return f"{u.username or ''}@{u.host or 'localhost'}{port}/{u.database or ''}"
