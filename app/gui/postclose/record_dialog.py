"""A new performance record (SPEC §9): from a closed-won deal or on its own, with the purchase,
the financing and the pro forma, which is locked when the record is saved and never changes.

The inputs take text; the service checks it (``create_record``) and each problem it names is
shown under its field while the dialog stays open as typed. The choices (closed deals without a
record, buyers, buy boxes) are read in the background when the dialog opens, and the record is
saved in the background.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import LoanType, Strategy
from app.domain.errors import PermissionDenied, ValidationError
from app.domain.postclose import DEFAULT_REQUIRED_DSCR
from app.domain.rentroll import LABELS, FieldErrors
from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.gui.form_fields import FieldSet, invalid_style, sentence
from app.gui.postclose.record_view import LOAN_WORDS, STRATEGY_WORDS, LockIcon, day_text
from app.gui.records.widgets import MoneyEdit
from app.services.dberrors import is_connection_lost
from app.services.office import get_currency
from app.services.postclose import catalog
from app.services.postclose.catalog import BuyBoxRow, BuyerRow
from app.services.postclose.records import ClosedDeal, create_record, deals_awaiting_record

if TYPE_CHECKING:
    from app.services.database import Database

#: ``confirm(parent, title, text) -> bool``: tests replace it.
Confirm = Callable[[QWidget, str, str], bool]

LOCK_NOTE = (
    "The pro forma is locked when you save: its figures and assumptions can never be changed "
    "afterwards, by anyone. Check them before saving."
)
#: The fields that are a loan's, left empty (and disabled) for a cash purchase.
LOAN_FIELDS = ("interest_rate", "ltv", "amortization_years")
#: ``AppEvents.data_changed`` kinds a new record changes: the records, and the record counts
#: shown with buyers and buy boxes.
CHANGED_KINDS = ("performance_records", "buyers", "buy_boxes")
FIELD_LABELS: Mapping[str, str] = {**LABELS, "buyer": "Buyer", "buy_box": "Buy box", "deal": "Deal"}


def ask_discard(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Discard


def qdate(value: dt.date) -> QDate:
    return QDate(value.year, value.month, value.day)


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


@dataclass(frozen=True)
class RecordChoices:
    deals: tuple[ClosedDeal, ...]
    buyers: tuple[BuyerRow, ...]
    boxes: tuple[BuyBoxRow, ...]
    markets: tuple[str, ...]
    currency: str


def read_choices(db: Database) -> RecordChoices:
    """Runs on a worker."""
    return RecordChoices(
        deals=tuple(deals_awaiting_record(db)),
        buyers=tuple(catalog.list_buyers(db)),
        boxes=tuple(catalog.list_buy_boxes(db)),
        markets=tuple(catalog.market_keys(db)),
        currency=get_currency(db),
    )


def box_text(box: BuyBoxRow) -> str:
    ref = f"{box.ref} · " if box.ref else ""
    owner = f" — {box.buyer_name}" if box.buyer_name else ""
    return f"{ref}{box.name}{owner}"


class RecordDialog(QDialog):
    """New performance record. On success ``created_id`` holds the new record's id."""

    created = Signal(int)

    ok_text = "&Save and lock"

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        *,
        deal_id: int | None = None,
        acting: str | None = None,
        confirm: Confirm = ask_discard,
        today: Callable[[], dt.date] = dt.date.today,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.db = db
        self.acting = acting
        self.confirm = confirm
        self.today = today
        self.created_id: int | None = None
        self.choices: RecordChoices | None = None
        self._wanted_deal = deal_id
        self._deals: dict[int, ClosedDeal] = {}
        self._boxes: dict[int, BuyBoxRow] = {}
        self._stashed_loan: dict[str, str] = {}
        self._saving = False
        self.setObjectName("performanceRecordDialog")
        self.setWindowTitle("New performance record")
        self.setMinimumWidth(880)
        self.setStyleSheet(invalid_style("QLineEdit", "QPlainTextEdit", "QComboBox", "QDateEdit"))

        outer = QVBoxLayout(self)
        intro = QLabel(
            "A property's performance record, made once at close. Its months of actuals are "
            "then graded against the pro forma."
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        outer.addWidget(intro)
        columns = QHBoxLayout()
        columns.setSpacing(12)
        left = QVBoxLayout()
        right = QVBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        outer.addLayout(columns)
        self.field_sets: list[FieldSet] = []

        # -- where it comes from ---------------------------------------------------------------
        source = self.source_fields = self._group("Deal and buyer", left)
        self.deal_combo = QComboBox()
        self.deal_combo.setObjectName("dealCombo")
        self.deal_combo.setToolTip("A closed-won deal that has no performance record yet")
        source.add("deal", "From deal:", self.deal_combo)
        self.buyer_combo = QComboBox()
        self.buyer_combo.setObjectName("buyerCombo")
        self.buyer_combo.setEditable(True)
        self.buyer_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = QCompleter(self.buyer_combo.model(), self.buyer_combo)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.buyer_combo.setCompleter(completer)
        self._buyer_placeholder("Type to search buyers")
        source.add("buyer", "Buyer:", self.buyer_combo)
        self.box_combo = QComboBox()
        self.box_combo.setObjectName("buyBoxCombo")
        self.box_combo.setToolTip("Its minimum DSCR is the DSCR the property is graded against")
        source.add("buy_box", "Buy box:", self.box_combo)

        # -- the property ----------------------------------------------------------------------
        prop = self.property_fields = self._group("Property", left)
        self.ref_edit = self._line("refEdit", "Optional, e.g. PF-00123")
        prop.add("ref", "Ref:", self.ref_edit)
        self.market_edit = self._line("marketEdit", "e.g. CA-BAKERSFIELD")
        prop.add("market_key", "Market key:", self.market_edit)
        self.strategy_combo = QComboBox()
        self.strategy_combo.setObjectName("strategyCombo")
        self.strategy_combo.addItem("Choose…", None)
        for strategy in Strategy:
            self.strategy_combo.addItem(STRATEGY_WORDS[strategy.value], strategy.value)
        prop.add("strategy", "Strategy:", self.strategy_combo)
        self.closed_edit = QDateEdit()
        self.closed_edit.setObjectName("closedEdit")
        self.closed_edit.setCalendarPopup(True)
        self.closed_edit.setDisplayFormat("d MMM yyyy")
        today_q = qdate(self.today())
        self.closed_edit.setMaximumDate(today_q)
        self.closed_edit.setDate(today_q)
        self.closed_edit.setToolTip("Not after today: a record is made at close")
        prop.add("closed_date", "Closed on:", self.closed_edit)
        self.closed_edit.dateChanged.connect(partial(prop.clear_field, "closed_date"))

        # -- purchase and financing ------------------------------------------------------------
        money = self.money_fields = self._group("Purchase and financing", left)
        self.purchase_edit = MoneyEdit()
        self.purchase_edit.setObjectName("purchaseEdit")
        money.add("purchase_price", "Purchase price:", self.purchase_edit)
        self.rehab_edit = MoneyEdit()
        self.rehab_edit.setObjectName("rehabEdit")
        self.rehab_edit.setPlaceholderText("Optional")
        money.add("rehab_cost_actual", "Rehab cost:", self.rehab_edit)
        self.loan_combo = QComboBox()
        self.loan_combo.setObjectName("loanCombo")
        self.loan_combo.addItem("Not given", None)
        for loan in LoanType:
            self.loan_combo.addItem(LOAN_WORDS[loan.value], loan.value)
        money.add("loan_type", "Loan type:", self.loan_combo)
        self.rate_edit = self._line("rateEdit", "e.g. 6.5%")
        money.add("interest_rate", "Interest rate:", self.rate_edit)
        self.ltv_edit = self._line("ltvEdit", "e.g. 75%")
        money.add("ltv", "LTV:", self.ltv_edit)
        self.amortization_edit = self._line("amortizationEdit", "e.g. 30")
        money.add("amortization_years", "Amortisation (years):", self.amortization_edit)
        left.addStretch(1)

        # -- the pro forma ---------------------------------------------------------------------
        group = QGroupBox("Pro forma (locked when saved)")
        group.setObjectName("proFormaGroup")
        right.addWidget(group)
        pro_form = QFormLayout(group)
        pro_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        note = QFrame()
        note.setObjectName("lockNote")
        note_row = QHBoxLayout(note)
        note_row.setContentsMargins(0, 0, 0, 6)
        note_row.addWidget(LockIcon(16), 0, Qt.AlignmentFlag.AlignTop)
        self.lock_note = QLabel(LOCK_NOTE)
        self.lock_note.setObjectName("lockNoteText")
        self.lock_note.setWordWrap(True)
        note_row.addWidget(self.lock_note, 1)
        pro_form.addRow(note)
        pro = self.pro_forma_fields = FieldSet(pro_form, field_label)
        self.field_sets.append(pro)
        self.rent_edit = MoneyEdit()
        self.rent_edit.setObjectName("rentEdit")
        self.rent_edit.setPlaceholderText("Per month, e.g. 2,400")
        pro.add("projected_rent", "Projected rent:", self.rent_edit)
        self.noi_edit = MoneyEdit()
        self.noi_edit.setObjectName("noiEdit")
        self.noi_edit.setPlaceholderText("Per month, e.g. 1,650")
        pro.add("projected_noi", "Projected NOI:", self.noi_edit)
        self.cash_flow_edit = MoneyEdit()
        self.cash_flow_edit.setObjectName("cashFlowEdit")
        self.cash_flow_edit.setPlaceholderText("e.g. 420 (may be negative)")
        pro.add("projected_monthly_cash_flow", "Monthly cash flow:", self.cash_flow_edit)
        self.dscr_edit = self._line("dscrEdit", "e.g. 1.35")
        self.dscr_edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        pro.add("projected_dscr", "Projected DSCR:", self.dscr_edit)
        self.required_label = QLabel()
        self.required_label.setObjectName("requiredDscr")
        self.required_label.setProperty("role", "hint")
        self.required_label.setWordWrap(True)
        pro_form.addRow("", self.required_label)
        self.assumptions_edit = QPlainTextEdit()
        self.assumptions_edit.setObjectName("assumptionsEdit")
        self.assumptions_edit.setTabChangesFocus(True)
        self.assumptions_edit.setPlaceholderText("One per line, e.g.\n5% vacancy\n8% management")
        self.assumptions_edit.setMinimumHeight(110)
        pro.add("assumptions", "Assumptions:", self.assumptions_edit)
        right.addStretch(1)

        self.form_message = FieldMessage()
        self.form_message.setObjectName("formMessage")
        outer.addWidget(self.form_message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.ok_text)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)

        self.deal_combo.currentIndexChanged.connect(self._deal_chosen)
        self.box_combo.currentIndexChanged.connect(self._box_chosen)
        self.loan_combo.currentIndexChanged.connect(self._loan_chosen)
        self._set_loading()
        self._show_required()
        self._initial = self.state()
        self.ctx.ops.run(
            partial(read_choices, db),
            label="Reading deals, buyers and buy boxes…",
            on_success=self.set_choices,
            on_error=self._choices_failed,
            parent=self,
        )

    def _group(self, title: str, column: QVBoxLayout) -> FieldSet:
        group = QGroupBox(title)
        column.addWidget(group)
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        fields = FieldSet(form, field_label)
        self.field_sets.append(fields)
        return fields

    def _buyer_placeholder(self, text: str) -> None:
        edit = self.buyer_combo.lineEdit()
        if edit is not None:
            edit.setPlaceholderText(text)

    @staticmethod
    def _line(name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        return edit

    # -- the choices ------------------------------------------------------------------------

    def _set_loading(self) -> None:
        for combo in (self.deal_combo, self.box_combo):
            combo.addItem("Loading…", None)
            combo.setEnabled(False)
        self.buyer_combo.setEnabled(False)
        self.ok_button.setEnabled(False)

    def set_choices(self, choices: RecordChoices) -> None:
        untouched = self.state() == self._initial
        self.choices = choices
        self._deals = {d.id: d for d in choices.deals}
        self._boxes = {b.id: b for b in choices.boxes}
        self._fill(
            self.deal_combo,
            "On its own (no deal)",
            [(self._deal_text(d), d.id) for d in choices.deals],
        )
        self._fill(self.box_combo, "None", [(box_text(b), b.id) for b in choices.boxes])
        self.buyer_combo.blockSignals(True)
        self.buyer_combo.clear()
        for buyer in choices.buyers:
            self.buyer_combo.addItem(buyer.name, buyer.id)
        self.buyer_combo.setCurrentIndex(-1)
        self.buyer_combo.blockSignals(False)
        self.buyer_combo.setEnabled(True)
        if not choices.buyers:
            self._buyer_placeholder("No buyers yet: add one first")
        markets = QCompleter(list(choices.markets), self.market_edit)
        markets.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.market_edit.setCompleter(markets)
        currency = choices.currency
        self._relabel(self.money_fields, self.purchase_edit, f"Purchase price ({currency}):")
        self._relabel(self.money_fields, self.rehab_edit, f"Rehab cost ({currency}):")
        self._relabel(self.pro_forma_fields, self.rent_edit, f"Projected rent ({currency}):")
        self.ok_button.setEnabled(True)
        if self._wanted_deal is not None:
            index = self.deal_combo.findData(self._wanted_deal)
            if index >= 0:
                self.deal_combo.setCurrentIndex(index)
            else:
                self.form_message.show_error(
                    "That deal is not offered: it has not closed (won) or already has a record."
                )
        if untouched:
            self._initial = self.state()

    @staticmethod
    def _fill(combo: QComboBox, none_text: str, items: list[tuple[str, int]]) -> None:
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(none_text, None)
        for text, value in items:
            combo.addItem(text, value)
        combo.setCurrentIndex(0)
        combo.setEnabled(True)
        combo.blockSignals(False)

    @staticmethod
    def _deal_text(deal: ClosedDeal) -> str:
        return f"{deal.title} (closed {day_text(deal.closed)})" if deal.closed else deal.title

    @staticmethod
    def _relabel(fields: FieldSet, widget: QWidget, text: str) -> None:
        label = fields.form.labelForField(widget)
        if isinstance(label, QLabel):
            label.setText(text)

    def _choices_failed(self, exc: BaseException) -> None:
        for combo in (self.deal_combo, self.box_combo):
            combo.clear()
            combo.addItem("Not available", None)
        if is_connection_lost(exc):
            text = "The connection to the server was lost; close this form and try again."
        else:
            text = sentence(str(exc)) if isinstance(exc, ValidationError) else "See the log."
        self.form_message.show_error(f"The deals, buyers and buy boxes could not be read. {text}")

    # -- reacting to choices ---------------------------------------------------------------

    def deal_id(self) -> int | None:
        data = self.deal_combo.currentData()
        return data if isinstance(data, int) else None

    def buy_box_id(self) -> int | None:
        data = self.box_combo.currentData()
        return data if isinstance(data, int) else None

    def buyer_id(self) -> int | None:
        """The buyer whose name is in the search box (any case), else None."""
        text = self.buyer_combo.currentText().strip()
        if not text:
            return None
        index = self.buyer_combo.findText(text, Qt.MatchFlag.MatchFixedString)
        data = self.buyer_combo.itemData(index) if index >= 0 else None
        return data if isinstance(data, int) else None

    @Slot()
    def _deal_chosen(self, *_args: object) -> None:
        deal = self._deals.get(self.deal_id() or -1)
        if deal is not None and deal.closed is not None:
            self.closed_edit.setDate(qdate(min(deal.closed, self.today())))

    @Slot()
    def _box_chosen(self, *_args: object) -> None:
        box = self._boxes.get(self.buy_box_id() or -1)
        self._show_required()
        if box is None:
            return
        if not self.market_edit.text().strip():
            self.market_edit.setText(box.market_key)
            self.property_fields.clear_field("market_key")
        if self.strategy_combo.currentData() is None:
            index = self.strategy_combo.findData(str(box.strategy))
            if index >= 0:
                self.strategy_combo.setCurrentIndex(index)
        if box.buyer_id is not None and not self.buyer_combo.currentText().strip():
            index = self.buyer_combo.findData(box.buyer_id)
            if index >= 0:
                self.buyer_combo.setCurrentIndex(index)

    def _show_required(self) -> None:
        box = self._boxes.get(self.buy_box_id() or -1)
        if box is None:
            self.required_label.setText(
                f"Graded against a DSCR of {DEFAULT_REQUIRED_DSCR:.2f} (no buy box chosen)."
            )
        else:
            self.required_label.setText(
                f"Graded against a DSCR of {box.min_dscr:.2f} (the buy box's minimum)."
            )

    @Slot()
    def _loan_chosen(self, *_args: object) -> None:
        cash = self.loan_combo.currentData() == LoanType.CASH.value
        for name in LOAN_FIELDS:
            edit = self._loan_edit(name)
            if cash and edit.isEnabled():
                self._stashed_loan[name] = edit.text()
                edit.clear()
                edit.setPlaceholderText("No loan: cash purchase")
            elif not cash and not edit.isEnabled():
                edit.setText(self._stashed_loan.pop(name, ""))
                edit.setPlaceholderText(
                    {"interest_rate": "e.g. 6.5%", "ltv": "e.g. 75%"}.get(name, "e.g. 30")
                )
            edit.setEnabled(not cash)
            if cash:
                self.money_fields.clear_field(name)

    def _loan_edit(self, name: str) -> QLineEdit:
        return {
            "interest_rate": self.rate_edit,
            "ltv": self.ltv_edit,
            "amortization_years": self.amortization_edit,
        }[name]

    # -- what was typed --------------------------------------------------------------------

    def texts(self) -> dict[str, str]:
        """The form as the service reads it: field → text."""
        strategy = self.strategy_combo.currentData()
        loan = self.loan_combo.currentData()
        return {
            "ref": self.ref_edit.text(),
            "market_key": self.market_edit.text(),
            "strategy": strategy if isinstance(strategy, str) else "",
            "closed_date": self.closed_edit.date().toString(Qt.DateFormat.ISODate),
            "purchase_price": self.purchase_edit.text(),
            "rehab_cost_actual": self.rehab_edit.text(),
            "loan_type": loan if isinstance(loan, str) else "",
            "interest_rate": self.rate_edit.text() if self.rate_edit.isEnabled() else "",
            "ltv": self.ltv_edit.text() if self.ltv_edit.isEnabled() else "",
            "amortization_years": (
                self.amortization_edit.text() if self.amortization_edit.isEnabled() else ""
            ),
            "projected_rent": self.rent_edit.text(),
            "projected_noi": self.noi_edit.text(),
            "projected_monthly_cash_flow": self.cash_flow_edit.text(),
            "projected_dscr": self.dscr_edit.text(),
            "assumptions": self.assumptions_edit.toPlainText(),
        }

    def state(self) -> tuple[object, ...]:
        texts = self.texts()
        texts.update(self._stashed_loan)
        return (
            tuple(sorted((k, v.strip()) for k, v in texts.items())),
            self.deal_id(),
            self.buyer_combo.currentText().strip(),
            self.buy_box_id(),
        )

    def is_dirty(self) -> bool:
        return self.state() != self._initial

    # -- saving ----------------------------------------------------------------------------

    @Slot()
    def submit(self) -> None:
        if self._saving or self.choices is None:
            return
        self.clear_errors()
        buyer_text = self.buyer_combo.currentText().strip()
        task = partial(
            create_record,
            self.db,
            self.texts(),
            self.buyer_id(),
            self.buy_box_id(),
            self.deal_id(),
            self.acting,
            self.today(),
        )
        self._busy(True)
        self.ctx.ops.run(
            task,
            label="Saving the performance record…",
            on_success=self._saved,
            on_error=partial(self._refused, buyer_text),
            on_finished=lambda: self._busy(False),
            parent=self,
        )

    def _busy(self, busy: bool) -> None:
        self._saving = busy
        self.ok_button.setEnabled(not busy)
        self.ok_button.setText("Saving…" if busy else self.ok_text)

    def _saved(self, record_id: int) -> None:
        self.created_id = record_id
        self.created.emit(record_id)
        for kind in CHANGED_KINDS:
            self.ctx.events.changed(kind)
        super().accept()

    def _refused(self, buyer_text: str, exc: BaseException) -> None:
        if isinstance(exc, FieldErrors):
            errors = dict(exc.errors)
            if "buyer" in errors and buyer_text and self.buyer_id() is None:
                errors["buyer"] = f"no buyer is called {buyer_text!r}; choose one from the list"
            self.show_errors(errors)
        elif isinstance(exc, ValidationError | PermissionDenied):
            self.form_message.show_error(sentence(str(exc)))
        elif is_connection_lost(exc):
            self.form_message.show_error(
                "Nothing was saved: the connection to the server was lost. Everything you typed "
                "is still here; save again once PerfDesk has reconnected."
            )
        else:
            self.ctx.ops.present(exc, self)

    # -- problems --------------------------------------------------------------------------

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Each problem under its field (the first one focused); others under the form."""
        known = {name for fields in self.field_sets for name in fields.inputs}
        for fields in reversed(self.field_sets):  # the first set last: its field has focus
            fields.place_errors({k: v for k, v in errors.items() if k in fields.inputs})
        elsewhere = [f"{field_label(k)}: {v}" for k, v in errors.items() if k not in known]
        if elsewhere:
            self.form_message.show_error(sentence("; ".join(elsewhere)))

    def clear_errors(self) -> None:
        for fields in self.field_sets:
            fields.clear()
        self.form_message.clear_message()

    def field_error(self, name: str) -> str:
        for fields in self.field_sets:
            if name in fields.inputs:
                return fields.error(name)
        raise KeyError(name)

    # -- leaving ---------------------------------------------------------------------------

    def reject(self) -> None:
        """Esc, Cancel or the close button: what was typed is not thrown away unasked."""
        if self._saving:
            return  # the record is being written; closing now would hide whether it was
        if self.is_dirty() and not self.confirm(
            self,
            "Discard the new record?",
            "What you typed in this performance record has not been saved. Discard it?",
        ):
            return
        super().reject()
