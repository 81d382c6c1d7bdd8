"""The ledger's forms: a new commission, a dispute, an adjustment. Each checks what it can
before asking the database, sends the change in the background with the version the person
saw, and shows a refusal under the field ``CommissionError.field`` names (else under the
form); a stale record closes nothing: the form says so and the page reads the ledger again.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from app.domain.commissions import CommissionError, check_adjustment
from app.domain.enums import AdjustmentType, CommissionType
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.domain.money import format_money, parse_decimal, quantize
from app.gui import theme
from app.gui.commissions.model import TYPE_LABELS, rate_text
from app.gui.context import AppContext
from app.gui.field_message import ERROR, FieldMessage
from app.gui.records.dialog import INVALID, sentence
from app.gui.records.format import status_label
from app.gui.records.widgets import DateTimeField, MoneyEdit
from app.services import commissions as cm
from app.services.commissions import AgentChoice, CommissionFields, CommissionRow, DealChoice
from app.services.dberrors import is_connection_lost

if TYPE_CHECKING:
    from app.services.database import Database

DEAL_SEARCH_MS = 250


def field_reason(exc: CommissionError) -> str:
    """The reason without the leading "field: " the domain's messages carry."""
    text = str(exc)
    prefix = f"{exc.field}: "
    return sentence(text[len(prefix) :] if text.startswith(prefix) else text)


class LedgerDialog(QDialog):
    """Inputs by name, a message under each, a message under the form, OK and Cancel."""

    saved = Signal(object)  # the CommissionRow as stored now
    conflicted = Signal()  # the record was changed elsewhere: the page reads again

    ok_text = "&Save"
    busy_text = "Saving…"

    def __init__(self, ctx: AppContext, db: Database, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.db = db
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        error = theme.colors()["error"]
        self.setStyleSheet(
            f'QLineEdit[{INVALID}="true"], QPlainTextEdit[{INVALID}="true"], '
            f'QComboBox[{INVALID}="true"] {{ border: 1px solid {error}; border-radius: 3px; }}'
        )
        self.inputs: dict[str, QWidget] = {}
        self.messages: dict[str, FieldMessage] = {}
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

    def finish_form(self) -> None:
        self.form_message = FieldMessage()
        self.form_message.setObjectName("formMessage")
        self.form.addRow(self.form_message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.ok_text)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.form.addRow(self.buttons)

    def add_field(self, name: str, label: str, widget: QWidget) -> QWidget:
        self.inputs[name] = widget
        message = FieldMessage()
        message.setObjectName(f"{name}Message")
        self.messages[name] = message
        self.form.addRow(label, widget)
        self.form.addRow("", message)
        clear = partial(self.clear_field, name)
        if isinstance(widget, QLineEdit):
            widget.textEdited.connect(clear)
        elif isinstance(widget, QPlainTextEdit):
            widget.textChanged.connect(clear)
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(clear)
        elif isinstance(widget, DateTimeField):
            widget.changed.connect(clear)
        return widget

    # -- problems --------------------------------------------------------------------------

    def show_errors(self, errors: dict[str, str]) -> None:
        elsewhere = [reason for name, reason in errors.items() if name not in self.inputs]
        marked = [name for name in self.inputs if name in errors]
        for name in marked:
            self.messages[name].show_error(sentence(errors[name]))
            self._mark(self.inputs[name], True)
        if elsewhere:
            self.form_message.show_error(sentence("; ".join(elsewhere)))
        if marked:
            self.inputs[marked[0]].setFocus()

    def clear_errors(self) -> None:
        for name in self.inputs:
            self.clear_field(name)
        self.form_message.clear_message()

    def clear_field(self, name: str, *_args: object) -> None:
        self.messages[name].clear_message()
        self._mark(self.inputs[name], False)

    def field_error(self, name: str) -> str:
        message = self.messages[name]
        return message.text() if message.is_error else ""

    def _mark(self, widget: QWidget, invalid: bool) -> None:
        label = self.form.labelForField(widget)
        if isinstance(label, QLabel):
            label.setProperty("role", ERROR if invalid else None)
            label.style().unpolish(label)
            label.style().polish(label)
        if bool(widget.property(INVALID)) != invalid:
            widget.setProperty(INVALID, invalid)
            widget.style().unpolish(widget)
            widget.style().polish(widget)

    # -- sending ---------------------------------------------------------------------------

    submit: Callable[[], None]

    def send(self, task: Callable[[], CommissionRow], label: str) -> None:
        self._busy(True)
        self.ctx.ops.run(
            task,
            label=label,
            on_success=self._saved,
            on_error=self._refused,
            on_finished=lambda: self._busy(False),
            parent=self,
        )

    def _busy(self, busy: bool) -> None:
        self.ok_button.setEnabled(not busy)
        self.ok_button.setText(self.busy_text if busy else self.ok_text)

    def _saved(self, row: CommissionRow) -> None:
        self.saved.emit(row)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, CommissionError):
            if exc.field in self.inputs:
                self.show_errors({exc.field: field_reason(exc)})
            else:
                self.form_message.show_error(field_reason(exc))
        elif isinstance(exc, ConflictError):
            self.form_message.show_error(sentence(str(exc)))
            self.ok_button.setEnabled(False)
            self.conflicted.emit()
        elif isinstance(exc, ValidationError | PermissionDenied):
            self.form_message.show_error(sentence(str(exc)))
        elif is_connection_lost(exc):
            self.form_message.show_error(
                "Nothing was saved: the connection to the server was lost. Everything you typed "
                "is still here; try again once PerfDesk has reconnected."
            )
        else:
            self.ctx.ops.present(exc, self)

    def _busy_guard(self) -> bool:
        return not self.ok_button.isEnabled()


