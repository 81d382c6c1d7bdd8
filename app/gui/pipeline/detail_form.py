"""The deal panel's forms: a set of inputs each with its message beneath (``FieldSet``), an
optional date, and the Details tab (``DealForm``): the deal's editable fields above the facts
a form does not change (stage, status, agent, weighted value).

The form only shows and reads values; the panel saves them (``detail.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from PySide6.QtCore import QDate, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import format_money, parse_decimal
from app.domain.pipeline import STAGE_LABELS
from app.gui import form_fields
from app.gui.field_message import FieldMessage
from app.gui.form_fields import invalid_style as invalid_style  # the deal dialogs' too
from app.gui.records.format import full_time, local_date
from app.gui.records.widgets import MoneyEdit
from app.services.pipeline.detail import DealFields, DealInfo, EditChoices, field_label


class FieldSet(form_fields.FieldSet):
    """The inputs of one QFormLayout, each with a FieldMessage under it (``form_fields``); a
    field is named as the deal service names it."""

    def __init__(self, form: QFormLayout, label: Callable[[str], str] = field_label) -> None:
        super().__init__(form, label)


class OptionalDate(QWidget):
    """A date, or none: the check box before it says whether there is one."""

    changed = Signal()

    def __init__(self, check_tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = QCheckBox()
        self.check.setToolTip(check_tip)
        self.check.setAccessibleName(check_tip)
        self.edit = QDateEdit()
        self.edit.setDisplayFormat("yyyy-MM-dd")
        self.edit.setCalendarPopup(True)
        self.edit.setDate(QDate.currentDate())
        self.edit.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.check)
        layout.addWidget(self.edit, 1)
        self.setFocusProxy(self.check)
        self.check.toggled.connect(self._toggled)
        self.edit.dateChanged.connect(self.changed)

    @Slot(bool)
    def _toggled(self, on: bool) -> None:
        self.edit.setEnabled(on)
        self.changed.emit()

    def value(self) -> dt.date | None:
        if not self.check.isChecked():
            return None
        d = self.edit.date()
        return dt.date(d.year(), d.month(), d.day())

    def set_value(self, value: dt.date | None) -> None:
        if value is not None:
            self.edit.setDate(QDate(value.year, value.month, value.day))
        self.check.setChecked(value is not None)

    def text(self) -> str:
        value = self.value()
        return value.isoformat() if value is not None else ""


def choice_combo(name: str) -> QComboBox:
    """An editable drop-down: the values in use are offered, any other may be typed."""
    combo = QComboBox()
    combo.setObjectName(f"{name}Input")
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    return combo


def set_choices(combo: QComboBox, values: Iterable[str], current: str) -> None:
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(list(values))
    combo.setCurrentText(current)
    combo.blockSignals(False)


def confidence_text(value: Decimal) -> str:
    """0.4000 → '0.40'; 0.1234 → '0.1234' (at least two decimals, no trailing zeros past them)."""
    text = f"{value:.4f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


class DealForm(QWidget):
    """The Details tab. ``edited`` fires when a value is typed; the buttons ask the panel."""

    edited = Signal()
    save_requested = Signal()
    revert_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dealForm")
        self.setStyleSheet(invalid_style())
        self.info: DealInfo | None = None
        self._snapshot: dict[str, str] = {}

        facts = QFormLayout()
        facts.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.stage_label = self._fact(facts, "Stage:", "dealStage")
        self.agent_label = self._fact(facts, "Agent:", "dealAgent")
        self.weighted_label = self._fact(facts, "Weighted value:", "dealWeighted")
        self.created_label = self._fact(facts, "Created:", "dealCreated")
        self.weighted_label.setToolTip("Estimated value × confidence (SPEC §4)")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields = FieldSet(form)
        self.title_edit = QLineEdit()
        self.title_edit.setObjectName("titleInput")
        self.title_edit.setMaxLength(400)  # the rule (200) is checked and said, not cut off
        self.asset_combo = choice_combo("asset_type")
        self.type_combo = choice_combo("deal_type")
        self.source_combo = choice_combo("lead_source")
        self.amount_edit = MoneyEdit()
        self.amount_edit.setObjectName("amountInput")
        self.currency_edit = QLineEdit()
        self.currency_edit.setObjectName("currencyInput")
        self.currency_edit.setMaxLength(8)
        self.currency_edit.setPlaceholderText("e.g. USD")
        self.close_date = OptionalDate("The deal has an expected close date")
        self.close_date.setObjectName("expectedCloseInput")
        self.confidence_edit = QLineEdit()
        self.confidence_edit.setObjectName("confidenceInput")
        self.confidence_edit.setPlaceholderText("0 to 1, e.g. 0.35")
        self.confidence_edit.setToolTip("How likely the deal closes, from 0 to 1")
        self.fields.add("title", "&Title:", self.title_edit)
        self.fields.add("asset_type", "&Asset type:", self.asset_combo)
        self.fields.add("deal_type", "&Deal type:", self.type_combo)
        self.fields.add("lead_source", "&Lead source:", self.source_combo)
        self.fields.add("estimated_value_amount", "&Estimated value:", self.amount_edit)
        self.fields.add("estimated_value_currency", "C&urrency:", self.currency_edit)
        self.fields.add("expected_close_date", "E&xpected close:", self.close_date)
        self.fields.add("confidence", "C&onfidence:", self.confidence_edit)
        for edit in (self.title_edit, self.amount_edit, self.currency_edit, self.confidence_edit):
            edit.textEdited.connect(self._typed)
        for combo in (self.asset_combo, self.type_combo, self.source_combo):
            combo.currentTextChanged.connect(self._typed)
        self.close_date.changed.connect(self._typed)

        self.conflict_bar = QFrame()
        self.conflict_bar.setObjectName("dealConflictBar")
        self.conflict_message = FieldMessage()
        self.conflict_message.setObjectName("dealConflictMessage")
        self.reload_button = QPushButton("&Reload")
        self.reload_button.setObjectName("dealReloadButton")
        self.reload_button.setToolTip("Show the deal as it is stored now (your edits here go)")
        self.reload_button.clicked.connect(self.revert_requested)
        bar = QHBoxLayout(self.conflict_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.conflict_message, 1)
        bar.addWidget(self.reload_button)
        self.conflict_bar.hide()

        self.form_message = FieldMessage()
        self.form_message.setObjectName("dealFormMessage")
        self.revert_button = QPushButton("Re&vert")
        self.revert_button.setObjectName("dealRevertButton")
        self.revert_button.setToolTip("Put back the values as stored")
        self.revert_button.clicked.connect(self.revert_requested)
        self.save_button = QPushButton("&Save")
        self.save_button.setObjectName("dealSaveButton")
        self.save_button.setToolTip("Save the deal's details (Ctrl+S)")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)

        body = QWidget()
        column = QVBoxLayout(body)
        column.addLayout(facts)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        column.addWidget(line)
        column.addLayout(form)
        column.addWidget(self.conflict_bar)
        column.addWidget(self.form_message)
        column.addLayout(buttons)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("dealFormScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._sync_buttons()

    @staticmethod
    def _fact(form: QFormLayout, text: str, name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setWordWrap(True)
        form.addRow(text, label)
        return label

    # -- showing --------------------------------------------------------------------------

    def fill(self, info: DealInfo, choices: EditChoices | None) -> None:
        """Show the deal as stored; edits and messages go."""
        self.info = info
        self.show_facts(info)
        self.title_edit.setText(info.title)
        set_choices(self.asset_combo, choices.asset_types if choices else (), info.asset_type)
        set_choices(self.type_combo, choices.deal_types if choices else (), info.deal_type)
        set_choices(
            self.source_combo, choices.lead_sources if choices else (), info.lead_source or ""
        )
        self.amount_edit.set_amount(info.estimated_value_amount)
        self.currency_edit.setText(info.estimated_value_currency)
        self.close_date.blockSignals(True)
        self.close_date.set_value(info.expected_close_date)
        self.close_date.blockSignals(False)
        self.confidence_edit.setText(confidence_text(info.confidence))
        self._snapshot = self._texts()
        self.clear_messages()
        self._sync_buttons()

    def show_facts(self, info: DealInfo) -> None:
        """The values the form does not edit (kept current while someone types)."""
        status = info.status.value.replace("_", " ")
        closed = f", closed {info.actual_close_date.isoformat()}" if info.actual_close_date else ""
        self.stage_label.setText(f"{STAGE_LABELS[info.stage]} ({status}{closed})")
        self.agent_label.setText(f"{info.agent_name} <{info.agent_email}>")
        self.weighted_label.setText(
            format_money(info.weighted_value, info.estimated_value_currency)
        )
        self.created_label.setText(local_date(info.created_at))
        self.created_label.setToolTip(full_time(info.created_at) or "")

    def set_choices(self, choices: EditChoices) -> None:
        """Offer the values in use without changing what is typed."""
        for combo, values in (
            (self.asset_combo, choices.asset_types),
            (self.type_combo, choices.deal_types),
            (self.source_combo, choices.lead_sources),
        ):
            set_choices(combo, values, combo.currentText())

    def _texts(self) -> dict[str, str]:
        return {
            "title": self.title_edit.text(),
            "asset_type": self.asset_combo.currentText(),
            "deal_type": self.type_combo.currentText(),
            "lead_source": self.source_combo.currentText(),
            "estimated_value_amount": self.amount_edit.text(),
            "estimated_value_currency": self.currency_edit.text(),
            "expected_close_date": self.close_date.text(),
            "confidence": self.confidence_edit.text(),
        }

    def is_dirty(self) -> bool:
        """True when a value differs from what was shown as stored."""
        return self.info is not None and self._texts() != self._snapshot

    @Slot()
    def _typed(self, *_args: object) -> None:
        self._sync_buttons()
        self.edited.emit()

    def _sync_buttons(self) -> None:
        dirty = self.is_dirty()
        self.save_button.setEnabled(dirty)
        self.revert_button.setEnabled(dirty)

    def set_busy(self, busy: bool) -> None:
        self.save_button.setText("Saving…" if busy else "&Save")
        if busy:
            self.save_button.setEnabled(False)
        else:
            self._sync_buttons()

    # -- reading --------------------------------------------------------------------------

    def collect(self) -> tuple[DealFields, dict[str, str]]:
        """The form's values, and what cannot be read as a value (by field)."""
        errors: dict[str, str] = {}
        amount, problem = self.amount_edit.amount(required=True)
        if problem is not None and problem != "required":
            errors["estimated_value_amount"] = problem
        confidence: Decimal | None = None
        text = self.confidence_edit.text().strip()
        if text:
            try:
                confidence = parse_decimal(text.removesuffix("%"))
                if text.endswith("%"):
                    confidence /= 100
            except ValueError as exc:
                errors["confidence"] = str(exc)
        fields = DealFields(
            title=self.title_edit.text(),
            asset_type=self.asset_combo.currentText(),
            deal_type=self.type_combo.currentText(),
            lead_source=self.source_combo.currentText() or None,
            estimated_value_amount=amount,
            estimated_value_currency=self.currency_edit.text(),
            expected_close_date=self.close_date.value(),
            confidence=confidence,
        )
        return fields, errors

    # -- messages -------------------------------------------------------------------------

    def show_errors(self, errors: Mapping[str, str]) -> None:
        elsewhere = self.fields.show_errors(errors)
        if elsewhere:
            self.form_message.show_error(" ".join(elsewhere))

    def show_conflict(self, text: str) -> None:
        self.conflict_message.show_error(text)
        self.conflict_bar.show()

    def clear_messages(self) -> None:
        self.fields.clear()
        self.form_message.clear_message()
        self.conflict_bar.hide()
        self.conflict_message.clear_message()

    def field_error(self, name: str) -> str:
        return self.fields.error(name)
