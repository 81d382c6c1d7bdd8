"""New appointment… / Edit appointment…"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit

from app.domain.enums import AppointmentStatus
from app.gui.records.dialog import RecordDialog
from app.gui.records.widgets import DateTimeField, StatusCombo
from app.services.records import (
    AppointmentFields,
    AppointmentRow,
    Fields,
    RecordKind,
    RecordRow,
)

DEFAULT_LENGTH = dt.timedelta(hours=1)


def next_full_hour(now: dt.datetime | None = None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    return now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)


class AppointmentDialog(RecordDialog):
    kind = RecordKind.APPOINTMENTS

    def build(self) -> None:
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("e.g. Listing presentation — Laura Parker")
        self.start_field = DateTimeField()
        self.end_field = DateTimeField(optional=True, check_tip="It has an end time")
        self.status_combo = StatusCombo(s.value for s in AppointmentStatus)
        self.location_edit = QLineEdit()
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setTabChangesFocus(True)
        self.notes_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.add_field("title", "&Title:", self.title_edit)
        self.add_field("start_time", "St&arts:", self.start_field)
        self.add_field("end_time", "&Ends:", self.end_field)
        self.add_field("status", "&Status:", self.status_combo)
        self.add_field("location", "&Location:", self.location_edit)
        self.add_field("notes", "N&otes:", self.notes_edit)
        self.add_owner_field()
        self.add_private_field()
        start = next_full_hour()
        self.start_field.set_value(start)
        self.end_field.set_value(start + DEFAULT_LENGTH)
        self._start: dt.datetime | None = start
        self.start_field.changed.connect(self._keep_length)

    @Slot()
    def _keep_length(self) -> None:
        """Moving the start moves a set end with it, keeping the appointment's length."""
        start, end = self.start_field.value(), self.end_field.value()
        if start is not None and end is not None and self._start is not None:
            self.end_field.set_value(end + (start - self._start))
        self._start = start

    def collect(self) -> tuple[Fields | None, dict[str, str]]:
        start = self.start_field.value()
        if start is None:
            return None, {"start_time": "required"}
        fields = AppointmentFields(
            title=self.title_edit.text(),
            start_time=start,
            end_time=self.end_field.value(),
            status=self.status_combo.status(),
            owner_email=self.owner_combo.email(),
            location=self.location_edit.text(),
            notes=self.notes_edit.toPlainText(),
            is_private=self.private_value(),
        )
        return fields, {}

    def fill(self, record: RecordRow) -> None:
        assert isinstance(record, AppointmentRow)
        self.title_edit.setText(record.title)
        self._start = None  # the stored end is not moved along
        self.start_field.set_value(record.start_time)
        self.end_field.set_value(record.end_time)
        self._start = record.start_time
        self.status_combo.set_status(record.status)
        self.location_edit.setText(record.location or "")
        self.notes_edit.setPlainText(record.notes or "")
        if self.private_check is not None:
            self.private_check.setChecked(record.is_private)
