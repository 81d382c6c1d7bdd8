"""New lead… / Edit lead…"""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit

from app.domain.enums import LeadStatus
from app.gui.records.dialog import RecordDialog
from app.gui.records.widgets import StatusCombo
from app.services.records import Fields, LeadFields, LeadRow, RecordKind, RecordRow


class LeadDialog(RecordDialog):
    kind = RecordKind.LEADS

    def build(self) -> None:
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Who the lead is, e.g. Laura Parker")
        self.status_combo = StatusCombo(s.value for s in LeadStatus)
        self.email_edit = QLineEdit()
        self.phone_edit = QLineEdit()
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText("e.g. Zillow, referral, open house")
        self.add_field("name", "&Name:", self.name_edit)
        self.add_field("status", "&Status:", self.status_combo)
        self.add_field("email", "&Email:", self.email_edit)
        self.add_field("phone", "&Phone:", self.phone_edit)
        self.add_field("source", "S&ource:", self.source_edit)
        self.add_owner_field()
        self.add_private_field()

    def collect(self) -> tuple[Fields | None, dict[str, str]]:
        fields = LeadFields(
            name=self.name_edit.text(),
            status=self.status_combo.status(),
            owner_email=self.owner_combo.email(),
            email=self.email_edit.text(),
            phone=self.phone_edit.text(),
            source=self.source_edit.text(),
            is_private=self.private_value(),
        )
        return fields, {}

    def fill(self, record: RecordRow) -> None:
        assert isinstance(record, LeadRow)
        self.name_edit.setText(record.name)
        self.status_combo.set_status(record.status)
        self.email_edit.setText(record.email or "")
        self.phone_edit.setText(record.phone or "")
        self.source_edit.setText(record.source or "")
        if self.private_check is not None:
            self.private_check.setChecked(record.is_private)
