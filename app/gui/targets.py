"""Which database the window opens: the local file, a shared server, or a URL given at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from app.services import connection
from app.services.connection import ServerSettings
from app.services.database import ENV_URL, default_local_path


@dataclass(frozen=True)
class LocalFile:
    """A SQLite file; the default one in the user data folder when ``path`` is None."""

    path: Path | None = None

    @property
    def resolved(self) -> Path:
        return self.path or default_local_path()

    def describe(self) -> str:
        return f"Local file {self.resolved}"


@dataclass(frozen=True)
class Server:
    """A shared PostgreSQL server; the password comes from the keyring or the person."""

    settings: ServerSettings

    def describe(self) -> str:
        return self.settings.describe()


@dataclass(frozen=True)
class ExplicitUrl:
    """A URL from ``--db`` or PERFDESK_DB_URL, used exactly as given."""

    url: str

    def describe(self) -> str:
        try:
            return connection.describe_url(self.url)
        except Exception:  # an unparsable URL is reported when opening it
            return "the database given at start"


DatabaseTarget = LocalFile | Server | ExplicitUrl


def initial_target(db_url: str | None, saved_server: ServerSettings | None) -> DatabaseTarget:
    """``--db``, else PERFDESK_DB_URL, else the server chosen in Settings, else the local file."""
    explicit = db_url or os.environ.get(ENV_URL)
    if explicit:
        return ExplicitUrl(explicit)
    if saved_server is not None:
        return Server(saved_server)
    return LocalFile()
