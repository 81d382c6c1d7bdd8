"""Enter activities… (app/gui/kpis/activity_dialog.py, SPEC §8) over a real SQLite office: an
admin Ada, a manager Mia of team North (agents Al and Bea), and Cy of team South. The counts
entered for a period are filled in as the person or the period changes, new counts are saved
(and the Goals page told), a bad count is said under its field, whom an agent and a manager may
enter for, and the Goals page's button."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QCoreApplication, QEvent

from app.db.models import Team, User
from app.domain.enums import PeriodType
from app.domain.periods import period_of
from app.gui.context import AppContext
from app.gui.kpis.activity_dialog import ActivityDialog, counts_text
from app.gui.kpis.assignment_models import period_label
from app.gui.kpis.goals_page import GoalsPage
from app.gui.targets import ExplicitUrl
from app.services.database import Database, open_database
from app.services.kpis.activities import activities_of, enter_activities
from app.services.users import add_user
from tests.gui.conftest import FakePrompts

ADA, MIA, AL, BEA, CY = (
    "ada@office.example", "mia@office.example", "al@office.example", "bea@office.example",
    "cy@office.example",
)  # fmt: skip
TODAY = dt.date.today()
MONTH = period_of(PeriodType.MONTHLY, TODAY)
LAST_MONTH = period_of(PeriodType.MONTHLY, MONTH.start - dt.timedelta(days=1))


@pytest.fixture
def office(prepared_db_path: Path) -> Path:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, ADA, "admin", "Ada", "Admin")
        add_user(db, MIA, "manager", "Mia", "Manager")
        add_user(db, AL, "agent", "Al", "Agent", team="North")
        add_user(db, BEA, "agent", "Bea", "Baker", team="North")
        add_user(db, CY, "agent", "Cy", "Cole", team="South")
        with db.session() as s:
            mia = s.scalar(sa.select(User.id).where(User.email == MIA))
            s.execute(sa.update(Team).where(Team.name == "North").values(manager_id=mia))
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


def settle(qtbot, ctx: AppContext) -> None:
    qtbot.waitUntil(lambda: not ctx.ops.active(), timeout=10_000)


def open_dialog(
    qtbot, ctx: AppContext, db: Database, person: int | None = None, acting: str | None = None
) -> ActivityDialog:
    dialog = ActivityDialog(ctx, db, person_id=person, acting=acting)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.existing is not None, timeout=10_000)
    settle(qtbot, ctx)
    return dialog


def people(dialog: ActivityDialog) -> list[str]:
    combo = dialog.person_combo
    return [combo.itemText(i) for i in range(combo.count())]


def typed(qtbot, edit, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def test_counts_are_said_as_people_say_them() -> None:
    assert counts_text({"calls": 1200}) == "1,200 calls"
    assert counts_text({"meetings": 3, "calls": 12}) == "12 calls and 3 meetings"
    assert counts_text({"emails": 5, "calls": 0, "meetings": 1}) == (
        "0 calls, 5 emails and 1 meetings"
    )


def test_the_counts_entered_are_filled_in_for_the_person_and_period(
    qtbot, ctx: AppContext, db: Database, prompts: FakePrompts
) -> None:
    ids = _ids(db)
    enter_activities(db, ids[AL], "monthly", TODAY, {"calls": 12, "emails": 5})
    enter_activities(db, ids[BEA], "monthly", LAST_MONTH.start, {"meetings": 7})

    dialog = open_dialog(qtbot, ctx, db, person=ids[AL])

    assert dialog.windowTitle() == "Enter activities"
    assert dialog.person_id() == ids[AL] and dialog.period_type() == "monthly"
    assert dialog.period_label.text() == period_label("monthly", TODAY)
    assert (dialog.calls_edit.text(), dialog.emails_edit.text(), dialog.meetings_edit.text()) == (
        "12", "5", "",
    )  # fmt: skip
    assert dialog.existing_label.text().startswith(
        f"Entered for {period_label('monthly', TODAY)}: 12 calls and 5 emails."
    )
    assert not dialog.next_button.isEnabled()  # no period after the current one
    assert dialog.ok_button.isEnabled()

    dialog.previous_button.click()  # last month: nothing entered for Al
    qtbot.waitUntil(lambda: dialog.existing == {}, timeout=5000)
    assert dialog.period_label.text() == period_label("monthly", LAST_MONTH.start)
    assert dialog.calls_edit.text() == "" and dialog.emails_edit.text() == ""
    assert dialog.existing_label.text() == (
        f"Nothing entered for {period_label('monthly', LAST_MONTH.start)} yet."
    )
    assert dialog.next_button.isEnabled()

    dialog.person_combo.setCurrentIndex(dialog.person_combo.findData(ids[BEA]))
    qtbot.waitUntil(lambda: dialog.meetings_edit.text() == "7", timeout=5000)

    dialog.next_button.click()  # this month: nothing for Bea
    qtbot.waitUntil(lambda: dialog.existing == {}, timeout=5000)
    assert dialog.meetings_edit.text() == ""
    settle(qtbot, ctx)
    dialog.reject()
    assert prompts.errors == []


def test_a_count_typed_stays_when_the_period_changes(
    qtbot, ctx: AppContext, db: Database, prompts: FakePrompts
) -> None:
    ids = _ids(db)
    enter_activities(db, ids[AL], "monthly", TODAY, {"calls": 12, "emails": 5})
    dialog = open_dialog(qtbot, ctx, db, person=ids[AL])
    typed(qtbot, dialog.meetings_edit, "3")
    dialog.period_combo.setCurrentIndex(dialog.period_combo.findData("yearly"))
    qtbot.waitUntil(lambda: dialog.existing == {}, timeout=5000)
    assert dialog.period_label.text() == str(TODAY.year)
    assert (dialog.calls_edit.text(), dialog.meetings_edit.text()) == ("", "3")
    settle(qtbot, ctx)
    dialog.reject()
    assert prompts.errors == []


def test_saving_stores_the_counts_and_tells_the_goals_page(
    qtbot, ctx: AppContext, db: Database, prompts: FakePrompts
) -> None:
    ids = _ids(db)
    enter_activities(db, ids[AL], "monthly", TODAY, {"calls": 12, "emails": 5})
    changed: list[str] = []
    said: list[str] = []
    ctx.events.data_changed.connect(changed.append)
    ctx.events.status_message.connect(said.append)
    dialog = open_dialog(qtbot, ctx, db, person=ids[AL])

    typed(qtbot, dialog.calls_edit, "30")
    typed(qtbot, dialog.meetings_edit, "4")
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    settle(qtbot, ctx)

    assert blocker.args == [MONTH.start]
    assert activities_of(db, ids[AL], "monthly", TODAY) == {"calls": 30, "emails": 5, "meetings": 4}
    assert "goals" in changed
    assert f"Saved the activities of Al Agent for {period_label('monthly', TODAY)}." in said
    assert not dialog.isVisible()
    assert prompts.errors == []


def test_a_bad_count_is_said_under_its_field_and_nothing_is_saved(
    qtbot, ctx: AppContext, db: Database, prompts: FakePrompts
) -> None:
    ids = _ids(db)
    dialog = open_dialog(qtbot, ctx, db, person=ids[AL])
    assert dialog.existing == {}

    dialog.ok_button.click()  # nothing typed
    assert dialog.form_message.text() == "Type at least one count."

    typed(qtbot, dialog.calls_edit, "100001")
    typed(qtbot, dialog.emails_edit, "abc")
    typed(qtbot, dialog.meetings_edit, "2")
    dialog.ok_button.click()

    assert dialog.field_error("calls") == "Must be from 0 to 100,000."
    assert dialog.field_error("emails") == "'abc' is not a whole number."
    assert dialog.field_error("meetings") == ""
    assert dialog.calls_edit.property("invalid") is True
    assert dialog.isVisible() and dialog.ok_button.isEnabled()
    settle(qtbot, ctx)
    assert activities_of(db, ids[AL], "monthly", TODAY) == {}
    typed(qtbot, dialog.calls_edit, "10")
    assert dialog.field_error("calls") == ""  # cleared as the person types
    dialog.reject()
    assert prompts.errors == []


def test_an_agent_enters_their_own_a_manager_their_teams_too(
    qtbot, ctx: AppContext, db: Database, prompts: FakePrompts
) -> None:
    ids = _ids(db)
    agent = open_dialog(qtbot, ctx, db, person=ids[BEA], acting=AL)
    assert people(agent) == [f"Al Agent ({AL})"]
    assert agent.person_id() == ids[AL] and not agent.person_combo.isEnabled()
    typed(qtbot, agent.emails_edit, "9")
    with qtbot.waitSignal(agent.saved, timeout=5000):
        agent.ok_button.click()
    settle(qtbot, ctx)
    assert activities_of(db, ids[AL], "monthly", TODAY) == {"emails": 9}

    manager = open_dialog(qtbot, ctx, db, acting=MIA)
    assert people(manager) == [f"Mia Manager ({MIA})", f"Al Agent ({AL})", f"Bea Baker ({BEA})"]
    assert manager.person_id() == ids[MIA]  # themself first
    assert manager.emails_edit.text() == ""
    manager.person_combo.setCurrentIndex(manager.person_combo.findData(ids[AL]))
    qtbot.waitUntil(lambda: manager.emails_edit.text() == "9", timeout=5000)
    settle(qtbot, ctx)
    manager.reject()
    assert prompts.errors == []


def test_the_goals_page_opens_the_dialog_for_the_person_shown(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    ids = _ids(db)
    page = GoalsPage(ctx)
    try:
        assert not page.activities_button.isEnabled() and page.open_activities() is None
        page.show()
        ctx.database.open(ExplicitUrl(f"sqlite:///{office}"))
        qtbot.waitUntil(lambda: page._loaded is not None, timeout=10_000)
        settle(qtbot, ctx)
        assert page.activities_button.isEnabled()
        page.person_combo.setCurrentIndex(page.person_combo.findData(ids[BEA]))
        settle(qtbot, ctx)

        page.activities_button.click()
        (dialog,) = page.findChildren(ActivityDialog)
        qtbot.waitUntil(lambda: dialog.existing is not None, timeout=10_000)
        assert dialog.person_id() == ids[BEA]
        typed(qtbot, dialog.calls_edit, "40")
        loads = page._loaded
        with qtbot.waitSignal(dialog.saved, timeout=5000):
            dialog.ok_button.click()
        qtbot.waitUntil(lambda: page._loaded is not loads, timeout=10_000)  # read again
        settle(qtbot, ctx)
        assert activities_of(db, ids[BEA], "monthly", TODAY) == {"calls": 40}
        assert prompts.errors == []
    finally:
        # The page and its chart (pyqtgraph) go now, not in a later test's garbage collection
        # (which has crashed a later page's painting).
        page.close()
        page.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()
