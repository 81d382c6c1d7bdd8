"""What the KPI and goal import tests share: the sample office's people (resources/samples/
users.csv), "today", and helpers that write a CSV file, import it and read the errors of a
refused one.

The office: Morgan Reyes (broker), Priya Shah (manager of Downtown: Priya, Ann Lee, Ben Ortiz),
Cara Kim (agent, Westside, no manager), Dan Cole (closer) and Erin Fox (admin).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db.models import User
from app.services.database import Database
from app.services.importing import ImportFailed, ImportResult, import_file
from app.services.importing.kinds import users as users_kind

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "resources" / "samples"
AS_OF = dt.date(2025, 6, 15)

BROKER = "morgan.reyes@example.com"
MANAGER = "priya.shah@example.com"
ANN = "ann.lee@example.com"
BEN = "ben.ortiz@example.com"
CARA = "cara.kim@example.com"
ADMIN = "erin.fox@example.com"


@pytest.fixture(autouse=True)
def no_login_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample users get no server-wide login roles in these tests (autouse where imported)."""
    monkeypatch.setattr(users_kind, "find_ensure_db_roles", lambda: None)


def write(tmp_path: Path, header: str, *lines: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join((header, *lines)) + "\n", encoding="utf-8")
    return path


def load(db: Database, kind: str, path: Path, acting: str | None = None) -> ImportResult:
    return import_file(db, kind, path, label=path.name, as_of=AS_OF, acting=acting)


def failure(db: Database, kind: str, path: Path, acting: str | None = None) -> ImportFailed:
    with pytest.raises(ImportFailed) as info:
        load(db, kind, path, acting)
    return info.value


def where(exc: ImportFailed) -> list[tuple[int | None, str | None]]:
    return [(e.row, e.column) for e in exc.errors]


def reason(exc: ImportFailed, row: int | None, column: str | None) -> str:
    found = [e.reason for e in exc.errors if (e.row, e.column) == (row, column)]
    assert len(found) == 1, (row, column, exc.errors)
    return found[0]


def user_id(db: Database, email: str) -> int:
    with db.read() as s:
        return int(s.scalars(sa.select(User.id).where(User.email == email)).one())
