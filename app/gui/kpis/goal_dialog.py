"""New goal… and Edit… (SPEC §8): for a person or a whole team, what it counts, its period,
target and description; the current value only for a custom goal (the others are computed
from PerfDesk's records when it is saved). The period is a whole one: the dialog says which
("1 Oct – 31 Dec 2026") as the start or the period type changes.

Saving runs in the background; each problem the service finds is said under its field, a
stale edit offers to reload, a refusal (only managers and admins set goals) is said under the
form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QWidget,
)

from app.domain.enums import GoalType, PeriodType
from app.domain.errors import ValidationError
from app.domain.periods import period_of
from app.gui.context import AppContext
from app.gui.kpis.assignment_dialog import KpiFormDialog, date_edit, pydate, qdate
from app.gui.kpis.assignment_models import period_label, period_name, plain
from app.gui.kpis.goal_models import goal_label, goal_unit, owner_text, span_text
from app.services.kpis.goals import (
    FIELD_LABELS,
    GOAL_LABELS,
    GoalError,
    GoalRow,
    list_goals,
    save_goal,
)
from app.services.records import Acting

if TYPE_CHECKING:
    from app.services.database import Database


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


class GoalDialog(KpiFormDialog):
    """New goal (``row`` None: owner, kind, period, target…) or Edit (``row``'s kind, period,
    target, description; its owner stays)."""

    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        *,
        people: Sequence[tuple[int, str, str]] = (),
        teams: Sequence[tuple[int, str]] = (),
        row: GoalRow | None = None,
        currency: str = "USD",
        acting: Acting = None,
        today: dt.date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, db, acting, field_label, parent)
        self.row = row
        self.currency = currency
        self.today = today or dt.date.today()
        self._people = list(people)
        self._teams = list(teams)
        self.setObjectName("goalDialog")
        self.setWindowTitle("Edit goal" if row is not None else "New goal")
        self.setMinimumWidth(480)
        if row is None:
            self._build_owner()
        else:
            owner = QLabel(owner_text(row))
            owner.setObjectName("ownerLabel")
            self.form.addRow("For:", owner)
        self._build_terms()
        self.finish_form("&Save" if row is not None else "&Add goal")
        if row is not None:
            self.fill(row)
        else:
            self._owner_changed()
            self._type_changed()
        self._show_period()

    # -- building -------------------------------------------------------------------------

    def _build_owner(self) -> None:
        self.person_radio = QRadioButton("A &person")
        self.person_radio.setObjectName("personRadio")
        self.team_radio = QRadioButton("A whole &team")
        self.team_radio.setObjectName("teamRadio")
        self.owner_group = QButtonGroup(self)
        self.owner_group.addButton(self.person_radio)
        self.owner_group.addButton(self.team_radio)
        if not self._people and self._teams:
            self.team_radio.setChecked(True)
        else:
            self.person_radio.setChecked(True)
        if not self._teams:
            self.team_radio.setEnabled(False)
            self.team_radio.setToolTip("You manage no team whose goals you may set")
        if not self._people:
            self.person_radio.setEnabled(False)
            self.person_radio.setToolTip("Nobody whose goals you may set")
        radios = QWidget()
        box = QHBoxLayout(radios)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.person_radio)
        box.addWidget(self.team_radio)
        box.addStretch(1)
        self.form.addRow("Goal for:", radios)
        self.person_radio.toggled.connect(self._owner_changed)

        self.person_combo = QComboBox()
        self.person_combo.setObjectName("personCombo")
        for user_id, name, email in self._people:
            self.person_combo.addItem(f"{name} ({email})", user_id)
        if not self._people:
            self.person_combo.setPlaceholderText("Nobody whose goals you may set")
            self.person_combo.setCurrentIndex(-1)
        self.fields.add("user_id", "P&erson:", self.person_combo)

        self.team_combo = QComboBox()
        self.team_combo.setObjectName("teamCombo")
        for team_id, name in self._teams:
            self.team_combo.addItem(name, team_id)
        if not self._teams:
            self.team_combo.setPlaceholderText("No team whose goals you may set")
            self.team_combo.setCurrentIndex(-1)
        self.fields.add("team_id", "T&eam:", self.team_combo)

    def _build_terms(self) -> None:
        self.type_combo = QComboBox()
        self.type_combo.setObjectName("typeCombo")
        for value, label in GOAL_LABELS.items():
            self.type_combo.addItem(label, value)
        self.fields.add("goal_type", "&Goal:", self.type_combo)
        self.type_combo.currentIndexChanged.connect(self._type_changed)

        self.period_combo = QComboBox()
        self.period_combo.setObjectName("periodCombo")
        for p in PeriodType:
            self.period_combo.addItem(period_name(p.value), p.value)
        self.period_combo.setCurrentIndex(self.period_combo.findData(PeriodType.MONTHLY.value))
        self.fields.add("period_type", "&Period:", self.period_combo)
        self.period_combo.currentIndexChanged.connect(self._show_period)

        self.start_edit = date_edit("startEdit", self.today)
        self.start_edit.setToolTip("Any day of the period: the goal covers the whole period")
        self.fields.add("period_start", "&Starting:", self.start_edit)
        self.start_edit.dateChanged.connect(self._start_changed)
        self.span_label = QLabel()
        self.span_label.setObjectName("spanLabel")
        self.span_label.setProperty("role", "hint")
        self.form.addRow("", self.span_label)

        self.target_edit = QLineEdit()
        self.target_edit.setObjectName("targetEdit")
        self.fields.add("target_value", "&Target:", self.target_edit)

        self.current_edit = QLineEdit()
        self.current_edit.setObjectName("currentEdit")
        self.current_edit.setPlaceholderText("0")
        self.current_edit.setToolTip("A custom goal's progress is entered by hand")
        self.fields.add("current_value", "&Current value:", self.current_edit)

        self.description_edit = QLineEdit()
        self.description_edit.setObjectName("descriptionEdit")
        self.description_edit.setPlaceholderText("optional, e.g. Q4 push on listings")
        self.fields.add("description", "&Description:", self.description_edit)

    def fill(self, row: GoalRow) -> None:
        self.type_combo.setCurrentIndex(max(self.type_combo.findData(row.goal_type), 0))
        self.period_combo.setCurrentIndex(max(self.period_combo.findData(row.period_type), 0))
        self.start_edit.setDate(qdate(row.period_start))
        self.target_edit.setText(plain(row.target_value).replace(",", ""))
        custom = row.goal_type == GoalType.CUSTOM.value
        self.current_edit.setText(plain(row.current_value).replace(",", "") if custom else "")
        self.description_edit.setText(row.description or "")
        self._type_changed()
        self._show_period()

    # -- reading the form -----------------------------------------------------------------

    def goal_type(self) -> str:
        return str(self.type_combo.currentData() or "")

    def period_type(self) -> str:
        return str(self.period_combo.currentData() or PeriodType.MONTHLY.value)

    def start_date(self) -> dt.date:
        return pydate(self.start_edit.date())

    def covered(self) -> tuple[dt.date, dt.date]:
        p = period_of(PeriodType(self.period_type()), self.start_date())
        return p.start, p.end

    def owner_name(self) -> str:
        if self.row is not None:
            return self.row.owner
        if self.person_radio.isChecked():
            user_id = self.person_combo.currentData()
            return next((n for i, n, _e in self._people if i == user_id), "")
        return str(self.team_combo.currentText())

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "goal_type": self.goal_type(),
            "period_type": self.period_type(),
            "period_start": self.start_date(),
            "target_value": self.target_edit.text(),
            "description": self.description_edit.text(),
        }
        if self.goal_type() == GoalType.CUSTOM.value:
            out["current_value"] = self.current_edit.text()
        if self.row is None:
            if self.person_radio.isChecked():
                out["user_id"] = self.person_combo.currentData()
            else:
                out["team_id"] = self.team_combo.currentData()
        return out

    # -- reacting to choices --------------------------------------------------------------

    @Slot()
    def _owner_changed(self) -> None:
        person = self.person_radio.isChecked()
        self.person_combo.setEnabled(person)
        self.team_combo.setEnabled(not person)
        self.fields.clear_field("user_id")
        self.fields.clear_field("team_id")

    @Slot()
    def _type_changed(self) -> None:
        kind = self.goal_type()
        unit = goal_unit(kind, self.currency)
        label = self.form.labelForField(self.target_edit)
        if isinstance(label, QLabel):
            label.setText(f"&Target ({unit}):" if unit else "&Target:")
        custom = kind == GoalType.CUSTOM.value
        self.form.setRowVisible(self.current_edit, custom)
        self.form.setRowVisible(self.fields.messages["current_value"], custom)
        self.fields.clear_field("current_value")
        self.target_edit.setToolTip(
            "What the goal counts up to; a custom goal's progress is entered below"
            if custom
            else f"{goal_label(kind)} over the period, computed from PerfDesk's records"
        )

    @Slot()
    def _start_changed(self) -> None:
        self.fields.clear_field("period_start")
        self._show_period()

    @Slot()
    def _show_period(self) -> None:
        self.fields.clear_field("period_type")
        start, end = self.covered()
        name = period_label(self.period_type(), start)
        self.span_label.setText(f"Covers {span_text(start, end)} ({name})")

    # -- saving ---------------------------------------------------------------------------

    def save_task(self) -> Callable[[], Any]:
        row = self.row
        return partial(
            save_goal,
            self.db,
            self.values(),
            row.id if row is not None else None,
            row.version if row is not None else None,
            self.acting,
        )

    def show_refusal(self, exc: BaseException) -> bool:
        if isinstance(exc, GoalError):
            self.show_errors(exc.errors)
            return True
        return False

    @Slot()
    def reload(self) -> None:
        row = self.row
        if row is None:
            return
        db, acting = self.db, self.acting

        def read() -> GoalRow:
            rows = list_goals(db, acting, user_id=row.user_id, team_id=row.team_id)
            fresh = next((r for r in rows if r.id == row.id), None)
            if fresh is None:
                raise ValidationError("That goal no longer exists.")
            return fresh

        def done(fresh: GoalRow) -> None:
            self.row = fresh
            self.fill(fresh)
            self.reloaded()

        self.reload_button.setEnabled(False)
        self.ctx.ops.run(
            read,
            label="Reloading the goal…",
            on_success=done,
            on_error=self.reload_failed,
            on_finished=lambda: self.reload_button.setEnabled(True),
            parent=self,
        )
