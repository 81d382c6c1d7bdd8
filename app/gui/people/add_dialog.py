"""Add person…: the form, checked as typed, then ``users.add_user`` in the background.

In shared mode the service also creates the person's database login; the password given here
is theirs to sign in with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from app.domain.enums import Role
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.gui.people.model import Person, role_label

if TYPE_CHECKING:
    from app.services.database import Database

EMAIL_RE = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
MIN_PASSWORD = 8

EMAIL, FIRST, LAST, PASSWORD = "email", "first_name", "last_name", "password"


def add_person(
    db: Database,
    email: str,
    role: str,
    first_name: str,
    last_name: str,
    team: str | None,
    broker_email: str | None,
    password: str | None,
) -> Person:
    """Runs on a worker."""
    from app.services import users

    return users.add_user(
        db,
        email,
        role,
        first_name=first_name,
        last_name=last_name,
        team=team,
        broker_email=broker_email,
        password=password,
    )


class AddPersonDialog(QDialog):
    added = Signal(object)  # the new UserInfo

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        people: Sequence[Person],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("addPersonDialog")
        self.setWindowTitle("Add person")
        self.ctx = ctx
        self.db = db
        self.shared = not db.is_local

        self.email_edit = QLineEdit()
        self.email_edit.setPlaceholderText("ann.lee@office.example")
        self.first_edit = QLineEdit()
        self.last_edit = QLineEdit()
        self.role_combo = QComboBox()
        for role in Role:
            self.role_combo.addItem(role_label(role.value), role.value)
        self.role_combo.setCurrentIndex(self.role_combo.findData(Role.AGENT.value))
        self.team_combo = QComboBox()
        self.team_combo.setEditable(True)
        self.team_combo.addItem("")
        self.team_combo.addItems(sorted({p.team for p in people if p.team}))
        team_edit = self.team_combo.lineEdit()
        if team_edit is not None:
            team_edit.setPlaceholderText("none, or type a new team")
        self.broker_combo = QComboBox()
        self.broker_combo.addItem("No broker", None)
        for p in sorted(people, key=lambda p: p.full_name.lower()):
            if p.role == Role.BROKER.value:
                self.broker_combo.addItem(f"{p.full_name} <{p.email}>", p.email)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)

        self.messages = {name: FieldMessage() for name in (EMAIL, FIRST, LAST, PASSWORD)}
        self.form_message = FieldMessage()
        self.form_message.setObjectName("formMessage")

        form = QFormLayout(self)
        form.addRow("&Email:", self.email_edit)
        form.addRow("", self.messages[EMAIL])
        form.addRow("&First name:", self.first_edit)
        form.addRow("", self.messages[FIRST])
        form.addRow("&Last name:", self.last_edit)
        form.addRow("", self.messages[LAST])
        form.addRow("&Role:", self.role_combo)
        form.addRow("&Team:", self.team_combo)
        form.addRow("&Broker:", self.broker_combo)
        if self.shared:
            form.addRow("&Password:", self.password_edit)
            form.addRow("", self.messages[PASSWORD])
            hint = QLabel("Their password for signing in to the shared server.")
            hint.setProperty("role", "hint")
            form.addRow("", hint)
        else:
            self.password_edit.hide()
        form.addRow(self.form_message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("&Add")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        for edit, name in (
            (self.email_edit, EMAIL),
            (self.first_edit, FIRST),
            (self.last_edit, LAST),
            (self.password_edit, PASSWORD),
        ):
            edit.textEdited.connect(self.messages[name].clear_message)
        self.setMinimumWidth(440)

    def _check(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        email = self.email_edit.text().strip()
        if not email:
            errors[EMAIL] = "Enter their email address."
        elif not EMAIL_RE.match(email):
            errors[EMAIL] = f"{email!r} is not an email address."
        if not self.first_edit.text().strip():
            errors[FIRST] = "Enter their first name."
        if not self.last_edit.text().strip():
            errors[LAST] = "Enter their last name."
        if self.shared and len(self.password_edit.text()) < MIN_PASSWORD:
            errors[PASSWORD] = f"Give them a password of at least {MIN_PASSWORD} characters."
        for name, message in self.messages.items():
            message.show_error(errors.get(name))
        return errors

    @Slot()
    def submit(self) -> None:
        self.form_message.clear_message()
        if self._check():
            return
        # Read every field here, on the GUI thread; the worker only gets plain values.
        task = partial(
            add_person,
            self.db,
            self.email_edit.text().strip(),
            str(self.role_combo.currentData()),
            self.first_edit.text().strip(),
            self.last_edit.text().strip(),
            self.team_combo.currentText().strip() or None,
            self.broker_combo.currentData(),
            self.password_edit.text() if self.shared else None,
        )
        self._busy(True)
        self.ctx.ops.run(
            task,
            label="Adding a person…",
            on_success=self._added,
            on_error=self._refused,
            on_finished=lambda: self._busy(False),
            parent=self,
        )

    def _busy(self, busy: bool) -> None:
        self.ok_button.setEnabled(not busy)
        self.ok_button.setText("Adding…" if busy else "&Add")

    def _added(self, person: Person) -> None:
        self.added.emit(person)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError | ConflictError | PermissionDenied):
            text = str(exc)
            self.form_message.show_error(text[:1].upper() + text[1:])
        else:
            self.ctx.ops.present(exc, self)
