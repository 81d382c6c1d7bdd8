"""Enter activities… (SPEC §8): a person's calls, emails and meetings for one period — the
activities with no record of their own, which the Goals page's figures count.

The person is the acting person or one of the people they may enter for (the members of the
teams they manage; an admin, or the one local person, anyone's). Any day may be picked, the
counts are stored for the whole period holding it, which the dialog names ("March 2026",
"Week of 2 Mar 2026"); ◀ and ▶ step a period at a time, never past the current one. The counts
entered so far for that period are read in the background and filled in (a count typed by
the person stays); saving replaces the counts given, a blank one stays as it was.

Counts are checked before saving (whole numbers from 0 to 100,000; each problem is said under
its field); the save runs in the background and then tells the Goals page to read again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from app.domain.enums import PeriodType
from app.domain.errors import PerfDeskError, PermissionDenied, ValidationError
from app.domain.periods import Period, period_of
from app.gui.context import AppContext
from app.gui.form_fields import sentence
from app.gui.kpis.assignment_dialog import KpiFormDialog, date_edit, pydate, qdate
from app.gui.kpis.assignment_models import period_label, period_name
from app.gui.kpis.assignment_panel import hint
from app.services.kpis.activities import (
    ACTIVITY_LABELS,
    MAX_COUNT,
    activities_of,
    check_count,
    enter_activities,
)
from app.services.kpis.assignments import assignable_people
from app.services.pipeline.common import acting_user_id
from app.services.records import Acting, resolve_actor

if TYPE_CHECKING:
    from app.services.database import Database

#: ``AppEvents.data_changed`` kind told after a save (the Goals page's figures count them).
GOALS = "goals"
LABELS = {
    "user_id": "Person",
    "period_type": "Period type",
    "period": "Period",
    **ACTIVITY_LABELS,
}
NOBODY = "Nobody whose activities you may enter"


def field_label(name: str) -> str:
    return LABELS.get(name, name)


@dataclass(frozen=True)
class EntryPeople:
    """Whom the acting person may enter activities for, and who is chosen first."""

    people: list[tuple[int, str, str]]  # (id, name, email)
    me: int | None


def entry_people(db: Database, acting: Acting = None) -> EntryPeople:
    """Runs on a worker: the acting person themself, then those they may enter for."""
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        try:
            me: int | None = acting_user_id(s, actor)
        except PermissionDenied:  # an office with no broker or admin yet
            me = None
    people = list(assignable_people(db, acting))
    if actor is not None and all(i != actor.id for i, _n, _e in people):
        people.insert(0, (actor.id, actor.full_name, actor.email))
    return EntryPeople(people, me)


def counts_text(counts: Mapping[str, int]) -> str:
    """ "120 calls, 80 emails and 0 meetings" in the form's order."""
    parts = [
        f"{counts[a]:,} {label.lower()}" for a, label in ACTIVITY_LABELS.items() if a in counts
    ]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


