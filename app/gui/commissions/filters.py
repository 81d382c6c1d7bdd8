"""The ledger's filter bar: agent, status, deal (title or ref) and a range of creation days."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLineEdit,
    QToolButton,
    QWidget,
)

from app.domain.commissions import STATUS_LABELS
from app.domain.enums import CommissionStatus
from app.gui.commissions.model import local_day_start
from app.services.commissions import STATUS_ORDER, AgentChoice, LedgerFilters

TEXT_DEBOUNCE_MS = 300


class DateFilter(QWidget):
    """A day, or none (unticked)."""

    changed = Signal()

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = QCheckBox(label)
        self.edit = QDateEdit()
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd")
        self.edit.setDate(QDate.currentDate())
        self.edit.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.check)
        layout.addWidget(self.edit)
        self.check.toggled.connect(self._toggled)
        self.edit.dateChanged.connect(lambda _d: self.changed.emit() if self.is_set() else None)

    @Slot(bool)
    def _toggled(self, on: bool) -> None:
        self.edit.setEnabled(on)
        self.changed.emit()

    def is_set(self) -> bool:
        return self.check.isChecked()

    def day(self) -> dt.date | None:
        if not self.is_set():
            return None
        d = self.edit.date()
        return dt.date(d.year(), d.month(), d.day())

    def set_day(self, day: dt.date | None) -> None:
        if day is not None:
            self.edit.setDate(QDate(day.year, day.month, day.day))
        self.check.setChecked(day is not None)


class FilterBar(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.agent_combo = QComboBox()
        self.agent_combo.setObjectName("ledgerAgent")
        self.agent_combo.setToolTip("Show only this agent's commissions")
        self.agent_combo.addItem("All agents", None)
        self.status_combo = QComboBox()
        self.status_combo.setObjectName("ledgerStatus")
        self.status_combo.setToolTip("Show only commissions in this status")
        self.status_combo.addItem("All statuses", None)
        for status in STATUS_ORDER:
            self.status_combo.addItem(STATUS_LABELS[status], status.value)
        self.deal_edit = QLineEdit()
        self.deal_edit.setObjectName("ledgerDeal")
        self.deal_edit.setPlaceholderText("Deal title or ref (Ctrl+F)")
        self.deal_edit.setClearButtonEnabled(True)
        self.from_filter = DateFilter("From")
        self.from_filter.setObjectName("ledgerFrom")
        self.from_filter.setToolTip("Created on or after this day")
        self.to_filter = DateFilter("To")
        self.to_filter.setObjectName("ledgerTo")
        self.to_filter.setToolTip("Created on or before this day")
        self.clear_button = QToolButton()
        self.clear_button.setObjectName("ledgerClearFilters")
        self.clear_button.setText("Clear")
        self.clear_button.setToolTip("Show every commission")
        self.clear_button.clicked.connect(self.clear)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.agent_combo)
        layout.addWidget(self.status_combo)
        layout.addWidget(self.deal_edit, 1)
        layout.addWidget(self.from_filter)
        layout.addWidget(self.to_filter)
        layout.addWidget(self.clear_button)

        self._text_timer = QTimer(self, singleShot=True, interval=TEXT_DEBOUNCE_MS)
        self._text_timer.timeout.connect(self.changed)
        self.deal_edit.textChanged.connect(lambda _t: self._text_timer.start())
        self.agent_combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.status_combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.from_filter.changed.connect(self.changed)
        self.to_filter.changed.connect(self.changed)

    def set_agents(self, agents: tuple[AgentChoice, ...]) -> None:
        current = self.agent_combo.currentData()
        self.agent_combo.blockSignals(True)
        while self.agent_combo.count() > 1:
            self.agent_combo.removeItem(1)
        for agent in agents:
            self.agent_combo.addItem(agent.name or agent.email, agent.id)
        index = self.agent_combo.findData(current) if current is not None else 0
        self.agent_combo.setCurrentIndex(max(index, 0))
        self.agent_combo.blockSignals(False)
        if current is not None and index < 0:
            self.changed.emit()  # the agent chosen is no longer in view

    def status(self) -> CommissionStatus | None:
        data = self.status_combo.currentData()
        return CommissionStatus(data) if isinstance(data, str) else None

    def set_status(self, status: CommissionStatus | None) -> None:
        index = self.status_combo.findData(status.value) if status is not None else 0
        self.status_combo.setCurrentIndex(max(index, 0))

    def filters(self) -> LedgerFilters:
        agent = self.agent_combo.currentData()
        start, end = self.from_filter.day(), self.to_filter.day()
        return LedgerFilters(
            agent_id=agent if isinstance(agent, int) else None,
            status=self.status(),
            deal_text=self.deal_edit.text().strip(),
            created_from=local_day_start(start) if start else None,
            created_before=local_day_start(end + dt.timedelta(days=1)) if end else None,
        )

    def active(self) -> bool:
        return self.filters() != LedgerFilters()

    def flush(self) -> None:
        """Apply typed text now rather than after the pause."""
        if self._text_timer.isActive():
            self._text_timer.stop()
            self.changed.emit()

    @Slot()
    def clear(self) -> None:
        widgets = (self.agent_combo, self.status_combo, self.deal_edit, self.from_filter,
                   self.to_filter)  # fmt: skip
        for w in widgets:
            w.blockSignals(True)
        self.agent_combo.setCurrentIndex(0)
        self.status_combo.setCurrentIndex(0)
        self.deal_edit.clear()
        self.from_filter.set_day(None)
        self.to_filter.set_day(None)
        for w in widgets:
            w.blockSignals(False)
        self._text_timer.stop()
        self.changed.emit()
