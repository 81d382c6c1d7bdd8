"""Assign a KPI (to a person or a whole team) and edit an assignment's target, weight and dates.

While a person is chosen the dialog shows their weights on the start day with the new weight
added (read in the background), and says so in plain words when they do not add up to 100.
Saving runs in the background; each problem the service finds is said under its field, a
stale edit offers to reload.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.domain.money import parse_decimal
from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.gui.form_fields import FieldSet, invalid_style, sentence
from app.gui.kpis.assignment_models import (
    AssignmentItem,
    period_name,
    plain,
    shown_unit,
    target_name,
)
from app.gui.kpis.assignment_panel import WeightsView, hint
from app.services.dberrors import is_connection_lost
from app.services.kpis.assignments import (
    FIELD_LABELS,
    AssignmentError,
    AssignmentRow,
    assign,
    list_assignments,
    person_weights,
    update_assignment,
)
from app.services.kpis.definitions import DefinitionRow
from app.services.kpis.measurements import period_for
from app.services.records import Acting

if TYPE_CHECKING:
    from app.services.database import Database

DATE_FORMAT = "yyyy-MM-dd"
NOT_100 = (
    "{who}'s weights would add up to {total}, not 100. You may save anyway (while "
    "re-weighting, say); their overall score divides by the total."
)


def qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def pydate(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


def date_edit(name: str, day: dt.date) -> QDateEdit:
    edit = QDateEdit(qdate(day))
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat(DATE_FORMAT)
    return edit


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


class KpiFormDialog(QDialog):
    """A form with a FieldSet, a conflict bar with Reload, a message under the form and
    Save/Cancel; subclasses add their inputs to ``self.form``."""

    saved = Signal(object)  # what the service returned

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        acting: Acting,
        labels: Callable[[str], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.db = db
        self.acting = acting
        self.setStyleSheet(invalid_style())
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields = FieldSet(self.form, labels)

    def finish_form(self, ok_text: str) -> None:
        self.conflict_bar = QFrame()
        self.conflict_bar.setObjectName("conflictBar")
        self.conflict_message = FieldMessage()
        self.conflict_message.setObjectName("conflictMessage")
        self.reload_button = QPushButton("&Reload")
        self.reload_button.setToolTip("Show what is stored now (your edits go)")
        self.reload_button.clicked.connect(self.reload)
        bar = QHBoxLayout(self.conflict_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.conflict_message, 1)
        bar.addWidget(self.reload_button)
        self.conflict_bar.hide()
        self.form.addRow(self.conflict_bar)
        self.form_message = FieldMessage()
        self.form_message.setObjectName("formMessage")
        self.form.addRow(self.form_message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._ok_text = ok_text
        self.ok_button.setText(ok_text)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.form.addRow(self.buttons)

    # -- saving ---------------------------------------------------------------------------

    def save_task(self) -> Callable[[], Any]:
        raise NotImplementedError

    @Slot()
    def submit(self) -> None:
        if not self.ok_button.isEnabled():
            return
        self.clear_errors()
        self._busy(True)
        self.ctx.ops.run(
            self.save_task(),
            label="Saving…",
            on_success=self._saved,
            on_error=self._refused,
            on_finished=lambda: self._busy(False),
            parent=self,
        )

    def _busy(self, busy: bool) -> None:
        self.ok_button.setEnabled(not busy)
        self.ok_button.setText("Saving…" if busy else self._ok_text)

    def _saved(self, result: object) -> None:
        self.saved.emit(result)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        if self.show_refusal(exc):
            return
        if isinstance(exc, ConflictError):
            self.show_conflict(str(exc))
        elif isinstance(exc, ValidationError | PermissionDenied):
            self.form_message.show_error(sentence(str(exc)))
        elif is_connection_lost(exc):
            self.form_message.show_error(
                "Nothing was saved: the connection to the server was lost. Everything you "
                "typed is still here; save again once PerfDesk has reconnected."
            )
        else:
            self.ctx.ops.present(exc, self)

    def show_refusal(self, exc: BaseException) -> bool:
        """A subclass's own kind of refusal, said under its fields (True: handled)."""
        return False

    # -- problems -------------------------------------------------------------------------

    def show_errors(self, errors: Mapping[str, str]) -> None:
        elsewhere = self.fields.place_errors(errors)
        if elsewhere:
            self.form_message.show_error(sentence("; ".join(elsewhere)))

    def clear_errors(self) -> None:
        self.fields.clear()
        self.form_message.clear_message()

    def field_error(self, name: str) -> str:
        return self.fields.error(name)

    def show_conflict(self, text: str) -> None:
        self.conflict_message.show_error(text)
        self.reload_button.show()
        self.conflict_bar.show()
        self.reload_button.setFocus()

    @Slot()
    def reload(self) -> None:
        raise NotImplementedError

    def reloaded(self) -> None:
        self.clear_errors()
        self.conflict_bar.hide()
        self.form_message.show_ok(
            "These are the values saved on the other workstation. Make your change again, "
            "then save."
        )

    def reload_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError | PermissionDenied):
            self.conflict_message.show_error(sentence(str(exc)))
            self.reload_button.hide()  # there is nothing left to reload
        else:
            self.ctx.ops.present(exc, self)


