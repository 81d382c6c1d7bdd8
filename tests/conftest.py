"""Database fixtures: every service test runs on SQLite and on PostgreSQL.

PostgreSQL tests need PERFDESK_TEST_PG_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
A template database is migrated once per test session; each test gets a fresh copy of it
(CREATE DATABASE ... TEMPLATE), dropped afterwards. With PERFDESK_REQUIRE_PG=1 (CI) a missing
server fails the run instead of skipping.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.services.database import Database, open_database
from app.services.schema import prepare

PG_ENV = "PERFDESK_TEST_PG_URL"
_counter = itertools.count()


def pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV)


def _require_pg() -> str:
    url = pg_admin_url()
    if not url:
        if os.environ.get("PERFDESK_REQUIRE_PG") == "1":
            pytest.fail(f"{PG_ENV} is not set but PERFDESK_REQUIRE_PG=1: PostgreSQL tests must run")
        pytest.skip(f"{PG_ENV} not set")
    return url


def _admin_engine(url: str) -> sa.Engine:
    return sa.create_engine(
        make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )


class PgDatabases:
    """Creates and drops scratch databases on the test server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.engine = _admin_engine(admin_url)
        self.prefix = f"perfdesk_t{os.getpid()}"
        self.template: str | None = None

    def url_for(self, name: str) -> str:
        return (
            make_url(self.admin_url)
            .set(drivername="postgresql+psycopg", database=name)
            .render_as_string(hide_password=False)
        )

    def create(self, template: str | None = None) -> str:
        name = f"{self.prefix}_{next(_counter)}"
        tmpl = f" TEMPLATE {template}" if template else ""
        with self.engine.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
            c.execute(sa.text(f"CREATE DATABASE {name}{tmpl}"))
        return name

    def drop(self, name: str) -> None:
        """Drop the database and the login roles its people were given (roles are cluster-wide)."""
        roles: list[str] = []
        probe = sa.create_engine(self.url_for(name))
        try:
            with probe.connect() as c:
                if sa.inspect(c).has_table("users"):
                    roles = list(
                        c.execute(
                            sa.text("SELECT db_role FROM users WHERE db_role IS NOT NULL")
                        ).scalars()
                    )
        except sa.exc.OperationalError:
            pass
        finally:
            probe.dispose()
        with self.engine.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            for role in roles:
                c.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))

    def migrated_template(self) -> str:
        if self.template is None:
            name = self.create()
            db = open_database(self.url_for(name))
            try:
                prepare(db)
            finally:
                db.dispose()
            self.template = name
        return self.template

    def close(self) -> None:
        if self.template:
            self.drop(self.template)
        self.engine.dispose()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    url = _require_pg()
    try:
        with _admin_engine(url).connect() as c:
            c.execute(sa.text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - environment problem
        if os.environ.get("PERFDESK_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL at {url} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    dbs = PgDatabases(url)
    yield dbs
    dbs.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "template.sqlite3"
    db = open_database(f"sqlite:///{path}")
    try:
        prepare(db)
    finally:
        db.dispose()
    return path


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "perfdesk.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = open_database(f"sqlite:///{path}")
    yield db
    db.dispose()


@pytest.fixture
def pg_db(pg_databases: PgDatabases) -> Iterator[Database]:
    name = pg_databases.create(template=pg_databases.migrated_template())
    db = open_database(pg_databases.url_for(name))
    yield db
    db.dispose()
    pg_databases.drop(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db(request: pytest.FixtureRequest) -> Database:
    """A freshly migrated, empty database on each backend."""
    name = "sqlite_db" if request.param == "sqlite" else "pg_db"
    database: Database = request.getfixturevalue(name)
    return database


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def pg_password_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgDatabases]:
    """A private PostgreSQL cluster that checks passwords (scram-sha-256).

    The machine's server trusts every local connection, so a wrong password could never be
    refused there; tests of password handling run against this one.
    """
    _require_pg()
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        if os.environ.get("PERFDESK_REQUIRE_PG") == "1":
            pytest.fail("PostgreSQL server binaries (initdb) are not installed")
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    bindir = bins[-1].parent
    base = Path(tempfile.mkdtemp(prefix="perfdesk-pgpw-"))
    password = "perfdesk-test-pw"
    (base / "pw").write_text(password)
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(base / "pw", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", _free_port()
    subprocess.run(
        [
            *as_postgres,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "scram-sha-256",
            f"--pwfile={base / 'pw'}",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [
            *as_postgres,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(base / "log"),
            "start",
        ],
        check=True,
        capture_output=True,
    )
    dbs = PgDatabases(f"postgresql+psycopg://postgres:{password}@127.0.0.1:{port}/postgres")
    yield dbs
    dbs.close()
    subprocess.run(
        [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
        capture_output=True,
    )
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_password_db(pg_password_server: PgDatabases) -> Iterator[Database]:
    """A migrated database on the password-checking server (its URL carries the password)."""
    name = pg_password_server.create(template=pg_password_server.migrated_template())
    db = open_database(pg_password_server.url_for(name))
    yield db
    db.dispose()
    pg_password_server.drop(name)


@pytest.fixture
def empty_pg_url(pg_databases: PgDatabases) -> Iterator[str]:
    """A PostgreSQL database with no schema at all."""
    name = pg_databases.create()
    yield pg_databases.url_for(name)
    pg_databases.drop(name)
