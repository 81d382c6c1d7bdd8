"""New client… / Edit client…"""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit

from app.domain.enums import ClientStatus
from app.gui.records.dialog import RecordDialog
from app.gui.records.widgets import StatusCombo
from app.services.records import ClientFields, ClientRow, Fields, RecordKind, RecordRow


class ClientDialog(RecordDialog):
    kind = RecordKind.CLIENTS

    def build(self) -> None:
        self.name_edit = QLineEdit()
        self.status_combo = StatusCombo(s.value for s in ClientStatus)
        self.email_edit = QLineEdit()
        self.phone_edit = QLineEdit()
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText("e.g. referral, past client, sphere")
        self.add_field("name", "&Name:", self.name_edit)
        self.add_field("status", "&Status:", self.status_combo)
        self.add_field("email", "&Email:", self.email_edit)
        self.add_field("phone", "&Phone:", self.phone_edit)
        self.add_field("source", "S&ource:", self.source_edit)
        self.add_owner_field()

    def collect(self) -> tuple[Fields | None, dict[str, str]]:
        fields = ClientFields(
            name=self.name_edit.text(),
            status=self.status_combo.status(),
            owner_email=self.owner_combo.email(),
            email=self.email_edit.text(),
            phone=self.phone_edit.text(),
            source=self.source_edit.text(),
        )
        return fields, {}

    def fill(self, record: RecordRow) -> None:
        assert isinstance(record, ClientRow)
        self.name_edit.setText(record.name)
        self.status_combo.set_status(record.status)
        self.email_edit.setText(record.email or "")
        self.phone_edit.setText(record.phone or "")
        self.source_edit.setText(record.source or "")
