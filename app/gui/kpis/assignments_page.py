"""The KPI assignments page: the assignments the acting person may read (SPEC §1: their own, a
broker's agents', a manager's team, everyone's for an admin), filtered by text, person and
whether ended ones show; beside them the selected one's weights and measurements.

Managers (for their team) and admins assign KPIs, change and end assignments and enter the
values of manual KPIs; the buttons say why when they may not. Everything that reads or writes
runs in the background; the page reads again when assignments, measurements, definitions or
people change.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QByteArray, QModelIndex, Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.gui import events, table_page
from app.gui.context import AppContext
from app.gui.kpis.assignment_dialog import AssignmentDialog
from app.gui.kpis.assignment_models import (
    COL_PERSON,
    ID_ROLE,
    ROW_ROLE,
    AssignmentFilterProxy,
    AssignmentItem,
    assignments_model,
    period_label,
    plain,
)
from app.gui.kpis.assignment_panel import AssignmentPanel
from app.gui.kpis.measurement_dialog import MeasurementDialog
from app.gui.page_loading import BackgroundPage, BackgroundRead
from app.gui.pages import page
from app.services.kpis.access import kpi_scope
from app.services.kpis.assignments import (
    AssignResult,
    assignable_people,
    assignable_teams,
    list_assignments,
    update_assignment,
)
from app.services.kpis.definitions import DefinitionRow, list_definitions
from app.services.kpis.measurements import Entered
from app.services.kpis.scorecards import viewable_teams
from app.services.records import Acting, resolve_actor
from app.services.users import list_users

if TYPE_CHECKING:
    from app.services.database import Database

log = logging.getLogger(__name__)

#: ``AppEvents.data_changed`` kinds of the KPI pages.
KPI_ASSIGNMENTS = "kpi_assignments"
KPI_MEASUREMENTS = "kpi_measurements"
KPI_DEFINITIONS = "kpi_definitions"
KINDS = (KPI_ASSIGNMENTS, KPI_MEASUREMENTS, KPI_DEFINITIONS, events.PEOPLE)

SPLITTER_KEY = "kpi_assignments/splitter"
SHOW_ENDED_KEY = "kpi_assignments/show_ended"
PANEL_MIN_WIDTH = 380
MAX_COLUMN_WIDTH = 240
NOT_ASSIGNER = "Only managers (for the members of their team) and admins assign KPIs."
NOT_WRITER = "Only the manager of {person}'s team or an admin may change their KPIs."

DialogT = TypeVar("DialogT", bound=QDialog)

#: ``confirm(parent, title, text, action) -> bool``: tests replace it.
Confirm = Callable[[QWidget, str, str, str], bool]


def ask(parent: QWidget, title: str, text: str, action: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, APP_NAME, text, parent=parent)
    box.setObjectName("confirmBox")
    box.setWindowTitle(title)
    yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is yes


@dataclass(frozen=True)
class Loaded:
    items: list[AssignmentItem]
    definitions: list[DefinitionRow]  # the active ones, for Assign…
    people: list[tuple[int, str, str]]  # whom the acting person may assign to
    teams: list[tuple[int, str]]  # whose members they may all assign to
    may_assign: bool


def load_assignments(db: Database, acting: Acting = None) -> Loaded:
    """Runs on a worker: every assignment the acting person may read, with what the page and
    its dialogs need."""
    with db.read() as s:
        scope = kpi_scope(s, resolve_actor(s, db, acting))
    rows = list_assignments(db, acting, active_only=False)
    definitions = list_definitions(db, include_inactive=True)
    by_id = {d.id: d for d in definitions}
    may_assign = scope.may_assign
    people = list(assignable_people(db, acting)) if may_assign else []
    teams = list(assignable_teams(db, acting)) if may_assign else []
    names = dict(viewable_teams(db, acting)) | dict(teams)
    theirs: dict[int, str] = {}
    if any(r.team_id is not None and r.team_id not in names for r in rows):
        # a team the acting person neither manages nor brokers (an agent's own): the
        # member's team is the one it came from
        theirs = {u.id: u.team or "" for u in list_users(db)}

    def team_name(team_id: int | None, user_id: int) -> str:
        if team_id is None:
            return ""
        return names.get(team_id) or theirs.get(user_id) or "A team"

    items = [
        AssignmentItem(
            row, team_name(row.team_id, row.user_id), scope.may_write(row.user_id),
            by_id.get(row.kpi_id),
        )
        for row in rows
    ]  # fmt: skip
    return Loaded(items, [d for d in definitions if d.is_active], people, teams, may_assign)


class AssignmentsPage(BackgroundPage):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("kpiAssignmentsPage")
        #: Whose rules apply: None is the login (shared) or the one local person.
        self.acting: Acting = None
        self.confirm: Confirm = ask
        self._loaded: Loaded | None = None
        self._problem: str | None = None
        self._select_after_load: int | None = None
        self._columns_sized = False
        self._shown_id: int | None = None
        self._read = BackgroundRead(
            self,
            "Reading KPI assignments…",
            lambda db: partial(load_assignments, db, self.acting),
            self._show,
            kinds=KINDS,
            refused=self._refused,
        )

        self.model = assignments_model(self)
        self.proxy = AssignmentFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        heading = QLabel("KPI assignments")
        heading.setProperty("role", "pageTitle")
        self.assign_button = QPushButton("&Assign…")
        self.assign_button.setObjectName("assignButton")
        self.assign_button.clicked.connect(self.assign)
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setObjectName("editButton")
        self.edit_button.clicked.connect(self.edit_current)
        self.end_button = QPushButton("E&nd assignment")
        self.end_button.setObjectName("endButton")
        self.end_button.clicked.connect(self.end_current)
        self.value_button = QPushButton("Enter &value…")
        self.value_button.setObjectName("valueButton")
        self.value_button.clicked.connect(self.enter_value)

        self.filter_edit = table_page.make_filter_edit(
            "kpiAssignmentsFilter", "Filter by person, KPI or team (Ctrl+F)", self._filter
        )
        self.person_combo = QComboBox()
        self.person_combo.setObjectName("personFilter")
        self.person_combo.setToolTip("Show one person's assignments")
        self.person_combo.addItem("Everyone", None)
        self.person_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.person_combo.currentIndexChanged.connect(self._person_chosen)
        self.ended_check = QCheckBox("Show en&ded")
        self.ended_check.setObjectName("showEnded")
        self.ended_check.setToolTip("Also show assignments ended or past their end date")
        self.ended_check.setChecked(bool(ctx.settings.qsettings.value(SHOW_ENDED_KEY, False, bool)))
        self.proxy.set_show_ended(self.ended_check.isChecked())
        self.ended_check.toggled.connect(self._show_ended)
        self.count_label = table_page.make_count_label()
        table_page.add_find_shortcut(self, self._focus_filter)
        QShortcut(QKeySequence.StandardKey.New, self, self.assign)

        self.table = table_page.make_table(
            "kpiAssignmentsTable", self.proxy, COL_PERSON, self.fontMetrics()
        )
        self.table.activated.connect(self.edit_index)  # Enter, or a double-click
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.empty_label = table_page.make_empty_label()
        self.body = table_page.make_body(self.table, self.empty_label)

        self.panel = AssignmentPanel(ctx, self)
        self.panel.setMinimumWidth(PANEL_MIN_WIDTH)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("kpiAssignmentsSplitter")
        self.splitter.addWidget(self.body)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setCollapsible(0, False)
        state = ctx.settings.qsettings.value(SPLITTER_KEY)
        if not (isinstance(state, QByteArray) and self.splitter.restoreState(state)):
            self.splitter.setSizes([600, 420])
        self.splitter.splitterMoved.connect(self._save_splitter)

        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        for button in (self.assign_button, self.edit_button, self.end_button, self.value_button):
            top.addWidget(button)
        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.person_combo)
        bar.addWidget(self.ended_check)
        bar.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)

        self.database_closed()
        self.watch_database()
        ctx.events.record_requested.connect(self._on_record_requested)

    # -- the database ---------------------------------------------------------------------

    def database_opened(self) -> None:
        self._columns_sized = False
        self._clear()

    def database_closed(self) -> None:
        self._clear()
        self._fill_people([])
        self._update_state()
        self.current_changed()

    def _refused(self, problem: str) -> None:
        self._clear(problem)
        self._update_state()

    def _clear(self, problem: str | None = None) -> None:
        self._loaded = None
        self._problem = problem
        self.model.set_rows([])

    def _show(self, result: Loaded) -> None:
        keep = self._select_after_load or self.current_id()
        self._select_after_load = None
        self._loaded = result
        self._problem = None
        self._shown_id = None  # read the selected one's weights and history again
        self.proxy.today = dt.date.today()
        self.model.set_rows(result.items)
        self._fill_people(result.items)
        if result.items and not self._columns_sized:
            self._columns_sized = True  # once, to the first data; then the person's widths
            table_page.fit_columns(self.table, MAX_COLUMN_WIDTH)
        selected = keep is not None and self.select_id(keep)
        if not selected and self.proxy.rowCount():
            self.select_id(self.proxy.index(0, 0).data(ID_ROLE))
        self._update_state()
        self.current_changed()

    def _fill_people(self, items: Sequence[AssignmentItem]) -> None:
        chosen = self.person_combo.currentData()
        people = sorted(
            {i.row.user_id: i.row.person for i in items}.items(), key=lambda p: p[1].casefold()
        )
        self.person_combo.blockSignals(True)
        try:
            self.person_combo.clear()
            self.person_combo.addItem("Everyone", None)
            for user_id, name in people:
                self.person_combo.addItem(name, user_id)
            index = self.person_combo.findData(chosen) if chosen is not None else 0
            self.person_combo.setCurrentIndex(max(index, 0))
        finally:
            self.person_combo.blockSignals(False)
        self.proxy.set_person(self.person_combo.currentData())

    # -- filters and state ----------------------------------------------------------------

    @Slot()
    def _focus_filter(self) -> None:
        table_page.focus_filter(self.filter_edit)

    @Slot(str)
    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_state()

    @Slot()
    def _person_chosen(self) -> None:
        self.proxy.set_person(self.person_combo.currentData())
        self._update_state()

    @Slot(bool)
    def _show_ended(self, show: bool) -> None:
        self.ctx.settings.qsettings.setValue(SHOW_ENDED_KEY, show)
        self.proxy.set_show_ended(show)
        self._update_state()

    @Slot()
    def _save_splitter(self) -> None:
        self.ctx.settings.qsettings.setValue(SPLITTER_KEY, self.splitter.saveState())

    def _update_state(self) -> None:
        self._update_buttons()
        loaded = self._loaded
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        count = ""
        if self._db is None:
            empty: str | None = "Open a database to see KPI assignments."
        elif self._problem is not None:
            empty = self._problem
        elif loaded is None:
            empty = "Reading KPI assignments…"
        else:
            count = table_page.count_text(shown, total, "assignment", "assignments")
            if total == 0:
                empty = (
                    "No KPIs assigned yet.\nAssign the first with Assign… (Ctrl+N)."
                    if loaded.may_assign
                    else "No KPI assignments to show: none are yours to see yet."
                )
            elif shown == 0:
                text = self.filter_edit.text().strip()
                if text:
                    empty = f"No assignments match “{text}”."
                elif not self.ended_check.isChecked():
                    empty = "No current assignments here.\nTick Show ended to see ended ones."
                else:
                    empty = "No assignments match the filters."
            else:
                empty = None
        self.count_label.setText(count)
        table_page.show_empty(self.body, self.table, self.empty_label, empty)

    def _update_buttons(self) -> None:
        loaded = self._loaded
        may_assign = loaded is not None and loaded.may_assign
        self.assign_button.setEnabled(may_assign)
        self.assign_button.setToolTip(
            "Assign a KPI to a person or a whole team (Ctrl+N)"
            if may_assign or loaded is None
            else NOT_ASSIGNER
        )
        item = self.current_item()
        refused = NOT_WRITER.format(person=item.row.person) if item and not item.may_write else ""
        writable = item is not None and item.may_write
        self.edit_button.setEnabled(writable)
        self.edit_button.setToolTip(
            refused or "Change the selected assignment's target, weight or dates (Enter)"
        )
        ended = item is not None and not item.row.is_active
        self.end_button.setEnabled(writable and not ended)
        self.end_button.setToolTip(
            refused
            or ("This assignment has been ended already" if ended else "")
            or "End the selected assignment: it is no longer computed or scored"
        )
        manual = item is not None and item.manual
        self.value_button.setEnabled(writable and manual)
        if refused:
            tip = refused
        elif item is not None and not manual:
            tip = (
                f"{item.row.kpi_name} is computed by PerfDesk ({item.calculation_label}); "
                "values are entered only for manual KPIs"
            )
        else:
            tip = "Enter the selected manual KPI's value for a period"
        self.value_button.setToolTip(tip)

    # -- selection ------------------------------------------------------------------------

    def current_item(self) -> AssignmentItem | None:
        rows = self.table.selectionModel().selectedRows()
        item = rows[0].data(ROW_ROLE) if rows else None
        return item if isinstance(item, AssignmentItem) else None

    def _on_record_requested(self, kind: str, record_id: object) -> None:
        """A notification (a member missing a target) asks for an assignment: show everyone's,
        unfiltered, and select it, reading the list first when it is not among those shown."""
        if kind != "kpi_assignments" or not isinstance(record_id, int):
            return
        self.filter_edit.clear()
        self.person_combo.setCurrentIndex(0)
        if self._db is not None and not self._read.stale and self.select_id(record_id):
            return
        self._select_after_load = record_id
        self._read.stale = True
        if self.isVisible():
            self.reload()

    def current_id(self) -> int | None:
        item = self.current_item()
        return None if item is None else item.id

    def select_id(self, assignment_id: int) -> bool:
        return table_page.select_row(self.table, self.proxy, self.model.row_of_id(assignment_id))

    @Slot()
    def _selection_changed(self) -> None:
        self._update_buttons()
        self.current_changed()

    def current_changed(self) -> None:
        item = self.current_item()
        item_id = item.id if item is not None else None
        if item_id == self._shown_id and (item_id is not None or self._db is not None):
            return
        self._shown_id = item_id
        self.panel.show_assignment(self._db, item, self.acting)

    # -- Assign…, Edit…, End assignment, Enter value… -------------------------------------

    @Slot()
    def assign(self) -> AssignmentDialog | None:
        db, loaded = self._db, self._loaded
        if db is None or loaded is None:
            return None
        if not loaded.may_assign:
            self.ctx.events.say(NOT_ASSIGNER)
            return None
        dialog = AssignmentDialog(
            self.ctx,
            db,
            definitions=loaded.definitions,
            people=loaded.people,
            teams=loaded.teams,
            acting=self.acting,
            parent=self,
        )
        dialog.saved.connect(partial(self._assigned, dialog))
        return self._open(dialog)

    @Slot()
    def edit_current(self) -> AssignmentDialog | None:
        item = self.current_item()
        return self._edit(item) if item is not None else None

    @Slot(QModelIndex)
    def edit_index(self, index: QModelIndex) -> AssignmentDialog | None:
        item = index.data(ROW_ROLE)
        return self._edit(item) if isinstance(item, AssignmentItem) else None

    def _edit(self, item: AssignmentItem) -> AssignmentDialog | None:
        db = self._db
        if db is None:
            return None
        if not item.may_write:
            self.ctx.events.say(NOT_WRITER.format(person=item.row.person))
            return None
        dialog = AssignmentDialog(self.ctx, db, item=item, acting=self.acting, parent=self)
        dialog.saved.connect(partial(self._edited, item))
        return self._open(dialog)

    @Slot()
    def enter_value(self) -> MeasurementDialog | None:
        db, item = self._db, self.current_item()
        if db is None or item is None or not self.value_button.isEnabled():
            if item is not None:
                self.ctx.events.say(self.value_button.toolTip())
            return None
        dialog = MeasurementDialog(self.ctx, db, item, self.acting, parent=self)
        dialog.saved.connect(partial(self._entered, item))
        return self._open(dialog)

    def _open(self, dialog: DialogT) -> DialogT:
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _assigned(self, dialog: AssignmentDialog, result: AssignResult) -> None:
        if result.ids:
            self._select_after_load = result.ids[0]
        d = dialog.definition()
        kpi = d.name if d is not None else "the KPI"
        n = len(result.ids)
        if dialog.person_radio.isChecked():
            done = f"Assigned {kpi} to {dialog.person_name()}."
        else:
            done = f"Assigned {kpi} to {n} {'person' if n == 1 else 'people'} of the team."
        self._report(done, result.warnings)
        self.ctx.events.changed(KPI_ASSIGNMENTS)

    def _edited(self, item: AssignmentItem, warnings: tuple[str, ...]) -> None:
        self._select_after_load = item.id
        self._report(f"Saved {item.row.kpi_name} for {item.row.person}.", warnings)
        self.ctx.events.changed(KPI_ASSIGNMENTS)

    def _entered(self, item: AssignmentItem, entered: Entered) -> None:
        self._select_after_load = item.id
        when = period_label(item.row.period, entered.period.start)
        self.ctx.events.say(f"Saved {item.row.kpi_name} for {item.row.person}, {when}.")
        self.ctx.events.changed(KPI_MEASUREMENTS)

    def _report(self, done: str, warnings: Sequence[str]) -> None:
        """Say what was saved; warnings (weights not adding up to 100) need a look."""
        if warnings:
            self.ctx.events.say(f"{done} {' '.join(warnings)}")
            self.ctx.prompts.notice(self, "\n\n".join([done, *warnings]))
        else:
            self.ctx.events.say(done)

    @Slot()
    def end_current(self) -> None:
        db, item = self._db, self.current_item()
        if db is None or item is None or not self.end_button.isEnabled():
            return
        row = item.row
        if not self.confirm(
            self,
            "End assignment",
            f"End {row.kpi_name} for {row.person}? It is no longer computed or counted in "
            f"their overall score (its weight was {plain(row.weight)}); the values measured "
            "so far are kept.",
            "End assignment",
        ):
            return

        def ended(_warnings: tuple[str, ...]) -> None:
            self.ctx.events.say(f"Ended {row.kpi_name} for {row.person}.")
            self.ctx.events.changed(KPI_ASSIGNMENTS)

        def failed(exc: BaseException) -> None:
            self.ctx.ops.present(exc, self)
            self.reload()

        self.ctx.ops.run(
            partial(update_assignment, db, row.id, {"is_active": False}, row.version, self.acting),
            label="Ending the assignment…",
            on_success=ended,
            on_error=failed,
            parent=self,
        )


@page("kpi_assignments", "KPI assignments", order=186, icon="people",
      tooltip="Who has which KPI, with targets, weights and the values entered")  # fmt: skip
def build_kpi_assignments_page(ctx: AppContext) -> QWidget:
    return AssignmentsPage(ctx)
