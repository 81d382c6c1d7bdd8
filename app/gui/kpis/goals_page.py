"""The Goals page (SPEC §8 "Sales performance and goals").

At the top, one person's sales this month — revenue, conversion rate, win rate — and the badges
they have earned, with their revenue and orders over the last 12 months. It is the acting
person's by default (in local mode the office's broker, the one local person); whoever may
read others' figures (a broker their agents', a manager their team's, an admin everyone's)
chooses another in the person box.

Below, the goals the acting person may read, each with its progress drawn as a bar coloured by
status; finished (finalised) goals show on request. Managers (for their team and its members)
and admins set goals with New goal… (Ctrl+N) and change open ones with Edit… (Enter or a
double-click); the buttons say why when they may not. A notification about a goal opens the
page with it selected. Everything that reads or writes runs in the background; the page reads
again when goals, people or the records the figures come from change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QModelIndex, Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import PermissionDenied
from app.gui import events, table_page
from app.gui.context import AppContext
from app.gui.form_fields import sentence
from app.gui.kpis.activity_dialog import ActivityDialog
from app.gui.kpis.goal_dialog import GoalDialog
from app.gui.kpis.goal_models import (
    COL_PERIOD,
    COL_PROGRESS,
    ROW_ROLE,
    GoalFilterProxy,
    GoalTableModel,
    ProgressDelegate,
    goal_label,
)
from app.gui.kpis.goal_summary import Performance, SummaryTiles, read_performance
from app.gui.operations import Operation
from app.gui.page_loading import BackgroundPage, BackgroundRead
from app.gui.pages import page
from app.services.kpis.access import kpi_scope
from app.services.kpis.assignments import assignable_people, assignable_teams
from app.services.kpis.goals import GoalRow, list_goals
from app.services.office import get_currency
from app.services.pipeline.common import acting_user_id
from app.services.records import Acting, resolve_actor
from app.services.users import list_users

if TYPE_CHECKING:
    from app.gui.kpis.goal_summary import TrendChart
    from app.services.database import Database

#: ``AppEvents.data_changed`` kind of goals (emitted after a save).
GOALS = "goals"
#: Kinds that change what the page shows: its goals, people and the records figures come from.
KINDS = (
    GOALS, "achievements", events.PEOPLE, events.OFFICE, events.LEADS, events.DEALS,
    events.ESCROWS, events.COMMISSIONS,
)  # fmt: skip

SETTINGS = "goals"
MAX_COLUMN_WIDTH = 240
NOT_SETTER = "Only managers (for their team and its members) and admins set goals."
NOT_WRITER = "Only the manager of {owner}'s team or an admin may change this goal."
FINAL = "This goal's period has ended: it is final and cannot change."

_STYLE = """
QFrame[role="tile"] {
    background: palette(base);
    border: 1px solid palette(mid);
    border-radius: 8px;
}
QFrame[role="tile"] QLabel { background: transparent; border: none; }
QLabel[role="tileCaption"] { color: palette(placeholder-text); font-weight: 600; }
QLabel[role="tileValue"] { font-size: 17pt; font-weight: 600; }
"""


@dataclass(frozen=True)
class Loaded:
    rows: list[GoalRow]
    people: list[tuple[int, str]]  # whose figures the acting person may read
    me: int | None  # whose figures show first
    setters_people: list[tuple[int, str, str]]  # whose goals they may set
    setters_teams: list[tuple[int, str]]  # the teams whose goals they may set
    writable: frozenset[int] | None  # None: everyone's
    currency: str

    @property
    def may_set(self) -> bool:
        return bool(self.setters_people or self.setters_teams)

    def may_change(self, row: GoalRow) -> bool:
        if row.user_id is not None:
            return self.writable is None or row.user_id in self.writable
        return any(team_id == row.team_id for team_id, _n in self.setters_teams)


def load_goals(db: Database, acting: Acting = None) -> Loaded:
    """Runs on a worker: every goal the acting person may read, with what the page and its
    dialog need."""
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        scope = kpi_scope(s, actor)
        try:
            me: int | None = acting_user_id(s, actor)
        except PermissionDenied:  # an office with no broker or admin yet
            me = None
    rows = list_goals(db, acting)
    people = [
        (u.id, u.full_name.strip())
        for u in list_users(db)
        if scope.readable is None or u.id in scope.readable
    ]
    if me is not None and all(i != me for i, _n in people):
        me = None
    if me is None and people:
        me = people[0][0]
    may = scope.may_assign
    setters_people = list(assignable_people(db, acting)) if may else []
    teams = list(assignable_teams(db, acting))
    return Loaded(rows, people, me, setters_people, teams, scope.writable, get_currency(db))


class GoalsPage(BackgroundPage):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("goalsPage")
        #: Whose rules apply: None is the login (shared) or the one local person.
        self.acting: Acting = None
        self._loaded: Loaded | None = None
        self._problem: str | None = None
        self._select_after_load: int | None = None
        self._columns_sized = False
        self._perf_generation = 0
        self._perf_op: Operation[Performance] | None = None
        self.performance: Performance | None = None
        self.chart: TrendChart | None = None
        self._read = BackgroundRead(
            self,
            "Reading goals…",
            lambda db: partial(load_goals, db, self.acting),
            self._show,
            kinds=KINDS,
            refused=self._refused,
        )
        self.setStyleSheet(_STYLE)

        self.model = GoalTableModel(self)
        self.proxy = GoalFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        heading = QLabel("Goals")
        heading.setProperty("role", "pageTitle")
        self.person_label = QLabel("&Showing:")
        self.person_combo = QComboBox()
        self.person_combo.setObjectName("goalsPerson")
        self.person_combo.setToolTip("Whose sales this month and trend to show")
        self.person_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.person_label.setBuddy(self.person_combo)
        self.person_combo.currentIndexChanged.connect(self._person_chosen)
        self.new_button = QPushButton("&New goal…")
        self.new_button.setObjectName("newGoalButton")
        self.new_button.clicked.connect(self.new_goal)
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setObjectName("editGoalButton")
        self.edit_button.clicked.connect(self.edit_current)
        self.activities_button = QPushButton("Enter &activities…")
        self.activities_button.setObjectName("enterActivitiesButton")
        self.activities_button.clicked.connect(self.open_activities)

        # -- the person's performance ----------------------------------------------------------
        self.tiles = SummaryTiles()
        self.summary_message = QLabel()
        self.summary_message.setObjectName("summaryMessage")
        self.summary_message.setProperty("role", "hint")
        self.summary_message.setWordWrap(True)
        self.summary_message.hide()
        self.chart_holder = QWidget()
        self.chart_holder.setObjectName("trendHolder")
        self.chart_holder.setMinimumHeight(170)
        self._chart_layout = QVBoxLayout(self.chart_holder)
        self._chart_layout.setContentsMargins(0, 0, 0, 0)
        summary = QWidget()
        summary_layout = QVBoxLayout(summary)
        summary_layout.setContentsMargins(0, 0, 0, 0)
        summary_layout.addWidget(self.tiles)
        summary_layout.addWidget(self.summary_message)
        summary_layout.addWidget(self.chart_holder, 1)

        # -- the goals -------------------------------------------------------------------------
        self.filter_edit = table_page.make_filter_edit(
            "goalsFilter", "Filter by owner, goal, period or status (Ctrl+F)", self._filter
        )
        self.finished_check = QCheckBox("Show &finished")
        self.finished_check.setObjectName("showFinished")
        self.finished_check.setToolTip("Also show goals whose period has ended (final)")
        qs = ctx.settings.qsettings
        self.finished_check.setChecked(bool(qs.value(f"{SETTINGS}/show_finished", False, bool)))
        self.proxy.set_show_finished(self.finished_check.isChecked())
        self.finished_check.toggled.connect(self._show_finished)
        self.count_label = table_page.make_count_label()
        table_page.add_find_shortcut(self, self._focus_filter)
        QShortcut(QKeySequence.StandardKey.New, self, self.new_goal)

        self.table = table_page.make_table(
            "goalsTable",
            self.proxy,
            COL_PERIOD,
            self.fontMetrics(),
            Qt.SortOrder.DescendingOrder,
        )
        self.table.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self.table))
        self.table.activated.connect(self.edit_index)  # Enter, or a double-click
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.empty_label = table_page.make_empty_label()
        self.body = table_page.make_body(self.table, self.empty_label)

        goals = QWidget()
        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.finished_check)
        bar.addWidget(self.count_label)
        goals_layout = QVBoxLayout(goals)
        goals_layout.setContentsMargins(0, 0, 0, 0)
        goals_layout.addLayout(bar)
        goals_layout.addWidget(self.body, 1)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("goalsSplitter")
        self.splitter.addWidget(summary)
        self.splitter.addWidget(goals)
        self.splitter.setCollapsible(1, False)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        state = qs.value(f"{SETTINGS}/splitter")
        if not (isinstance(state, QByteArray) and self.splitter.restoreState(state)):
            self.splitter.setSizes([320, 420])
        self.splitter.splitterMoved.connect(self._save_splitter)

        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.person_label)
        top.addWidget(self.person_combo)
        top.addSpacing(12)
        top.addWidget(self.activities_button)
        top.addWidget(self.new_button)
        top.addWidget(self.edit_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

        ctx.events.record_requested.connect(self._on_record_requested)
        self.database_closed()
        self.watch_database()

    # -- the database ---------------------------------------------------------------------

    def database_opened(self) -> None:
        self._columns_sized = False
        self._clear()

    def database_closed(self) -> None:
        self._clear()
        self._fill_people([], None)
        self._clear_performance("")
        self._update_state()

    def _refused(self, problem: str) -> None:
        self._clear(problem)
        self._clear_performance(problem)
        self._update_state()

    def _clear(self, problem: str | None = None) -> None:
        self._loaded = None
        self._problem = problem
        self.model.set_goals([])

    def _on_record_requested(self, kind: str, record_id: object) -> None:
        """A notification asks for a goal: select it, reading the list first when it is not
        among those shown."""
        if kind != "goals" or not isinstance(record_id, int):
            return
        self.filter_edit.clear()
        if self._db is not None and not self._read.stale and self.select_id(record_id):
            return
        self._select_after_load = record_id
        self._read.stale = True
        if self.isVisible():
            self.reload()

    def _show(self, result: Loaded) -> None:
        keep = self._select_after_load or self.current_id()
        self._select_after_load = None
        self._loaded = result
        self._problem = None
        self.model.set_goals(result.rows, result.currency)
        if result.rows and not self._columns_sized:
            self._columns_sized = True  # once, to the first data; then the person's widths
            table_page.fit_columns(self.table, MAX_COLUMN_WIDTH)
            header = self.table.horizontalHeader()  # the bar needs room (170 < the cap)
            header.resizeSection(COL_PROGRESS, max(header.sectionSize(COL_PROGRESS), 170))
        if keep is not None:
            row = self.model.row_of_id(keep)
            goal = self.model.rows()[row] if row >= 0 else None
            if goal is not None and goal.finalized and not self.finished_check.isChecked():
                self.finished_check.setChecked(True)  # asked for a finished goal: show it
            self.select_id(keep)
        self._update_state()
        self._fill_people(result.people, result.me)
        self.refresh_performance()

    # -- the person's performance -----------------------------------------------------------

    def _fill_people(self, people: Sequence[tuple[int, str]], me: int | None) -> None:
        chosen = self.person_combo.currentData()
        self.person_combo.blockSignals(True)
        try:
            self.person_combo.clear()
            for user_id, name in people:
                self.person_combo.addItem(name, user_id)
            index = self.person_combo.findData(chosen) if chosen is not None else -1
            if index < 0 and me is not None:
                index = self.person_combo.findData(me)
            self.person_combo.setCurrentIndex(max(index, 0) if people else -1)
        finally:
            self.person_combo.blockSignals(False)
        several = len(people) > 1
        self.person_combo.setVisible(several)
        self.person_label.setVisible(several)

    def person_id(self) -> int | None:
        data = self.person_combo.currentData()
        return int(data) if data is not None else None

    @Slot()
    def _person_chosen(self) -> None:
        self.refresh_performance()

    def refresh_performance(self) -> None:
        """Read the chosen person's figures in the background (the last one asked wins)."""
        db, user_id = self._db, self.person_id()
        if self._perf_op is not None and not self._perf_op.done:
            self._perf_op.cancel()
        self._perf_generation += 1
        generation = self._perf_generation
        if db is None or user_id is None:
            self._clear_performance("" if db is None else "Nobody's figures to show yet.")
            return
        name = self.person_combo.currentText()
        acting = self.acting
        self.tiles.revenue.note.setText("Reading…")

        def loaded(perf: Performance) -> None:
            if generation == self._perf_generation:
                self._show_performance(perf)

        def failed(exc: BaseException) -> None:
            if generation != self._perf_generation:
                return
            if isinstance(exc, PermissionDenied):
                self._clear_performance(sentence(str(exc)))
            else:
                self._clear_performance("")
                self.ctx.ops.present(exc, self)

        self._perf_op = self.ctx.ops.run(
            lambda _progress, cancelled: read_performance(
                db, acting, user_id, name, dt.datetime.now(dt.UTC).date(), cancelled
            ),
            label=f"Reading {name}'s sales…",
            on_success=loaded,
            on_error=failed,
            parent=self,
        )

    def _clear_performance(self, message: str) -> None:
        self.performance = None
        self.tiles.clear()
        self.summary_message.setText(message)
        self.summary_message.setVisible(bool(message))
        if self.chart is not None:
            self.chart.set_points((), "USD")

    def _show_performance(self, perf: Performance) -> None:
        self.performance = perf
        self.summary_message.hide()
        self.tiles.show_performance(perf)
        self.ensure_chart().set_points(perf.trend, perf.currency)

    def ensure_chart(self) -> TrendChart:
        """The trend chart, built (and pyqtgraph imported) on first use."""
        if self.chart is None:
            from app.gui.kpis.goal_summary import TrendChart

            self.chart = TrendChart()
            self._chart_layout.addWidget(self.chart)
        return self.chart

    # -- filters and state ----------------------------------------------------------------

    @Slot()
    def _focus_filter(self) -> None:
        table_page.focus_filter(self.filter_edit)

    @Slot(str)
    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_state()

    @Slot(bool)
    def _show_finished(self, show: bool) -> None:
        self.ctx.settings.qsettings.setValue(f"{SETTINGS}/show_finished", show)
        self.proxy.set_show_finished(show)
        self._update_state()

    @Slot()
    def _save_splitter(self) -> None:
        self.ctx.settings.qsettings.setValue(f"{SETTINGS}/splitter", self.splitter.saveState())

    def _update_state(self) -> None:
        self._update_buttons()
        loaded = self._loaded
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        count = ""
        if self._db is None:
            empty: str | None = "Open a database to see goals."
        elif self._problem is not None:
            empty = self._problem
        elif loaded is None:
            empty = "Reading goals…"
        else:
            count = table_page.count_text(shown, total, "goal", "goals")
            text = self.filter_edit.text().strip()
            if total == 0:
                empty = (
                    "No goals yet.\nSet the first with New goal… (Ctrl+N)."
                    if loaded.may_set
                    else "No goals to show: none are yours to see yet."
                )
            elif shown == 0 and text:
                empty = f"No goals match “{text}”."
            elif shown == 0:
                empty = "No open goals.\nTick Show finished to see the goals whose period ended."
            else:
                empty = None
        self.count_label.setText(count)
        table_page.show_empty(self.body, self.table, self.empty_label, empty)

    def _update_buttons(self) -> None:
        loaded = self._loaded
        may_set = loaded is not None and loaded.may_set
        self.new_button.setEnabled(may_set)
        self.new_button.setToolTip(
            "Set a goal for a person or a whole team (Ctrl+N)"
            if may_set or loaded is None
            else NOT_SETTER
        )
        # Everyone enters their own calls, emails and meetings (managers their teams', too).
        may_enter = loaded is not None and bool(loaded.people)
        self.activities_button.setEnabled(may_enter)
        self.activities_button.setToolTip(
            "Calls, emails and meetings of a period, for you or the people you manage"
            if may_enter or loaded is None
            else "Nobody whose activities you may enter"
        )
        row = self.current_row()
        refusal = self.refusal(row) if row is not None else None
        self.edit_button.setEnabled(row is not None and refusal is None)
        self.edit_button.setToolTip(
            refusal or "Change the selected goal's target, period or description (Enter)"
        )

    def refusal(self, row: GoalRow) -> str | None:
        """Why the acting person may not change ``row`` (None: they may)."""
        loaded = self._loaded
        if row.finalized:
            return FINAL
        if loaded is None or not loaded.may_change(row):
            return NOT_WRITER.format(owner=row.owner)
        return None

    # -- selection ------------------------------------------------------------------------

    def current_row(self) -> GoalRow | None:
        rows = self.table.selectionModel().selectedRows()
        row = rows[0].data(ROW_ROLE) if rows else None
        return row if isinstance(row, GoalRow) else None

    def current_id(self) -> int | None:
        row = self.current_row()
        return None if row is None else row.id

    def select_id(self, goal_id: int) -> bool:
        return table_page.select_row(self.table, self.proxy, self.model.row_of_id(goal_id))

    @Slot()
    def _selection_changed(self) -> None:
        self._update_buttons()

    # -- New goal… and Edit… --------------------------------------------------------------

    @Slot()
    def new_goal(self) -> GoalDialog | None:
        db, loaded = self._db, self._loaded
        if db is None or loaded is None:
            return None
        if not loaded.may_set:
            self.ctx.events.say(NOT_SETTER)
            return None
        dialog = GoalDialog(
            self.ctx,
            db,
            people=loaded.setters_people,
            teams=loaded.setters_teams,
            currency=loaded.currency,
            acting=self.acting,
            parent=self,
        )
        return self._open(dialog)

    @Slot()
    def edit_current(self) -> GoalDialog | None:
        row = self.current_row()
        return self._edit(row) if row is not None else None

    @Slot(QModelIndex)
    def edit_index(self, index: QModelIndex) -> GoalDialog | None:
        row = index.data(ROW_ROLE)
        return self._edit(row) if isinstance(row, GoalRow) else None

    def _edit(self, row: GoalRow) -> GoalDialog | None:
        db, loaded = self._db, self._loaded
        if db is None or loaded is None:
            return None
        refusal = self.refusal(row)
        if refusal is not None:
            self.ctx.events.say(refusal)
            return None
        dialog = GoalDialog(
            self.ctx, db, row=row, currency=loaded.currency, acting=self.acting, parent=self
        )
        return self._open(dialog)

    def _open(self, dialog: GoalDialog) -> GoalDialog:
        dialog.saved.connect(partial(self._saved, dialog))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _saved(self, dialog: GoalDialog, goal_id: object) -> None:
        if isinstance(goal_id, int):
            self._select_after_load = goal_id
        what = goal_label(dialog.goal_type()).lower()
        self.ctx.events.say(f"Saved the {what} goal for {dialog.owner_name()}.")
        self.ctx.events.changed(GOALS)

    @Slot()
    def open_activities(self) -> ActivityDialog | None:
        """Enter activities… for the person shown; its save tells the page to read again."""
        db = self._db
        if db is None or self._loaded is None:
            return None
        dialog = ActivityDialog(
            self.ctx, db, person_id=self.person_id(), acting=self.acting, parent=self
        )
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog


@page("goals", "Goals", order=182, icon="dashboard",
      tooltip="Sales this month, badges, and goals with their progress")  # fmt: skip
def build_goals_page(ctx: AppContext) -> QWidget:
    return GoalsPage(ctx)
