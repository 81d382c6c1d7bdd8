"""The Leaderboard page (SPEC §8): who leads by revenue, orders and conversion rate for a period
(ties share a rank, 1, 1, 3; medals for ranks 1–3; the acting person's own row highlighted),
the team performance cards, and the badges: those earned (newest first) and the rules.

Who is ranked is what the acting person may read (SPEC §1, the service decides). Managers
(for their team) and admins award badges by hand; admins write the rules; the buttons say why
when one may not. Everything that reads or writes runs in the background; the boards read
again when the period or the records they count change, the badges when badges change.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QByteArray, QItemSelectionModel, QModelIndex, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import PeriodType
from app.domain.periods import Period, period_of
from app.gui import events
from app.gui.context import AppContext
from app.gui.kpis.assignment_models import short_date
from app.gui.kpis.badge_dialog import DATE_FORMAT, AwardDialog, RuleDialog, pydate, qdate
from app.gui.kpis.badge_models import ROW_ROLE as BADGE_ROW_ROLE
from app.gui.kpis.badge_models import RulesModel, TimelineModel
from app.gui.kpis.leaderboard_models import (
    BOARD_TITLES,
    BY_CONVERSION,
    BY_ORDERS,
    BY_REVENUE,
    COL_NAME,
    COL_RANK,
    COL_VALUE,
    BoardModel,
    MedalDelegate,
    TeamCardDelegate,
    TeamCardsModel,
)
from app.gui.page_loading import BackgroundPage, BackgroundRead
from app.gui.pages import page
from app.gui.table_page import make_empty_label
from app.services.kpis.access import kpi_scope
from app.services.kpis.achievements import BadgeRule, Earned, list_rules, timeline
from app.services.kpis.assignments import assignable_people
from app.services.kpis.definitions import list_definitions
from app.services.kpis.leaderboard import Leaderboards, leaderboards
from app.services.office import get_currency
from app.services.records import Acting, resolve_actor

if TYPE_CHECKING:
    from app.services.database import Database

log = logging.getLogger(__name__)

#: ``AppEvents.data_changed`` kinds this page shows (and emits: ACHIEVEMENTS).
ACHIEVEMENTS = "achievements"
GOALS = "goals"
KPI_DEFINITIONS = "kpi_definitions"
BOARD_KINDS = (
    GOALS, events.ESCROWS, events.DEALS, events.COMMISSIONS, events.LEADS, events.PEOPLE,
    events.OFFICE,
)  # fmt: skip
BADGE_KINDS = (ACHIEVEMENTS, GOALS, events.PEOPLE, events.OFFICE, KPI_DEFINITIONS)
#: The page key notifications of ``achievement.earned`` open (``user_achievement`` ids).
PAGE_KEY = "leaderboard"

SPLITTER_KEY = "leaderboard/splitter"
BADGES_SPLITTER_KEY = "leaderboard/badges_splitter"
PERIOD_KEY = "leaderboard/period"
FROM_KEY = "leaderboard/from"
TO_KEY = "leaderboard/to"
RELOAD_DELAY_MS = 400  # after a date is typed, before the boards read again

NOT_AWARDER = "Only managers (for the members of their team) and admins award badges."
NOT_DEFINER = "Only an admin may create or change badge rules."
BOARD_ORDER = (BY_REVENUE, BY_ORDERS, BY_CONVERSION)

DialogT = TypeVar("DialogT", bound=QDialog)


# -- periods ------------------------------------------------------------------------------------

ONE_DAY = dt.timedelta(days=1)
THIS_MONTH, LAST_MONTH, THIS_QUARTER, LAST_QUARTER, THIS_YEAR, CUSTOM = (
    "this_month", "last_month", "this_quarter", "last_quarter", "this_year", "custom",
)  # fmt: skip
PRESETS: tuple[tuple[str, str], ...] = (
    (THIS_MONTH, "This month"),
    (LAST_MONTH, "Last month"),
    (THIS_QUARTER, "This quarter"),
    (LAST_QUARTER, "Last quarter"),
    (THIS_YEAR, "This year"),
    (CUSTOM, "Custom"),
)


def preset_period(preset: str, today: dt.date) -> Period | None:
    """The period a preset names, as of ``today`` (None: custom)."""
    if preset in (THIS_MONTH, LAST_MONTH):
        p = period_of(PeriodType.MONTHLY, today)
        return p if preset == THIS_MONTH else period_of(PeriodType.MONTHLY, p.start - ONE_DAY)
    if preset in (THIS_QUARTER, LAST_QUARTER):
        p = period_of(PeriodType.QUARTERLY, today)
        return p if preset == THIS_QUARTER else period_of(PeriodType.QUARTERLY, p.start - ONE_DAY)
    if preset == THIS_YEAR:
        return period_of(PeriodType.YEARLY, today)
    return None


# -- what the page reads ------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardsLoaded:
    board: Leaderboards
    currency: str
    me: int | None  # the acting person's id (None: the one local person, unnamed)


@dataclass(frozen=True)
class BadgesLoaded:
    earned: list[Earned]
    rules: list[BadgeRule]
    people: list[tuple[int, str, str]]  # whom the acting person may award
    kpi_names: list[str]
    may_award: bool
    may_define: bool
    currency: str


def load_boards(db: Database, start: dt.date, end: dt.date, acting: Acting = None) -> BoardsLoaded:
    """Runs on a worker: the three boards and the team cards for the period."""
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
    board = leaderboards(db, start, end, acting)
    return BoardsLoaded(board, get_currency(db), actor.id if actor is not None else None)


def load_badges(db: Database, acting: Acting = None) -> BadgesLoaded:
    """Runs on a worker: the badges earned, the rules, and what Award… and the rule dialog
    need."""
    with db.read() as s:
        scope = kpi_scope(s, resolve_actor(s, db, acting))
    earned = timeline(db, acting)
    rules = list_rules(db)
    people = list(assignable_people(db, acting)) if scope.may_assign else []
    kpis = [d.name for d in list_definitions(db)] if scope.may_define else []
    return BadgesLoaded(
        earned, rules, people, kpis, scope.may_assign, scope.may_define, get_currency(db)
    )


# -- pieces -------------------------------------------------------------------------------------


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: 600; font-size: 11pt;")
    return label


def _table(name: str) -> QTableView:
    table = QTableView()
    table.setObjectName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    return table


class BoardPanel(QFrame):
    """One leaderboard: its title, the table (or why it is empty)."""

    def __init__(self, board: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.board = board
        self.setObjectName(f"board_{board}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.model = BoardModel(board, self)
        self.table = _table(f"{board}Table")
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(COL_RANK, MedalDelegate(self.table))
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_RANK, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(COL_RANK, self.fontMetrics().height() + 22)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_VALUE, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAccessibleName(f"Leaderboard by {BOARD_TITLES[board]}")
        self.empty_label = make_empty_label()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addWidget(_caption(BOARD_TITLES[board]))
        layout.addWidget(self.stack, 1)

    def show_empty(self, text: str | None) -> None:
        if text is None:
            self.stack.setCurrentWidget(self.table)
        else:
            self.empty_label.setText(text)
            self.stack.setCurrentWidget(self.empty_label)


class LeaderboardPage(BackgroundPage):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("leaderboardPage")
        #: Whose rules apply: None is the login (shared) or the one local person.
        self.acting: Acting = None
        #: Today, for the period presets (tests pin it).
        self.today: Callable[[], dt.date] = dt.date.today
        self._boards: BoardsLoaded | None = None
        self._badges: BadgesLoaded | None = None
        self._boards_problem: str | None = None
        self._badges_problem: str | None = None
        self._select_badge: int | None = None
        self._select_rule: int | None = None
        self._boards_read = BackgroundRead(
            self,
            "Reading the leaderboards…",
            self._boards_task,
            self._set_boards,
            kinds=BOARD_KINDS,
            refused=partial(self._set_boards, None),
        )
        self._badges_read = BackgroundRead(
            self,
            "Reading the badges…",
            lambda db: partial(load_badges, db, self.acting),
            self._set_badges,
            kinds=BADGE_KINDS,
            refused=partial(self._set_badges, None),
        )

        heading = QLabel("Leaderboard")
        heading.setProperty("role", "pageTitle")
        self.period_combo = QComboBox()
        self.period_combo.setObjectName("periodCombo")
        self.period_combo.setToolTip("The period the boards and team cards count")
        for key, label in PRESETS:
            self.period_combo.addItem(label, key)
        self.from_edit = self._date_edit("fromEdit", "The first day counted")
        self.to_edit = self._date_edit("toEdit", "The last day counted")
        self.period_label = QLabel()
        self.period_label.setObjectName("periodLabel")
        self.period_label.setProperty("role", "hint")
        self._date_timer = QTimer(self)
        self._date_timer.setSingleShot(True)
        self._date_timer.setInterval(RELOAD_DELAY_MS)
        self._date_timer.timeout.connect(self._dates_settled)

        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        for text, field in (
            ("&Period:", self.period_combo),
            ("&From", self.from_edit),
            ("&to", self.to_edit),
        ):
            buddy = QLabel(text)
            buddy.setBuddy(field)
            top.addWidget(buddy)
            top.addWidget(field)

        # the three boards, side by side
        self.panels = {board: BoardPanel(board, self) for board in BOARD_ORDER}
        boards = QWidget()
        boards_row = QHBoxLayout(boards)
        boards_row.setContentsMargins(0, 0, 0, 0)
        for board in BOARD_ORDER:
            boards_row.addWidget(self.panels[board], 1)

        # the team cards
        self.teams_model = TeamCardsModel(self)
        self.teams_view = QListView()
        self.teams_view.setObjectName("teamCards")
        self.teams_view.setModel(self.teams_model)
        self.teams_view.setItemDelegate(TeamCardDelegate(self.teams_model, self.teams_view))
        self.teams_view.setViewMode(QListView.ViewMode.ListMode)
        self.teams_view.setFlow(QListView.Flow.LeftToRight)
        self.teams_view.setWrapping(True)
        self.teams_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.teams_view.setUniformItemSizes(True)
        self.teams_view.setSpacing(2)
        self.teams_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.teams_view.setFrameShape(QFrame.Shape.NoFrame)
        self.teams_view.setAccessibleName("Team performance cards")
        self.teams_empty = make_empty_label("teamsEmpty")
        self.teams_stack = QStackedWidget()
        self.teams_stack.addWidget(self.teams_view)
        self.teams_stack.addWidget(self.teams_empty)
        teams = QWidget()
        teams_box = QVBoxLayout(teams)
        teams_box.setContentsMargins(0, 0, 0, 0)
        teams_box.addWidget(_caption("Teams"))
        teams_box.addWidget(self.teams_stack, 1)

        # the badges: earned, and the rules
        self.timeline_model = TimelineModel(self)
        self.timeline_table = _table("badgeTimeline")
        self.timeline_table.setModel(self.timeline_model)
        self.timeline_table.setAlternatingRowColors(True)
        self.timeline_table.horizontalHeader().setStretchLastSection(True)
        self.timeline_empty = make_empty_label("timelineEmpty")
        self.timeline_stack = QStackedWidget()
        self.timeline_stack.addWidget(self.timeline_table)
        self.timeline_stack.addWidget(self.timeline_empty)
        self.award_button = QPushButton("&Award badge…")
        self.award_button.setObjectName("awardButton")
        self.award_button.clicked.connect(self.award)
        earned = QWidget()
        earned_box = QVBoxLayout(earned)
        earned_box.setContentsMargins(0, 0, 0, 0)
        earned_bar = QHBoxLayout()
        earned_bar.addWidget(_caption("Badges earned"))
        earned_bar.addStretch(1)
        earned_bar.addWidget(self.award_button)
        earned_box.addLayout(earned_bar)
        earned_box.addWidget(self.timeline_stack, 1)

        self.rules_model = RulesModel(self)
        self.rules_table = _table("badgeRules")
        self.rules_table.setModel(self.rules_model)
        self.rules_table.setAlternatingRowColors(True)
        self.rules_table.horizontalHeader().setStretchLastSection(True)
        self.rules_table.activated.connect(self.edit_rule_index)
        self.rules_table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.rules_empty = make_empty_label("rulesEmpty")
        self.rules_stack = QStackedWidget()
        self.rules_stack.addWidget(self.rules_table)
        self.rules_stack.addWidget(self.rules_empty)
        self.new_rule_button = QPushButton("&New badge rule…")
        self.new_rule_button.setObjectName("newRuleButton")
        self.new_rule_button.clicked.connect(self.new_rule)
        self.edit_rule_button = QPushButton("&Edit rule…")
        self.edit_rule_button.setObjectName("editRuleButton")
        self.edit_rule_button.clicked.connect(self.edit_rule)
        rules = QWidget()
        rules_box = QVBoxLayout(rules)
        rules_box.setContentsMargins(0, 0, 0, 0)
        rules_bar = QHBoxLayout()
        rules_bar.addWidget(_caption("Badge rules"))
        rules_bar.addStretch(1)
        rules_bar.addWidget(self.new_rule_button)
        rules_bar.addWidget(self.edit_rule_button)
        rules_box.addLayout(rules_bar)
        rules_box.addWidget(self.rules_stack, 1)

        self.badges_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.badges_splitter.setObjectName("badgesSplitter")
        self.badges_splitter.addWidget(earned)
        self.badges_splitter.addWidget(rules)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("leaderboardSplitter")
        self.splitter.addWidget(boards)
        self.splitter.addWidget(teams)
        self.splitter.addWidget(self.badges_splitter)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 2)
        for splitter, key, sizes in (
            (self.splitter, SPLITTER_KEY, [360, 150, 260]),
            (self.badges_splitter, BADGES_SPLITTER_KEY, [520, 480]),
        ):
            splitter.setChildrenCollapsible(False)
            state = ctx.settings.qsettings.value(key)
            if not (isinstance(state, QByteArray) and splitter.restoreState(state)):
                splitter.setSizes(sizes)
            splitter.splitterMoved.connect(partial(self._save_splitter, splitter, key))

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.period_label)
        layout.addWidget(self.splitter, 1)

        self._restore_period()
        self.period_combo.currentIndexChanged.connect(self._preset_chosen)
        self.from_edit.dateChanged.connect(self._date_edited)
        self.to_edit.dateChanged.connect(self._date_edited)

        ctx.events.record_requested.connect(self._on_record_requested)
        self.database_closed()
        self.watch_database()

    @staticmethod
    def _date_edit(name: str, tip: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat(DATE_FORMAT)
        edit.setToolTip(tip)
        return edit

    # -- the period -----------------------------------------------------------------------

    def _restore_period(self) -> None:
        settings = self.ctx.settings.qsettings
        preset = str(settings.value(PERIOD_KEY, THIS_MONTH))
        index = self.period_combo.findData(preset)
        self.period_combo.setCurrentIndex(index if index >= 0 else 0)
        p = preset_period(self.preset(), self.today())
        if p is None:
            start = _date_setting(settings.value(FROM_KEY))
            end = _date_setting(settings.value(TO_KEY))
            p = Period(start, end) if start and end else preset_period(THIS_MONTH, self.today())
        assert p is not None
        self._set_dates(p)

    def preset(self) -> str:
        return str(self.period_combo.currentData())

    def period(self) -> Period:
        return Period(pydate(self.from_edit.date()), pydate(self.to_edit.date()))

    def set_preset(self, preset: str) -> None:
        """Choose a preset (as the person would in the combo)."""
        self.period_combo.setCurrentIndex(self.period_combo.findData(preset))

    def set_dates(self, start: dt.date, end: dt.date) -> None:
        """A custom period (as the person would type it); the boards read at once."""
        self.period_combo.setCurrentIndex(self.period_combo.findData(CUSTOM))
        self._set_dates(Period(start, end))
        self._date_timer.stop()
        self._dates_settled()

    def _set_dates(self, p: Period) -> None:
        for edit, day in ((self.from_edit, p.start), (self.to_edit, p.end)):
            edit.blockSignals(True)
            edit.setDate(qdate(day))
            edit.blockSignals(False)
        self._show_period_label()

    def _show_period_label(self) -> None:
        p = self.period()
        if p.start > p.end:
            self.period_label.setText("The first day is after the last: choose the period again.")
            return
        days = (p.end - p.start).days + 1
        noun = "day" if days == 1 else "days"
        self.period_label.setText(f"{short_date(p.start)} to {short_date(p.end)} ({days:,} {noun})")

    @Slot()
    def _preset_chosen(self) -> None:
        preset = self.preset()
        self.ctx.settings.qsettings.setValue(PERIOD_KEY, preset)
        p = preset_period(preset, self.today())
        if p is None:  # Custom: the dates shown stay, ready to change
            self._save_custom()
            return
        self._set_dates(p)
        self._boards_changed()

    @Slot()
    def _date_edited(self) -> None:
        if self.preset() != CUSTOM:
            self.period_combo.blockSignals(True)
            self.period_combo.setCurrentIndex(self.period_combo.findData(CUSTOM))
            self.period_combo.blockSignals(False)
            self.ctx.settings.qsettings.setValue(PERIOD_KEY, CUSTOM)
        self._show_period_label()
        self._date_timer.start()

    @Slot()
    def _dates_settled(self) -> None:
        self._save_custom()
        self._boards_changed()

    def _save_custom(self) -> None:
        p = self.period()
        settings = self.ctx.settings.qsettings
        settings.setValue(PERIOD_KEY, self.preset())
        settings.setValue(FROM_KEY, p.start.isoformat())
        settings.setValue(TO_KEY, p.end.isoformat())

    def _boards_changed(self) -> None:
        self._boards_read.refresh_when_shown()

    # -- the database ---------------------------------------------------------------------

    def database_opened(self) -> None:
        self.database_closed()  # nothing of the last database shows

    def database_closed(self) -> None:
        self._set_boards(None)
        self._set_badges(None)

    def _boards_task(self, db: Database) -> Callable[[], BoardsLoaded] | None:
        p = self.period()
        if p.start > p.end:  # the period label says so
            return None
        return partial(load_boards, db, p.start, p.end, self.acting)

    def _set_boards(self, loaded: BoardsLoaded | None, problem: str | None = None) -> None:
        self._boards = loaded
        self._boards_problem = problem
        self._show_boards()

    def _set_badges(self, loaded: BadgesLoaded | None, problem: str | None = None) -> None:
        self._badges = loaded
        self._badges_problem = problem
        self._show_badges()

    @Slot(str, object)
    def _on_record_requested(self, kind: str, record_id: object) -> None:
        """A notification of a badge earned asks for it: select it in the timeline, reading
        the badges first when it is not among those shown."""
        if kind != PAGE_KEY or not isinstance(record_id, int):
            return
        if self._db is not None and not self._badges_read.stale and self.select_badge(record_id):
            return
        self._select_badge = record_id
        self._badges_read.stale = True
        if self.isVisible():
            self.reload_stale()

    # -- showing --------------------------------------------------------------------------

    def _waiting_text(self, noun: str) -> str:
        return f"Open a database to see {noun}." if self._db is None else f"Reading {noun}…"

    def _show_boards(self) -> None:
        loaded = self._boards
        for board, panel in self.panels.items():
            places = loaded.board.boards.get(board, ()) if loaded is not None else ()
            currency = loaded.currency if loaded is not None else "USD"
            panel.model.set_places(places, currency, loaded.me if loaded is not None else None)
            if loaded is None:
                panel.show_empty(self._boards_problem or self._waiting_text("the leaderboards"))
            elif not places:
                panel.show_empty(
                    "Nobody had a lead in this period: a conversion rate needs at least one."
                    if board == BY_CONVERSION
                    else "Nobody to rank for this period."
                )
            else:
                panel.show_empty(None)
        cards = loaded.board.teams if loaded is not None else ()
        self.teams_model.set_cards(cards, loaded.currency if loaded is not None else "USD")
        if loaded is None:
            self.teams_empty.setText(self._boards_problem or self._waiting_text("the teams"))
            self.teams_stack.setCurrentWidget(self.teams_empty)
        elif not cards:
            self.teams_empty.setText("No team with active agents to show.")
            self.teams_stack.setCurrentWidget(self.teams_empty)
        else:
            self.teams_stack.setCurrentWidget(self.teams_view)

    def _show_badges(self) -> None:
        loaded = self._badges
        keep_rule = self._select_rule or self.current_rule_id()
        self._select_rule = None
        keep_badge = self._select_badge or self.current_badge_id()
        self._select_badge = None
        self.timeline_model.set_rows(loaded.earned if loaded is not None else [])
        self.rules_model.set_currency(loaded.currency if loaded is not None else "USD")
        self.rules_model.set_rows(loaded.rules if loaded is not None else [])
        if loaded is None:
            waiting = self._badges_problem or self._waiting_text("the badges")
            self.timeline_empty.setText(waiting)
            self.rules_empty.setText(waiting)
        else:
            self.timeline_empty.setText(
                "No badges earned yet."
                if loaded.rules
                else "No badges earned yet: no badges exist."
            )
            self.rules_empty.setText(
                "No badge rules yet.\nAdd the first with New badge rule…."
                if loaded.may_define
                else "No badge rules yet; an admin adds them."
            )
        self.timeline_stack.setCurrentWidget(
            self.timeline_table if self.timeline_model.rowCount() else self.timeline_empty
        )
        self.rules_stack.setCurrentWidget(
            self.rules_table if self.rules_model.rowCount() else self.rules_empty
        )
        if loaded is not None and loaded.earned:
            self.timeline_table.resizeColumnsToContents()
        if loaded is not None and loaded.rules:
            self.rules_table.resizeColumnsToContents()
        if keep_badge is not None:
            self.select_badge(keep_badge)
        if keep_rule is not None:
            self.select_rule(keep_rule)
        self._update_buttons()

    @Slot()
    def _update_buttons(self) -> None:
        loaded = self._badges
        known = loaded is not None
        may_award = loaded is not None and loaded.may_award
        may_define = loaded is not None and loaded.may_define
        self.award_button.setEnabled(may_award)
        self.award_button.setToolTip(
            "Award a badge by hand for a period" if may_award or not known else NOT_AWARDER
        )
        self.new_rule_button.setEnabled(may_define)
        self.new_rule_button.setToolTip(
            "Add a badge rule: a figure, a threshold and a period"
            if may_define or not known
            else NOT_DEFINER
        )
        selected = self.current_rule() is not None
        self.edit_rule_button.setEnabled(may_define and selected)
        if known and not may_define:
            tip = NOT_DEFINER
        elif not selected:
            tip = "Select a badge rule to change it"
        else:
            tip = "Change the selected badge rule (Enter)"
        self.edit_rule_button.setToolTip(tip)

    # -- selection ------------------------------------------------------------------------

    def _select(self, table: QTableView, row: int) -> bool:
        if row < 0:
            return False
        index = table.model().index(row, 0)
        table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        table.scrollTo(index)
        return True

    def select_badge(self, earned_id: int) -> bool:
        return self._select(self.timeline_table, self.timeline_model.row_of_id(earned_id))

    def select_rule(self, rule_id: int) -> bool:
        return self._select(self.rules_table, self.rules_model.row_of_id(rule_id))

    def current_badge_id(self) -> int | None:
        rows = self.timeline_table.selectionModel().selectedRows()
        row = rows[0].data(BADGE_ROW_ROLE) if rows else None
        return row.id if isinstance(row, Earned) else None

    def current_rule(self) -> BadgeRule | None:
        rows = self.rules_table.selectionModel().selectedRows()
        row = rows[0].data(BADGE_ROW_ROLE) if rows else None
        return row if isinstance(row, BadgeRule) else None

    def current_rule_id(self) -> int | None:
        rule = self.current_rule()
        return None if rule is None else rule.id

    def _save_splitter(self, splitter: QSplitter, key: str, *_args: object) -> None:
        self.ctx.settings.qsettings.setValue(key, splitter.saveState())

    # -- Award badge…, New badge rule…, Edit rule… ----------------------------------------

    @Slot()
    def award(self) -> AwardDialog | None:
        db, loaded = self._db, self._badges
        if db is None or loaded is None:
            return None
        if not loaded.may_award:
            self.ctx.events.say(NOT_AWARDER)
            return None
        dialog = AwardDialog(
            self.ctx, db, loaded.people, loaded.rules, self.acting, self.today(), parent=self
        )
        dialog.saved.connect(partial(self._awarded, dialog))
        return self._open(dialog)

    @Slot()
    def new_rule(self) -> RuleDialog | None:
        return self._open_rule(None)

    @Slot()
    def edit_rule(self) -> RuleDialog | None:
        rule = self.current_rule()
        return self._open_rule(rule) if rule is not None else None

    @Slot(QModelIndex)
    def edit_rule_index(self, index: QModelIndex) -> RuleDialog | None:
        rule = index.data(BADGE_ROW_ROLE)
        return self._open_rule(rule) if isinstance(rule, BadgeRule) else None

    def _open_rule(self, rule: BadgeRule | None) -> RuleDialog | None:
        db, loaded = self._db, self._badges
        if db is None or loaded is None:
            return None
        if not loaded.may_define:
            self.ctx.events.say(NOT_DEFINER)
            return None
        dialog = RuleDialog(self.ctx, db, rule, loaded.kpi_names, self.acting, parent=self)
        dialog.saved.connect(partial(self._rule_saved, dialog))
        return self._open(dialog)

    def _open(self, dialog: DialogT) -> DialogT:
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _awarded(self, dialog: AwardDialog, earned_id: object) -> None:
        if isinstance(earned_id, int) and earned_id:
            self._select_badge = earned_id
        rule = dialog.rule()
        badge = rule.name if rule is not None else "the badge"
        self.ctx.events.say(f"Awarded {badge} to {dialog.person_name()}.")
        self.ctx.events.changed(ACHIEVEMENTS)

    def _rule_saved(self, dialog: RuleDialog, rule_id: object) -> None:
        if isinstance(rule_id, int):
            self._select_rule = rule_id
        self.ctx.events.say(f"Saved the badge rule “{dialog.values()['name']}”.")
        self.ctx.events.changed(ACHIEVEMENTS)


def _date_setting(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@page("leaderboard", "Leaderboard", order=183, icon="people",
      tooltip="Who leads by revenue, orders and conversion; team cards and badges")  # fmt: skip
def build_leaderboard_page(ctx: AppContext) -> QWidget:
    return LeaderboardPage(ctx)
