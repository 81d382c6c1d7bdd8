"""What the window remembers between runs (QSettings): layout, last page, database choice.

Never a password: those live only in the system keyring.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from app.services.connection import ServerSettings

GEOMETRY = "window/geometry"
WINDOW_STATE = "window/state"
SPLITTER = "window/splitter"
LAST_PAGE = "window/lastPage"
DB_MODE = "database/mode"
DB_HOST = "database/host"
DB_PORT = "database/port"
DB_NAME = "database/name"
DB_USER = "database/user"
FIRST_RUN_ANSWERED = "firstRun/answered"
DESKTOP_NOTIFICATIONS = "notifications/desktop"

MODE_LOCAL = "local"
MODE_SHARED = "shared"


class AppSettings:
    """Typed access to one QSettings (tests pass one backed by a temporary file)."""

    def __init__(self, qsettings: QSettings) -> None:
        self.qsettings = qsettings

    def _bytes(self, key: str) -> QByteArray | None:
        value = self.qsettings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def _str(self, key: str) -> str:
        value = self.qsettings.value(key, "")
        return value if isinstance(value, str) else str(value)

    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes(GEOMETRY)

    @property
    def window_state(self) -> QByteArray | None:
        return self._bytes(WINDOW_STATE)

    @property
    def splitter_state(self) -> QByteArray | None:
        return self._bytes(SPLITTER)

    @property
    def last_page(self) -> str | None:
        return self._str(LAST_PAGE) or None

    def save_layout(
        self,
        geometry: QByteArray,
        window_state: QByteArray,
        splitter: QByteArray,
        last_page: str | None,
    ) -> None:
        self.qsettings.setValue(GEOMETRY, geometry)
        self.qsettings.setValue(WINDOW_STATE, window_state)
        self.qsettings.setValue(SPLITTER, splitter)
        self.qsettings.setValue(LAST_PAGE, last_page or "")
        self.qsettings.sync()

    def last_server(self) -> ServerSettings | None:
        """The server entered last, whether or not it is in use (to fill the form)."""
        host, name, user = self._str(DB_HOST), self._str(DB_NAME), self._str(DB_USER)
        try:
            port = int(self._str(DB_PORT))
        except ValueError:
            return None
        if not (host and name and user):
            return None
        return ServerSettings(host=host, port=port, database=name, user=user)

    def chosen_server(self) -> ServerSettings | None:
        """The server to open at start, or None for the local file."""
        return self.last_server() if self._str(DB_MODE) == MODE_SHARED else None

    def use_server(self, server: ServerSettings) -> None:
        self.qsettings.setValue(DB_MODE, MODE_SHARED)
        self.qsettings.setValue(DB_HOST, server.host)
        self.qsettings.setValue(DB_PORT, str(server.port))
        self.qsettings.setValue(DB_NAME, server.database)
        self.qsettings.setValue(DB_USER, server.user)
        self.qsettings.sync()

    def use_local(self) -> None:
        self.qsettings.setValue(DB_MODE, MODE_LOCAL)
        self.qsettings.sync()

    @property
    def desktop_notifications(self) -> bool:
        """Show new notifications in the system tray while the window is in the background."""
        return self._str(DESKTOP_NOTIFICATIONS).lower() not in ("false", "0")

    def set_desktop_notifications(self, on: bool) -> None:
        self.qsettings.setValue(DESKTOP_NOTIFICATIONS, "true" if on else "false")
        self.qsettings.sync()

    def first_run_answered(self, database: str) -> bool:
        return database in self._answered()

    def remember_first_run_answer(self, database: str) -> None:
        answered = self._answered()
        if database not in answered:
            self.qsettings.setValue(FIRST_RUN_ANSWERED, [*answered, database])
            self.qsettings.sync()

    def _answered(self) -> list[str]:
        value = self.qsettings.value(FIRST_RUN_ANSWERED, [])
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else []
