"""Leaderboard page (SPEC §8): every model through qtmodeltester; over a real SQLite office (a
broker Bob with agents Al and Bea in team North, managed by Mia, Cy in team South and Dee
without a team; escrows closed this month so that Al and Bea tie on revenue) the three boards
with a shared rank (1, 1, 3) and medals, conversion leaving out those without leads, the team
cards, a period change reading again, awarding a badge through the dialog (and the refusal of
a second one for the same period, said in the dialog), a notification selecting the badge,
a new rule through the dialog, and what a manager or an agent may not do."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.db.models import Escrow, Lead, Team, User
from app.domain.enums import PeriodType
from app.domain.periods import period_of
from app.gui.context import AppContext
from app.gui.kpis.badge_dialog import AwardDialog, RuleDialog, field_errors
from app.gui.kpis.badge_models import (
    RULE_METRIC,
    RULE_THRESHOLD,
    TL_BADGE,
    TL_PERIOD,
    TL_PERSON,
    RulesModel,
    TimelineModel,
    metric_label,
)
from app.gui.kpis.leaderboard_models import (
    BY_CONVERSION,
    BY_ORDERS,
    BY_REVENUE,
    COL_NAME,
    COL_RANK,
    COL_VALUE,
    MEDAL_ROLE,
    MINE_ROLE,
    BoardModel,
    TeamCardsModel,
    ordinal,
)
from app.gui.kpis.leaderboard_page import (
    LAST_MONTH,
    LAST_QUARTER,
    NOT_AWARDER,
    NOT_DEFINER,
    THIS_MONTH,
    THIS_QUARTER,
    THIS_YEAR,
    LeaderboardPage,
    preset_period,
)
from app.gui.pages import PAGES
from app.gui.targets import ExplicitUrl
from app.services.database import Database, open_database
from app.services.kpis.achievements import BadgeRule, Earned, list_rules, save_rule, timeline
from app.services.kpis.leaderboard import Place, TeamCard
from app.services.users import add_user
from tests.gui.conftest import FakePrompts

BOB, MIA, ADA = "bob@office.example", "mia@office.example", "ada@office.example"
AL, BEA, CY, DEE = (
    "al@office.example", "bea@office.example", "cy@office.example", "dee@office.example",
)  # fmt: skip
TODAY = dt.date.today()
MONTH = period_of(PeriodType.MONTHLY, TODAY)
LAST = period_of(PeriodType.MONTHLY, MONTH.start - dt.timedelta(days=1))
_serial = itertools.count(1)


# -- models -----------------------------------------------------------------------------------

PLACES = (
    Place(1, 1, "al@x.example", "Al Agent", Decimal("5000.00"), "gold"),
    Place(1, 2, "bea@x.example", "Bea Baker", Decimal("5000.00"), "gold"),
    Place(3, 3, "cy@x.example", "Cy Cole", Decimal("1000.00"), "bronze"),
    Place(4, 4, "dee@x.example", "Dee Dunn", Decimal("0.00"), None),
)
CARDS = (
    TeamCard(1, "North", 2, Decimal("10000.00"), 3, 6, Decimal("50.00"), "Al Agent",
             Decimal("5000.00")),
    TeamCard(2, "South", 1, Decimal("0.00"), 0, 0, None, None, None),
)  # fmt: skip
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
EARNED = [
    Earned(7, 1, "Al Agent", "First $5K", "Revenue of 5,000 in a month", None,
           dt.date(2026, 3, 1), "monthly", NOW),
    Earned(6, 2, "Bea Baker", "Busy quarter", None, None, dt.date(2026, 1, 1), "quarterly",
           NOW - dt.timedelta(days=3)),
]  # fmt: skip
RULES = [
    BadgeRule(1, 1, "first_5k", "First $5K", None, "revenue", Decimal("5000.0000"), "monthly",
              None, True, 2),
    BadgeRule(2, 1, "calls", "Caller", "Lots of calls", "kpi:Calls made", Decimal("100.0000"),
              "weekly", None, False, 0),
    BadgeRule(3, 1, "convert", "Converter", None, "conversion_rate", Decimal("25.5000"),
              "quarterly", None, True, 0),
]  # fmt: skip


@pytest.mark.parametrize("board", [BY_REVENUE, BY_ORDERS, BY_CONVERSION])
def test_every_board_model_passes_qtmodeltester(qtmodeltester, board: str) -> None:
    model = BoardModel(board)
    model.set_places(PLACES, "USD", 2)
    qtmodeltester.check(model)
    model.set_places((), "USD", None)
    qtmodeltester.check(model)


def test_the_team_cards_and_badge_models_pass_qtmodeltester(qtmodeltester) -> None:
    cards = TeamCardsModel()
    cards.set_cards(CARDS, "USD")
    qtmodeltester.check(cards)
    tl = TimelineModel()
    tl.set_rows(EARNED)
    qtmodeltester.check(tl)
    rules = RulesModel()
    rules.set_rows(RULES)
    qtmodeltester.check(rules)
    for model in (cards, tl, rules):
        if isinstance(model, TeamCardsModel):
            model.set_cards((), "USD")
        else:
            model.set_rows([])
        qtmodeltester.check(model)


def test_a_board_shows_shared_ranks_medals_values_and_the_own_row() -> None:
    revenue = BoardModel(BY_REVENUE)
    revenue.set_places(PLACES, "SGD", 2)
    ranks = [revenue.index(r, COL_RANK).data() for r in range(4)]
    assert ranks == ["1", "1", "3", "4"]
    assert [revenue.index(r, COL_RANK).data(MEDAL_ROLE) for r in range(4)] == [
        "gold", "gold", "bronze", None,
    ]  # fmt: skip
    assert revenue.index(0, COL_RANK).data(Qt.ItemDataRole.ToolTipRole) == (
        "Shared 1st place — gold medal"
    )
    assert revenue.index(3, COL_RANK).data(Qt.ItemDataRole.ToolTipRole) == "4th place"
    assert revenue.index(0, COL_VALUE).data() == "SGD 5,000.00"
    assert revenue.index(1, COL_NAME).data() == "Bea Baker (you)"
    assert revenue.index(1, 0).data(MINE_ROLE) and not revenue.index(0, 0).data(MINE_ROLE)
    assert revenue.index(1, COL_NAME).data(Qt.ItemDataRole.FontRole).bold()
    assert revenue.index(1, COL_VALUE).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert revenue.index(0, COL_VALUE).data(Qt.ItemDataRole.BackgroundRole) is None
    assert revenue.headerData(COL_VALUE, Qt.Orientation.Horizontal) == "Revenue"
    orders = BoardModel(BY_ORDERS)
    orders.set_places(PLACES[:1], "USD", None)
    assert orders.index(0, COL_VALUE).data() == "5,000"
    conversion = BoardModel(BY_CONVERSION)
    conversion.set_places((Place(1, 1, "a@x", "A", Decimal("33.33"), "gold"),), "USD", None)
    assert conversion.index(0, COL_VALUE).data() == "33.33%"
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
    ]  # fmt: skip


def test_the_badge_models_say_periods_metrics_and_thresholds() -> None:
    tl = TimelineModel()
    tl.set_rows(EARNED)
    assert tl.index(0, TL_PERSON).data() == "Al Agent"
    assert tl.index(0, TL_PERIOD).data() == "March 2026"
    assert tl.index(1, TL_PERIOD).data() == "Q1 2026"
    assert tl.index(0, TL_BADGE).data(Qt.ItemDataRole.ToolTipRole) == (
        "Revenue of 5,000 in a month"
    )
    rules = RulesModel()
    rules.set_rows(RULES)
    rules.set_currency("EUR")
    assert [rules.index(r, RULE_METRIC).data() for r in range(3)] == [
        "Revenue", "KPI: Calls made", "Conversion rate %",
    ]  # fmt: skip
    assert [rules.index(r, RULE_THRESHOLD).data() for r in range(3)] == [
        "EUR 5,000.00", "100", "25.5%",
    ]  # fmt: skip
    assert metric_label("avg_deal_size") == "Avg deal size"


def test_periods_and_service_messages() -> None:
    day = dt.date(2026, 5, 14)
    assert preset_period(THIS_MONTH, day) == period_of(PeriodType.MONTHLY, day)
    last = preset_period(LAST_MONTH, day)
    assert last is not None and (last.start, last.end) == (
        dt.date(2026, 4, 1),
        dt.date(2026, 4, 30),
    )
    this_q = preset_period(THIS_QUARTER, day)
    assert this_q is not None and this_q.start == dt.date(2026, 4, 1)
    last_q = preset_period(LAST_QUARTER, dt.date(2026, 2, 1))
    assert last_q is not None and (last_q.start, last_q.end) == (
        dt.date(2025, 10, 1), dt.date(2025, 12, 31),
    )  # fmt: skip
    year = preset_period(THIS_YEAR, day)
    assert year is not None and year.start == dt.date(2026, 1, 1)
    assert field_errors("key: lower-case; threshold: a number", ["key", "threshold"]) == {
        "key": "lower-case",
        "threshold": "a number",
    }
    assert field_errors("That badge no longer exists.", ["key"]) == {
        "": "That badge no longer exists."
    }


# -- the page over a real office ----------------------------------------------------------------


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


@pytest.fixture
def office(prepared_db_path: Path) -> Path:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, ADA, "admin", "Ada", "Admin")
        add_user(db, MIA, "manager", "Mia", "Manager")
        add_user(db, BOB, "broker", "Bob", "Broker")
        add_user(db, AL, "agent", "Al", "Agent", team="North", broker_email=BOB)
        add_user(db, BEA, "agent", "Bea", "Baker", team="North", broker_email=BOB)
        add_user(db, CY, "agent", "Cy", "Cole", team="South", broker_email=BOB)
        add_user(db, DEE, "agent", "Dee", "Dunn", broker_email=BOB)
        with db.session() as s:
            ids = {str(e): int(i) for e, i in s.execute(sa.select(User.email, User.id))}
            s.execute(sa.update(Team).where(Team.name == "North").values(manager_id=ids[MIA]))

            def escrow(email: str, commission: str, day: dt.date) -> None:
                s.add(
                    Escrow(agent_id=ids[email], property_address=f"{next(_serial)} Main St",
                           purchase_price=Decimal(300000), my_commission=Decimal(commission),
                           escrow_status="Closed", created_at=_noon(day), closed_at=_noon(day))
                )  # fmt: skip

            def leads(email: str, n: int) -> None:
                for _ in range(n):
                    s.add(
                        Lead(owner_id=ids[email], name=f"Lead {next(_serial)}", status="new",
                             created_at=_noon(TODAY))
                    )  # fmt: skip

            escrow(AL, "3000", TODAY)
            escrow(AL, "2000", TODAY)
            escrow(BEA, "5000", TODAY)  # a tie with Al on revenue
            escrow(CY, "1000", TODAY)
            escrow(CY, "8000", LAST.start)  # last month, Cy leads
            leads(AL, 4)  # 2 orders / 4 leads = 50%
            leads(BEA, 2)  # 1 / 2 = 50%: a tie
            leads(DEE, 1)  # 0 / 1 = 0%; Cy and Bob had no leads: not on that board
        save_rule(
            db,
            {"key": "first_5k", "name": "First $5K", "description": "Revenue of 5,000 in a month",
             "metric": "revenue", "threshold": "5000", "period_type": "monthly"},
        )  # fmt: skip
    finally:
        db.dispose()
    return prepared_db_path


@pytest.fixture
def db(office: Path):
    database = open_database(f"sqlite:///{office}")
    yield database
    database.dispose()


def settle(qtbot, page: LeaderboardPage) -> None:
    qtbot.waitUntil(lambda: not page.ctx.ops.active(), timeout=5000)


def open_page(qtbot, ctx: AppContext, path: Path, acting: str | None = None) -> LeaderboardPage:
    page = LeaderboardPage(ctx)
    qtbot.addWidget(page)
    page.acting = acting
    page.set_preset(THIS_MONTH)
    page.show()
    ctx.database.open(ExplicitUrl(f"sqlite:///{path}"))
    qtbot.waitUntil(
        lambda: page._boards is not None and page._badges is not None and not ctx.ops.active(),
        timeout=10_000,
    )
    return page


def board(page: LeaderboardPage, key: str, column: int, role: Any = None) -> list[Any]:
    model = page.panels[key].model
    role = Qt.ItemDataRole.DisplayRole if role is None else role
    return [model.index(r, column).data(role) for r in range(model.rowCount())]


def test_the_page_registers_itself(qtbot, ctx: AppContext) -> None:
    spec = next(s for s in PAGES if s.key == "leaderboard")
    assert (spec.title, spec.order, spec.icon) == ("Leaderboard", 183, "people")
    page = spec.build(ctx)
    qtbot.addWidget(page)
    assert isinstance(page, LeaderboardPage)
    assert page.panels[BY_REVENUE].empty_label.text() == "Open a database to see the leaderboards."
    assert not page.award_button.isEnabled() and page.award() is None
    assert page.new_rule() is None


def test_the_boards_rank_with_ties_and_medals_and_the_teams_sum_up(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office)
    assert board(page, BY_REVENUE, COL_NAME) == [
        "Al Agent", "Bea Baker", "Cy Cole", "Bob Broker", "Dee Dunn",
    ]  # fmt: skip
    assert board(page, BY_REVENUE, COL_RANK) == ["1", "1", "3", "4", "4"]
    assert board(page, BY_REVENUE, COL_RANK, MEDAL_ROLE) == [
        "gold", "gold", "bronze", None, None,
    ]  # fmt: skip
    assert board(page, BY_REVENUE, COL_VALUE)[:3] == ["$5,000.00", "$5,000.00", "$1,000.00"]
    assert board(page, BY_ORDERS, COL_NAME)[:3] == ["Al Agent", "Bea Baker", "Cy Cole"]
    assert board(page, BY_ORDERS, COL_RANK) == ["1", "2", "2", "4", "4"]
    assert board(page, BY_ORDERS, COL_RANK, MEDAL_ROLE)[:3] == ["gold", "silver", "silver"]
    assert board(page, BY_ORDERS, COL_VALUE)[:3] == ["2", "1", "1"]
    # conversion: only those with a lead (Cy and Bob had none)
    assert board(page, BY_CONVERSION, COL_NAME) == ["Al Agent", "Bea Baker", "Dee Dunn"]
    assert board(page, BY_CONVERSION, COL_RANK) == ["1", "1", "3"]
    assert board(page, BY_CONVERSION, COL_VALUE) == ["50.00%", "50.00%", "0.00%"]
    for panel in page.panels.values():
        assert panel.stack.currentWidget() is panel.table
    assert not any(board(page, BY_REVENUE, COL_NAME, MINE_ROLE))  # the local person: no row

    cards = page.teams_model
    assert page.teams_stack.currentWidget() is page.teams_view
    assert [c.team for c in cards.cards()] == ["North", "South"]
    north = cards.text(0)
    assert north.members == "2 members"
    assert north.figures == (("Revenue", "$10,000.00"), ("Orders", "3"), ("Conversion", "50.00%"))
    assert north.top == "Top performer: Al Agent ($5,000.00)"
    south = cards.text(1)
    assert south.figures[2] == ("Conversion", "—")
    assert south.top == "Top performer: Cy Cole ($1,000.00)"
    assert "North: 2 members" in cards.index(0).data(Qt.ItemDataRole.ToolTipRole)
    page.teams_view.grab()  # the cards and medals paint without a warning
    page.panels[BY_REVENUE].table.grab()
    assert prompts.errors == []


def test_changing_the_period_reads_the_boards_again(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office)
    page.period_combo.setCurrentIndex(page.period_combo.findData(LAST_MONTH))
    assert (page.period().start, page.period().end) == (LAST.start, LAST.end)
    qtbot.waitUntil(lambda: page._boards is not None and page._boards.board.start == LAST.start)
    settle(qtbot, page)
    assert board(page, BY_REVENUE, COL_NAME)[0] == "Cy Cole"
    assert board(page, BY_REVENUE, COL_VALUE)[0] == "$8,000.00"
    assert board(page, BY_REVENUE, COL_RANK) == ["1", "2", "2", "2", "2"]
    conversion = page.panels[BY_CONVERSION]
    assert conversion.stack.currentWidget() is conversion.empty_label
    assert "Nobody had a lead" in conversion.empty_label.text()

    # a custom period with nobody closing anything: everyone at 0 shares the first place
    far = dt.date(2001, 1, 1)
    page.set_dates(far, far + dt.timedelta(days=9))
    assert page.period_combo.currentData() == "custom"
    qtbot.waitUntil(lambda: page._boards is not None and page._boards.board.start == far)
    settle(qtbot, page)
    assert set(board(page, BY_REVENUE, COL_RANK)) == {"1"}
    assert page.period_label.text() == "1 Jan 2001 to 10 Jan 2001 (10 days)"
    assert ctx.settings.qsettings.value("leaderboard/period") == "custom"
    assert prompts.errors == []


def test_a_broker_sees_their_own_row_highlighted(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office, acting=BOB)
    names = board(page, BY_REVENUE, COL_NAME)
    assert "Bob Broker (you)" in names
    mine = board(page, BY_REVENUE, COL_NAME, MINE_ROLE)
    assert mine.count(True) == 1 and names[mine.index(True)] == "Bob Broker (you)"
    assert not page.award_button.isEnabled()  # a broker manages no team
    assert page.award_button.toolTip() == NOT_AWARDER
    assert prompts.errors == []


def test_awarding_a_badge_through_the_dialog_shows_it_in_the_timeline(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office, acting=MIA)  # North's manager
    said: list[str] = []
    ctx.events.status_message.connect(said.append)
    assert page.timeline_stack.currentWidget() is page.timeline_empty
    assert page.award_button.isEnabled()
    assert not page.new_rule_button.isEnabled()  # a manager may not write rules
    assert page.new_rule_button.toolTip() == NOT_DEFINER
    assert not page.edit_rule_button.isEnabled()
    assert page.new_rule() is None

    dialog = page.award()
    assert isinstance(dialog, AwardDialog)
    people = [dialog.person_combo.itemText(i) for i in range(dialog.person_combo.count())]
    assert people == ["Al Agent (al@office.example)", "Bea Baker (bea@office.example)"]
    dialog.person_combo.setCurrentIndex(1)
    assert dialog.badge_combo.currentText() == "First $5K"
    dialog.day_edit.setDate(dialog.day_edit.date().addDays(-(TODAY.day - 1)))
    assert dialog.period_label.text() == f"{TODAY:%B} {TODAY.year}"
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    earned_id = blocker.args[0]
    qtbot.waitUntil(lambda: page.timeline_model.rowCount() == 1, timeout=5000)
    settle(qtbot, page)
    assert page.timeline_stack.currentWidget() is page.timeline_table
    assert page.timeline_model.index(0, TL_PERSON).data() == "Bea Baker"
    assert page.timeline_model.index(0, TL_BADGE).data() == "First $5K"
    assert page.timeline_model.index(0, TL_PERIOD).data() == f"{TODAY:%B} {TODAY.year}"
    assert page.current_badge_id() == earned_id
    assert "Awarded First $5K to Bea Baker." in said
    (stored,) = timeline(db)
    assert (stored.id, stored.period_start) == (earned_id, MONTH.start)
    assert list_rules(db)[0].earned == 1
    assert page.rules_model.index(0, 4).data() == "1"

    # the same badge for the same period again: refused, said in the dialog
    again = page.award()
    assert isinstance(again, AwardDialog)
    again.person_combo.setCurrentIndex(1)
    again.ok_button.click()
    qtbot.waitUntil(lambda: again.form_message.text() != "", timeout=5000)
    assert again.form_message.text() == "Bea Baker already has First $5K for that period."
    assert again.isVisible() and again.ok_button.isEnabled()
    again.reject()

    # a notification of the badge selects it
    page.timeline_table.clearSelection()
    ctx.events.open_record("leaderboard", earned_id)
    assert page.current_badge_id() == earned_id
    settle(qtbot, page)
    assert prompts.errors == []


def test_an_agent_may_neither_award_nor_write_rules(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office, acting=AL)
    assert board(page, BY_REVENUE, COL_NAME) == ["Al Agent (you)"]  # their own place only
    assert not page.award_button.isEnabled() and page.award_button.toolTip() == NOT_AWARDER
    assert not page.new_rule_button.isEnabled() and page.new_rule_button.toolTip() == NOT_DEFINER
    page.select_rule(page.rules_model.rows()[0].id)
    assert not page.edit_rule_button.isEnabled()
    assert page.edit_rule_button.toolTip() == NOT_DEFINER
    assert page.award() is None and page.edit_rule() is None
    assert prompts.errors == []


def test_an_admin_writes_a_rule_counting_a_kpi(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office, acting=ADA)
    assert page.new_rule_button.isEnabled() and not page.edit_rule_button.isEnabled()
    dialog = page.new_rule()
    assert isinstance(dialog, RuleDialog)
    assert dialog.windowTitle() == "New badge rule"
    assert not dialog.kpi_edit.isEnabled()
    dialog.key_edit.setText("Bad Key")
    dialog.name_edit.setText("Caller")
    dialog.metric_combo.setCurrentIndex(dialog.metric_combo.findData("kpi:"))
    assert dialog.kpi_edit.isEnabled()
    dialog.ok_button.click()  # no KPI named: said before anything is sent
    assert dialog.field_error("metric") == "Type the name of the KPI the badge counts."
    dialog.kpi_edit.setText("Calls made")
    dialog.threshold_edit.setText("lots")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("key") != "", timeout=5000)
    assert dialog.field_error("key") == "Lower-case letters, digits and _, up to 60."
    assert dialog.field_error("threshold") == "A number."
    assert dialog.key_edit.property("invalid") is True
    dialog.key_edit.setText("caller")
    dialog.threshold_edit.setText("100")
    dialog.period_combo.setCurrentIndex(dialog.period_combo.findData("weekly"))
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    rule_id = blocker.args[0]
    qtbot.waitUntil(lambda: page.rules_model.rowCount() == 2, timeout=5000)
    settle(qtbot, page)
    assert page.current_rule_id() == rule_id
    caller = next(r for r in list_rules(db) if r.id == rule_id)
    assert (caller.metric, caller.threshold, caller.period_type) == (
        "kpi:Calls made", Decimal(100), "weekly",
    )  # fmt: skip
    row = page.rules_model.row_of_id(rule_id)
    assert page.rules_model.index(row, RULE_METRIC).data() == "KPI: Calls made"

    edit = page.edit_rule()
    assert isinstance(edit, RuleDialog) and edit.windowTitle() == "Edit badge rule"
    assert edit.kpi_edit.text() == "Calls made" and edit.threshold_edit.text() == "100"
    assert edit.period_combo.currentData() == "weekly"
    edit.reject()
    assert prompts.errors == []
