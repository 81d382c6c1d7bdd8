"""Telling a lost server connection apart from a refusal (app/services/dberrors.py), and the
open Database reporting it (Database.on_connection_lost): issue 3, "a lost server connection
shows a banner and reconnects without losing the broker's unsent edits"."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import errors as pg_errors
from sqlalchemy import exc as sa_exc

from app.domain.errors import DatabaseProblem
from app.services import dberrors
from app.services.database import Database, open_database, ping
from app.services.dberrors import explain, is_connection_lost
from tests.conftest import PgDatabases

WHERE = "ann@db.office:5432/perfdesk"

SERVER_CLOSED = (
    "consuming input failed: server closed the connection unexpectedly\n"
    "\tThis probably means the server terminated abnormally\n"
    "\tbefore or while processing the request."
)
WRONG_PASSWORD = (
    'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
    'FATAL:  password authentication failed for user "ann"'
)


def wrapped(orig: BaseException, *, invalidated: bool = False) -> sa_exc.OperationalError:
    """How SQLAlchemy hands a driver error to the caller."""
    return sa_exc.OperationalError("SELECT 1", {}, orig, connection_invalidated=invalidated)


def raised_from(cause: BaseException) -> DatabaseProblem:
    """A DatabaseProblem raised ``from`` a driver error, as ping() and the services do."""
    try:
        try:
            raise cause
        except BaseException as exc:
            raise DatabaseProblem("PerfDesk could not save the lead.") from exc
    except DatabaseProblem as problem:
        return problem


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refused_error() -> psycopg.OperationalError:
    """The real error libpq gives when nothing listens on the port (a server that is down)."""
    try:
        psycopg.connect(host="127.0.0.1", port=_free_port(), user="x", connect_timeout=2)
    except psycopg.OperationalError as exc:
        return exc
    raise AssertionError("connecting to a closed port succeeded")


# -- is_connection_lost: lost ---------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        pg_errors.AdminShutdown("terminating connection due to administrator command"),
        pg_errors.CrashShutdown("terminating connection because of crash of another process"),
        pg_errors.CannotConnectNow("the database system is starting up"),
        pg_errors.ConnectionFailure("connection failure"),
        pg_errors.ConnectionException("connection exception"),
        pg_errors.SqlclientUnableToEstablishSqlconnection("could not establish"),
        pg_errors.ProtocolViolation("protocol violation"),
    ],
    ids=lambda e: f"{type(e).__name__}-{e.sqlstate}",
)
def test_sqlstates_of_a_session_the_server_ended_count_as_lost(error: psycopg.Error) -> None:
    assert error.sqlstate is not None
    assert error.sqlstate.startswith("08") or error.sqlstate in {"57P01", "57P02", "57P03"}
    assert is_connection_lost(error)


@pytest.mark.parametrize(
    "message",
    [
        SERVER_CLOSED,
        "the connection is closed",
        "the connection is lost",
        "could not receive data from server: Connection reset by peer",
        "SSL SYSCALL error: EOF detected",
        "connection timeout expired",
        "FATAL:  the database system is shutting down",
    ],
)
def test_libpq_messages_without_a_sqlstate_count_as_lost(message: str) -> None:
    error = psycopg.OperationalError(message)
    assert error.sqlstate is None
    assert is_connection_lost(error)
    assert is_connection_lost(psycopg.InterfaceError(message))


def test_a_real_connection_refused_counts_as_lost() -> None:
    error = refused_error()
    assert "refused" in str(error).lower()
    assert is_connection_lost(error)


def test_sqlalchemy_wrappers_are_followed_to_the_driver_error() -> None:
    assert is_connection_lost(wrapped(pg_errors.AdminShutdown("terminating connection")))
    assert is_connection_lost(wrapped(psycopg.OperationalError(SERVER_CLOSED)))
    # SQLAlchemy decided the connection is gone even though the message says nothing known.
    invalidated = wrapped(psycopg.OperationalError("something odd"), invalidated=True)
    assert invalidated.connection_invalidated
    assert is_connection_lost(invalidated)
    assert not is_connection_lost(wrapped(psycopg.OperationalError("something odd")))
    assert is_connection_lost(sa_exc.DisconnectionError("pool says the connection is gone"))
    assert is_connection_lost(sa_exc.InvalidatePoolError("invalidate the pool"))


def test_a_database_problem_raised_from_a_lost_connection_counts() -> None:
    assert is_connection_lost(raised_from(pg_errors.AdminShutdown("terminating connection")))
    assert is_connection_lost(raised_from(wrapped(psycopg.OperationalError("x"), invalidated=True)))
    assert is_connection_lost(raised_from(raised_from(psycopg.OperationalError(SERVER_CLOSED))))
    assert not is_connection_lost(raised_from(pg_errors.UniqueViolation("duplicate key")))
    assert not is_connection_lost(DatabaseProblem("The server rejected the password."))


def test_the_implicit_context_is_followed_unless_suppressed() -> None:
    try:
        try:
            raise pg_errors.AdminShutdown("terminating connection")
        except psycopg.Error:
            raise RuntimeError("rolling back failed")  # noqa: B904 - the point of the test
    except RuntimeError as implicit:
        assert implicit.__context__ is not None
        assert is_connection_lost(implicit)
    try:
        try:
            raise pg_errors.AdminShutdown("terminating connection")
        except psycopg.Error:
            raise RuntimeError("said in other words") from None
    except RuntimeError as suppressed:
        assert not is_connection_lost(suppressed)


def test_a_cycle_in_the_chain_ends() -> None:
    first, second = RuntimeError("first"), RuntimeError("second")
    first.__cause__, second.__cause__ = second, first
    assert not is_connection_lost(first)
    lost = pg_errors.AdminShutdown("terminating connection")
    first.__cause__, second.__cause__, lost.__cause__ = second, lost, first
    assert is_connection_lost(first)


# -- is_connection_lost: a server that answered, and SQLite --------------------------------


@pytest.mark.parametrize(
    "error",
    [
        pg_errors.UniqueViolation('duplicate key value violates unique constraint "users_email"'),
        pg_errors.InsufficientPrivilege("permission denied for table leads"),
        pg_errors.InvalidPassword('password authentication failed for user "ann"'),
        pg_errors.InvalidCatalogName('database "perfdesk" does not exist'),
        pg_errors.SerializationFailure("could not serialize access"),
        pg_errors.QueryCanceled("canceling statement due to statement timeout"),
        pg_errors.DivisionByZero("division by zero"),
        psycopg.OperationalError(WRONG_PASSWORD),
        psycopg.OperationalError('FATAL:  role "ann" does not exist'),
        # A refusal the server sent with a SQLSTATE outside class 08 is believed over its words.
        pg_errors.QueryCanceled("canceling statement: the connection is closed"),
        # Only OperationalError/InterfaceError carry libpq's own messages.
        psycopg.ProgrammingError("the connection is closed"),
        # Not a driver error at all.
        ValueError(SERVER_CLOSED),
        ConnectionResetError("connection reset by peer"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_refusals_by_a_server_that_answered_are_not_lost(error: BaseException) -> None:
    assert not is_connection_lost(error)
    assert not is_connection_lost(wrapped(error))
    assert not is_connection_lost(raised_from(error))


def test_sqlite_errors_never_count() -> None:
    locked = sqlite3.OperationalError("database is locked")
    assert not is_connection_lost(locked)
    assert not is_connection_lost(wrapped(locked))
    # Even when SQLAlchemy invalidated the connection, a local file has none to lose.
    closed = sqlite3.ProgrammingError("Cannot operate on a closed database.")
    assert not is_connection_lost(wrapped(closed, invalidated=True))
    assert not is_connection_lost(sqlite3.OperationalError(SERVER_CLOSED))
    assert not is_connection_lost(raised_from(wrapped(locked)))
    # The first driver error met decides: a local file's error raised while handling a lost
    # server connection (copying the server's data into a file, say) is the file's problem.
    try:
        try:
            raise pg_errors.AdminShutdown("terminating connection")
        except psycopg.Error as lost:
            raise sqlite3.OperationalError("database is locked") from lost
    except sqlite3.OperationalError as local:
        assert not is_connection_lost(local)
        assert not is_connection_lost(raised_from(local))


# -- explain --------------------------------------------------------------------------------


def test_explain_says_a_lost_connection_plainly() -> None:
    admin = pg_errors.AdminShutdown("terminating connection due to administrator command")
    expected = (
        f"Lost the connection to {WHERE} (terminating connection due to administrator command)."
    )
    assert explain(admin, WHERE) == expected
    assert explain(wrapped(admin), WHERE) == expected
    assert explain(psycopg.OperationalError(SERVER_CLOSED), WHERE) == (
        f"Lost the connection to {WHERE} (consuming input failed: server closed the "
        "connection unexpectedly)."
    )


def test_explain_keeps_refusals_apart_from_a_lost_connection() -> None:
    assert explain(psycopg.OperationalError(WRONG_PASSWORD), WHERE) == (
        f"The server rejected the password for {WHERE}."
    )
    assert explain(wrapped(sqlite3.OperationalError("database is locked")), WHERE) == (
        f"{WHERE}: database is locked"
    )
    assert explain(pg_errors.UniqueViolation("duplicate key value"), WHERE) == (
        f"{WHERE}: duplicate key value"
    )
    refused = refused_error()
    assert explain(refused, WHERE).startswith(
        f"The PostgreSQL server at {WHERE} cannot be reached ("
    )


# -- Database.on_connection_lost on a real server -------------------------------------------


class Reports:
    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    def __call__(self, error: BaseException) -> None:
        self.errors.append(error)


@pytest.fixture
def admin(pg_databases: PgDatabases) -> sa.Engine:
    """A superuser connection of its own (autocommit), to end other sessions with."""
    return pg_databases.engine


def terminate(admin: sa.Engine, pid: int) -> None:
    with admin.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        for _ in range(100):  # until the backend is really gone
            gone = not conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
            if gone:
                return
            conn.execute(sa.text("SELECT pg_sleep(0.02)"))
    raise AssertionError(f"backend {pid} still there")


@pytest.fixture
def reported_db(pg_db: Database) -> Iterator[tuple[Database, Reports]]:
    reports = Reports()
    pg_db.on_connection_lost(reports)
    yield pg_db, reports


@pytest.mark.pg
def test_a_session_ended_by_the_server_is_reported_and_the_next_statement_reconnects(
    reported_db: tuple[Database, Reports], admin: sa.Engine
) -> None:
    db, reports = reported_db
    with db.engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        assert isinstance(pid, int)
        terminate(admin, pid)
        with pytest.raises(sa_exc.OperationalError) as raised:
            conn.execute(sa.text("SELECT 1"))
    error = raised.value
    assert is_connection_lost(error)
    assert error.connection_invalidated
    assert len(reports.errors) == 1
    assert reports.errors[0] is error  # reported before it reached the caller, unchanged
    assert is_connection_lost(reports.errors[0])
    assert explain(error, db.describe()).startswith(f"Lost the connection to {db.describe()} (")

    with db.read() as session:  # the pool opened a new connection
        assert session.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid
    ping(db)
    assert len(reports.errors) == 1


@pytest.mark.pg
def test_an_idle_connection_ended_by_the_server_is_replaced_without_a_report(
    reported_db: tuple[Database, Reports], admin: sa.Engine
) -> None:
    """The pool's pre-ping finds the dead connection and opens another: nothing was lost."""
    db, reports = reported_db
    with db.engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    terminate(admin, pid)  # idle in the pool
    with db.read() as session:
        assert session.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid
    assert reports.errors == []