class ActivityDialog(KpiFormDialog):
    def __init__(
        self,
        ctx: AppContext,
        db: Database,
        *,
        person_id: int | None = None,
        acting: Acting = None,
        today: dt.date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, db, acting, field_label, parent)
        self.today = today or dt.date.today()
        self.wanted_person = person_id
        self.people: EntryPeople | None = None
        #: The counts stored for the period shown (None: not read yet).
        self.existing: dict[str, int] | None = None
        self._typed: set[str] = set()  # counts the person typed (kept when the period changes)
        self._generation = 0
        self.setObjectName("activityDialog")
        self.setWindowTitle("Enter activities")
        self.setMinimumWidth(460)

        self.person_combo = QComboBox()
        self.person_combo.setObjectName("personCombo")
        self.person_combo.setPlaceholderText("Reading…")
        self.person_combo.setEnabled(False)
        self.person_combo.currentIndexChanged.connect(self._choice_changed)
        self.fields.add("user_id", "P&erson:", self.person_combo)

        self.period_combo = QComboBox()
        self.period_combo.setObjectName("periodTypeCombo")
        for p in PeriodType:
            self.period_combo.addItem(period_name(p.value), p.value)
        self.period_combo.setCurrentIndex(self.period_combo.findData(PeriodType.MONTHLY.value))
        self.period_combo.currentIndexChanged.connect(self._choice_changed)
        self.fields.add("period_type", "Counted &per:", self.period_combo)

        self.previous_button = QToolButton()
        self.previous_button.setObjectName("previousPeriod")
        self.previous_button.setText("◀")
        self.previous_button.setToolTip("The period before")
        self.previous_button.clicked.connect(self.previous_period)
        self.day_edit = date_edit("dayEdit", self.today)
        self.day_edit.setToolTip("Any day of the period; the counts are for the whole period")
        self.day_edit.setMaximumDate(qdate(self.today))
        self.day_edit.dateChanged.connect(self._choice_changed)
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
        self.fields.add("period", "Peri&od:", picker)
        self.existing_label = hint()
        self.existing_label.setObjectName("existingLabel")
        self.form.addRow("", self.existing_label)

        self.count_edits: dict[str, QLineEdit] = {}
        for activity, label in ACTIVITY_LABELS.items():
            edit = QLineEdit()
            edit.setObjectName(f"{activity}Edit")
            edit.setPlaceholderText("not entered")
            edit.setToolTip(f"A whole number from 0 to {MAX_COUNT:,}; blank: leave as it is")
            edit.textEdited.connect(partial(self._typed_in, activity))
            self.count_edits[activity] = edit
            self.fields.add(activity, f"&{label}:", edit)
        self.calls_edit = self.count_edits["calls"]
        self.emails_edit = self.count_edits["emails"]
        self.meetings_edit = self.count_edits["meetings"]
        self.finish_form("&Save")
        self._show_period()
        self._busy(False)
        self.read_people()

    # -- whom and when --------------------------------------------------------------------

    def person_id(self) -> int | None:
        data = self.person_combo.currentData()
        return int(data) if data is not None else None

    def person_name(self) -> str:
        user_id = self.person_id()
        people = self.people.people if self.people is not None else []
        return next((n for i, n, _e in people if i == user_id), "")

    def period_type(self) -> str:
        return str(self.period_combo.currentData() or PeriodType.MONTHLY.value)

    def day(self) -> dt.date:
        return pydate(self.day_edit.date())

    def period(self) -> Period:
        return period_of(PeriodType(self.period_type()), self.day())

    def period_text(self) -> str:
        return period_label(self.period_type(), self.day())

    @Slot()
    def previous_period(self) -> None:
        self.day_edit.setDate(qdate(self.period().start - dt.timedelta(days=1)))

    @Slot()
    def next_period(self) -> None:
        nxt = self.period().end + dt.timedelta(days=1)
        self.day_edit.setDate(qdate(min(nxt, self.today)))

    def _show_period(self) -> None:
        p = self.period()
        self.period_label.setText(self.period_text())
        self.period_label.setToolTip(f"{p.start.isoformat()} to {p.end.isoformat()}")
        self.next_button.setEnabled(p.end < self.today)

    @Slot()
    def _choice_changed(self) -> None:
        self.fields.clear_field("period")
        self._show_period()
        self.read_counts()

    @Slot()
    def _typed_in(self, activity: str, _text: str = "") -> None:
        self._typed.add(activity)

    # -- reading --------------------------------------------------------------------------

    def read_people(self) -> None:
        def loaded(result: EntryPeople) -> None:
            self.people = result
            self._fill_people(result)

        def failed(exc: BaseException) -> None:
            self.person_combo.setPlaceholderText(NOBODY)
            if isinstance(exc, PerfDeskError):
                self.form_message.show_error(sentence(str(exc)))
            else:
                self.ctx.ops.present(exc, self)

        self.ctx.ops.run(
            partial(entry_people, self.db, self.acting),
            label="Reading whom you may enter activities for…",
            on_success=loaded,
            on_error=failed,
            parent=self,
        )

    def _fill_people(self, result: EntryPeople) -> None:
        combo = self.person_combo
        combo.blockSignals(True)
        try:
            combo.clear()
            for user_id, name, email in result.people:
                combo.addItem(f"{name} ({email})", user_id)
            index = -1
            for wanted in (self.wanted_person, result.me):
                if index < 0 and wanted is not None:
                    index = combo.findData(wanted)
            combo.setCurrentIndex(max(index, 0) if result.people else -1)
        finally:
            combo.blockSignals(False)
        if not result.people:
            combo.setPlaceholderText(NOBODY)
            self.existing_label.setText("")
            self.form_message.show_error(f"{NOBODY}.")
            return
        combo.setEnabled(len(result.people) > 1)
        self.read_counts()

    def read_counts(self) -> None:
        """The counts stored for the person and period shown (the last one asked wins)."""
        self._generation += 1
        generation = self._generation
        self.existing = None
        self._busy(False)
        user_id = self.person_id()
        if user_id is None:
            return
        name = self.period_text()
        self.existing_label.setText(f"Reading the counts entered for {name}…")

        def loaded(counts: dict[str, int]) -> None:
            if generation == self._generation:
                self.existing = counts
                self._show_existing(name)
                self._busy(False)

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self.existing_label.setText("")
            if isinstance(exc, PerfDeskError):
                self.form_message.show_error(sentence(str(exc)))
            else:
                self.ctx.ops.present(exc, self)

        self.ctx.ops.run(
            partial(activities_of, self.db, user_id, self.period_type(), self.day(), self.acting),
            label="Reading the activities entered…",
            on_success=loaded,
            on_error=failed,
            parent=self,
        )

    def _show_existing(self, name: str) -> None:
        counts = self.existing or {}
        if counts:
            self.existing_label.setText(
                f"Entered for {name}: {counts_text(counts)}. Saving replaces the counts you "
                "give; a blank one stays as it is."
            )
        else:
            self.existing_label.setText(f"Nothing entered for {name} yet.")
        for activity, edit in self.count_edits.items():
            if activity in self._typed:
                continue
            stored = counts.get(activity)
            edit.setText("" if stored is None else str(stored))

    # -- saving ---------------------------------------------------------------------------

    def _busy(self, busy: bool) -> None:
        ready = self.existing is not None and self.person_id() is not None
        self.ok_button.setEnabled(ready and not busy)
        self.ok_button.setText("Saving…" if busy else self._ok_text)

    def counts(self) -> dict[str, str]:
        return {a: edit.text().strip() for a, edit in self.count_edits.items()}

    def problems(self) -> dict[str, str]:
        """What the service would refuse in the counts, by field, before asking it."""
        errors: dict[str, str] = {}
        for activity, text in self.counts().items():
            if text:
                try:
                    check_count(text)
                except ValidationError as exc:
                    errors[activity] = str(exc).removeprefix("Count: ")
        return errors

    @Slot()
    def submit(self) -> None:
        if not self.ok_button.isEnabled():
            return
        self.clear_errors()
        errors = self.problems()
        if errors:
            self.show_errors(errors)
            return
        if not any(self.counts().values()):
            self.form_message.show_error("Type at least one count.")
            self.calls_edit.setFocus()
            return
        super().submit()

    def save_task(self) -> Callable[[], Any]:
        user_id = self.person_id()
        if user_id is None:  # Save is disabled until someone is chosen
            raise ValidationError("Choose a person.")
        return partial(
            enter_activities,
            self.db,
            user_id,
            self.period_type(),
            self.day(),
            self.counts(),
            self.acting,
        )

    def show_refusal(self, exc: BaseException) -> bool:
        if not isinstance(exc, ValidationError):
            return False
        text = str(exc)
        for prefix, name in (("Period: ", "period"), ("Count: ", None)):
            if text.startswith(prefix):
                reason = text.removeprefix(prefix)
                if name is None:
                    self.form_message.show_error(sentence(reason))
                else:
                    self.show_errors({name: reason})
                return True
        if "active person" in text:
            self.show_errors({"user_id": text})
            return True
        return False

    def _saved(self, result: object) -> None:
        self.ctx.events.say(
            f"Saved the activities of {self.person_name()} for {self.period_text()}."
        )
        self.ctx.events.changed(GOALS)
        super()._saved(result)

    @Slot()
    def reload(self) -> None:
        self._typed.clear()
        self.read_counts()
