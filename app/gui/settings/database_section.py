"""Settings → Database: the local file, or a shared PostgreSQL server (tested, then used).

Host, port, database and user are kept in QSettings; the password only in the system keyring.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.gui.context import AppContext
from app.gui.database_holder import DbState
from app.gui.errors import describe_error
from app.gui.field_message import FieldMessage
from app.gui.targets import LocalFile, Server
from app.services import connection
from app.services.connection import ServerSettings
from app.services.database import open_database, ping

UrlOpener = Callable[[QUrl], bool]

KEYRING_HINT = "Kept only in the system keyring, never in a file."
NO_KEYRING_HINT = (
    "This computer has no system keyring: the password is asked for at each connection "
    "and never saved."
)


def ping_url(url: str) -> None:
    """Runs on a worker: connect, run SELECT 1, let go."""
    db = open_database(url, create_dir=False)
    try:
        ping(db)
    finally:
        db.dispose()


class DatabaseSection(QGroupBox):
    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        *,
        open_url: UrlOpener = QDesktopServices.openUrl,
    ) -> None:
        super().__init__("Database", parent)
        self.setObjectName("databaseSection")
        self.ctx = ctx
        self._open_url = open_url
        self._keyring_checked = False

        self.current_label = QLabel()
        self.current_label.setObjectName("currentDatabase")
        self.current_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.current_label)
        layout.addWidget(self._build_local())
        layout.addWidget(self._build_server())

        holder = ctx.database
        holder.opening.connect(self._show_current)
        holder.opened.connect(self._show_current)
        holder.failed.connect(self._show_current)
        holder.closed.connect(self._show_current)
        self._fill_server_fields(ctx.settings.last_server())
        self._show_current()

    # -- building -------------------------------------------------------------------------

    def _build_local(self) -> QGroupBox:
        box = QGroupBox("On this computer")
        self.local_path_label = QLabel(str(LocalFile().resolved))
        self.local_path_label.setObjectName("localPath")
        self.local_path_label.setWordWrap(True)
        self.local_path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_folder_button = QPushButton("Open &folder")
        self.open_folder_button.setToolTip("Show the folder holding the local file")
        self.open_folder_button.clicked.connect(self.open_folder)
        self.use_local_button = QPushButton("Use &local file")
        self.use_local_button.setToolTip("Work offline in the local file on this computer")
        self.use_local_button.clicked.connect(self.use_local)
        self.local_message = FieldMessage()
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_folder_button)
        buttons.addWidget(self.use_local_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(box)
        layout.addWidget(QLabel("A single-person database in one file; works with no network."))
        layout.addWidget(self.local_path_label)
        layout.addLayout(buttons)
        layout.addWidget(self.local_message)
        return box

    def _build_server(self) -> QGroupBox:
        box = QGroupBox("Shared PostgreSQL server")
        form = QFormLayout(box)
        self.host_edit = QLineEdit()
        self.host_edit.setPlaceholderText("db.office.example or 192.168.1.20")
        self.port_edit = QLineEdit()
        self.port_edit.setMaxLength(5)
        self.port_edit.setPlaceholderText(str(connection.DEFAULT_PORT))
        self.database_edit = QLineEdit()
        self.database_edit.setPlaceholderText(connection.DEFAULT_DATABASE)
        self.user_edit = QLineEdit()
        self.user_edit.setPlaceholderText("your login, e.g. ann@office.example")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("leave empty to use the one kept in the keyring")
        self.password_hint = QLabel()
        self.password_hint.setProperty("role", "hint")
        self.password_hint.setWordWrap(True)

        self.field_messages: dict[str, FieldMessage] = {}
        rows = [
            ("&Host:", self.host_edit, connection.HOST),
            ("P&ort:", self.port_edit, connection.PORT),
            ("Data&base:", self.database_edit, connection.DATABASE),
            ("&User:", self.user_edit, connection.USER),
        ]
        for label, edit, field in rows:
            form.addRow(label, edit)
            message = FieldMessage()
            message.setObjectName(f"{field}Error")
            self.field_messages[field] = message
            form.addRow("", message)
            edit.textEdited.connect(message.clear_message)
        form.addRow("Pass&word:", self.password_edit)
        form.addRow("", self.password_hint)

        self.test_button = QPushButton("&Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.use_server_button = QPushButton("Use this ser&ver")
        self.use_server_button.clicked.connect(self.use_server)
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.use_server_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        self.server_message = FieldMessage()
        self.server_message.setObjectName("serverMessage")
        form.addRow(self.server_message)
        return box

    def _fill_server_fields(self, server: ServerSettings | None) -> None:
        self.port_edit.setText(str(server.port if server else connection.DEFAULT_PORT))
        self.database_edit.setText(server.database if server else connection.DEFAULT_DATABASE)
        if server is not None:
            self.host_edit.setText(server.host)
            self.user_edit.setText(server.user)

    # -- state ------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._keyring_checked:
            # Asked when first shown, not at start: finding a keyring backend may probe D-Bus.
            self._keyring_checked = True
            works = self.ctx.passwords.keyring_works()
            self.password_hint.setText(KEYRING_HINT if works else NO_KEYRING_HINT)
            if not works:
                self.password_edit.setPlaceholderText("or leave empty to be asked when connecting")

    @Slot()
    def _show_current(self) -> None:
        holder = self.ctx.database
        where = holder.describe_target()
        text = {
            DbState.OPEN: f"In use: <b>{html.escape(where)}</b>",
            DbState.OPENING: f"Opening: <b>{html.escape(where)}</b>…",
            DbState.FAILED: f"Not connected: <b>{html.escape(where)}</b> could not be opened.",
            DbState.CLOSED: "No database is open.",
        }[holder.state]
        self.current_label.setText(text)
        local_in_use = holder.target == LocalFile() and holder.state is not DbState.FAILED
        self.use_local_button.setEnabled(not local_in_use)

    def reveal(self) -> None:
        """Bring the server fields forward (from the banner's "Database settings…")."""
        (self.host_edit if not self.host_edit.text() else self.password_edit).setFocus()

    def _read_server(self) -> ServerSettings | None:
        server, errors = connection.check_server_fields(
            self.host_edit.text(),
            self.port_edit.text(),
            self.database_edit.text(),
            self.user_edit.text(),
        )
        for field, message in self.field_messages.items():
            message.show_error(errors.get(field))
        return server

    # -- actions ----------------------------------------------------------------------------

    @Slot()
    def open_folder(self) -> None:
        folder = LocalFile().resolved.parent
        if not folder.is_dir():
            self.local_message.show_error(
                f"{folder} does not exist yet; it is made when the local file is first opened."
            )
        elif not self._open_url(QUrl.fromLocalFile(str(folder))):
            self.local_message.show_error(f"No file manager could open {folder}.")
        else:
            self.local_message.clear_message()

    @Slot()
    def use_local(self) -> None:
        self.ctx.settings.use_local()
        self.local_message.clear_message()
        self.ctx.database.open(LocalFile())

    @Slot()
    def test_connection(self) -> None:
        self.server_message.clear_message()
        server = self._read_server()
        if server is None:
            return
        password = self._password_for(server)
        if password is None:
            self.server_message.show_error("Not tested: no password was given.")
            return
        self.test_button.setEnabled(False)
        self.ctx.ops.run(
            partial(ping_url, connection.server_url(server, password)),
            label=f"Testing {server.describe()}…",
            progress="status",
            on_success=lambda _none: self.server_message.show_ok(
                f"Connected to {server.describe()}: the server answered."
            ),
            on_error=lambda exc: self.server_message.show_error(describe_error(exc).text),
            on_finished=lambda: self.test_button.setEnabled(True),
            parent=self,
        )

    @Slot()
    def use_server(self) -> None:
        self.server_message.clear_message()
        server = self._read_server()
        if server is None:
            return
        typed = self.password_edit.text()
        if typed:
            self.ctx.passwords.remember(server, typed, self)
            self.password_edit.clear()
        self.ctx.settings.use_server(server)
        self.ctx.database.open(Server(server), password=typed or None)

    def _password_for(self, server: ServerSettings) -> str | None:
        typed = self.password_edit.text()
        return typed if typed else self.ctx.passwords.password_for(server, self)
