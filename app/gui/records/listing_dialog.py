"""New listing… / Edit listing…"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import QLineEdit

from app.domain.enums import ListingStatus
from app.gui.records.dialog import RecordDialog
from app.gui.records.widgets import MoneyEdit, StatusCombo
from app.services.records import Fields, ListingFields, ListingRow, RecordKind, RecordRow


class ListingDialog(RecordDialog):
    kind = RecordKind.LISTINGS

    def build(self) -> None:
        self.address_edit = QLineEdit()
        self.address_edit.setPlaceholderText("e.g. 6071 Cedar St, Bakersfield, CA 93305")
        self.price_edit = MoneyEdit()
        self.status_combo = StatusCombo(s.value for s in ListingStatus)
        self.add_field("address", "&Address:", self.address_edit)
        self.add_field("list_price", f"List &price ({self.currency}):", self.price_edit)
        self.add_field("status", "&Status:", self.status_combo)
        self.add_owner_field()

    def collect(self) -> tuple[Fields | None, dict[str, str]]:
        price, problem = self.price_edit.amount(required=True)
        errors = {"list_price": problem} if problem else {}
        fields = ListingFields(
            address=self.address_edit.text(),
            list_price=price if price is not None else Decimal(0),
            status=self.status_combo.status(),
            owner_email=self.owner_combo.email(),
        )
        return fields, errors

    def fill(self, record: RecordRow) -> None:
        assert isinstance(record, ListingRow)
        self.address_edit.setText(record.address)
        self.price_edit.set_amount(record.list_price)
        self.status_combo.set_status(record.status)
