"""The deal panel's small dialogs: a contact (add or edit), a document (add), the question
asked before removing either, and opening a document with the system's handler.

Each dialog checks its fields as the service does, saves in the background, and shows each
problem under its field; a stale edit says so above the buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from app import APP_NAME
from app.domain.enums import ContactRole
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.gui import events
from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.gui.pipeline.detail_form import FieldSet, choice_combo, invalid_style
from app.gui.records.dialog import sentence
from app.services.dberrors import is_connection_lost
from app.services.pipeline import detail as service
from app.services.pipeline.common import DealNotFound
from app.services.pipeline.detail import (
    CONTACT_ROLE_LABELS,
    ContactFields,
    ContactRow,
    DealEditError,
    DocumentFields,
    DocumentRow,
)

if TYPE_CHECKING:
    from app.services.database import Database


def confirm(parent: QWidget | None, title: str, text: str, action: str) -> bool:
    """Ask before something that cannot be undone from here. Tests replace it."""
    box = QMessageBox(QMessageBox.Icon.Question, APP_NAME, text, parent=parent)
    box.setObjectName("confirmBox")
    box.setWindowTitle(title)
    yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is yes


def document_url(uri: str) -> QUrl:
    """A document's location as a URL: a web or file URL as given, a bare path as a file."""
    text = uri.strip()
    url = QUrl(text)
    if url.scheme() and len(url.scheme()) > 1 and url.isValid():
        return url
    return QUrl.fromUserInput(text, str(Path.home()))


def open_document(uri: str) -> bool:
    """Open a document with the system's handler (browser, PDF viewer, …)."""
    return bool(QDesktopServices.openUrl(document_url(uri)))


class _FormDialog(QDialog):
    """A form whose save runs in the background; problems under their fields."""

    saved = Signal(object)  # what the service returned

    noun = "item"

    def __init__(self, ctx: AppContext, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setStyleSheet(invalid_style())
        self.setMinimumWidth(420)
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields = FieldSet(self.form)

    def finish_form(self, ok_text: str) -> None:
        self.form_message = FieldMessage()
        self.form_message.setObjectName("formMessage")
        self.form.addRow(self.form_message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._ok_text = ok_text
        self.ok_button.setText(ok_text)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.form.addRow(self.buttons)

    # Each dialog defines these: the values and what cannot be read; the local check;
    # the save (run on a worker).
    collect: Callable[[], Any]
    check: Callable[[Any], dict[str, str]]
    save_task: Callable[[Any], Callable[[], Any]]

    @Slot()
    def submit(self) -> None:
        self.fields.clear()
        self.form_message.clear_message()
        values = self.collect()
        errors = self.check(values)
        if errors:
            self.show_errors(errors)
            return
        self._busy(True)
        self.ctx.ops.run(
            self.save_task(values),
            label=f"Saving the {self.noun}…",
            on_success=self._saved,
            on_error=self._refused,
            on_finished=lambda: self._busy(False),
            parent=self,
        )

    def show_errors(self, errors: dict[str, str]) -> None:
        elsewhere = self.fields.show_errors(errors)
        if elsewhere:
            self.form_message.show_error(" ".join(elsewhere))

    def field_error(self, name: str) -> str:
        return self.fields.error(name)

    def _busy(self, busy: bool) -> None:
        self.ok_button.setEnabled(not busy)
        self.ok_button.setText("Saving…" if busy else self._ok_text)

    def _saved(self, row: object) -> None:
        self.saved.emit(row)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, DealEditError):
            self.show_errors(exc.errors)
        elif isinstance(exc, ConflictError | DealNotFound | ValidationError | PermissionDenied):
            self.form_message.show_error(sentence(str(exc)))
            if isinstance(exc, ConflictError | DealNotFound):
                self.ctx.events.changed(events.DEALS)  # what is shown is stale: read again
        elif is_connection_lost(exc):
            self.form_message.show_error(
                "Nothing was saved: the connection to the server was lost. Everything you "
                "typed is still here; try again once PerfDesk has reconnected."
            )
        else:
            self.ctx.ops.present(exc, self)


class ContactDialog(_FormDialog):
    noun = "contact"

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        deal_id: int,
        contact: ContactRow | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, parent)
        self.db = db
        self.deal_id = deal_id
        self.contact = contact
        self.setObjectName("contactDialog")
        self.setWindowTitle("Edit contact" if contact is not None else "Add contact")
        self.role_combo = QComboBox()
        self.role_combo.setObjectName("roleInput")
        for role, label in CONTACT_ROLE_LABELS.items():
            self.role_combo.addItem(label, role.value)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("nameInput")
        self.email_edit = QLineEdit()
        self.email_edit.setObjectName("emailInput")
        self.phone_edit = QLineEdit()
        self.phone_edit.setObjectName("phoneInput")
        self.company_edit = QLineEdit()
        self.company_edit.setObjectName("companyInput")
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setObjectName("notesInput")
        self.notes_edit.setTabChangesFocus(True)
        self.notes_edit.setFixedHeight(70)
        self.fields.add("name", "&Name:", self.name_edit)
        self.fields.add("role", "&Role:", self.role_combo)
        self.fields.add("email", "&Email:", self.email_edit)
        self.fields.add("phone", "&Phone:", self.phone_edit)
        self.fields.add("company", "&Company:", self.company_edit)
        self.fields.add("notes", "N&otes:", self.notes_edit)
        self.finish_form("&Save" if contact is not None else "&Add")
        if contact is not None:
            self.role_combo.setCurrentIndex(self.role_combo.findData(contact.role.value))
            self.name_edit.setText(contact.name)
            self.email_edit.setText(contact.email or "")
            self.phone_edit.setText(contact.phone or "")
            self.company_edit.setText(contact.company or "")
            self.notes_edit.setPlainText(contact.notes or "")
        else:
            self.role_combo.setCurrentIndex(self.role_combo.findData(ContactRole.PRINCIPAL.value))

    def collect(self) -> ContactFields:
        return ContactFields(
            name=self.name_edit.text(),
            role=str(self.role_combo.currentData()),
            email=self.email_edit.text() or None,
            phone=self.phone_edit.text() or None,
            company=self.company_edit.text() or None,
            notes=self.notes_edit.toPlainText() or None,
        )

    def check(self, values: ContactFields) -> dict[str, str]:
        return service.check_contact_fields(values)

    def save_task(self, values: ContactFields) -> Callable[[], Any]:
        contact = self.contact
        if contact is None:
            return partial(service.add_contact, self.db, self.deal_id, values)
        return partial(
            service.update_contact, self.db, self.deal_id, contact.id, values, contact.version
        )