# -- a new commission -------------------------------------------------------------------------


def parse_percent(text: str) -> tuple[Decimal | None, str | None]:
    """'2.5' or '2.5%' → 0.025; the reason when it is not a rate from 0 to 100 %."""
    cleaned = text.strip().rstrip("%").strip()
    if not cleaned:
        return None, "required"
    try:
        percent = parse_decimal(cleaned)
    except ValueError as exc:
        return None, str(exc)
    if percent < 0 or percent > 100:
        return None, f"a rate is from 0 to 100 % (got {cleaned} %)"
    if percent != percent.quantize(Decimal("0.01")):
        return None, "at most 2 decimals (e.g. 2.75 %)"
    return percent / 100, None


class NewCommissionDialog(LedgerDialog):
    """Deal (searched among the deals one sees), agent, type, basis and rate; the amount is
    shown as they are typed."""

    ok_text = "&Add"
    busy_text = "Adding…"

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        agents: tuple[AgentChoice, ...],
        office_currency: str,
        deal: DealChoice | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, db, "New commission", parent)
        self.setObjectName("newCommissionDialog")
        self.office_currency = office_currency
        self._deals: dict[int, DealChoice] = {}
        self._basis_touched = False
        self._search_generation = 0

        self.deal_search = QLineEdit()
        self.deal_search.setObjectName("dealSearch")
        self.deal_search.setPlaceholderText("Search deals by title or ref")
        self.deal_search.setClearButtonEnabled(True)
        self.form.addRow("Find deal:", self.deal_search)
        self.deal_combo = QComboBox()
        self.deal_combo.setObjectName("dealCombo")
        self.add_field("deal", "Deal:", self.deal_combo)
        self.agent_combo = QComboBox()
        self.agent_combo.setObjectName("agentCombo")
        self.agent_combo.addItem("Choose…", None)
        for agent in agents:
            self.agent_combo.addItem(
                f"{agent.name} ({status_label(agent.role).lower()})", agent.email
            )
        self.add_field("agent", "Agent:", self.agent_combo)
        self.type_combo = QComboBox()
        self.type_combo.setObjectName("typeCombo")
        for ctype in CommissionType:
            self.type_combo.addItem(TYPE_LABELS[ctype], ctype.value)
        self.add_field("commission_type", "Type:", self.type_combo)
        self.basis_edit = MoneyEdit()
        self.basis_edit.setObjectName("basisEdit")
        self.add_field("basis_amount", "Basis:", self.basis_edit)
        self.rate_edit = QLineEdit()
        self.rate_edit.setObjectName("rateEdit")
        self.rate_edit.setPlaceholderText("e.g. 2.5")
        self.add_field("commission_rate", "Rate (%):", self.rate_edit)
        self.introduced_field = DateTimeField(optional=True, check_tip="Introduced at a known time")
        self.add_field("introduced_at", "Introduced:", self.introduced_field)
        self.amount_label = QLabel("—")
        self.amount_label.setObjectName("amountLabel")
        self.form.addRow("Amount:", self.amount_label)
        self.finish_form()

        self._search_timer = QTimer(self, singleShot=True, interval=DEAL_SEARCH_MS)
        self._search_timer.timeout.connect(self.search_deals)
        self.deal_search.textChanged.connect(lambda _t: self._search_timer.start())
        self.deal_combo.currentIndexChanged.connect(self._deal_chosen)
        self.basis_edit.textEdited.connect(self._basis_edited)
        self.rate_edit.textChanged.connect(self.update_amount)
        if deal is not None:
            self.set_deals([deal], select=deal.id)
        self.search_deals()

    # -- deals -----------------------------------------------------------------------------

    @Slot()
    def search_deals(self) -> None:
        self._search_generation += 1
        generation = self._search_generation
        text = self.deal_search.text()

        def found(deals: list[DealChoice]) -> None:
            if generation == self._search_generation:
                self.set_deals(deals, select=self.deal_id())

        self.ctx.ops.run(
            partial(cm.find_deals, self.db, text),
            label="Finding deals…",
            on_success=found,
            parent=self,
        )

    def set_deals(self, deals: list[DealChoice], select: int | None = None) -> None:
        chosen = self._deals.get(select) if select is not None else None
        listed = list(deals)
        if chosen is not None and all(d.id != chosen.id for d in listed):
            listed.insert(0, chosen)
        self._deals = {d.id: d for d in listed}
        self.deal_combo.blockSignals(True)
        self.deal_combo.clear()
        if not listed:
            self.deal_combo.addItem("No deal matches", None)
        else:
            self.deal_combo.addItem("Choose…", None)
            for d in listed:
                self.deal_combo.addItem(f"{d.label} ({d.agent_name})", d.id)
        index = self.deal_combo.findData(select) if select is not None else -1
        self.deal_combo.setCurrentIndex(max(index, 0))
        self.deal_combo.blockSignals(False)
        self._deal_chosen()

    def deal_id(self) -> int | None:
        data = self.deal_combo.currentData()
        return data if isinstance(data, int) else None

    def deal(self) -> DealChoice | None:
        deal_id = self.deal_id()
        return self._deals.get(deal_id) if deal_id is not None else None

    @Slot()
    def _deal_chosen(self, *_args: object) -> None:
        deal = self.deal()
        if deal is not None and not self._basis_touched:
            self.basis_edit.set_amount(deal.estimated_value)
        currency = deal.currency if deal is not None else self.office_currency
        label = self.form.labelForField(self.basis_edit)
        if isinstance(label, QLabel):
            label.setText(f"Basis ({currency}):")
        self.update_amount()

    @Slot(str)
    def _basis_edited(self, _text: str) -> None:
        self._basis_touched = True
        self.update_amount()

    @Slot()
    def update_amount(self, *_args: object) -> None:
        basis, basis_problem = self.basis_edit.amount(required=True)
        rate, rate_problem = parse_percent(self.rate_edit.text())
        deal = self.deal()
        currency = deal.currency if deal is not None else self.office_currency
        if basis is None or rate is None or basis_problem or rate_problem or basis < 0:
            self.amount_label.setText("—")
            return
        self.amount_label.setText(
            f"{format_money(quantize(basis * rate), currency)}  ({rate_text(rate)} of "
            f"{format_money(basis, currency)})"
        )

    # -- sending ---------------------------------------------------------------------------

    @Slot()
    def submit(self) -> None:
        if self._busy_guard():
            return
        self.clear_errors()
        errors: dict[str, str] = {}
        deal_id = self.deal_id()
        if deal_id is None:
            errors["deal"] = "choose the deal"
        agent = self.agent_combo.currentData()
        if not isinstance(agent, str):
            errors["agent"] = "choose who earns the commission"
        basis, problem = self.basis_edit.amount(required=True)
        if problem:
            errors["basis_amount"] = problem
        rate, problem = parse_percent(self.rate_edit.text())
        if problem:
            errors["commission_rate"] = problem
        if errors or deal_id is None or basis is None or rate is None or not isinstance(agent, str):
            self.show_errors(errors)
            return
        fields = CommissionFields(
            deal_id=deal_id,
            agent_email=agent,
            commission_type=str(self.type_combo.currentData()),
            basis_amount=basis,
            commission_rate=rate,
            introduced_at=self.introduced_field.value(),
        )
        self.send(partial(cm.create_commission, self.db, fields), "Adding the commission…")