@pytest.mark.pg
def test_a_refusal_by_the_server_is_not_reported(reported_db: tuple[Database, Reports]) -> None:
    db, reports = reported_db
    with pytest.raises(sa_exc.DataError), db.read() as session:
        session.execute(sa.text("SELECT 1 / 0"))
    with pytest.raises(sa_exc.ProgrammingError), db.read() as session:
        session.execute(sa.text("SELECT * FROM no_such_table"))
    assert reports.errors == []
    with db.read() as session:
        assert session.execute(sa.text("SELECT 1")).scalar() == 1


def test_a_server_that_cannot_be_reached_is_reported_when_connecting() -> None:
    db = open_database(f"postgresql+psycopg://ann@127.0.0.1:{_free_port()}/perfdesk")
    reports = Reports()
    db.on_connection_lost(reports)
    try:
        with pytest.raises(sa_exc.OperationalError) as raised, db.engine.connect():
            pass
        assert len(reports.errors) == 1
        assert reports.errors[0] is raised.value
        assert is_connection_lost(raised.value)
        with pytest.raises(DatabaseProblem) as problem:
            ping(db)
        assert is_connection_lost(problem.value)
        assert len(reports.errors) == 2
    finally:
        db.dispose()


def test_a_callback_that_raises_does_not_change_the_error(caplog: pytest.LogCaptureFixture) -> None:
    db = open_database(f"postgresql+psycopg://ann@127.0.0.1:{_free_port()}/perfdesk")

    def broken(_error: BaseException) -> None:
        raise RuntimeError("the callback broke")

    db.on_connection_lost(broken)
    try:
        with pytest.raises(sa_exc.OperationalError), db.engine.connect():
            pass
    finally:
        db.dispose()
    assert "Reporting a lost connection failed" in caplog.text


