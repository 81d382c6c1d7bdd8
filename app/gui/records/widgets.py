"""Form inputs the record dialogs share: who a record belongs to, its status, a time
(optionally none), and an amount of money."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from PySide6.QtCore import QDateTime, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLineEdit,
    QWidget,
)

from app.domain.money import parse_decimal, quantize
from app.gui.records.format import status_label
from app.services.records import Owner, OwnerChoices

DATETIME_FORMAT = "yyyy-MM-dd HH:mm"


class OwnerCombo(QComboBox):
    """The people a record may belong to, by name; "Choose…" until one is picked."""

    def __init__(self, choices: OwnerChoices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.owners = {o.email: o for o in choices.owners}
        self._has_placeholder = choices.default_email is None
        if self._has_placeholder:
            self.addItem("Choose…", None)
        for owner in choices.owners:
            self.addItem(f"{owner.full_name} ({status_label(owner.role).lower()})", owner.email)
        self.set_email(choices.default_email)
        self.setEnabled(self.count() > 1)

    def email(self) -> str | None:
        data = self.currentData()
        return data if isinstance(data, str) else None

    def owner(self) -> Owner | None:
        email = self.email()
        return self.owners.get(email) if email else None

    def set_email(self, email: str | None, name: str | None = None) -> None:
        """Select ``email``; someone not offered (e.g. deactivated) is added for this record."""
        if email is None:
            self.setCurrentIndex(0)
            return
        index = self.findData(email)
        if index < 0:
            self.addItem(name or email, email)
            index = self.count() - 1
        self.setCurrentIndex(index)


class StatusCombo(QComboBox):
    def __init__(self, statuses: Iterable[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for status in statuses:
            self.addItem(status_label(status), status)

    def status(self) -> str:
        return str(self.currentData())

    def set_status(self, status: str) -> None:
        index = self.findData(status)
        if index < 0:  # a value this version does not know: show it rather than lose it
            self.addItem(status, status)
            index = self.count() - 1
        self.setCurrentIndex(index)


def to_qdatetime(value: dt.datetime) -> QDateTime:
    return QDateTime.fromMSecsSinceEpoch(int(value.timestamp() * 1000))


def from_qdatetime(value: QDateTime) -> dt.datetime:
    return dt.datetime.fromtimestamp(value.toMSecsSinceEpoch() / 1000, dt.UTC)


class DateTimeField(QWidget):
    """A local date and time; with ``optional``, a check box before it says whether there is one.

    ``value()`` is timezone-aware UTC. A value that was set and not changed is given back
    exactly (the editor shows minutes only; seconds are not lost by opening a form).
    """

    changed = Signal()

    def __init__(
        self, optional: bool = False, check_tip: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.edit = QDateTimeEdit()
        self.edit.setDisplayFormat(DATETIME_FORMAT)
        self.edit.setCalendarPopup(True)
        self.edit.setDateTime(QDateTime.currentDateTime())
        self.check: QCheckBox | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if optional:
            self.check = QCheckBox()
            self.check.setToolTip(check_tip)
            self.check.setAccessibleName(check_tip)
            self.check.toggled.connect(self._toggled)
            layout.addWidget(self.check)
            self.edit.setEnabled(False)
        layout.addWidget(self.edit, 1)
        self.setFocusProxy(self.check or self.edit)
        self._original: dt.datetime | None = None
        self.edit.dateTimeChanged.connect(self.changed)

    @Slot(bool)
    def _toggled(self, on: bool) -> None:
        self.edit.setEnabled(on)
        self.changed.emit()

    def is_set(self) -> bool:
        return self.check is None or self.check.isChecked()

    def set_checked(self, on: bool) -> None:
        if self.check is not None:
            self.check.setChecked(on)

    def value(self) -> dt.datetime | None:
        if not self.is_set():
            return None
        chosen = from_qdatetime(self.edit.dateTime())
        original = self._original
        if original is not None and chosen == original.replace(second=0, microsecond=0):
            return original
        return chosen

    def set_value(self, value: dt.datetime | None) -> None:
        if value is None:
            self._original = None
            self.set_checked(False)
            return
        self._original = value.astimezone(dt.UTC)
        self.edit.setDateTime(to_qdatetime(self._original.replace(second=0, microsecond=0)))
        self.set_checked(True)


class MoneyEdit(QLineEdit):
    """An amount as typed ('450,000', '$1,200.50'); the currency is named by the label."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("e.g. 450,000")
        self.setAlignment(Qt.AlignmentFlag.AlignRight)

    def amount(self, *, required: bool) -> tuple[Decimal | None, str | None]:
        """The amount, or the reason it is not one."""
        text = self.text().strip()
        if not text:
            return None, ("required" if required else None)
        try:
            return parse_decimal(text), None
        except ValueError as exc:
            return None, str(exc)

    def set_amount(self, value: Decimal | None) -> None:
        self.setText("" if value is None else f"{quantize(value):,.2f}")
