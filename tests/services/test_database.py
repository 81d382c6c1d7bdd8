"""Which database is opened, and how a local file is set up."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from app.services import database
from app.services.database import Database, open_database, resolve_url


def test_local_file_is_the_default_in_the_user_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(database.ENV_URL, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    url = resolve_url(None)
    assert url == f"sqlite:///{tmp_path / 'PerfDesk' / 'perfdesk.sqlite3'}"
    db = open_database()
    try:
        assert db.mode == "local" and db.file_path == tmp_path / "PerfDesk" / "perfdesk.sqlite3"
        assert db.describe() == f"Local file {db.file_path}"
    finally:
        db.dispose()


def test_db_option_beats_the_environment_which_beats_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(database.ENV_URL, "postgresql+psycopg://ann@dbhost:5433/office")
    assert resolve_url(None) == "postgresql+psycopg://ann@dbhost:5433/office"
    assert resolve_url("sqlite:////tmp/x.sqlite3") == "sqlite:////tmp/x.sqlite3"
    db = open_database(None)
    assert db.mode == "shared" and db.describe() == "ann@dbhost:5433/office"
    db.dispose()


def test_local_file_uses_wal_and_foreign_keys(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(sa.exc.IntegrityError), sqlite_db.session() as s:
        s.execute(
            sa.text(
                "INSERT INTO leads (owner_id, name, status, is_private, created_at, version)"
                " VALUES (424242, 'Nobody', 'new', 0, CURRENT_TIMESTAMP, 1)"
            )
        )
