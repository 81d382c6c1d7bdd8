"""Create or upgrade the schema, safely.

An older local file is copied aside before it is upgraded; a database written by a newer
PerfDesk is refused without being touched. Alembic is imported only when a migration
really has to run (it costs ~0.25 s at start).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.domain.errors import DatabaseProblem, SchemaTooNew
from app.services.database import Database
from app.services.dberrors import explain

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_REVISION_RE = re.compile(r'^revision(?:: str)? = ["\']([^"\']+)["\']', re.M)
_DOWN_RE = re.compile(r'^down_revision(?:: [^=]+)? = ["\']?([^"\'\n]+?)["\']?$', re.M)


@dataclass(frozen=True)
class SchemaStatus:
    state: str  # "created" | "current" | "upgraded"
    revision: str
    backup_path: Path | None
    is_empty: bool


@cache
def known_revisions() -> tuple[str, ...]:
    """The app's revisions in order from base to head, read from the files (no alembic)."""
    parents: dict[str, str | None] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev = _REVISION_RE.search(text)
        if not rev:
            continue
        down = _DOWN_RE.search(text)
        down_value = down.group(1).strip() if down else None
        parents[rev.group(1)] = None if down_value in (None, "None") else down_value
    children = {p: r for r, p in parents.items()}
    order: list[str] = []
    cur = children.get(None)
    while cur is not None:
        order.append(cur)
        cur = children.get(cur)
    if len(order) != len(parents):
        raise DatabaseProblem("PerfDesk's migrations do not form one line (more than one head)")
    return tuple(order)


def head_revision() -> str:
    return known_revisions()[-1]


def current_revision(db: Database) -> str | None:
    """The database's schema revision, or None for an empty database."""
    try:
        with db.engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                tables = [t for t in sa.inspect(conn).get_table_names() if t != "sqlite_sequence"]
                if tables:
                    raise DatabaseProblem(
                        f"{db.describe()} holds tables but no PerfDesk schema version; "
                        "it is not a PerfDesk database. Nothing was changed."
                    )
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except DatabaseProblem:
        raise
    except (DBAPIError, sqlite3.Error) as exc:
        raise DatabaseProblem(explain(exc, db.describe())) from exc


def prepare(db: Database) -> SchemaStatus:
    """Make the schema current: create it, upgrade it (after a backup) or refuse it."""
    current = current_revision(db)
    revisions = known_revisions()
    head = revisions[-1]
    if current == head:
        return SchemaStatus("current", head, None, _is_empty(db))
    if current is not None and current not in revisions:
        raise SchemaTooNew(
            f"{db.describe()} was written by a newer PerfDesk (schema {current}); this version "
            f"knows up to {head}. Update PerfDesk. The database was not changed."
        )
    backup = _backup_sqlite(db, current) if current is not None else None
    _run_upgrade(db)
    return SchemaStatus("created" if current is None else "upgraded", head, backup, _is_empty(db))


def _is_empty(db: Database) -> bool:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT COUNT(*) FROM users")).scalar() == 0


def _backup_sqlite(db: Database, revision: str) -> Path | None:
    path = db.file_path
    if path is None or not path.exists():
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.before-{revision}-{stamp}{path.suffix}")
    src = sqlite3.connect(str(path))
    try:
        dst = sqlite3.connect(str(target))
        with dst:
            src.backup(dst)
        dst.close()
    finally:
        src.close()
    return target


def _alembic_config(connection: sa.Connection | None = None) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _run_upgrade(db: Database, target: str = "head") -> None:
    from alembic import command

    try:
        with db.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), target)  # type: ignore[arg-type]
    except (DBAPIError, sqlite3.Error) as exc:
        raise DatabaseProblem(explain(exc, db.describe())) from exc


def downgrade(db: Database, target: str = "base") -> None:
    from alembic import command

    with db.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), target)  # type: ignore[arg-type]


def check_drift(db: Database) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    from alembic import command

    with db.engine.connect() as conn:
        command.check(_alembic_config(conn))  # type: ignore[arg-type]
