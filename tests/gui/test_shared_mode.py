"""Shared mode on a real PostgreSQL server (needs PERFDESK_TEST_PG_URL, see tests/conftest.py)."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.gui.database_holder import DbState
from app.gui.people.model import LOGIN
from app.gui.targets import Server
from app.services.connection import ServerSettings, save_password
from app.services.database import Database
from tests.gui.conftest import FakePrompts, MemoryKeyring, WindowFactory, wait_settled

pytestmark = pytest.mark.pg


def server_of(db: Database) -> tuple[ServerSettings, str]:
    url = make_url(db.url)
    server = ServerSettings(
        url.host or "localhost", url.port or 5432, url.database or "", url.username or ""
    )
    return server, url.password or ""


def test_opens_a_server_with_the_keyring_password_and_adds_a_login(
    qtbot, make_window: WindowFactory, pg_password_db: Database, prompts: FakePrompts
) -> None:
    server, password = server_of(pg_password_db)
    save_password(server, password)
    window = make_window()
    window.open_database(Server(server))
    wait_settled(qtbot, window)
    assert window.ctx.database.state is DbState.OPEN, window.banner.label.text()
    assert window.mode_label.text() == server.describe()
    assert prompts.questions == []

    people = window.page_widget("people")
    assert not people.table.isColumnHidden(LOGIN)
    dialog = people.add_person()
    assert not dialog.password_edit.isHidden()
    email = f"cara{os.getpid()}@office.example"
    dialog.email_edit.setText(email)
    dialog.first_edit.setText("Cara")
    dialog.last_edit.setText("Diaz")
    dialog.password_edit.setText("cara's first password")
    with qtbot.waitSignal(dialog.added, timeout=10_000) as blocker:
        dialog.ok_button.click()
    assert blocker.args[0].has_db_role
    qtbot.waitUntil(lambda: people.model.rowCount() == 1, timeout=5000)
    assert people.model.index(0, LOGIN).data() == "Yes"

    as_cara = sa.create_engine(
        make_url(pg_password_db.url).set(username=email, password="cara's first password")
    )
    try:
        with as_cara.connect() as conn:
            assert conn.execute(sa.text("SELECT current_user")).scalar() == email
    finally:
        as_cara.dispose()


def test_a_wrong_password_is_reported_in_plain_words(
    qtbot, make_window: WindowFactory, pg_password_db: Database
) -> None:
    server, _password = server_of(pg_password_db)
    save_password(server, "not the password")
    window = make_window()
    window.open_database(Server(server))
    wait_settled(qtbot, window)
    assert window.ctx.database.state is DbState.FAILED
    assert (
        window.banner.label.text() == f"The server rejected the password for {server.describe()}."
    )


def test_a_typed_password_is_kept_in_the_keyring_after_it_worked(
    qtbot,
    make_window: WindowFactory,
    pg_password_db: Database,
    prompts: FakePrompts,
    memory_keyring: MemoryKeyring,
) -> None:
    server, password = server_of(pg_password_db)
    prompts.passwords = [password]
    window = make_window()
    window.open_database(Server(server))
    wait_settled(qtbot, window)
    assert window.ctx.database.state is DbState.OPEN
    assert prompts.questions == [f"Password for {server.describe()}:"]
    assert memory_keyring.passwords == {("PerfDesk", server.keyring_key): password}


def test_test_connection_succeeds(
    qtbot, make_window: WindowFactory, pg_password_db: Database
) -> None:
    server, password = server_of(pg_password_db)
    window = make_window()
    section = window.page_widget("settings").database_section
    section.host_edit.setText(server.host)
    section.port_edit.setText(str(server.port))
    section.database_edit.setText(server.database)
    section.user_edit.setText(server.user)
    section.password_edit.setText(password)
    section.test_button.click()
    qtbot.waitUntil(lambda: section.server_message.text() != "", timeout=10_000)
    assert (
        section.server_message.text() == f"Connected to {server.describe()}: the server answered."
    )