class DocumentDialog(_FormDialog):
    noun = "document"

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        deal_id: int,
        doc_types: tuple[str, ...] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, parent)
        self.db = db
        self.deal_id = deal_id
        self.setObjectName("documentDialog")
        self.setWindowTitle("Add document")
        self.title_edit = QLineEdit()
        self.title_edit.setObjectName("titleInput")
        self.type_combo = choice_combo("doc_type")
        self.type_combo.addItems(list(doc_types))
        self.type_combo.setCurrentText("")
        self.uri_edit = QLineEdit()
        self.uri_edit.setObjectName("uriInput")
        self.uri_edit.setPlaceholderText("https://… or a file on a shared drive")
        self.browse_button = QPushButton("&Browse…")
        self.browse_button.setObjectName("browseButton")
        self.browse_button.setToolTip("Choose a file; PerfDesk keeps its location, not the file")
        self.browse_button.clicked.connect(self._browse)
        location = QWidget()
        row = QHBoxLayout(location)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.uri_edit, 1)
        row.addWidget(self.browse_button)
        location.setFocusProxy(self.uri_edit)
        self.fields.add("title", "&Title:", self.title_edit)
        self.fields.add("doc_type", "T&ype:", self.type_combo)
        self.fields.add("uri", "&Location:", location)
        self.uri_edit.textEdited.connect(partial(self.fields.clear_field, "uri"))
        self.finish_form("&Add")

    @Slot()
    def _browse(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Choose the document")
        if path:
            self.uri_edit.setText(QUrl.fromLocalFile(path).toString())
            self.fields.clear_field("uri")
            if not self.title_edit.text().strip():
                self.title_edit.setText(Path(path).stem)

    def collect(self) -> DocumentFields:
        return DocumentFields(
            title=self.title_edit.text(),
            doc_type=self.type_combo.currentText(),
            uri=self.uri_edit.text(),
        )

    def check(self, values: DocumentFields) -> dict[str, str]:
        return service.check_document_fields(values)

    def save_task(self, values: DocumentFields) -> Callable[[], DocumentRow]:
        return partial(service.add_document, self.db, self.deal_id, values)
