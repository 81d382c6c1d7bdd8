"""The Portfolio page's filter bar: market, strategy, buyer, buy box and a range of closing days.

A change is announced once the person pauses (``DEBOUNCE_MS``), so stepping through a combo
with the arrow keys reads the portfolio once, not once per item. The choices arrive from the
database after the bar is built; values restored from the settings before then are kept and
used until the choices show whether they still exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from app.gui.postclose.portfolio_data import Choices
from app.services.postclose.catalog import STRATEGY_LABELS
from app.services.postclose.portfolio import PortfolioFilters

DEBOUNCE_MS = 150
NO_LIMIT = QDate(2000, 1, 1)


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


class ClosedDateEdit(QDateEdit):
    """A closing day, or no limit (the earliest date, shown as "No limit")."""

    def __init__(self, name: str, accessible: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName(accessible)
        self.setCalendarPopup(True)
        self.setDisplayFormat("d MMM yyyy")
        self.setMinimumDate(NO_LIMIT)
        self.setSpecialValueText("No limit")
        self.setDate(NO_LIMIT)
        width = self.fontMetrics().horizontalAdvance("30 Sep 2026") + 44
        self.setMinimumWidth(width)
        self.calendarWidget().installEventFilter(self)

    def day(self) -> dt.date | None:
        d = self.date()
        return None if d == NO_LIMIT else dt.date(d.year(), d.month(), d.day())

    def set_day(self, day: dt.date | None) -> None:
        self.setDate(NO_LIMIT if day is None else _qdate(day))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # With no limit the calendar would open on January 2000: open it on this month.
        if event.type() == QEvent.Type.Show and self.day() is None:
            today = QDate.currentDate()
            self.calendarWidget().setCurrentPage(today.year(), today.month())
        return super().eventFilter(watched, event)


class PortfolioFilterBar(QWidget):
    """``changed`` fires (debounced) whenever the filters change; ``filters()`` reads them."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("portfolioFilters")
        self._choices: Choices | None = None
        self._wanted: dict[str, Any] = {"market": None, "buyer": None, "box": None}

        self.market_combo = self._combo("portfolioMarket", "All markets", "Only this market")
        self.strategy_combo = self._combo(
            "portfolioStrategy", "All strategies", "Only buy & hold, or only commercial"
        )
        for value, label in STRATEGY_LABELS.items():
            self.strategy_combo.addItem(label, value)
        self.buyer_combo = self._combo("portfolioBuyer", "All buyers", "Only this buyer's deals")
        self.box_combo = self._combo(
            "portfolioBuyBox", "All buy boxes", "Only the properties bought for this buy box"
        )
        self.from_edit = ClosedDateEdit("portfolioClosedFrom", "Closed from")
        self.from_edit.setToolTip("Closed on or after this day (the earliest date: no limit)")
        self.to_edit = ClosedDateEdit("portfolioClosedTo", "Closed to")
        self.to_edit.setToolTip("Closed on or before this day (the earliest date: no limit)")
        self.from_clear = self._clear_button(self.from_edit)
        self.to_clear = self._clear_button(self.to_edit)
        self.reset_button = QToolButton()
        self.reset_button.setObjectName("portfolioReset")
        self.reset_button.setText("Reset")
        self.reset_button.setToolTip("Every property: clear all the filters")
        self.reset_button.clicked.connect(self.reset)

        closed = QLabel("Closed")
        closed.setBuddy(self.from_edit)
        dash = QLabel("to")
        dash.setBuddy(self.to_edit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for combo in self.combos():
            layout.addWidget(combo, 1)
        layout.addSpacing(8)
        layout.addWidget(closed)
        layout.addWidget(self.from_edit)
        layout.addWidget(self.from_clear)
        layout.addWidget(dash)
        layout.addWidget(self.to_edit)
        layout.addWidget(self.to_clear)
        layout.addSpacing(4)
        layout.addWidget(self.reset_button)

        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.changed)
        for combo in self.combos():
            combo.currentIndexChanged.connect(self._edited)
        for edit in (self.from_edit, self.to_edit):
            edit.dateChanged.connect(self._edited)
        self._update_clear_buttons()

    def _combo(self, name: str, everything: str, tip: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        combo.setAccessibleName(everything)
        combo.setToolTip(tip)
        combo.addItem(everything, None)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)  # the window fits a 1280-pixel screen
        combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return combo

    def _clear_button(self, edit: ClosedDateEdit) -> QToolButton:
        button = QToolButton()
        button.setObjectName(f"{edit.objectName()}Clear")
        button.setText("✕")
        button.setAutoRaise(True)
        button.setToolTip(f"{edit.accessibleName()}: no limit")
        button.clicked.connect(lambda: edit.set_day(None))
        return button

    def combos(self) -> tuple[QComboBox, ...]:
        return (self.market_combo, self.strategy_combo, self.buyer_combo, self.box_combo)

    # -- reading ---------------------------------------------------------------------------

    def _value(self, combo: QComboBox, wanted: str) -> Any:
        if self._choices is None:  # not read yet: what the settings asked for
            return self._wanted[wanted]
        return combo.currentData()

    def filters(self) -> PortfolioFilters:
        buyer, box = self._value(self.buyer_combo, "buyer"), self._value(self.box_combo, "box")
        strategy = self.strategy_combo.currentData()
        return PortfolioFilters(
            market=self._value(self.market_combo, "market"),
            strategy=strategy if isinstance(strategy, str) else None,
            buyer_id=buyer if isinstance(buyer, int) else None,
            buy_box_id=box if isinstance(box, int) else None,
            closed_from=self.from_edit.day(),
            closed_to=self.to_edit.day(),
        )

    def problem(self) -> str | None:
        start, end = self.from_edit.day(), self.to_edit.day()
        if start is not None and end is not None and start > end:
            return "The “closed from” day is after the “closed to” day."
        return None

    def is_active(self) -> bool:
        return not self.filters().is_empty

    # -- changing --------------------------------------------------------------------------

    @Slot()
    def _edited(self, *_args: object) -> None:
        self._update_clear_buttons()
        self._timer.start()

    def _update_clear_buttons(self) -> None:
        self.from_clear.setEnabled(self.from_edit.day() is not None)
        self.to_clear.setEnabled(self.to_edit.day() is not None)

    def flush(self) -> None:
        """Announce a pending change now rather than after the pause."""
        if self._timer.isActive():
            self._timer.stop()
            self.changed.emit()

    def pending(self) -> bool:
        return self._timer.isActive()

    def _quietly(self, apply: Any) -> None:
        widgets = (*self.combos(), self.from_edit, self.to_edit)
        for w in widgets:
            w.blockSignals(True)
        try:
            apply()
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._update_clear_buttons()

    @Slot()
    def reset(self) -> None:
        def clear() -> None:
            for combo in self.combos():
                combo.setCurrentIndex(0)
            self.from_edit.set_day(None)
            self.to_edit.set_day(None)

        self._wanted = dict.fromkeys(self._wanted)
        self._quietly(clear)
        self._timer.start()

    def set_choices(self, choices: Choices) -> None:
        """Fill the combos, keeping what is chosen; a choice gone from the database falls back
        to "All" and is announced as a change."""
        current = self.filters()
        wanted = {"market": current.market, "buyer": current.buyer_id, "box": current.buy_box_id}
        lost = False

        def fill() -> None:
            nonlocal lost
            lists = (
                (self.market_combo, "market", [(m, m) for m in choices.markets]),
                (self.buyer_combo, "buyer", [(name, i) for i, name in choices.buyers]),
                (self.box_combo, "box", [(label, i) for i, label in choices.buy_boxes]),
            )
            for combo, key, items in lists:
                while combo.count() > 1:
                    combo.removeItem(1)
                for text, data in items:
                    combo.addItem(text, data)
                index = combo.findData(wanted[key]) if wanted[key] is not None else 0
                lost = lost or index < 0
                combo.setCurrentIndex(max(index, 0))

        self._quietly(fill)
        self._choices = choices
        if lost:
            self._timer.start()

    def choose(
        self,
        *,
        market: str | None = None,
        strategy: str | None = None,
        buyer_id: int | None = None,
        buy_box_id: int | None = None,
    ) -> None:
        """Select values (a breakdown row double-clicked; tests); None leaves a combo as is."""
        for combo, value in (
            (self.market_combo, market),
            (self.strategy_combo, strategy),
            (self.buyer_combo, buyer_id),
            (self.box_combo, buy_box_id),
        ):
            if value is not None:
                index = combo.findData(value)
                if index >= 0:
                    combo.setCurrentIndex(index)

    def set_closed(self, start: dt.date | None, end: dt.date | None) -> None:
        self.from_edit.set_day(start)
        self.to_edit.set_day(end)

    # -- settings --------------------------------------------------------------------------

    def state(self) -> dict[str, str]:
        f = self.filters()
        return {
            "market": f.market or "",
            "strategy": f.strategy or "",
            "buyer": "" if f.buyer_id is None else str(f.buyer_id),
            "box": "" if f.buy_box_id is None else str(f.buy_box_id),
            "from": f.closed_from.isoformat() if f.closed_from else "",
            "to": f.closed_to.isoformat() if f.closed_to else "",
        }

    def restore(self, state: dict[str, str]) -> None:
        """Values kept in the settings, applied without announcing a change."""

        def number(text: str) -> int | None:
            return int(text) if text.isdigit() else None

        def day(text: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat(text) if text else None
            except ValueError:
                return None

        self._wanted = {
            "market": state.get("market") or None,
            "buyer": number(state.get("buyer", "")),
            "box": number(state.get("box", "")),
        }

        def apply() -> None:
            strategy = state.get("strategy") or ""
            index = self.strategy_combo.findData(strategy) if strategy else 0
            self.strategy_combo.setCurrentIndex(max(index, 0))
            self.from_edit.set_day(day(state.get("from", "")))
            self.to_edit.set_day(day(state.get("to", "")))

        self._quietly(apply)
