"""New escrow… / Edit escrow…"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLineEdit

from app.domain.enums import EscrowStatus
from app.gui.records.dialog import RecordDialog
from app.gui.records.widgets import DateTimeField, MoneyEdit, StatusCombo
from app.services.records import EscrowFields, EscrowRow, Fields, RecordKind, RecordRow


class EscrowDialog(RecordDialog):
    kind = RecordKind.ESCROWS

    def build(self) -> None:
        self.address_edit = QLineEdit()
        self.address_edit.setPlaceholderText("e.g. 4578 Caldwell Ave, Visalia, CA 93292")
        self.price_edit = MoneyEdit()
        self.commission_edit = MoneyEdit()
        self.commission_edit.setPlaceholderText("optional")
        self.status_combo = StatusCombo(s.value for s in EscrowStatus)
        self.opened_field = DateTimeField()
        self.opened_field.set_value(dt.datetime.now(dt.UTC))
        self.closed_field = DateTimeField(optional=True, check_tip="The escrow has closed")
        self.add_field("property_address", "&Property:", self.address_edit)
        self.add_field("purchase_price", f"P&urchase price ({self.currency}):", self.price_edit)
        self.add_field("my_commission", f"My &commission ({self.currency}):", self.commission_edit)
        self.add_field("escrow_status", "&Status:", self.status_combo)
        self.add_field("created_at", "&Opened:", self.opened_field)
        self.add_field("closed_at", "C&losed:", self.closed_field)
        self.add_owner_field()
        self.status_combo.activated.connect(self._status_chosen)

    @Slot(int)
    def _status_chosen(self, _index: int) -> None:
        """Closing offers a close time (now); Active and Pending have none."""
        status = self.status_combo.status()
        if status == EscrowStatus.CLOSED and not self.closed_field.is_set():
            opened = self.opened_field.value()
            now = dt.datetime.now(dt.UTC)
            self.closed_field.set_value(max(now, opened) if opened is not None else now)
        elif status in (EscrowStatus.ACTIVE, EscrowStatus.PENDING):
            self.closed_field.set_value(None)

    def collect(self) -> tuple[Fields | None, dict[str, str]]:
        errors: dict[str, str] = {}
        price, problem = self.price_edit.amount(required=True)
        if problem:
            errors["purchase_price"] = problem
        commission, problem = self.commission_edit.amount(required=False)
        if problem:
            errors["my_commission"] = problem
        fields = EscrowFields(
            property_address=self.address_edit.text(),
            purchase_price=price if price is not None else Decimal(0),
            my_commission=commission,
            escrow_status=self.status_combo.status(),
            closed_at=self.closed_field.value(),
            created_at=self.opened_field.value(),
            owner_email=self.owner_combo.email(),
        )
        return fields, errors

    def fill(self, record: RecordRow) -> None:
        assert isinstance(record, EscrowRow)
        self.address_edit.setText(record.property_address)
        self.price_edit.set_amount(record.purchase_price)
        self.commission_edit.set_amount(record.my_commission)
        self.status_combo.set_status(record.escrow_status)
        self.opened_field.set_value(record.created_at)
        self.closed_field.set_value(record.closed_at)
