"""The period selector: 7 d, 30 d, 90 d, year to date, or a custom range of dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import QDate, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QWidget,
)

from app.services.dashboard import range_days, ytd_days

DAYS_7, DAYS_30, DAYS_90, YTD, CUSTOM = "7", "30", "90", "ytd", "custom"
CHOICES: tuple[tuple[str, str, str], ...] = (
    (DAYS_7, "7 d", "The last 7 days"),
    (DAYS_30, "30 d", "The last 30 days"),
    (DAYS_90, "90 d", "The last 90 days"),
    (YTD, "YTD", "Since 1 January"),
    (CUSTOM, "Custom", "From one date to another"),
)
DEFAULT = DAYS_30


def today() -> dt.date:
    """The report's day: today in UTC, as on the command line (docs/rules.md)."""
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Period:
    """What the counts cover: ``days`` whole days ending with ``as_of``."""

    choice: str
    as_of: dt.date
    days: int

    @property
    def first(self) -> dt.date:
        return self.as_of - dt.timedelta(days=self.days - 1)

    def describe(self) -> str:
        first, last = self.first, self.as_of
        if first.year == last.year:
            return f"{first:%d %b} – {last:%d %b %Y}"
        return f"{first:%d %b %Y} – {last:%d %b %Y}"


def period_for(choice: str, day: dt.date, first: dt.date, last: dt.date) -> Period:
    if choice == YTD:
        return Period(YTD, day, ytd_days(day))
    if choice == CUSTOM:
        if last < first:
            first, last = last, first
        return Period(CUSTOM, last, range_days(first, last))
    days = int(choice) if choice in (DAYS_7, DAYS_30, DAYS_90) else int(DEFAULT)
    return Period(choice if choice in (DAYS_7, DAYS_30, DAYS_90) else DEFAULT, day, days)


def to_qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def from_qdate(day: QDate) -> dt.date:
    return dt.date(day.year(), day.month(), day.day())


class PeriodSelector(QWidget):
    """Segmented buttons; Custom shows two dates. ``changed`` carries the new Period."""

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("periodSelector")
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QToolButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for i, (key, text, tip) in enumerate(CHOICES):
            button = QToolButton()
            button.setObjectName(f"period_{key}")
            button.setText(text)
            button.setToolTip(tip)
            button.setAccessibleName(f"Period: {tip}")
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            button.setProperty("segment", "first" if i == 0 else "last" if key == CUSTOM else "mid")
            self.group.addButton(button, i)
            self.buttons[key] = button
            layout.addWidget(button)
        layout.addSpacing(8)
        day = today()
        self.from_edit = self._date_edit("periodFrom", "From", day - dt.timedelta(days=29))
        self.to_label = QLabel("–")
        self.to_edit = self._date_edit("periodTo", "To", day)
        layout.addWidget(self.from_edit)
        layout.addWidget(self.to_label)
        layout.addWidget(self.to_edit)
        self._choice = DEFAULT
        self.buttons[DEFAULT].setChecked(True)
        self._show_dates()
        self.group.idClicked.connect(self._clicked)

    def _date_edit(self, name: str, label: str, day: dt.date) -> QDateEdit:
        edit = QDateEdit(to_qdate(day))
        edit.setObjectName(name)
        edit.setAccessibleName(label)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.dateChanged.connect(self._dates_changed)
        return edit

    def choice(self) -> str:
        return self._choice

    def period(self, day: dt.date | None = None) -> Period:
        return period_for(
            self._choice,
            day or today(),
            from_qdate(self.from_edit.date()),
            from_qdate(self.to_edit.date()),
        )

    def set_state(
        self, choice: str, first: dt.date | None = None, last: dt.date | None = None
    ) -> None:
        """Restore a remembered choice (without announcing it)."""
        self.blockSignals(True)
        try:
            if first is not None:
                self.from_edit.setDate(to_qdate(first))
            if last is not None:
                self.to_edit.setDate(to_qdate(last))
            self.choose(choice if choice in self.buttons else DEFAULT)
        finally:
            self.blockSignals(False)

    def choose(self, choice: str) -> None:
        self.buttons[choice].setChecked(True)
        self._clicked(self.group.id(self.buttons[choice]))

    @Slot(int)
    def _clicked(self, button_id: int) -> None:
        choice = CHOICES[button_id][0]
        if choice == self._choice and choice != CUSTOM:
            return
        self._choice = choice
        self._show_dates()
        self.changed.emit(self.period())

    @Slot()
    def _dates_changed(self) -> None:
        if self._choice == CUSTOM:
            self.changed.emit(self.period())

    def _show_dates(self) -> None:
        custom = self._choice == CUSTOM
        for widget in (self.from_edit, self.to_label, self.to_edit):
            widget.setVisible(custom)
