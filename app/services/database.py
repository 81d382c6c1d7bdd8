"""Which database PerfDesk runs on, and sessions over it.

Local mode (the default) is a SQLite file in the user data folder; shared mode is a
PostgreSQL server where each person connects as their own role.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from platformdirs import user_data_dir
from sqlalchemy.engine import Engine, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from app import APP_NAME, ORG_NAME
from app.db import engine as engines
from app.domain.errors import DatabaseProblem

log = logging.getLogger(__name__)

ENV_URL = "PERFDESK_DB_URL"
LOCAL_FILENAME = "perfdesk.sqlite3"


def local_data_dir() -> Path:
    return Path(user_data_dir(APP_NAME, ORG_NAME))


def default_local_path() -> Path:
    return local_data_dir() / LOCAL_FILENAME


def resolve_url(explicit: str | None = None) -> str:
    """``--db URL``, else ``PERFDESK_DB_URL``, else the local file."""
    url = explicit or os.environ.get(ENV_URL)
    if url:
        try:
            make_url(url)
        except ArgumentError:
            raise DatabaseProblem(
                f"{url!r} is not a database URL; expected e.g. sqlite:///path/perfdesk.sqlite3 "
                "or postgresql+psycopg://user@host:5432/perfdesk"
            ) from None
        return url
    return engines.sqlite_url(str(default_local_path()))


@dataclass
class Database:
    """An open database: the engine, a session factory, and what to call it."""

    url: str
    engine: Engine
    _sessions: sessionmaker[Session] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_local(self) -> bool:
        return engines.is_sqlite(self.url)

    @property
    def mode(self) -> str:
        return "local" if self.is_local else "shared"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def file_path(self) -> Path | None:
        if not self.is_local:
            return None
        name = make_url(self.url).database
        return Path(name) if name and name != ":memory:" else None

    def describe(self) -> str:
        return engines.describe(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block succeeds and rolls back when it raises."""
        with self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only."""
        with self._sessions() as s:
            yield s

    def dispose(self) -> None:
        self.engine.dispose()

    def on_connection_lost(self, callback: Callable[[BaseException], None]) -> None:
        """Call ``callback(error)`` whenever a statement, or a new connection, fails because the
        connection to the server was lost (see ``dberrors.is_connection_lost``).

        Shared mode only: a local file has no connection to lose. The callback runs on the
        thread that hit the error, before the error reaches the caller; it must be quick and
        must not raise. The pool drops dead connections itself (``pool_pre_ping`` and
        invalidation on disconnect); a failed pre-ping is not reported, since the pool then
        simply opens a fresh connection.
        """
        if self.is_local:
            return
        from app.services.dberrors import is_connection_lost

        def handle_error(context: ExceptionContext) -> None:
            if context.is_pre_ping:
                return
            error = context.sqlalchemy_exception or context.original_exception
            if context.is_disconnect or is_connection_lost(error):
                try:
                    callback(error)
                except Exception:  # the original error must reach the caller unchanged
                    log.exception("Reporting a lost connection failed")

        sa.event.listen(self.engine, "handle_error", handle_error)


def open_database(url: str | None = None, *, create_dir: bool = True) -> Database:
    """Open (without migrating) the database that ``url`` or the defaults name."""
    resolved = resolve_url(url)
    if engines.is_sqlite(resolved):
        name = make_url(resolved).database
        if name and name != ":memory:":
            path = Path(name)
            if create_dir:
                path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and not os.access(path, os.R_OK):
                raise DatabaseProblem(f"The database file {path} cannot be read (permissions).")
    return Database(url=resolved, engine=engines.create_engine(resolved))


def ping(db: Database) -> None:
    """Raise DatabaseProblem in plain words when the database cannot be reached or read."""
    from app.services.dberrors import explain

    try:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        raise DatabaseProblem(explain(exc, db.describe())) from exc