# -- a dispute --------------------------------------------------------------------------------


class DisputeDialog(LedgerDialog):
    """Why the commission is disputed (required) and, optionally, where the document is."""

    ok_text = "&Dispute"
    busy_text = "Disputing…"

    def __init__(
        self, ctx: AppContext, db: Database, row: CommissionRow, parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, db, "Dispute commission", parent)
        self.setObjectName("disputeDialog")
        self.row = row
        about = QLabel(
            f"{TYPE_LABELS[row.commission_type]} commission of {row.agent_name} on "
            f"{row.deal_label}, {row.status_label.lower()}."
        )
        about.setWordWrap(True)
        self.form.addRow(about)
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setObjectName("reasonEdit")
        self.reason_edit.setPlaceholderText("What is wrong with it")
        self.reason_edit.setTabChangesFocus(True)
        self.add_field("dispute_reason", "Reason:", self.reason_edit)
        self.document_edit = QLineEdit()
        self.document_edit.setObjectName("documentEdit")
        self.document_edit.setPlaceholderText("https://… or a file path (optional)")
        self.add_field("dispute_document_uri", "Document:", self.document_edit)
        self.finish_form()

    @Slot()
    def submit(self) -> None:
        if self._busy_guard():
            return
        self.clear_errors()
        reason = self.reason_edit.toPlainText().strip()
        if not reason:
            self.show_errors({"dispute_reason": "a dispute needs a reason"})
            return
        document = self.document_edit.text().strip() or None
        self.send(
            partial(
                cm.dispute, self.db, self.row.id, reason, document_uri=document,
                expected_version=self.row.version,
            ),
            "Disputing the commission…",
        )  # fmt: skip


