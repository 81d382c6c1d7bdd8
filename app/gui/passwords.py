"""Database passwords for the window: from the system keyring, else asked for each time.

Never written to a file, never read from a console. When there is no usable keyring the
person is told once per session, then asked at each connection.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QWidget

from app.gui.prompts import Notice, PasswordPrompt
from app.services import connection
from app.services.connection import KeyringUnavailable, ServerSettings

log = logging.getLogger(__name__)


class PasswordProvider:
    def __init__(self, prompt: PasswordPrompt, notice: Notice) -> None:
        self._prompt = prompt
        self._notice = notice
        self._told_no_keyring = False

    def keyring_works(self) -> bool:
        return connection.keyring_available()

    def _no_keyring(self, parent: QWidget | None, exc: KeyringUnavailable) -> None:
        log.info("No usable keyring: %s", exc)
        if not self._told_no_keyring:
            self._told_no_keyring = True
            self._notice(parent, str(exc))

    def stored(self, server: ServerSettings, parent: QWidget | None = None) -> str | None:
        """The password kept in the keyring, if any (tells once when there is no keyring)."""
        try:
            return connection.load_password(server)
        except KeyringUnavailable as exc:
            self._no_keyring(parent, exc)
            return None

    def ask(self, server: ServerSettings, parent: QWidget | None = None) -> str | None:
        return self._prompt(parent, f"Password for {server.describe()}:")

    def password_for(self, server: ServerSettings, parent: QWidget | None = None) -> str | None:
        """From the keyring, else asked; None when the person cancels."""
        password = self.stored(server, parent)
        return password if password is not None else self.ask(server, parent)

    def remember(self, server: ServerSettings, password: str, parent: QWidget | None) -> bool:
        """Keep the password in the keyring; False (after telling once) when there is none."""
        try:
            connection.save_password(server, password)
        except KeyringUnavailable as exc:
            self._no_keyring(parent, exc)
            return False
        return True