@pytest.mark.pg
def test_a_wrong_password_is_not_reported(pg_password_server: PgDatabases) -> None:
    url = sa.engine.make_url(pg_password_server.admin_url).set(password="not the password")
    db = open_database(url.render_as_string(hide_password=False))
    reports = Reports()
    db.on_connection_lost(reports)
    try:
        with pytest.raises(sa_exc.OperationalError) as raised, db.engine.connect():
            pass
    finally:
        db.dispose()
    assert "password authentication failed" in str(raised.value)
    assert not is_connection_lost(raised.value)
    assert reports.errors == []
    assert explain(raised.value, db.describe()) == (
        f"The server rejected the password for {db.describe()}."
    )


def test_the_local_file_never_calls_back(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not even for an error SQLAlchemy takes for a disconnect, nor if the test said "lost"."""
    monkeypatch.setattr(dberrors, "is_connection_lost", lambda _exc: True)
    reports = Reports()
    sqlite_db.on_connection_lost(reports)
    with sqlite_db.engine.connect() as conn:
        conn.connection.dbapi_connection.close()  # type: ignore[union-attr]
        with pytest.raises(sa_exc.ProgrammingError) as raised:
            conn.exec_driver_sql("SELECT 1")
    assert raised.value.connection_invalidated  # SQLAlchemy's disconnect path was taken
    with pytest.raises(sa_exc.OperationalError), sqlite_db.read() as session:
        session.execute(sa.text("SELECT * FROM no_such_table"))
    assert reports.errors == []
    monkeypatch.undo()
    assert not is_connection_lost(raised.value)