class AssignmentDialog(KpiFormDialog):
    """Assign… (``item`` None: KPI, person or team, target, weight, start, end) or Edit…
    (target, weight, start, end of ``item``)."""

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        *,
        definitions: Sequence[DefinitionRow] = (),
        people: Sequence[tuple[int, str, str]] = (),
        teams: Sequence[tuple[int, str]] = (),
        item: AssignmentItem | None = None,
        acting: Acting = None,
        today: dt.date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, db, acting, field_label, parent)
        self.item = item
        self.row: AssignmentRow | None = item.row if item is not None else None
        self.today = today or dt.date.today()
        self._definitions = [d for d in definitions if d.is_active]
        self._people = list(people)
        self._teams = list(teams)
        self._weights: list[tuple[str, Decimal]] | None = None
        self._weights_key: tuple[int, dt.date] | None = None
        self._pending_key: tuple[int, dt.date] | None = None
        self._generation = 0
        self._start_touched = False
        self._setting_start = False
        self.setObjectName("assignmentDialog")
        self.setWindowTitle("Edit KPI assignment" if item is not None else "Assign a KPI")
        self.setMinimumWidth(500)
        if self.row is None:
            self._build_new()
        else:
            self._build_edit(self.row)
        self._build_terms()
        self.weights = WeightsView()
        self.weights.setObjectName("dialogWeights")
        self.weights_note = FieldMessage()
        self.weights_note.setObjectName("weightsNote")
        self.form.addRow("Their weights:", self.weights)
        self.form.addRow("", self.weights_note)
        self.finish_form("&Save" if item is not None else "&Assign")
        if self.row is not None:
            self.fill(self.row)
        else:
            self._kpi_changed()
            self._assignee_changed()
        self.refresh_weights()

    # -- building -------------------------------------------------------------------------

    def _build_new(self) -> None:
        self.kpi_combo = QComboBox()
        self.kpi_combo.setObjectName("kpiCombo")
        for d in self._definitions:
            self.kpi_combo.addItem(
                f"{d.name} — {period_name(d.aggregation_period)}, "
                f"{target_name(d.target_type).lower()}",
                d.id,
            )
        if not self._definitions:
            self.kpi_combo.setPlaceholderText("No active KPI definitions")
            self.kpi_combo.setCurrentIndex(-1)
        self.fields.add("kpi_id", "&KPI:", self.kpi_combo)
        self.kpi_combo.currentIndexChanged.connect(self._kpi_changed)
        self.kpi_hint = hint()
        self.kpi_hint.setObjectName("kpiHint")
        self.form.addRow("", self.kpi_hint)

        self.person_radio = QRadioButton("A &person")
        self.person_radio.setObjectName("personRadio")
        self.team_radio = QRadioButton("A whole t&eam")
        self.team_radio.setObjectName("teamRadio")
        self.assignee_group = QButtonGroup(self)
        self.assignee_group.addButton(self.person_radio)
        self.assignee_group.addButton(self.team_radio)
        self.person_radio.setChecked(True)
        if not self._teams:
            self.team_radio.setEnabled(False)
            self.team_radio.setToolTip("You manage no team whose members you may all assign to")
        radios = QWidget()
        box = QHBoxLayout(radios)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.person_radio)
        box.addWidget(self.team_radio)
        box.addStretch(1)
        self.form.addRow("Assign to:", radios)
        self.person_radio.toggled.connect(self._assignee_changed)

        self.person_combo = QComboBox()
        self.person_combo.setObjectName("personCombo")
        for user_id, name, email in self._people:
            self.person_combo.addItem(f"{name} ({email})", user_id)
        if not self._people:
            self.person_combo.setPlaceholderText("Nobody you may assign KPIs to")
            self.person_combo.setCurrentIndex(-1)
        self.fields.add("user_id", "Pe&rson:", self.person_combo)
        self.person_combo.currentIndexChanged.connect(self._assignee_changed)

        self.team_combo = QComboBox()
        self.team_combo.setObjectName("teamCombo")
        for team_id, name in self._teams:
            self.team_combo.addItem(name, team_id)
        self.fields.add("team_id", "Tea&m:", self.team_combo)
        self.team_combo.currentIndexChanged.connect(self._assignee_changed)

    def _build_edit(self, row: AssignmentRow) -> None:
        kpi = QLabel(f"{row.kpi_name} — {period_name(row.period)}, "
                     f"{target_name(row.target_type).lower()}")  # fmt: skip
        kpi.setObjectName("kpiLabel")
        kpi.setWordWrap(True)
        self.form.addRow("KPI:", kpi)
        person = QLabel(f"{row.person} ({row.email})")
        person.setObjectName("personLabel")
        self.form.addRow("Person:", person)

    def _build_terms(self) -> None:
        self.target_edit = QLineEdit()
        self.target_edit.setObjectName("targetEdit")
        self.fields.add("target_value", "Tar&get:", self.target_edit)
        self.weight_edit = QLineEdit()
        self.weight_edit.setObjectName("weightEdit")
        self.weight_edit.setPlaceholderText("0 to 100")
        self.weight_edit.setToolTip("How much this KPI counts in the person's overall score")
        self.fields.add("weight", "&Weight:", self.weight_edit)
        self.weight_edit.textChanged.connect(self._show_weights)

        self.start_edit = date_edit("startEdit", self.today)
        self.fields.add("start_date", "S&tart:", self.start_edit)
        self.start_edit.dateChanged.connect(self._start_changed)

        self.end_check = QCheckBox("Ends on")
        self.end_check.setObjectName("endCheck")
        self.end_edit = date_edit("endEdit", self.today)
        self.end_edit.setEnabled(False)
        self.end_check.toggled.connect(self.end_edit.setEnabled)
        end = QWidget()
        box = QHBoxLayout(end)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.end_check)
        box.addWidget(self.end_edit, 1)
        self.fields.add("end_date", "En&d:", end)
        self.end_check.toggled.connect(partial(self.fields.clear_field, "end_date"))
        self.end_edit.dateChanged.connect(partial(self.fields.clear_field, "end_date"))

    def fill(self, row: AssignmentRow) -> None:
        self.target_edit.setText(plain(row.target_value).replace(",", ""))
        self.weight_edit.setText(plain(row.weight).replace(",", ""))
        self._set_start(row.start_date)
        self.end_check.setChecked(row.end_date is not None)
        self.end_edit.setDate(qdate(row.end_date or row.start_date))
        self._set_target_label(row.unit)

    # -- reading the form -----------------------------------------------------------------

    def definition(self) -> DefinitionRow | None:
        if self.row is not None:
            return None
        kpi_id = self.kpi_combo.currentData()
        return next((d for d in self._definitions if d.id == kpi_id), None)

    def person_id(self) -> int | None:
        """The person the weights preview is about (None: a team, or nobody chosen)."""
        if self.row is not None:
            return self.row.user_id
        if not self.person_radio.isChecked():
            return None
        data = self.person_combo.currentData()
        return int(data) if data is not None else None

    def person_name(self) -> str:
        if self.row is not None:
            return self.row.person
        user_id = self.person_id()
        return next((name for i, name, _e in self._people if i == user_id), "")

    def start_date(self) -> dt.date:
        return pydate(self.start_edit.date())

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "target_value": self.target_edit.text(),
            "weight": self.weight_edit.text(),
            "start_date": self.start_date(),
            "end_date": pydate(self.end_edit.date()) if self.end_check.isChecked() else None,
        }
        if self.row is None:
            out["kpi_id"] = self.kpi_combo.currentData()
            if self.person_radio.isChecked():
                out["user_id"] = self.person_combo.currentData()
            else:
                out["team_id"] = self.team_combo.currentData()
        return out

    def _weight(self) -> Decimal | None:
        try:
            return parse_decimal(self.weight_edit.text())
        except (ValueError, ArithmeticError, ValidationError):
            return None

    # -- reacting to choices --------------------------------------------------------------

    @Slot()
    def _kpi_changed(self) -> None:
        d = self.definition()
        if d is None:
            self.kpi_hint.setText("")
            self._set_target_label(None)
        else:
            self.kpi_hint.setText(
                d.description or f"{d.calculation_label}; values per {d.aggregation_period} period."
            )
            self._set_target_label(d.unit)
            if not self._start_touched:
                self._set_start(period_for(d.aggregation_period, self.today).start)
        self._show_weights()

    def _set_target_label(self, unit: str | None) -> None:
        label = self.form.labelForField(self.target_edit)
        if isinstance(label, QLabel):
            shown = shown_unit(unit)
            label.setText(f"Tar&get ({shown}):" if shown else "Tar&get:")

    def _set_start(self, day: dt.date) -> None:
        self._setting_start = True
        try:
            self.start_edit.setDate(qdate(day))
        finally:
            self._setting_start = False

    @Slot()
    def _start_changed(self) -> None:
        self.fields.clear_field("start_date")
        if not self._setting_start:
            self._start_touched = True
        self.refresh_weights()

    @Slot()
    def _assignee_changed(self) -> None:
        if self.row is not None:
            return
        person = self.person_radio.isChecked()
        self.person_combo.setEnabled(person)
        self.team_combo.setEnabled(not person)
        self.fields.clear_field("user_id")
        self.fields.clear_field("team_id")
        self.refresh_weights()

    def refresh_weights(self) -> None:
        """Read the chosen person's weights on the start day, in the background."""
        user_id = self.person_id()
        key = (user_id, self.start_date()) if user_id is not None else None
        if key is not None and key == self._pending_key:
            return  # being read already
        self._generation += 1
        generation = self._generation
        self._pending_key = key
        if user_id is None or key is None:
            self._weights, self._weights_key = None, None
            if self.row is None and self.team_radio.isChecked():
                self.weights.say(
                    "Each member gets their own assignment; their weights are checked when "
                    "you save, and any that do not add up to 100 are listed then."
                )
            else:
                self.weights.say("Choose a person to see their weights.")
            self.weights_note.clear_message()
            return
        if key == self._weights_key and self._weights is not None:
            self._pending_key = None
            self._show_weights()
            return
        self.weights.say("Reading their weights…")
        self.weights_note.clear_message()
        exclude = self.row.id if self.row is not None else None

        def loaded(weights: list[tuple[str, Decimal]]) -> None:
            if generation == self._generation:
                self._pending_key = None
                self._weights, self._weights_key = weights, key
                self._show_weights()

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self._pending_key = None
                self.weights.say(f"Their weights could not be read: {sentence(str(exc))}")

        self.ctx.ops.run(
            partial(person_weights, self.db, key[0], key[1], exclude),
            label="Reading their weights…",
            on_success=loaded,
            on_error=failed,
            parent=self,
        )

    @Slot()
    def _show_weights(self) -> None:
        if self._weights is None or self.person_id() is None:
            return
        weight = self._weight()
        name = self.row.kpi_name if self.row is not None else None
        d = self.definition()
        if d is not None:
            name = d.name
        extra = (name or "This KPI", weight) if weight is not None else None
        self.weights.show_weights(self._weights, extra)
        total = self.weights.total
        if weight is None:
            self.weights_note.show_ok("Type a weight to see their total with it.")
        elif not self.weights.adds_up and total is not None:
            self.weights_note.show_error(NOT_100.format(who=self.person_name(), total=plain(total)))
        else:
            self.weights_note.show_ok("Their weights add up to 100.")

    # -- saving ---------------------------------------------------------------------------

    def save_task(self) -> Callable[[], Any]:
        values = self.values()
        if self.row is None:
            return partial(assign, self.db, values, self.acting)
        return partial(
            update_assignment, self.db, self.row.id, values, self.row.version, self.acting
        )

    def show_refusal(self, exc: BaseException) -> bool:
        if isinstance(exc, AssignmentError):
            self.show_errors(exc.errors)
            return True
        return False

    @Slot()
    def reload(self) -> None:
        row = self.row
        if row is None:
            return

        def read() -> AssignmentRow:
            rows = list_assignments(
                self_db, acting, user_id=row.user_id, kpi_id=row.kpi_id, active_only=False
            )
            fresh = next((r for r in rows if r.id == row.id), None)
            if fresh is None:
                raise ValidationError("That KPI assignment no longer exists.")
            return fresh

        def done(fresh: AssignmentRow) -> None:
            self.row = fresh
            self.fill(fresh)
            self.reloaded()

        self_db, acting = self.db, self.acting
        self.reload_button.setEnabled(False)
        self.ctx.ops.run(
            read,
            label="Reloading the assignment…",
            on_success=done,
            on_error=self.reload_failed,
            on_finished=lambda: self.reload_button.setEnabled(True),
            parent=self,
        )
