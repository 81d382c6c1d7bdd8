"""The form shared by every record dialog: fields checked as the service checks them, saved in
the background, each problem shown under its field, and a stale save offered a reload. A save
that fails because the server connection was lost keeps the dialog open as typed, says nothing
was saved, and says so again when the connection is back: saving then writes it once (the
failed attempt's transaction died with its connection; an edit still carries the version it
was read at).

A kind's dialog adds its inputs in ``build``, reads them back as the service's ``*Fields`` in
``collect`` and shows a stored row in ``fill``; everything else happens here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QWidget,
)

from app.domain.enums import Role
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.gui.form_fields import INVALID as INVALID  # re-exported: other forms import it here
from app.gui.form_fields import FieldSet, invalid_style
from app.gui.form_fields import sentence as sentence  # re-exported, as INVALID
from app.gui.records.widgets import OwnerCombo
from app.services import records
from app.services.dberrors import is_connection_lost
from app.services.records import OWNER, Fields, OwnerChoices, RecordKind, RecordRow

if TYPE_CHECKING:
    from app.services.database import Database


class RecordDialog(QDialog):
    saved = Signal(object)  # the stored row, as the service returned it

    kind: ClassVar[RecordKind]

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        owners: OwnerChoices,
        currency: str,
        record: RecordRow | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.db = db
        self.currency = currency
        self.record = record
        self.noun = records.NOUNS[self.kind]
        self.setObjectName(f"{self.noun}Dialog")
        self.setWindowTitle(f"Edit {self.noun}" if record is not None else f"New {self.noun}")
        self.setMinimumWidth(480)
        self.setStyleSheet(invalid_style("QLineEdit", "QPlainTextEdit"))

        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields = FieldSet(self.form, partial(records.field_label, self.kind))
        self.owner_combo = OwnerCombo(owners)
        self.private_check: QCheckBox | None = None
        self._private_touched = False
        self._waiting_for_connection = False

        self.build()

        self.conflict_bar = QFrame()
        self.conflict_bar.setObjectName("conflictBar")
        self.conflict_message = FieldMessage()
        self.conflict_message.setObjectName("conflictMessage")
        self.reload_button = QPushButton("&Reload")
        self.reload_button.setToolTip("Show the record as it is stored now (your edits here go)")
        self.reload_button.clicked.connect(self.reload_record)
        bar = QHBoxLayout(self.conflict_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.conflict_message, 1)
        bar.addWidget(self.reload_button)
        self.conflict_bar.hide()
        self.form.addRow(self.conflict_bar)

        self.form_message = FieldMessage()
        self.form_message.setObjectName("formMessage")
        self.form.addRow(self.form_message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self._ok_text)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.form.addRow(self.buttons)

        if record is not None:
            self.fill(record)
            self.owner_combo.set_email(record.owner_email, record.owner_name)
        self._sync_private_default()

    # -- for the kinds --------------------------------------------------------------------
    # Each kind's dialog defines these three:
    #   build()   adds the kind's inputs with ``add_field`` (and ``add_owner_field``);
    #   collect() returns the form's values as the service's fields, or what cannot be
    #             read, by field;
    #   fill()    shows a stored record in the inputs.
    build: Callable[[], None]
    collect: Callable[[], tuple[Fields | None, dict[str, str]]]
    fill: Callable[[RecordRow], None]

    def add_field(self, name: str, label: str, widget: QWidget) -> QWidget:
        """The input with its message beneath, cleared when the input changes."""
        return self.fields.add(name, label, widget)

    def add_owner_field(self) -> None:
        label = records.field_label(self.kind, OWNER)
        self.add_field(OWNER, f"{label}:", self.owner_combo)
        self.owner_combo.currentIndexChanged.connect(self._sync_private_default)

    def add_private_field(self) -> QCheckBox:
        """The private switch (leads, appointments): a broker's own are private unless unticked."""
        check = QCheckBox(f"Private: only the owner sees this {self.noun}")
        check.setObjectName("privateCheck")
        check.clicked.connect(self._private_clicked)
        self.private_check = check
        self.add_field("is_private", "", check)
        return check

    def private_value(self) -> bool | None:
        if self.private_check is None:
            return None
        return self.private_check.isChecked()

    # -- saving ---------------------------------------------------------------------------

    @property
    def _ok_text(self) -> str:
        return "&Save" if self.record is not None else "&Add"

    @Slot()
    def submit(self) -> None:
        self.clear_errors()
        fields, errors = self.collect()
        if self.record is None and self.owner_combo.email() is None:
            errors = {**errors, OWNER: f"choose who the {self.noun} belongs to"}
        if fields is not None:
            created = self.record.created_at if self.record is not None else None
            errors = {**records.check_fields(fields, created), **errors}
        if errors or fields is None:
            self.show_errors(errors)
            return
        record = self.record
        task = partial(
            records.save_record,
            self.db,
            fields,
            record.id if record is not None else None,
            record.version if record is not None else None,
        )
        self._busy(True)
        self.ctx.ops.run(
            task,
            label=f"Saving the {self.noun}…",
            on_success=self._saved,
            on_error=self._refused,
            on_finished=lambda: self._busy(False),
            parent=self,
        )

    def _busy(self, busy: bool) -> None:
        self.ok_button.setEnabled(not busy)
        self.ok_button.setText("Saving…" if busy else self._ok_text)

    def _saved(self, row: RecordRow) -> None:
        self.record = row
        self.saved.emit(row)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, records.RecordError):
            self.show_errors(exc.errors)
        elif isinstance(exc, ConflictError):
            self.show_conflict(str(exc))
        elif isinstance(exc, ValidationError | PermissionDenied):
            self.form_message.show_error(sentence(str(exc)))
        elif is_connection_lost(exc):
            self.show_connection_lost()
        else:
            self.ctx.ops.present(exc, self)

    # -- a save lost with the connection ----------------------------------------------------

    def show_connection_lost(self) -> None:
        """Nothing was saved; the form stays as typed, to be saved once reconnected."""
        self.form_message.show_error(
            f"Nothing was saved: the connection to the server was lost. Everything you typed "
            f"is still here; choose {self._ok_word} again once PerfDesk has reconnected."
        )
        watch = self.ctx.database.watch
        if not self._waiting_for_connection:
            self._waiting_for_connection = True
            watch.restored.connect(self._reconnected)
        if not self.ctx.database.connection_lost:
            self._reconnected()  # already back (or the window is not watching this database)

    @Slot()
    def _reconnected(self) -> None:
        if self._waiting_for_connection:
            self._waiting_for_connection = False
            self.ctx.database.watch.restored.disconnect(self._reconnected)
        self.form_message.show_ok(
            f"The connection is back. Nothing has been saved yet: choose {self._ok_word} "
            "to save it now."
        )

    @property
    def _ok_word(self) -> str:
        return self._ok_text.replace("&", "")

    # -- problems -------------------------------------------------------------------------

    def show_errors(self, errors: dict[str, str]) -> None:
        """Each problem under its field, the field marked; others under the form."""
        elsewhere = self.fields.place_errors(errors)
        if elsewhere:
            self.form_message.show_error(sentence("; ".join(elsewhere)))

    def clear_errors(self) -> None:
        self.fields.clear()
        self.form_message.clear_message()

    def field_error(self, name: str) -> str:
        return self.fields.error(name)

    # -- a save refused as stale ----------------------------------------------------------

    def show_conflict(self, text: str) -> None:
        self.conflict_message.show_error(text)
        self.reload_button.show()
        self.conflict_bar.setVisible(self.record is not None)
        if self.record is None:
            self.form_message.show_error(text)
        self.reload_button.setFocus()

    @Slot()
    def reload_record(self) -> None:
        record = self.record
        if record is None:
            return

        def reloaded(row: RecordRow) -> None:
            self.record = row
            self.clear_errors()
            self.fill(row)
            self.owner_combo.set_email(row.owner_email, row.owner_name)
            self.conflict_bar.hide()
            self.form_message.show_ok(
                "These are the values saved on the other workstation. "
                "Make your change again, then save."
            )
            self.ctx.events.changed(str(self.kind))  # the list is stale too

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ConflictError | PermissionDenied):
                self.conflict_message.show_error(sentence(str(exc)))
                self.reload_button.hide()  # there is nothing left to reload
                self.ctx.events.changed(str(self.kind))
            elif is_connection_lost(exc):
                self.conflict_message.show_error(
                    "The record could not be read: the connection to the server was lost. "
                    "Reload again once PerfDesk has reconnected."
                )
            else:
                self.ctx.ops.present(exc, self)

        self.reload_button.setEnabled(False)
        self.ctx.ops.run(
            partial(records.get_record, self.db, self.kind, record.id),
            label=f"Reloading the {self.noun}…",
            on_success=reloaded,
            on_error=failed,
            on_finished=lambda: self.reload_button.setEnabled(True),
            parent=self,
        )

    # -- the private switch ---------------------------------------------------------------

    @Slot(bool)
    def _private_clicked(self, _checked: bool) -> None:
        self._private_touched = True

    @Slot()
    def _sync_private_default(self) -> None:
        """New records: private by default when they belong to a broker (SPEC §1)."""
        check = self.private_check
        if check is None or self.record is not None or self._private_touched:
            return
        owner = self.owner_combo.owner()
        check.setChecked(owner is not None and owner.role == Role.BROKER.value)
