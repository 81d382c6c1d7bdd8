"""The range of days a page covers, shared by the Analytics and Lead sources pages: a combo of
presets (one of them Custom), From and To day edits, and a short wait after a day is typed
before the page reads again. The choice and the custom days are kept in QSettings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from PySide6.QtCore import QDate, QObject, QSettings, QTimer, Slot
from PySide6.QtWidgets import QComboBox, QDateEdit, QWidget

DATE_FORMAT = "yyyy-MM-dd"
RELOAD_DELAY_MS = 400  # after a date is typed, before the page reads again

#: The days a preset names as of a day (None: the custom preset).
PresetRange = Callable[[str, dt.date], tuple[dt.date, dt.date] | None]


def qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def pydate(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


def _date_setting(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _date_edit(name: str) -> QDateEdit:
    edit = QDateEdit()
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat(DATE_FORMAT)
    return edit


class DateRange(QObject):
    """The range combo (``combo``) and the From/To edits (``from_edit``, ``to_edit``) for the
    page to lay out, and what they do.

    ``keys`` are the QSettings keys of the preset, the first and the last day. ``today`` gives
    the day the presets end on; ``shown`` is called when other days are shown (for the page's
    label), ``changed`` when the range has settled (for the page to read again). With
    ``focus_custom``, choosing Custom in the combo puts the focus in From (``set_dates`` does
    not); with ``save_while_typing``, custom days are kept as soon as they are typed.
    """

    def __init__(
        self,
        parent: QWidget,
        settings: QSettings,
        *,
        presets: Sequence[tuple[str, str]],
        preset_range: PresetRange,
        default: str,
        custom: str,
        keys: tuple[str, str, str],
        today: Callable[[], dt.date],
        shown: Callable[[], None],
        changed: Callable[[], None],
        focus_custom: bool = False,
        save_while_typing: bool = False,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._preset_range = preset_range
        self._default = default
        self._custom = custom
        self._range_key, self._from_key, self._to_key = keys
        self._today = today
        self._shown = shown
        self._changed = changed
        self._focus_custom = focus_custom
        self._save_while_typing = save_while_typing

        self.combo = QComboBox()
        self.combo.setObjectName("rangeCombo")
        for key, label in presets:
            self.combo.addItem(label, key)
        self.from_edit = _date_edit("fromEdit")
        self.to_edit = _date_edit("toEdit")
        self._timer = QTimer(self, singleShot=True, interval=RELOAD_DELAY_MS)
        self._timer.timeout.connect(self._dates_settled)

    def restore(self) -> None:
        """Show the range kept from the last session, then follow the person's changes."""
        index = self.combo.findData(str(self._settings.value(self._range_key, self._default)))
        self.combo.setCurrentIndex(index if index >= 0 else 0)
        today = self._today()
        span = self._preset_range(self.preset(), today)
        if span is None:
            start = _date_setting(self._settings.value(self._from_key))
            end = _date_setting(self._settings.value(self._to_key))
            span = (start, end) if start and end else self._preset_range(self._default, today)
        assert span is not None
        self.show_dates(*span)
        self.combo.currentIndexChanged.connect(self._preset_chosen)
        self.from_edit.dateChanged.connect(self._date_edited)
        self.to_edit.dateChanged.connect(self._date_edited)

    def preset(self) -> str:
        return str(self.combo.currentData())

    def dates(self) -> tuple[dt.date, dt.date]:
        return pydate(self.from_edit.date()), pydate(self.to_edit.date())

    def set_preset(self, preset: str) -> None:
        """Choose a preset (as the person would in the combo)."""
        self.combo.setCurrentIndex(self.combo.findData(preset))

    def set_dates(self, start: dt.date, end: dt.date) -> None:
        """A custom range (as the person would type it); the range settles at once."""
        if self._focus_custom:
            self._show_custom()
        else:
            self.combo.setCurrentIndex(self.combo.findData(self._custom))
        self.show_dates(start, end)
        self._timer.stop()
        self._dates_settled()

    def show_dates(self, start: dt.date, end: dt.date) -> None:
        """Show these days in From and To, without taking them for typed ones."""
        for edit, day in ((self.from_edit, start), (self.to_edit, end)):
            edit.blockSignals(True)
            edit.setDate(qdate(day))
            edit.blockSignals(False)
        self._shown()

    def _show_custom(self) -> None:
        """Show Custom in the combo without answering the choice."""
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(self.combo.findData(self._custom))
        self.combo.blockSignals(False)

    @Slot()
    def _preset_chosen(self) -> None:
        preset = self.preset()
        self._settings.setValue(self._range_key, preset)
        span = self._preset_range(preset, self._today())
        if span is None:  # Custom: the days shown stay, ready to change
            self._save_custom()
            if self._focus_custom:
                self.from_edit.setFocus()
            return
        self.show_dates(*span)
        self._changed()

    @Slot()
    def _date_edited(self) -> None:
        if self.preset() != self._custom:
            self._show_custom()
        if self._save_while_typing:
            self._save_custom()
        self._shown()
        self._timer.start()

    @Slot()
    def _dates_settled(self) -> None:
        self._save_custom()
        self._changed()

    def _save_custom(self) -> None:
        start, end = self.dates()
        self._settings.setValue(self._range_key, self.preset())
        self._settings.setValue(self._from_key, start.isoformat())
        self._settings.setValue(self._to_key, end.isoformat())
