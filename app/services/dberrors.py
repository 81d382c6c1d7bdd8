"""Turn driver exceptions into sentences a person can act on, and tell a lost connection apart.

``is_connection_lost`` separates "the server stopped answering" (it went down or restarted, the
network dropped, an administrator ended the session) from a refusal by a server that answered
(a unique violation, a wrong password, a missing database). Only the first is worth waiting
out: the window shows a banner and reconnects on its own (app/gui/connection_watch.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import psycopg
from sqlalchemy import exc as sa_exc

# SQLSTATE class 08 is "connection exception"; these three say the server ended the session
# or is not ready to start one: admin_shutdown (pg_terminate_backend, a fast shutdown),
# crash_shutdown, cannot_connect_now (starting up, shutting down, in recovery).
_LOST_STATES = frozenset({"57P01", "57P02", "57P03"})
_LOST_CLASS = "08"

# What libpq says when there is no SQLSTATE: the connection could not be made, or broke.
_LOST_MARKERS = (
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "the connection is closed",
    "the connection is lost",
    "connection is bad",
    "consuming input failed",
    "sending query failed",
    "could not receive data from server",
    "could not send data to server",
    "ssl syscall error",
    "ssl connection has been closed",
    "connection reset",
    "broken pipe",
    "timeout expired",
    "connection timed out",
    "network is unreachable",
    "no route to host",
    "temporary failure in name resolution",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
)


def explain(exc: BaseException, where: str) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    low = text.lower()
    if "file is not a database" in low or "malformed" in low:
        return f"{where} is not a PerfDesk database or is damaged (SQLite: {text.strip()})."
    if "readonly" in low or "read-only" in low:
        return f"{where} is read-only: PerfDesk cannot save changes to it."
    if "unable to open database file" in low:
        return f"{where} cannot be opened: the folder is missing or not writable."
    if "password authentication failed" in low:
        return f"The server rejected the password for {where}."
    if "no password supplied" in low:
        return f"The server at {where} asks for a password and none was given."
    if "does not exist" in low and "database" in low:
        return f"The database in {where} does not exist on the server."
    if 'role "' in low and "does not exist" in low:
        return f"The user in {where} does not exist on the server."
    if (
        "connection refused" in low
        or "could not connect" in low
        or "timeout" in low
        or "name or service not known" in low
        or "could not translate host name" in low
    ):
        return f"The PostgreSQL server at {where} cannot be reached ({_first_line(text)})."
    if "permission denied" in low:
        return f"Permission denied on {where}: {_first_line(text)}"
    if is_connection_lost(exc):
        return f"Lost the connection to {where} ({_first_line(text)})."
    return f"{where}: {_first_line(text)}"


def is_connection_lost(exc: BaseException) -> bool:
    """True when ``exc``, or an error it was raised from, says the server connection was lost.

    A SQLite error never is (a local file has no connection to lose). Follows ``orig`` of
    SQLAlchemy's wrappers and ``__cause__``/``__context__``, so a ``DatabaseProblem`` raised
    from a lost connection counts too.
    """
    for error in _chain(exc):
        if isinstance(error, sqlite3.Error):
            return False
        if isinstance(error, sa_exc.DisconnectionError):
            return True
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return not isinstance(error.orig, sqlite3.Error)
        if isinstance(error, psycopg.Error):
            return _psycopg_lost(error)
    return False


def _psycopg_lost(error: psycopg.Error) -> bool:
    state = error.sqlstate
    if state:
        return state.startswith(_LOST_CLASS) or state in _LOST_STATES
    if not isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    low = str(error).lower()
    return any(marker in low for marker in _LOST_MARKERS)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, the driver error it wraps, then what it was raised from, each once."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        error = pending.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        orig = getattr(error, "orig", None)
        if isinstance(orig, BaseException):
            pending.append(orig)
        if error.__cause__ is not None:
            pending.append(error.__cause__)
        elif error.__context__ is not None and not error.__suppress_context__:
            pending.append(error.__context__)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
