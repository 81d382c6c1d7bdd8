"""Settings → Office: the currency every workstation shows amounts in."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QRegularExpression, Qt, Slot
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from app.domain.errors import ConflictError, ValidationError
from app.domain.money import format_money
from app.gui import events
from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.services import office

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus

SAMPLE_AMOUNT = Decimal("1234567.50")


class OfficeSection(QGroupBox):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Office", parent)
        self.setObjectName("officeSection")
        self.ctx = ctx
        self._db: Database | None = None
        self._saved: str | None = None

        self.currency_combo = QComboBox()
        self.currency_combo.setObjectName("currency")
        self.currency_combo.setEditable(True)
        self.currency_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.currency_combo.addItems(list(office.COMMON_CURRENCIES))
        self.currency_combo.insertSeparator(len(office.COMMON_CURRENCIES))
        self.currency_combo.addItems(sorted(office.ISO_4217 - set(office.COMMON_CURRENCIES)))
        self.currency_combo.setValidator(
            QRegularExpressionValidator(QRegularExpression("[A-Za-z]{0,3}"), self)
        )
        completer = self.currency_combo.completer()
        if completer is not None:
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.currency_combo.setMaximumWidth(120)
        self.currency_combo.currentTextChanged.connect(self._preview)

        self.save_button = QPushButton("&Save currency")
        self.save_button.clicked.connect(self.save)
        self.preview_label = QLabel()
        self.preview_label.setObjectName("currencyPreview")
        self.preview_label.setProperty("role", "hint")
        self.message = FieldMessage()
        self.message.setObjectName("currencyMessage")
        line_edit = self.currency_combo.lineEdit()
        if line_edit is not None:
            line_edit.textEdited.connect(self.message.clear_message)
        self.currency_combo.activated.connect(self.message.clear_message)

        row = QHBoxLayout()
        row.addWidget(self.currency_combo)
        row.addWidget(self.save_button)
        row.addStretch(1)
        form = QFormLayout(self)
        form.addRow(QLabel("Shared by every workstation; the default currency of new records."))
        label = QLabel("&Currency:")
        label.setBuddy(self.currency_combo)
        form.addRow(label, row)
        form.addRow("", self.preview_label)
        form.addRow("", self.message)

        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.database.failed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        self._set_enabled(False)
        self._preview(self.currency_combo.currentText())

    def _set_enabled(self, enabled: bool) -> None:
        self.currency_combo.setEnabled(enabled)
        self.save_button.setEnabled(enabled)
        if not enabled:
            self.preview_label.setText("Open a database to choose the office's currency.")

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: SchemaStatus) -> None:
        self._db = db
        self._load()

    @Slot()
    def _on_closed(self) -> None:
        self._db = None
        self._set_enabled(False)

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if events.concerns(kind, events.OFFICE) and self._db is not None:
            self._load()

    def _load(self) -> None:
        db = self._db
        if db is None:
            return

        def loaded(code: str) -> None:
            if db is self._db:
                self._saved = code
                self.currency_combo.setCurrentText(code)
                self._set_enabled(True)
                self._preview(code)

        self.ctx.ops.run(
            partial(office.get_currency, db),
            label="Reading the office currency…",
            on_success=loaded,
            parent=self,
        )

    @property
    def currency_text(self) -> str:
        return self.currency_combo.currentText()

    @Slot(str)
    def _preview(self, text: str) -> None:
        if not self.currency_combo.isEnabled():
            return
        try:
            code = office.normalize_currency(text)
        except ValidationError:
            self.preview_label.setText("Type a three-letter ISO 4217 code such as USD or SGD.")
            return
        self.preview_label.setText(f"Amounts will look like {format_money(SAMPLE_AMOUNT, code)}")

    @Slot()
    def save(self) -> None:
        db = self._db
        if db is None:
            return
        try:
            code = office.normalize_currency(self.currency_text)
        except ValidationError as exc:
            self.message.show_error(str(exc))
            return

        def saved(stored: str) -> None:
            self._saved = stored
            self.currency_combo.setCurrentText(stored)
            self.message.show_ok(f"Saved: amounts are shown in {stored}.")
            self.ctx.events.changed(events.OFFICE)

        def refused(exc: BaseException) -> None:
            if isinstance(exc, ValidationError | ConflictError):
                self.message.show_error(str(exc))
            else:
                self.ctx.ops.present(exc, self)

        self.save_button.setEnabled(False)
        self.ctx.ops.run(
            partial(office.set_currency, db, code),
            label="Saving the office currency…",
            on_success=saved,
            on_error=refused,
            on_finished=lambda: self.save_button.setEnabled(self._db is not None),
            parent=self,
        )
