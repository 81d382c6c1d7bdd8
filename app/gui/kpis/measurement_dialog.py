"""Enter value: a manual KPI's value for one period of one person's assignment.

Any day may be picked; the value is stored for the whole period holding it, which the dialog
names ("October 2026", "Week of 5 Oct 2026", "Q4 2026"). When that period has a value already
the dialog shows it and saving replaces it (naming the version read, so a value entered
meanwhile on another workstation is not overwritten unseen). The achievement is previewed as
typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QToolButton, QWidget

from app.domain.errors import PerfDeskError, ValidationError
from app.domain.kpis import achievement_pct, stored_pct
from app.domain.money import parse_decimal
from app.domain.periods import Period
from app.gui.context import AppContext
from app.gui.form_fields import sentence
from app.gui.kpis.assignment_dialog import KpiFormDialog, date_edit, pydate, qdate
from app.gui.kpis.assignment_models import (
    AssignmentItem,
    pct,
    period_label,
    plain,
    when_text,
    with_unit,
)
from app.gui.kpis.assignment_panel import hint
from app.services.kpis.measurements import (
    NOTES_MAX,
    MeasurementError,
    MeasurementRow,
    enter_value,
    history,
    period_for,
)
from app.services.records import Acting

if TYPE_CHECKING:
    from app.services.database import Database

LABELS = {"period": "Period", "value": "Value", "notes": "Notes"}


def allowed_range(low: Decimal | None, high: Decimal | None, unit: str | None) -> str:
    if low is not None and high is not None:
        return f"Allowed: {with_unit(low, unit)} to {with_unit(high, unit)}"
    if low is not None:
        return f"Allowed: at least {with_unit(low, unit)}"
    if high is not None:
        return f"Allowed: at most {with_unit(high, unit)}"
    return "Any number"


class MeasurementDialog(KpiFormDialog):
    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        item: AssignmentItem,
        acting: Acting = None,
        today: dt.date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, db, acting, lambda name: LABELS.get(name, name), parent)
        self.item = item
        row = item.row
        self.today = today or dt.date.today()
        self.history: list[MeasurementRow] | None = None
        self.existing: MeasurementRow | None = None
        self._prefilled = False
        self._generation = 0
        self.setObjectName("measurementDialog")
        self.setWindowTitle("Enter a KPI value")
        self.setMinimumWidth(460)

        kpi = QLabel(row.kpi_name)
        kpi.setObjectName("kpiLabel")
        kpi.setStyleSheet("font-weight: 600;")
        self.form.addRow("KPI:", kpi)
        person = QLabel(f"{row.person} ({row.email})")
        person.setObjectName("personLabel")
        self.form.addRow("Person:", person)
        target = QLabel(with_unit(row.target_value, row.unit))
        target.setObjectName("targetLabel")
        self.form.addRow("Target:", target)

        self.previous_button = QToolButton()
        self.previous_button.setObjectName("previousPeriod")
        self.previous_button.setText("◀")
        self.previous_button.setToolTip("The period before")
        self.previous_button.clicked.connect(self.previous_period)
        self.day_edit = date_edit("dayEdit", self._default_day())
        self.day_edit.setToolTip("Any day of the period; the value counts for the whole period")
        self.day_edit.setMaximumDate(qdate(self.today))
        self.day_edit.dateChanged.connect(self._day_changed)
        self.next_button = QToolButton()
        self.next_button.setObjectName("nextPeriod")
        self.next_button.setText("▶")
        self.next_button.setToolTip("The period after")
        self.next_button.clicked.connect(self.next_period)
        self.period_label = QLabel()
        self.period_label.setObjectName("periodLabel")
        self.period_label.setStyleSheet("font-weight: 600;")
        picker = QWidget()
        box = QHBoxLayout(picker)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.previous_button)
        box.addWidget(self.day_edit)
        box.addWidget(self.next_button)
        box.addWidget(self.period_label, 1)
        self.fields.add("period", "&Period:", picker)
        self.existing_label = hint()
        self.existing_label.setObjectName("existingLabel")
        self.form.addRow("", self.existing_label)

        self.value_edit = QLineEdit()
        self.value_edit.setObjectName("valueEdit")
        d = item.definition
        self.range_text = allowed_range(
            d.min_value if d else None, d.max_value if d else None, row.unit
        )
        self.value_edit.setPlaceholderText(self.range_text)
        self.value_edit.textChanged.connect(self._preview)
        self.value_edit.textEdited.connect(self._typed)
        self.fields.add("value", "&Value:", self.value_edit)
        self.range_label = hint(self.range_text)
        self.range_label.setObjectName("rangeLabel")
        self.form.addRow("", self.range_label)
        self.preview_label = QLabel()
        self.preview_label.setObjectName("achievementPreview")
        self.form.addRow("Achievement:", self.preview_label)
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setObjectName("notesEdit")
        self.notes_edit.setPlaceholderText(f"Optional, at most {NOTES_MAX} characters")
        self.notes_edit.setFixedHeight(self.fontMetrics().height() * 4 + 12)
        self.fields.add("notes", "&Notes:", self.notes_edit)
        self.finish_form("&Save")
        self._busy(False)
        self._day_changed()
        self._preview()
        self.read_history()

    # -- the period -----------------------------------------------------------------------

    def _default_day(self) -> dt.date:
        """Today, or the last day of an assignment that has ended, or the first of one
        starting later this period."""
        row = self.item.row
        day = self.today
        if row.end_date is not None and row.end_date < day:
            day = row.end_date
        if day < row.start_date <= self.today:
            day = row.start_date
        return day

    def day(self) -> dt.date:
        return pydate(self.day_edit.date())

    def period(self) -> Period:
        return period_for(self.item.row.period, self.day())

    @Slot()
    def previous_period(self) -> None:
        self.day_edit.setDate(qdate(self.period().start - dt.timedelta(days=1)))

    @Slot()
    def next_period(self) -> None:
        nxt = self.period().end + dt.timedelta(days=1)
        self.day_edit.setDate(qdate(min(nxt, self.today)))

    @Slot()
    def _day_changed(self) -> None:
        p = self.period()
        row = self.item.row
        self.period_label.setText(period_label(row.period, self.day()))
        self.period_label.setToolTip(f"{p.start.isoformat()} to {p.end.isoformat()}")
        self.previous_button.setEnabled(p.start > row.start_date)
        self.next_button.setEnabled(p.end < self.today)
        self.fields.clear_field("period")
        self._show_existing()

    # -- what is stored -------------------------------------------------------------------

    def read_history(self) -> None:
        self._generation += 1
        generation = self._generation
        self.history = None
        self.existing_label.setText("Reading the values entered so far…")
        self._busy(False)

        def loaded(rows: list[MeasurementRow]) -> None:
            if generation == self._generation:
                self.history = rows
                self._busy(False)
                self._show_existing()
                self.reload_button.setEnabled(True)
                if self.conflict_bar.isVisible():
                    self.reloaded()

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self.reload_button.setEnabled(True)
            self.existing_label.setText("")
            if self.conflict_bar.isVisible():
                self.reload_failed(exc)
            elif isinstance(exc, PerfDeskError):
                self.form_message.show_error(sentence(str(exc)))
            else:
                self.ctx.ops.present(exc, self)

        self.ctx.ops.run(
            partial(history, self.db, self.item.id, self.acting),
            label="Reading the values entered so far…",
            on_success=loaded,
            on_error=failed,
            parent=self,
        )

    def _show_existing(self) -> None:
        if self.history is None:
            return
        start = self.period().start
        self.existing = next((m for m in self.history if m.period_start == start), None)
        m = self.existing
        name = self.period_label.text()
        if m is None:
            self.existing_label.setText(f"Nothing entered for {name} yet.")
            if self._prefilled:
                self.value_edit.clear()
                self.notes_edit.clear()
                self._prefilled = False
            return
        by = f" by {m.calculated_by}" if m.calculated_by else ""
        self.existing_label.setText(
            f"{name} has {with_unit(m.actual_value, self.item.row.unit)} already "
            f"(entered{by}, {when_text(m.calculated_at)}). Saving replaces it."
        )
        if not self.value_edit.text().strip() or self._prefilled:
            self.value_edit.setText(plain(m.actual_value).replace(",", ""))
            self.notes_edit.setPlainText(m.notes or "")
            self._prefilled = True

    @Slot()
    def _typed(self) -> None:
        self._prefilled = False

    @Slot()
    def _preview(self) -> None:
        text = self.value_edit.text().strip()
        row = self.item.row
        if not text:
            self.preview_label.setText("—")
            return
        try:
            value = parse_decimal(text)
        except (ValueError, ArithmeticError, ValidationError):
            self.preview_label.setText("— (not a number)")
            return
        achieved = stored_pct(achievement_pct(value, row.target_value, row.target_type))
        if achieved is None:
            self.preview_label.setText("Not scored for this value and target")
        else:
            self.preview_label.setText(f"{pct(achieved)} of the target")

    # -- saving ---------------------------------------------------------------------------

    def _busy(self, busy: bool) -> None:
        ready = self.history is not None
        self.ok_button.setEnabled(ready and not busy)
        self.ok_button.setText("Saving…" if busy else self._ok_text)

    def save_task(self) -> Callable[[], Any]:
        existing = self.existing
        return partial(
            enter_value,
            self.db,
            self.item.id,
            self.day(),
            self.value_edit.text(),
            self.notes_edit.toPlainText(),
            existing.version if existing is not None else None,
            self.acting,
        )

    def show_refusal(self, exc: BaseException) -> bool:
        if isinstance(exc, MeasurementError):
            self.show_errors({exc.field: exc.reason})
            return True
        return False

    @Slot()
    def reload(self) -> None:
        self.reload_button.setEnabled(False)
        self._prefilled = True  # show the value stored now
        self.read_history()
