"""Settings: server fields, passwords only in the keyring, and the office currency."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import QUrl

from app.domain.errors import ValidationError
from app.gui.database_holder import DbState
from app.gui.settings import database_section
from app.gui.settings.page import SettingsPage
from app.gui.targets import ExplicitUrl, Server
from app.services import connection, office
from app.services.connection import (
    KeyringUnavailable,
    ServerSettings,
    check_server_fields,
    forget_password,
    keyring_available,
    load_password,
    save_password,
    server_url,
)
from app.services.database import open_database
from tests.gui.conftest import FakePrompts, MemoryKeyring, WindowFactory, wait_settled

CLOSED_PORT = "1"  # nothing listens on port 1 of 127.0.0.1: connecting fails at once


def settings_page(window) -> SettingsPage:
    page = window.page_widget("settings")
    assert isinstance(page, SettingsPage)
    return page


def fill_server(section, host="127.0.0.1", port=CLOSED_PORT, db="perfdesk", user="ann"):
    section.host_edit.setText(host)
    section.port_edit.setText(port)
    section.database_edit.setText(db)
    section.user_edit.setText(user)


# -- connection service ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ("", "Enter the port (PostgreSQL's usual port is 5432)."),
        ("0", "The port is a whole number from 1 to 65535."),
        ("65536", "The port is a whole number from 1 to 65535."),
        ("54x2", "The port is a whole number from 1 to 65535."),
    ],
)
def test_port_must_be_1_to_65535(port: str, message: str) -> None:
    server, errors = check_server_fields("db.office", port, "perfdesk", "ann")
    assert server is None
    assert errors == {connection.PORT: message}


def test_required_server_fields() -> None:
    server, errors = check_server_fields("", "5432", " ", "")
    assert server is None
    assert set(errors) == {connection.HOST, connection.DATABASE, connection.USER}
    server, errors = check_server_fields(" db.office ", "65535", "perfdesk", "ann")
    assert errors == {}
    assert server == ServerSettings("db.office", 65535, "perfdesk", "ann")


def test_server_url_quotes_the_password() -> None:
    server = ServerSettings("db.office", 5432, "perfdesk", "ann@office.example")
    assert server_url(server, "p@ss:w/rd %") == (
        "postgresql+psycopg://ann%40office.example:p%40ss%3Aw%2Frd%20%25@db.office:5432/perfdesk"
    )
    assert server_url(server) == "postgresql+psycopg://ann%40office.example@db.office:5432/perfdesk"
    assert server_url(ServerSettings("::1", 5432, "p", "u")).startswith(
        "postgresql+psycopg://u@[::1]:"
    )


def test_keyring_round_trip(memory_keyring: MemoryKeyring) -> None:
    server = ServerSettings("db.office", 5432, "perfdesk", "ann")
    assert server.keyring_key == "ann@db.office:5432/perfdesk"
    assert load_password(server) is None
    save_password(server, "s3cret")
    assert memory_keyring.passwords == {("PerfDesk", "ann@db.office:5432/perfdesk"): "s3cret"}
    assert load_password(server) == "s3cret"
    forget_password(server)
    assert load_password(server) is None
    forget_password(server)  # nothing kept: nothing happens


def test_no_keyring_backend_is_reported() -> None:
    keyring.set_keyring(fail.Keyring())
    server = ServerSettings("db.office", 5432, "perfdesk", "ann")
    assert not keyring_available()
    with pytest.raises(KeyringUnavailable, match="no system keyring"):
        load_password(server)
    with pytest.raises(KeyringUnavailable):
        save_password(server, "x")


def test_a_plain_file_keyring_counts_as_none() -> None:
    class PlaintextKeyring(MemoryKeyring):
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"  # what keyrings.alt would install
    keyring.set_keyring(PlaintextKeyring())
    assert not keyring_available()
    with pytest.raises(KeyringUnavailable):
        save_password(ServerSettings("h", 1, "d", "u"), "x")


# -- database section --------------------------------------------------------------------


def test_validation_messages_appear_under_the_fields(make_window: WindowFactory) -> None:
    window = make_window()
    section = settings_page(window).database_section
    fill_server(section, host="", port="99999", db="", user="")
    section.test_button.click()
    messages = section.field_messages
    assert messages[connection.HOST].text() == "Enter the server's host name or address."
    assert messages[connection.PORT].text() == "The port is a whole number from 1 to 65535."
    assert messages[connection.DATABASE].text() == "Enter the name of the database on the server."
    assert messages[connection.USER].text() == "Enter your user name on the server."
    assert all(m.is_error for m in messages.values())
    assert window.ctx.ops.active() == []  # nothing was started
    section.port_edit.setText("5432")
    section.port_edit.textEdited.emit("5432")
    assert messages[connection.PORT].isHidden()


def test_use_this_server_keeps_fields_in_settings_and_password_in_keyring(
    qtbot,
    make_window: WindowFactory,
    memory_keyring: MemoryKeyring,
    qsettings,
    tmp_path: Path,
    prompts: FakePrompts,
) -> None:
    window = make_window()
    section = settings_page(window).database_section
    fill_server(section)
    section.password_edit.setText("Pa55-word-in-keyring")
    section.use_server_button.click()
    assert section.password_edit.text() == ""
    assert memory_keyring.passwords == {
        ("PerfDesk", "ann@127.0.0.1:1/perfdesk"): "Pa55-word-in-keyring"
    }
    assert window.ctx.database.target == Server(ServerSettings("127.0.0.1", 1, "perfdesk", "ann"))
    wait_settled(qtbot, window)
    assert window.ctx.database.state is DbState.FAILED
    assert "cannot be reached" in window.banner.label.text()
    assert prompts.questions == []

    qsettings.sync()
    saved = window.ctx.settings.chosen_server()
    assert saved == ServerSettings("127.0.0.1", 1, "perfdesk", "ann")
    assert not _files_containing(tmp_path, b"Pa55-word-in-keyring")


def test_without_a_keyring_it_says_so_once_and_asks_each_time(
    qtbot, make_window: WindowFactory, prompts: FakePrompts, tmp_path: Path
) -> None:
    keyring.set_keyring(fail.Keyring())
    prompts.passwords = ["typed-Secret-1", "typed-Secret-2"]
    window = make_window()
    section = settings_page(window).database_section
    window.show_page("settings")
    assert section.password_hint.text() == database_section.NO_KEYRING_HINT
    fill_server(section)
    section.use_server_button.click()
    wait_settled(qtbot, window)
    assert prompts.questions == ["Password for ann@127.0.0.1:1/perfdesk:"]
    window.banner.retry_button.click()
    wait_settled(qtbot, window)
    assert len(prompts.questions) == 2  # asked at each connection
    assert len(prompts.notices) == 1  # told once
    assert "no system keyring" in prompts.notices[0]
    assert not _files_containing(tmp_path, b"typed-Secret")


def test_cancelling_the_password_prompt_does_not_connect(
    qtbot, make_window: WindowFactory, prompts: FakePrompts
) -> None:
    window = make_window()
    prompts.passwords = [None]
    window.open_database(Server(ServerSettings("127.0.0.1", 1, "perfdesk", "ann")))
    assert window.ctx.database.state is DbState.FAILED
    assert window.banner.label.text().startswith("No password was given for ann@127.0.0.1:1")
    assert window.ctx.ops.active() == []


def test_test_connection_reports_success_and_failure_inline(
    qtbot, make_window: WindowFactory, monkeypatch: pytest.MonkeyPatch, memory_keyring
) -> None:
    window = make_window()
    section = settings_page(window).database_section
    fill_server(section)
    section.password_edit.setText("whatever")
    section.test_button.click()
    qtbot.waitUntil(lambda: section.server_message.text() != "", timeout=10_000)
    assert section.server_message.is_error
    assert "cannot be reached" in section.server_message.text()
    assert memory_keyring.passwords == {}  # testing does not store anything

    urls: list[str] = []
    monkeypatch.setattr(database_section, "ping_url", urls.append)
    section.test_button.click()
    qtbot.waitUntil(lambda: section.server_message.text() != "", timeout=5000)
    assert section.server_message.text() == (
        "Connected to ann@127.0.0.1:1/perfdesk: the server answered."
    )
    assert not section.server_message.is_error
    assert urls == ["postgresql+psycopg://ann:whatever@127.0.0.1:1/perfdesk"]
    qtbot.waitUntil(section.test_button.isEnabled)


def test_use_local_file_and_open_folder(qtbot, make_window: WindowFactory, ctx) -> None:
    opened: list[QUrl] = []
    window = make_window()
    page = settings_page(window)
    section = page.database_section
    section._open_url = lambda url: opened.append(url) or True
    section.open_folder_button.click()
    assert section.local_message.is_error and "does not exist yet" in section.local_message.text()

    section.use_local_button.click()
    wait_settled(qtbot, window)
    local = Path(section.local_path_label.text())
    assert window.mode_label.text() == f"Local file {local}"
    assert local.exists() and "xdg-data" in str(local)  # the test's data folder, not the real one
    assert not section.use_local_button.isEnabled()
    section.open_folder_button.click()
    assert opened == [QUrl.fromLocalFile(str(local.parent))]


# -- office section ----------------------------------------------------------------------


def test_office_currency_is_validated_previewed_and_saved(
    qtbot, make_window: WindowFactory, prepared_db_path: Path, prompts: FakePrompts
) -> None:
    window = make_window()
    section = settings_page(window).office_section
    assert not section.currency_combo.isEnabled()
    window.open_database(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    wait_settled(qtbot, window)
    qtbot.waitUntil(section.currency_combo.isEnabled, timeout=5000)
    assert section.currency_text == "USD"
    assert section.preview_label.text() == "Amounts will look like $1,234,567.50"

    section.currency_combo.setEditText("XQZ")
    section.save_button.click()
    assert section.message.text() == "XQZ is not an ISO 4217 currency code."
    section.currency_combo.setEditText("S1")
    section.save_button.click()
    assert "three-letter ISO 4217 code" in section.message.text()

    section.currency_combo.setEditText("sgd")
    assert section.preview_label.text() == "Amounts will look like SGD 1,234,567.50"
    section.save_button.click()
    qtbot.waitUntil(lambda: section.message.text() == "Saved: amounts are shown in SGD.")
    wait_settled(qtbot, window)
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        assert office.get_currency(db) == "SGD"
    finally:
        db.dispose()
    assert prompts.errors == []


def test_office_service_round_trip(prepared_db_path: Path) -> None:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        assert office.get_currency(db) == office.DEFAULT_CURRENCY == "USD"
        assert office.set_currency(db, " eur ") == "EUR"
        assert office.get_currency(db) == "EUR"
        assert office.set_currency(db, "SGD") == "SGD"
        assert office.get_currency(db) == "SGD"
        with pytest.raises(ValidationError):
            office.set_currency(db, "DOLLARS")
        assert office.get_currency(db) == "SGD"
    finally:
        db.dispose()
    assert set(office.COMMON_CURRENCIES) <= office.ISO_4217


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]
