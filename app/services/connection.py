"""Where the window connects: server fields, URLs, and passwords kept in the system keyring.

Passwords live only in the keyring (service ``PerfDesk``, key ``user@host:port/database``).
A keyring that cannot keep a secret safely (keyring's ``fail`` or ``null`` backends, or the
plain-file backends of ``keyrings.alt``) counts as no keyring: the caller then asks the person
for the password at each connection and never writes it anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from app.domain.errors import PerfDeskError

KEYRING_SERVICE = "PerfDesk"
DEFAULT_PORT = 5432
DEFAULT_DATABASE = "perfdesk"

# Field names used as keys of the messages returned by check_server_fields.
HOST = "host"
PORT = "port"
DATABASE = "database"
USER = "user"

NO_KEYRING_MESSAGE = (
    "This computer has no system keyring that PerfDesk can use, so it cannot remember "
    "database passwords. PerfDesk will ask for the password each time it connects."
)


class KeyringUnavailable(PerfDeskError):
    """No system keyring can keep the password safely."""

    def __init__(self, message: str = NO_KEYRING_MESSAGE) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class ServerSettings:
    """A shared PostgreSQL server, without the password."""

    host: str
    port: int
    database: str
    user: str

    @property
    def keyring_key(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.database}"

    def describe(self) -> str:
        """What the status bar shows, the same text as ``Database.describe()``."""
        return self.keyring_key


def check_server_fields(
    host: str, port: str, database: str, user: str
) -> tuple[ServerSettings | None, dict[str, str]]:
    """Validate the fields as typed; return the settings, or the message for each bad field."""
    errors: dict[str, str] = {}
    host, port, database, user = host.strip(), port.strip(), database.strip(), user.strip()
    if not host:
        errors[HOST] = "Enter the server's host name or address."
    elif any(ch.isspace() or ch in "/@?#" for ch in host):
        errors[HOST] = "A host name has no spaces and none of / @ ? #."
    port_number = 0
    if not port:
        errors[PORT] = "Enter the port (PostgreSQL's usual port is 5432)."
    else:
        try:
            port_number = int(port)
        except ValueError:
            port_number = 0
        if not 1 <= port_number <= 65535:
            errors[PORT] = "The port is a whole number from 1 to 65535."
    if not database:
        errors[DATABASE] = "Enter the name of the database on the server."
    if not user:
        errors[USER] = "Enter your user name on the server."
    if errors:
        return None, errors
    return ServerSettings(host=host, port=port_number, database=database, user=user), {}


def server_url(server: ServerSettings, password: str | None = None) -> str:
    """``postgresql+psycopg://user:password@host:port/database`` with every part URL-quoted."""
    credentials = quote(server.user, safe="")
    if password:
        credentials += ":" + quote(password, safe="")
    host = f"[{server.host}]" if ":" in server.host else server.host
    return (
        f"postgresql+psycopg://{credentials}@{host}:{server.port}/{quote(server.database, safe='')}"
    )


def local_url(path: Path) -> str:
    """The SQLAlchemy URL of a local SQLite file."""
    return f"sqlite:///{path}"


def describe_url(url: str) -> str:
    """The status-bar text for any database URL (never shows a password)."""
    from app.db.engine import describe

    return describe(url)


def _keyring_is_safe(backend: Any) -> bool:
    from keyring.backends import chainer, fail, null

    if isinstance(backend, chainer.ChainerBackend):
        chained = list(backend.backends)
        # The chainer stores into its highest-priority backend.
        return bool(chained) and _keyring_is_safe(chained[0])
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    return not type(backend).__module__.startswith("keyrings.alt")


def keyring_available() -> bool:
    """True when a system keyring can keep passwords (never a plain file)."""
    import keyring

    return _keyring_is_safe(keyring.get_keyring())


def _safe_keyring() -> Any:
    import keyring

    backend = keyring.get_keyring()
    if not _keyring_is_safe(backend):
        raise KeyringUnavailable()
    return backend


def load_password(server: ServerSettings) -> str | None:
    """The remembered password, or None; raises KeyringUnavailable when there is no keyring."""
    from keyring.errors import KeyringError, NoKeyringError

    backend = _safe_keyring()
    try:
        password = backend.get_password(KEYRING_SERVICE, server.keyring_key)
    except NoKeyringError:
        raise KeyringUnavailable() from None
    except KeyringError as exc:
        raise KeyringUnavailable(f"The system keyring could not be read: {exc}") from exc
    return password if isinstance(password, str) else None


def save_password(server: ServerSettings, password: str) -> None:
    """Remember the password in the system keyring; raises KeyringUnavailable without one."""
    from keyring.errors import KeyringError, NoKeyringError

    backend = _safe_keyring()
    try:
        backend.set_password(KEYRING_SERVICE, server.keyring_key, password)
    except NoKeyringError:
        raise KeyringUnavailable() from None
    except KeyringError as exc:
        raise KeyringUnavailable(f"The system keyring refused the password: {exc}") from exc


def forget_password(server: ServerSettings) -> None:
    """Remove a remembered password; nothing happens when none was kept."""
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        backend = _safe_keyring()
    except KeyringUnavailable:
        return
    try:
        backend.delete_password(KEYRING_SERVICE, server.keyring_key)
    except PasswordDeleteError:
        pass
    except KeyringError as exc:
        raise KeyringUnavailable(
            f"The system keyring could not forget the password: {exc}"
        ) from exc
