"""People: the model and proxy (qtmodeltester), the page over a real SQLite file, Add person…"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QModelIndex, Qt

from app.domain.enums import Role
from app.gui.page_list_model import PAGE_KEY_ROLE, PageListModel
from app.gui.pages import PageSpec
from app.gui.people.add_dialog import AddPersonDialog
from app.gui.people.model import (
    EMAIL,
    LOGIN,
    NAME,
    ROLE,
    SORT_ROLE,
    USER_ID_ROLE,
    USER_ROLE,
    PeopleFilterProxy,
    PeopleModel,
)
from app.gui.people.page import PeoplePage
from app.gui.targets import ExplicitUrl
from app.services.database import open_database
from app.services.users import UserInfo, add_user
from tests.gui.conftest import FakePrompts, WindowFactory, wait_settled

PEOPLE = [
    UserInfo(1, "bob@office.example", "Bob", "Broker", "broker", None, None, False),
    UserInfo(2, "ann@office.example", "Ann", "Lee", "agent", "North", "bob@office.example", True),
    UserInfo(3, "noah@office.example", "Noah", "Adams", "manager", "South", None, False),
]


@pytest.fixture
def people_db(prepared_db_path: Path) -> Path:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, "bob@office.example", "broker", "Bob", "Broker")
        add_user(db, "ann@office.example", "agent", "Ann", "Lee", "North", "bob@office.example")
    finally:
        db.dispose()
    return prepared_db_path


def test_people_model_passes_qtmodeltester(qtmodeltester) -> None:
    model = PeopleModel()
    model.set_people(PEOPLE)
    qtmodeltester.check(model)
    model.set_people([])
    qtmodeltester.check(model)


def test_people_proxy_passes_qtmodeltester_while_filtering(qtmodeltester) -> None:
    model = PeopleModel()
    proxy = PeopleFilterProxy()
    proxy.setSourceModel(model)
    model.set_people(PEOPLE)
    proxy.sort(NAME)
    qtmodeltester.check(proxy)
    proxy.setFilterFixedString("north")
    qtmodeltester.check(proxy)
    assert proxy.rowCount() == 1


def test_page_list_model_passes_qtmodeltester(qtmodeltester) -> None:
    specs = [PageSpec("a", "Alpha", lambda ctx: None), PageSpec("b", "Beta", lambda ctx: None)]
    model = PageListModel(specs)
    qtmodeltester.check(model)
    assert model.index(1).data(PAGE_KEY_ROLE) == "b"
    assert model.index(0).data(Qt.ItemDataRole.ToolTipRole) == "Alpha (Ctrl+1)"


def test_people_model_roles() -> None:
    model = PeopleModel()
    model.set_people(PEOPLE)
    ann = model.index(1, NAME)
    assert ann.data() == "Ann Lee"
    assert ann.data(USER_ID_ROLE) == 2
    assert ann.data(USER_ROLE) is PEOPLE[1]
    assert ann.data(SORT_ROLE) == "lee ann"
    assert model.index(1, ROLE).data() == "Agent"
    assert model.index(1, LOGIN).data() == "Yes"
    assert model.headerData(EMAIL, Qt.Orientation.Horizontal) == "Email"
    assert model.index(0, 0, model.index(0, 0)).isValid() is False
    assert model.rowCount(model.index(0, 0)) == 0


def test_proxy_sorts_by_last_name_and_filters_any_text_column() -> None:
    model = PeopleModel()
    proxy = PeopleFilterProxy()
    proxy.setSourceModel(model)
    model.set_people(PEOPLE)
    proxy.sort(NAME, Qt.SortOrder.AscendingOrder)
    names = [proxy.index(r, NAME).data() for r in range(proxy.rowCount())]
    assert names == ["Noah Adams", "Bob Broker", "Ann Lee"]
    proxy.setFilterFixedString("BOB@")
    assert proxy.rowCount() == 2  # Bob, and Ann whose broker is Bob
    proxy.setFilterFixedString("noa")
    assert [proxy.index(r, NAME).data() for r in range(proxy.rowCount())] == ["Noah Adams"]
    proxy.setFilterFixedString("yes")
    assert proxy.rowCount() == 0  # the Yes/No login column is not searched
    proxy.setFilterFixedString("")
    assert proxy.rowCount() == 3
    assert proxy.mapToSource(proxy.index(0, 0)) != QModelIndex()


def people_page(window) -> PeoplePage:
    page = window.page_widget("people")
    assert isinstance(page, PeoplePage)
    return page


def open_people(qtbot, make_window: WindowFactory, path: Path):
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    page = people_page(window)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=5000)
    return window, page


def test_people_page_lists_people_and_filters(
    qtbot, make_window: WindowFactory, people_db: Path
) -> None:
    _window, page = open_people(qtbot, make_window, people_db)
    assert page.model.rowCount() == 2
    assert page.count_label.text() == "2 people"
    assert page.table.isColumnHidden(LOGIN)  # local file: no database logins
    qtbot.keyClicks(page.filter_edit, "north")
    assert page.proxy.rowCount() == 1
    assert page.count_label.text() == "1 of 2"
    assert page.add_button.isEnabled()


def test_add_person_checks_fields_inline_then_adds(
    qtbot, make_window: WindowFactory, people_db: Path, prompts: FakePrompts
) -> None:
    window, page = open_people(qtbot, make_window, people_db)
    dialog = page.add_person()
    assert isinstance(dialog, AddPersonDialog)
    assert dialog.broker_combo.itemData(1) == "bob@office.example"
    assert dialog.password_edit.isHidden()  # local mode: no database login to create

    dialog.email_edit.setText("not-an-email")
    dialog.ok_button.click()
    assert dialog.messages["email"].text() == "'not-an-email' is not an email address."
    assert dialog.messages["first_name"].text() == "Enter their first name."
    assert dialog.messages["last_name"].text() == "Enter their last name."
    assert dialog.isVisible()

    dialog.email_edit.setText("cara@office.example")
    dialog.first_edit.setText("Cara")
    dialog.last_edit.setText("Diaz")
    dialog.role_combo.setCurrentIndex(dialog.role_combo.findData(Role.AGENT.value))
    dialog.team_combo.setEditText("North")
    dialog.broker_combo.setCurrentIndex(1)
    with qtbot.waitSignal(dialog.added, timeout=5000) as blocker:
        dialog.ok_button.click()
    person = blocker.args[0]
    assert (person.email, person.team, person.broker_email) == (
        "cara@office.example",
        "North",
        "bob@office.example",
    )
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=5000)
    assert "Added Cara Diaz (agent)." in window.statusBar().currentMessage()
    assert prompts.errors == []


def test_add_person_shows_the_services_refusal_inline(
    qtbot, make_window: WindowFactory, people_db: Path, prompts: FakePrompts
) -> None:
    _window, page = open_people(qtbot, make_window, people_db)
    dialog = page.add_person()
    assert dialog is not None
    dialog.email_edit.setText("ann@office.example")
    dialog.first_edit.setText("Ann")
    dialog.last_edit.setText("Again")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.form_message.text() != "", timeout=5000)
    assert "already exists" in dialog.form_message.text()
    assert dialog.isVisible() and dialog.ok_button.isEnabled()
    assert prompts.errors == []
    dialog.reject()


def test_in_shared_mode_the_new_person_needs_a_password(qtbot, ctx) -> None:
    shared_db = SimpleNamespace(is_local=False)
    dialog = AddPersonDialog(ctx, shared_db, PEOPLE)
    qtbot.addWidget(dialog)
    assert not dialog.password_edit.isHidden()
    dialog.email_edit.setText("dee@office.example")
    dialog.first_edit.setText("Dee")
    dialog.last_edit.setText("Ng")
    dialog.password_edit.setText("short")
    dialog.ok_button.click()
    assert dialog.messages["password"].text() == ("Give them a password of at least 8 characters.")
    assert ctx.ops.active() == []