# -- an adjustment ----------------------------------------------------------------------------

ADJUSTMENT_LABELS: dict[AdjustmentType, str] = {
    AdjustmentType.CLAWBACK: "Clawback (negative)",
    AdjustmentType.BONUS: "Bonus (positive)",
    AdjustmentType.CORRECTION: "Correction (either sign)",
}


class AdjustmentDialog(LedgerDialog):
    """A clawback, bonus or correction with its note; the net is shown as it will be."""

    ok_text = "&Add"
    busy_text = "Adding…"

    def __init__(
        self, ctx: AppContext, db: Database, row: CommissionRow, currency: str,
        parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(ctx, db, "Adjust commission", parent)
        self.setObjectName("adjustmentDialog")
        self.row = row
        self.currency = row.currency or currency
        about = QLabel(
            f"{TYPE_LABELS[row.commission_type]} commission of {row.agent_name} on "
            f"{row.deal_label}: {format_money(row.commission_amount, self.currency)}, net "
            f"{format_money(row.net_amount, self.currency)}."
        )
        about.setWordWrap(True)
        self.form.addRow(about)
        self.type_combo = QComboBox()
        self.type_combo.setObjectName("adjustmentType")
        for kind in AdjustmentType:
            self.type_combo.addItem(ADJUSTMENT_LABELS[kind], kind.value)
        self.add_field("adjustment_type", "Type:", self.type_combo)
        self.amount_edit = MoneyEdit()
        self.amount_edit.setObjectName("adjustmentAmount")
        self.amount_edit.setPlaceholderText("e.g. -250.00")
        self.add_field("amount", f"Amount ({self.currency}):", self.amount_edit)
        self.note_edit = QPlainTextEdit()
        self.note_edit.setObjectName("adjustmentNote")
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setPlaceholderText("Why (required)")
        self.add_field("note", "Note:", self.note_edit)
        self.net_label = QLabel()
        self.net_label.setObjectName("netLabel")
        self.form.addRow("Net after:", self.net_label)
        self.finish_form()
        self.amount_edit.textChanged.connect(self._update_net)
        self._update_net()

    def kind(self) -> AdjustmentType:
        return AdjustmentType(str(self.type_combo.currentData()))

    @Slot()
    def _update_net(self, *_args: object) -> None:
        amount, problem = self.amount_edit.amount(required=True)
        if amount is None or problem:
            self.net_label.setText(format_money(self.row.net_amount, self.currency))
            return
        self.net_label.setText(format_money(self.row.net_amount + amount, self.currency))

    @Slot()
    def submit(self) -> None:
        if self._busy_guard():
            return
        self.clear_errors()
        amount, problem = self.amount_edit.amount(required=True)
        if problem or amount is None:
            self.show_errors({"amount": problem or "required"})
            return
        kind = self.kind()
        note = self.note_edit.toPlainText()
        try:
            check_adjustment(kind, amount, note)
        except CommissionError as exc:
            self.show_errors({exc.field: field_reason(exc)})
            return
        task: Callable[[], Any] = partial(
            cm.add_adjustment, self.db, self.row.id, kind, amount, note,
            expected_version=self.row.version,
        )  # fmt: skip
        self.send(task, "Adjusting the commission…")
