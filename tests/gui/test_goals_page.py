"""Goals page (SPEC §8): the goals table and its proxy through qtmodeltester; over a real SQLite
office (an admin, a manager Mia of team North with agents Al and Bea, and Al's escrow and deals
this month and last) the table with statuses and progress, finished goals on request, a revenue
goal set through the dialog and computed at once, a target of 0 refused under Target, Edit…,
the summary tiles and trend of the person shown, what an agent may not do, and a notification
opening a goal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from app.db.models import CommissionRecord, Deal, Escrow, Lead, Team, User
from app.domain.enums import DealStage, DealStatus, PeriodType
from app.domain.periods import period_of
from app.gui.context import AppContext
from app.gui.kpis import goals_page as page_module
from app.gui.kpis.assignment_models import period_label
from app.gui.kpis.goal_dialog import GoalDialog
from app.gui.kpis.goal_models import (
    COL_CURRENT,
    COL_OWNER,
    COL_PERIOD,
    COL_PROGRESS,
    COL_STATUS,
    COL_TARGET,
    PROGRESS_ROLE,
    ROW_ROLE,
    STATUS_ROLE,
    GoalFilterProxy,
    GoalTableModel,
    goal_value,
    span_text,
    status_color,
)
from app.gui.kpis.goal_summary import months_back
from app.gui.kpis.goals_page import NOT_SETTER, GoalsPage
from app.gui.pages import PAGES
from app.gui.targets import ExplicitUrl
from app.services.database import Database, open_database
from app.services.kpis.achievements import award_manually, save_rule
from app.services.kpis.goals import GoalRow, list_goals, save_goal
from app.services.users import add_user
from tests.gui.conftest import FakePrompts

ADA, MIA, AL, BEA = (
    "ada@office.example", "mia@office.example", "al@office.example", "bea@office.example",
)  # fmt: skip
NOW = dt.datetime.now(dt.UTC)
TODAY = NOW.date()
MONTH = period_of(PeriodType.MONTHLY, TODAY)
LAST_MONTH = period_of(PeriodType.MONTHLY, MONTH.start - dt.timedelta(days=1))


# -- the model --------------------------------------------------------------------------------


def _goal(i: int, owner: str, **kw: object) -> GoalRow:
    values: dict[str, object] = dict(
        id=i, version=1, user_id=i, team_id=None, owner=owner, email=f"{owner.lower()}@x.example",
        goal_type="revenue", period_type="monthly", period_start=dt.date(2026, 10, 1),
        period_end=dt.date(2026, 10, 31), target_value=Decimal("20000"),
        current_value=Decimal("15000"), achievement_pct=Decimal("75.00"), status="on_track",
        description=None, finalized=False,
    )  # fmt: skip
    values.update(kw)
    return GoalRow(**values)  # type: ignore[arg-type]


GOALS = [
    _goal(1, "Al"),
    _goal(2, "North", user_id=None, team_id=7, email=None, goal_type="orders",
          target_value=Decimal(10), current_value=Decimal(3), achievement_pct=Decimal("30.00"),
          status="at_risk", period_type="quarterly", period_end=dt.date(2026, 12, 31)),
    _goal(3, "Bea", goal_type="conversion_rate", target_value=Decimal(20),
          current_value=Decimal("24.5"), achievement_pct=Decimal("122.50"), status="achieved"),
    _goal(4, "Cy", period_start=dt.date(2026, 9, 1), period_end=dt.date(2026, 9, 30),
          achievement_pct=Decimal("40.00"), status="missed", finalized=True),
]  # fmt: skip


def test_the_goals_model_and_its_proxy_pass_qtmodeltester(qtmodeltester) -> None:
    model = GoalTableModel()
    model.set_goals(GOALS, "USD")
    qtmodeltester.check(model)
    proxy = GoalFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    assert proxy.rowCount() == 3  # the finished one is hidden
    proxy.set_show_finished(True)
    assert proxy.rowCount() == 4
    qtmodeltester.check(proxy)
    proxy.setFilterFixedString("at risk")
    assert proxy.rowCount() == 1 and proxy.index(0, 0).data(ROW_ROLE) is GOALS[1]
    model.set_goals([])
    qtmodeltester.check(model)
    qtmodeltester.check(proxy)


def test_the_goals_model_says_owner_values_progress_and_status() -> None:
    model = GoalTableModel()
    model.set_goals(GOALS, "SGD")
    texts = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(4)]
    assert texts[0] == [
        "Al", "Revenue", "October 2026", "SGD 20,000.00", "SGD 15,000.00", "75.00%", "On track",
    ]  # fmt: skip
    assert texts[1][COL_OWNER] == "North (team)" and texts[1][COL_PERIOD] == "Q4 2026"
    assert (texts[1][COL_TARGET], texts[1][COL_CURRENT]) == ("10", "3")
    assert (texts[2][COL_TARGET], texts[2][COL_CURRENT]) == ("20.00%", "24.50%")
    assert [t[COL_STATUS] for t in texts] == ["On track", "At risk", "Achieved", "Missed"]
    assert model.index(1, COL_PERIOD).data(Qt.ItemDataRole.ToolTipRole) == "1 Oct – 31 Dec 2026"
    # the bar: capped at 1, coloured by status
    assert [model.index(r, COL_PROGRESS).data(PROGRESS_ROLE) for r in range(4)] == [
        0.75, 0.3, 1.0, 0.4,
    ]  # fmt: skip
    assert [model.index(r, COL_PROGRESS).data(STATUS_ROLE) for r in range(4)] == [
        "on_track", "at_risk", "achieved", "missed",
    ]  # fmt: skip
    color = model.index(1, COL_STATUS).data(Qt.ItemDataRole.ForegroundRole)
    assert isinstance(color, QColor) and color == status_color("at_risk")
    assert len({status_color(s, False).name() for s in
                ("achieved", "on_track", "behind", "at_risk", "missed")}) == 5  # fmt: skip
    assert "final" in model.index(3, COL_STATUS).data(Qt.ItemDataRole.ToolTipRole)


def test_goal_values_and_spans_are_said_as_people_say_them() -> None:
    assert goal_value("revenue", Decimal("1234.5"), "USD") == "$1,234.50"
    assert goal_value("orders", Decimal("12.0000")) == "12"
    assert goal_value("conversion_rate", Decimal("12.3456")) == "12.35%"
    assert goal_value("custom", Decimal("2.5000")) == "2.5"
    assert span_text(dt.date(2026, 10, 1), dt.date(2026, 12, 31)) == "1 Oct – 31 Dec 2026"
    assert span_text(dt.date(2025, 12, 29), dt.date(2026, 1, 4)) == "29 Dec 2025 – 4 Jan 2026"
    assert span_text(dt.date(2026, 10, 5), dt.date(2026, 10, 5)) == "5 Oct 2026"
    months = months_back(period_of(PeriodType.MONTHLY, dt.date(2026, 3, 15)), 12)
    assert len(months) == 12
    assert (months[0].start, months[-1].end) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))


# -- the page over a real office ----------------------------------------------------------------


def _add(db: Database, obj: object) -> int:
    with db.session() as s:
        s.add(obj)
        s.flush()
        return int(obj.id)  # type: ignore[attr-defined]


def _deal(db: Database, agent: int, n: int, stage: DealStage, closed: dt.date) -> int:
    status = DealStatus.CLOSED_WON if stage == DealStage.CLOSED_WON else DealStatus.CLOSED_LOST
    return _add(
        db,
        Deal(
            ref=f"G-{n}", agent_id=agent, title=f"{n} Oak St", asset_type="single_family",
            deal_type="acquisition", pipeline_stage=stage, status=status,
            estimated_value_amount=Decimal("450000"), estimated_value_currency="USD",
            confidence=Decimal("0.5"), actual_close_date=closed, created_at=NOW,
        ),
    )  # fmt: skip


@pytest.fixture
def office(prepared_db_path: Path) -> Path:
    """Al this month: an escrow closed ($12,500), a deal won ($2,500 confirmed), a deal lost,
    4 leads: revenue $15,000, 2 orders, conversion 50 %, win rate 50 %. Last month: an escrow
    closed ($5,000)."""
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, ADA, "admin", "Ada", "Admin")
        add_user(db, MIA, "manager", "Mia", "Manager")
        add_user(db, AL, "agent", "Al", "Agent", team="North")
        add_user(db, BEA, "agent", "Bea", "Baker", team="North")
        with db.session() as s:
            mia = s.scalar(sa.select(User.id).where(User.email == MIA))
            s.execute(sa.update(Team).where(Team.name == "North").values(manager_id=mia))
        al = _ids(db)[AL]
        _add(db, Escrow(agent_id=al, property_address="1 Main St", purchase_price=Decimal(400000),
                        my_commission=Decimal("12500"), escrow_status="Closed", created_at=NOW,
                        closed_at=NOW))  # fmt: skip
        last = dt.datetime.combine(LAST_MONTH.start, dt.time(12), tzinfo=dt.UTC)
        _add(db, Escrow(agent_id=al, property_address="2 Main St", purchase_price=Decimal(200000),
                        my_commission=Decimal("5000"), escrow_status="Closed", created_at=last,
                        closed_at=last))  # fmt: skip
        won = _deal(db, al, 1, DealStage.CLOSED_WON, TODAY)
        _deal(db, al, 2, DealStage.CLOSED_LOST, TODAY)
        _add(db, CommissionRecord(deal_id=won, agent_id=al, commission_type="exclusive",
                                  basis_amount=Decimal(2500), commission_rate=Decimal(1),
                                  commission_amount=Decimal(2500), status="confirmed",
                                  created_at=NOW))  # fmt: skip
        for n in range(4):
            _add(db, Lead(owner_id=al, name=f"Lead {n}", status="new", created_at=NOW))
    finally:
        db.dispose()
    return prepared_db_path


@pytest.fixture
def db(office: Path):
    database = open_database(f"sqlite:///{office}")
    yield database
    database.dispose()


def _ids(db: Database) -> dict[str, int]:
    with db.read() as s:
        return {e: i for i, e in s.execute(sa.select(User.id, User.email))}


def _team(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(Team.id).where(Team.name == "North")))


def settle(qtbot, page: GoalsPage) -> None:
    qtbot.waitUntil(lambda: not page.ctx.ops.active(), timeout=10_000)


def open_page(qtbot, ctx: AppContext, path: Path, acting: str | None = None) -> GoalsPage:
    page = GoalsPage(ctx)
    qtbot.addWidget(page)
    page.acting = acting
    page.resize(1100, 800)
    page.show()
    ctx.database.open(ExplicitUrl(f"sqlite:///{path}"))
    qtbot.waitUntil(lambda: page._loaded is not None, timeout=10_000)
    settle(qtbot, page)
    return page


def _choose(page: GoalsPage, user_id: int) -> None:
    page.person_combo.setCurrentIndex(page.person_combo.findData(user_id))


def _goals(db: Database) -> dict[str, int]:
    """Al's revenue (this month, target 30,000: 50 %, behind), Al's orders (2 of 2: achieved),
    North's opportunities (this quarter), and Bea's leads of last month (final: missed)."""
    ids = _ids(db)
    return {
        "revenue": save_goal(db, {"user_id": ids[AL], "goal_type": "revenue",
                                  "period_type": "monthly", "period_start": TODAY,
                                  "target_value": "30000"}),
        "orders": save_goal(db, {"user_id": ids[AL], "goal_type": "orders",
                                 "period_type": "monthly", "period_start": TODAY,
                                 "target_value": "2"}),
        "team": save_goal(db, {"team_id": _team(db), "goal_type": "opportunities",
                               "period_type": "quarterly", "period_start": TODAY,
                               "target_value": "1", "description": "keep the pipe full"}),
        "missed": save_goal(db, {"user_id": ids[BEA], "goal_type": "leads",
                                 "period_type": "monthly", "period_start": LAST_MONTH.start,
                                 "target_value": "5"}),
    }  # fmt: skip


def _shown(page: GoalsPage) -> dict[int, list[str]]:
    proxy = page.proxy
    return {
        proxy.index(r, 0).data(ROW_ROLE).id: [
            proxy.index(r, c).data() for c in range(proxy.columnCount())
        ]
        for r in range(proxy.rowCount())
    }


def test_the_page_registers_itself(qtbot, ctx: AppContext) -> None:
    spec = next(s for s in PAGES if s.key == "goals")
    assert (spec.title, spec.order, spec.icon) == ("Goals", 182, "dashboard")
    page = spec.build(ctx)
    qtbot.addWidget(page)
    assert isinstance(page, GoalsPage)
    assert page.empty_label.text() == "Open a database to see goals."
    assert not page.new_button.isEnabled() and page.new_goal() is None


def test_the_table_lists_goals_with_status_and_progress(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    goals = _goals(db)
    page = open_page(qtbot, ctx, office)
    shown = _shown(page)
    assert set(shown) == {goals["revenue"], goals["orders"], goals["team"]}  # open only
    assert shown[goals["revenue"]][1:] == [
        "Revenue", period_label("monthly", TODAY), "$30,000.00", "$15,000.00", "50.00%", "Behind",
    ]  # fmt: skip
    assert shown[goals["orders"]][4:] == ["2", "100.00%", "Achieved"]
    team = shown[goals["team"]]
    assert team[0] == "North (team)" and team[1] == "Opportunities" and team[6] == "Achieved"
    assert page.count_label.text() == "3 of 4 goals"  # the finished one hidden
    row = page.model.row_of_id(goals["revenue"])
    assert page.model.index(row, COL_PROGRESS).data(PROGRESS_ROLE) == 0.5
    assert isinstance(page.table.itemDelegateForColumn(COL_PROGRESS), page_module.ProgressDelegate)
    page.table.viewport().repaint()  # the delegate paints without complaint

    page.finished_check.setChecked(True)
    assert set(_shown(page)) == set(goals.values())
    assert _shown(page)[goals["missed"]][6] == "Missed"
    assert page.count_label.text() == "4 goals"
    page.filter_edit.setText("north")
    assert list(_shown(page)) == [goals["team"]]
    assert page.count_label.text() == "1 of 4 goals"
    page.filter_edit.setText("nothing like it")
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text() == "No goals match “nothing like it”."
    assert prompts.errors == []


def test_creating_a_revenue_goal_through_the_dialog_stores_it_computed_at_once(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    said: list[str] = []
    ctx.events.status_message.connect(said.append)
    page = open_page(qtbot, ctx, office)
    assert page.empty_label.text().startswith("No goals yet.")
    assert page.new_button.isEnabled()
    page.setFocus()
    qtbot.keyClick(page, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    (dialog,) = page.findChildren(GoalDialog)
    assert dialog.windowTitle() == "New goal"
    al = _ids(db)[AL]
    dialog.person_combo.setCurrentIndex(dialog.person_combo.findData(al))
    dialog.type_combo.setCurrentIndex(dialog.type_combo.findData("revenue"))
    assert dialog.form.labelForField(dialog.target_edit).text() == "&Target (USD):"
    assert not dialog.form.isRowVisible(dialog.current_edit)  # computed, not entered
    dialog.period_combo.setCurrentIndex(dialog.period_combo.findData("quarterly"))
    quarter = period_of(PeriodType.QUARTERLY, TODAY)
    assert span_text(quarter.start, quarter.end) in dialog.span_label.text()
    dialog.period_combo.setCurrentIndex(dialog.period_combo.findData("monthly"))
    assert dialog.span_label.text().startswith(f"Covers {span_text(MONTH.start, MONTH.end)}")
    dialog.target_edit.setText("20000")
    dialog.description_edit.setText("a strong month")
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    new_id = blocker.args[0]
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    settle(qtbot, page)

    (stored,) = list_goals(db, user_id=al)
    assert stored.id == new_id
    assert (stored.goal_type, stored.period_start, stored.period_end) == (
        "revenue", MONTH.start, MONTH.end,
    )  # fmt: skip
    assert stored.target_value == Decimal(20000) and stored.description == "a strong month"
    assert stored.current_value == Decimal(15000)  # computed when saved
    assert (stored.achievement_pct, stored.status) == (Decimal("75.00"), "on_track")
    assert page.current_id() == new_id
    assert "Saved the revenue goal for Al Agent." in said
    assert prompts.errors == []


def test_a_custom_goal_takes_its_current_value_by_hand(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office)
    dialog = page.new_goal()
    assert isinstance(dialog, GoalDialog)
    dialog.team_radio.setChecked(True)
    assert dialog.team_combo.currentText() == "North" and not dialog.person_combo.isEnabled()
    dialog.type_combo.setCurrentIndex(dialog.type_combo.findData("custom"))
    assert dialog.form.isRowVisible(dialog.current_edit)
    dialog.target_edit.setText("10")
    dialog.current_edit.setText("4")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.ok_button.click()
    (stored,) = list_goals(db, team_id=_team(db))
    assert (stored.goal_type, stored.current_value, stored.status) == (
        "custom", Decimal(4), "at_risk",
    )  # fmt: skip
    settle(qtbot, page)
    assert prompts.errors == []


def test_a_target_of_0_is_refused_under_target(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office)
    dialog = page.new_goal()
    assert isinstance(dialog, GoalDialog)
    dialog.person_combo.setCurrentIndex(dialog.person_combo.findData(_ids(db)[BEA]))
    dialog.target_edit.setText("0")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("target_value") != "", timeout=5000)
    assert dialog.field_error("target_value") == "Must be more than 0."
    assert dialog.target_edit.property("invalid") is True
    assert dialog.isVisible() and dialog.ok_button.isEnabled()
    assert list_goals(db) == []
    dialog.target_edit.setText("abc")
    dialog.target_edit.textEdited.emit("abc")
    assert dialog.field_error("target_value") == ""  # cleared as the person types
    settle(qtbot, page)
    dialog.reject()
    assert prompts.errors == []


def test_editing_a_goal_and_finished_goals_cannot_be_edited(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    goals = _goals(db)
    page = open_page(qtbot, ctx, office)
    assert page.select_id(goals["revenue"])
    assert page.edit_button.isEnabled()
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    (dialog,) = page.findChildren(GoalDialog)
    assert dialog.windowTitle() == "Edit goal"
    assert dialog.target_edit.text() == "30000"
    assert dialog.goal_type() == "revenue" and dialog.period_type() == "monthly"
    dialog.target_edit.setText("15000")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.ok_button.click()
    qtbot.waitUntil(
        lambda: _shown(page).get(goals["revenue"], [""] * 7)[6] == "Achieved", timeout=5000
    )
    settle(qtbot, page)

    page.finished_check.setChecked(True)
    assert page.select_id(goals["missed"])
    assert not page.edit_button.isEnabled()
    assert page.edit_button.toolTip() == page_module.FINAL
    assert page.edit_current() is None
    assert prompts.errors == []


def test_a_stale_edit_offers_to_reload(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    goals = _goals(db)
    page = open_page(qtbot, ctx, office)
    assert page.select_id(goals["revenue"])
    dialog = page.edit_current()
    assert isinstance(dialog, GoalDialog)
    # another workstation changes it meanwhile
    save_goal(db, {"goal_type": "revenue", "period_type": "monthly", "period_start": TODAY,
                   "target_value": "40000"}, goals["revenue"])  # fmt: skip
    dialog.target_edit.setText("25000")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.conflict_bar.isVisible(), timeout=5000)
    assert "Someone else changed this goal" in dialog.conflict_message.text()
    dialog.reload_button.click()
    qtbot.waitUntil(lambda: dialog.target_edit.text() == "40000", timeout=5000)
    assert not dialog.conflict_bar.isVisible()
    settle(qtbot, page)
    dialog.reject()
    assert prompts.errors == []


def test_the_summary_shows_the_persons_month_and_trend(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    ids = _ids(db)
    rule = save_rule(db, {"key": "first_10k", "name": "First $10K", "metric": "revenue",
                          "threshold": "10000", "period_type": "monthly"})  # fmt: skip
    award_manually(db, ids[AL], rule, TODAY)
    page = open_page(qtbot, ctx, office)
    assert page.person_combo.isVisibleTo(page)  # the local person sees everyone's
    assert page.person_combo.currentData() == ids[ADA]  # no broker: the first admin
    assert page.performance is not None and page.performance.user_id == ids[ADA]
    assert page.tiles.revenue.value.text() == "$0"
    _choose(page, ids[AL])
    qtbot.waitUntil(
        lambda: page.performance is not None and page.performance.user_id == ids[AL], timeout=5000
    )
    settle(qtbot, page)
    tiles = page.tiles
    assert tiles.revenue.value.text() == "$15K"
    assert "$15,000.00" in tiles.revenue.toolTip()
    assert tiles.revenue.note.text() == "2 orders"
    assert tiles.conversion.value.text() == "50.00%"
    assert tiles.conversion.note.text() == "2 orders from 4 leads"
    assert tiles.win_rate.value.text() == "50.00%"
    assert tiles.win_rate.note.text() == "1 won, 1 lost"
    assert tiles.badges.value.text() == "1"
    assert tiles.badges.note.text() == "latest: First $10K"
    chart = page.chart
    assert chart is not None
    heights = chart.bar_heights()
    assert len(heights) == 12 and heights[-1] == 15.0 and heights[-2] == 5.0  # thousands
    assert sum(heights[:-2]) == 0
    _x, y = chart.orders_line.getData()
    assert list(y)[-2:] == [1.0, 2.0]
    assert prompts.errors == []


def test_an_agent_may_not_set_goals(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    said: list[str] = []
    ctx.events.status_message.connect(said.append)
    goals = _goals(db)
    page = open_page(qtbot, ctx, office, acting=AL)
    assert not page.new_button.isEnabled()
    assert page.new_button.toolTip() == NOT_SETTER
    assert page.new_goal() is None and NOT_SETTER in said
    # their own goals and their team's, not Bea's
    assert set(_shown(page)) == {goals["revenue"], goals["orders"], goals["team"]}
    assert page.select_id(goals["revenue"])
    assert not page.edit_button.isEnabled()
    assert "Only the manager of Al Agent's team" in page.edit_button.toolTip()
    # only their own figures: no person to choose
    assert not page.person_combo.isVisibleTo(page)
    assert page.performance is not None and page.performance.user_id == _ids(db)[AL]
    assert page.tiles.revenue.value.text() == "$15K"
    assert prompts.errors == []


def test_a_manager_sets_goals_for_their_team(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office, acting=MIA)
    assert page.new_button.isEnabled()
    dialog = page.new_goal()
    assert isinstance(dialog, GoalDialog)
    names = [dialog.person_combo.itemText(i) for i in range(dialog.person_combo.count())]
    assert names == [f"Al Agent ({AL})", f"Bea Baker ({BEA})"]
    assert [dialog.team_combo.itemText(i) for i in range(dialog.team_combo.count())] == ["North"]
    settle(qtbot, page)
    dialog.reject()
    assert prompts.errors == []


def test_opening_a_goal_from_a_notification_selects_it(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    goals = _goals(db)
    page = open_page(qtbot, ctx, office)
    asked: list[str] = []
    ctx.events.page_requested.connect(asked.append)
    page.filter_edit.setText("north")
    ctx.events.open_record("goals", goals["orders"])
    assert asked == ["goals"]
    assert page.filter_edit.text() == ""
    assert page.current_id() == goals["orders"]
    # a finished goal: shown with the finished ones
    assert not page.finished_check.isChecked()
    ctx.events.open_record("goals", goals["missed"])
    qtbot.waitUntil(lambda: page.current_id() == goals["missed"], timeout=5000)
    assert page.finished_check.isChecked()
    settle(qtbot, page)
    # a goal saved elsewhere since the page read: read again, then selected
    new = save_goal(db, {"user_id": _ids(db)[BEA], "goal_type": "leads",
                         "period_type": "monthly", "period_start": TODAY,
                         "target_value": "3"})  # fmt: skip
    ctx.events.open_record("goals", new)
    qtbot.waitUntil(lambda: page.current_id() == new, timeout=5000)
    settle(qtbot, page)
    assert prompts.errors == []
