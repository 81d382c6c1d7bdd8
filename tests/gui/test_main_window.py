"""The window shell: pages, keyboard, status bar, layout memory, About, opening the database."""

from __future__ import annotations

import platform
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QtMsgType, qVersion
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QProgressDialog, QWidget

from app import __version__
from app.domain.errors import SchemaTooNew
from app.gui import first_run
from app.gui.app_settings import AppSettings
from app.gui.context import AppContext
from app.gui.database_holder import DbState
from app.gui.operations import OperationCancelled
from app.gui.pages import PageRegistry, PageSpec, load_builtin_pages, page
from app.gui.prompts import FirstRunChoice
from app.gui.targets import ExplicitUrl, LocalFile, Server, initial_target
from app.services.connection import ServerSettings, save_password
from app.services.schema import SchemaStatus
from tests.gui.conftest import FakePrompts, WindowFactory, wait_settled


def label_page(text: str):
    def build(_ctx: AppContext) -> QWidget:
        return QLabel(text)

    return build


@pytest.fixture
def three_pages() -> PageRegistry:
    registry = PageRegistry()
    registry.register(PageSpec("second", "Second", label_page("two"), order=20))
    registry.register(PageSpec("first", "First", label_page("one"), order=10))
    registry.register(PageSpec("third", "Third", label_page("three"), order=30))
    return registry


def press_ctrl(qtbot, window: QWidget, key: Qt.Key) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    QTest.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)


def test_qt_warnings_are_caught(fail_on_qt_warnings: list[str]) -> None:
    from PySide6.QtCore import qWarning

    qWarning("a warning from the test itself")
    assert fail_on_qt_warnings == ["QtWarningMsg: a warning from the test itself"]
    fail_on_qt_warnings.clear()  # seen, so this test passes
    assert QtMsgType.QtWarningMsg.name == "QtWarningMsg"


def test_pages_come_from_the_registry_in_order(make_window: WindowFactory, three_pages) -> None:
    window = make_window(pages=three_pages)
    assert window.page_keys() == ["first", "second", "third"]
    assert window.current_page_key() == "first"
    assert window.show_page("third")
    assert window.stack.currentWidget().text() == "three"
    assert not window.show_page("missing")
    assert [a.text() for a in window.page_actions] == ["First", "Second", "Third"]
    assert window.page_actions[1].shortcut().toString() == "Ctrl+2"


def test_a_page_that_fails_to_build_is_left_out(make_window: WindowFactory, caplog) -> None:
    registry = PageRegistry()

    @page("fine", "Fine", registry=registry)
    def fine(_ctx: AppContext) -> QWidget:
        return QLabel("fine")

    @page("broken", "Broken", registry=registry)
    def broken(_ctx: AppContext) -> QWidget:
        raise RuntimeError("half-built feature")

    window = make_window(pages=registry)
    assert window.page_keys() == ["fine"]
    assert "The Broken page could not be built" in caplog.text


def test_registry_refuses_a_second_page_with_the_same_key() -> None:
    registry = PageRegistry()
    registry.register(PageSpec("a", "A", label_page("a")))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(PageSpec("a", "Another A", label_page("b")))


def test_builtin_pages_are_dashboard_pipeline_records_people_and_settings() -> None:
    keys = [spec.key for spec in load_builtin_pages()]
    assert keys[:2] == ["dashboard", "pipeline"]
    records = ["leads", "appointments", "clients", "listings", "escrows"]
    assert [k for k in keys if k in records] == records
    assert "people" in keys and keys[-1] == "settings"


def test_ctrl_number_switches_pages(qtbot, make_window: WindowFactory, three_pages) -> None:
    window = make_window(pages=three_pages)
    press_ctrl(qtbot, window, Qt.Key.Key_3)
    assert window.current_page_key() == "third"
    press_ctrl(qtbot, window, Qt.Key.Key_2)
    assert window.current_page_key() == "second"
    assert window.stack.currentWidget().text() == "two"


def test_ctrl_q_closes_the_window(qtbot, make_window: WindowFactory, three_pages) -> None:
    window = make_window(pages=three_pages)
    press_ctrl(qtbot, window, Qt.Key.Key_Q)
    qtbot.waitUntil(lambda: not window.isVisible())


def test_status_bar_shows_the_local_file(
    qtbot, make_window: WindowFactory, prepared_db_path: Path
) -> None:
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    wait_settled(qtbot, window)
    assert window.ctx.database.state is DbState.OPEN
    assert window.mode_label.text() == f"Local file {prepared_db_path}"
    assert window.banner.isHidden()
    assert window.refresh_action.isEnabled()


def test_status_bar_shows_user_at_server(
    qtbot, make_window: WindowFactory, prompts: FakePrompts
) -> None:
    server = ServerSettings("127.0.0.1", 1, "perfdesk", "ann")
    save_password(server, "secret")  # in the test keyring: no prompt
    window = make_window()
    window.open_database(Server(server))
    assert window.mode_label.text() == "ann@127.0.0.1:1/perfdesk"
    wait_settled(qtbot, window)
    assert window.ctx.database.state is DbState.FAILED
    assert window.mode_label.text() == "ann@127.0.0.1:1/perfdesk — not connected"
    assert "cannot be reached" in window.banner.label.text()
    assert prompts.questions == []


def test_window_paints_first_and_opens_in_the_background(
    qtbot, make_window: WindowFactory, prepared_db_path: Path
) -> None:
    gate = threading.Event()
    window = make_window()
    holder = window.ctx.database

    def slow_prepare(db):
        assert threading.current_thread() is not threading.main_thread()
        gate.wait(5)
        return SchemaStatus("current", "x", None, is_empty=False)

    holder.prepare = slow_prepare
    window.open_database(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    # Back on the GUI thread at once; the window says what it is doing.
    assert holder.state is DbState.OPENING
    assert window.banner.isVisible() and window.banner.kind == "info"
    assert "Opening database" in window.banner.label.text()
    assert window.status_progress.current() is not None
    window.grab()  # paints while the database is still opening
    gate.set()
    wait_settled(qtbot, window)
    assert holder.state is DbState.OPEN and window.banner.isHidden()


def test_an_upgrade_says_where_the_copy_is(
    qtbot, make_window: WindowFactory, prepared_db_path: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "office.before-0001.sqlite3"
    window = make_window()
    window.ctx.database.prepare = lambda db: SchemaStatus("upgraded", "0002", copy, False)
    window.open_database(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    wait_settled(qtbot, window)
    assert str(copy) in window.statusBar().currentMessage()
    assert "upgraded" in window.statusBar().currentMessage()


def test_a_newer_schema_is_refused_with_retry_and_settings(
    qtbot, make_window: WindowFactory, prepared_db_path: Path, prompts: FakePrompts
) -> None:
    before = prepared_db_path.read_bytes()
    message = "office.sqlite3 was written by a newer PerfDesk. Update PerfDesk."

    def too_new(db):
        raise SchemaTooNew(message)

    window = make_window()
    window.ctx.database.prepare = too_new
    window.open_database(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    wait_settled(qtbot, window)
    assert window.banner.label.text() == message
    assert window.statusBar().currentMessage() == message
    assert window.banner.retry_button.isVisible()
    assert window.banner.settings_button.isVisible()
    assert prompts.errors == []  # shown in the banner, not in a pop-up
    assert prepared_db_path.read_bytes() == before

    window.banner.settings_button.click()
    assert window.current_page_key() == "settings"

    window.banner.retry_button.click()
    assert window.ctx.database.state is DbState.OPENING
    wait_settled(qtbot, window)
    assert window.ctx.database.state is DbState.FAILED


def test_a_corrupt_sqlite_file_is_reported_and_the_window_stays_usable(
    qtbot, make_window: WindowFactory, tmp_path: Path, prompts: FakePrompts
) -> None:
    bad = tmp_path / "garbage.sqlite3"
    garbage = bytes(range(256)) * 32
    bad.write_bytes(garbage)
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{bad}"))
    wait_settled(qtbot, window)

    text = window.banner.label.text()
    assert text.startswith(f"Local file {bad} is not a PerfDesk database or is damaged")
    assert "Traceback" not in text
    assert window.banner.kind == "error"
    assert window.statusBar().currentMessage() == text
    assert bad.read_bytes() == garbage  # nothing written
    assert prompts.errors == []

    # Still usable: pages switch, settings work, nothing is enabled that needs a database.
    people = window.page_widget("people")
    assert people is not None and not people.add_button.isEnabled()
    press_ctrl(qtbot, window, Qt.Key.Key_2)  # Ctrl+1…9 reach the first nine pages
    assert window.current_page_key() == window.page_keys()[1]
    assert window.show_page("settings")
    assert window.current_page_key() == "settings"
    about = window.show_about()
    assert "not connected" in about.text()
    about.close()


def test_layout_and_last_page_are_restored(
    qtbot, make_window: WindowFactory, three_pages, ctx: AppContext, prompts: FakePrompts
) -> None:
    first = make_window(pages=three_pages)
    first.resize(700, 500)
    first.splitter.setSizes([230, 470])
    first.show_page("third")
    first.close()

    second_ctx = AppContext.create(AppSettings(ctx.settings.qsettings), prompts.as_prompts())
    second = make_window(second_ctx, pages=three_pages)
    assert second.current_page_key() == "third"
    assert (second.width(), second.height()) == (700, 500)
    assert second.splitter.sizes()[0] == 230


def test_about_box_names_version_database_qt_and_python(
    qtbot, make_window: WindowFactory, prepared_db_path: Path
) -> None:
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    wait_settled(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    QTest.keyClick(window, Qt.Key.Key_F1)
    box = window.findChild(QWidget, "aboutBox")
    assert box is not None
    text = box.text()
    assert __version__ in text
    assert str(prepared_db_path) in text
    assert qVersion() in text
    assert platform.python_version() in text
    box.close()


def test_empty_database_offers_demo_or_empty_once(
    qtbot, make_window: WindowFactory, prepared_db_path: Path, prompts: FakePrompts
) -> None:
    prompts.first_run = FirstRunChoice.EMPTY
    window = make_window()
    url = f"sqlite:///{prepared_db_path}"
    window.open_database(ExplicitUrl(url))
    qtbot.waitUntil(lambda: prompts.first_run_asked == 1, timeout=5000)
    assert "empty database" in window.statusBar().currentMessage()
    window.open_database(ExplicitUrl(url))
    wait_settled(qtbot, window)
    qtbot.wait(50)  # the offer, if any, comes just after the database opens
    assert prompts.first_run_asked == 1  # the answer was remembered for this database


def test_demo_choice_runs_with_progress_and_can_be_cancelled(
    qtbot,
    make_window: WindowFactory,
    prepared_db_path: Path,
    prompts: FakePrompts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def fake_generate(db, progress, cancelled):
        calls.append(db.describe())
        progress(1, 100, "Adding people…")
        while not cancelled():
            threading.Event().wait(0.005)
        raise OperationCancelled

    monkeypatch.setattr(first_run, "generate_demo", fake_generate)
    prompts.first_run = FirstRunChoice.DEMO
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    qtbot.waitUntil(lambda: window.findChild(QProgressDialog) is not None, timeout=5000)
    dialog = window.findChild(QProgressDialog)
    qtbot.waitUntil(lambda: dialog.labelText() == "Adding people…", timeout=5000)
    dialog.canceled.emit()  # the Cancel button
    qtbot.waitUntil(lambda: "cancelled" in window.statusBar().currentMessage(), timeout=5000)
    assert calls == [f"Local file {prepared_db_path}"]
    # Not remembered: the database is still empty, so the question comes back next time.
    assert not window.ctx.settings.first_run_answered(f"Local file {prepared_db_path}")


def test_demo_generation_calls_the_demo_service(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.services.demo

    seen: dict[str, object] = {}

    def generate(db, scale="brokerage", seed=7, progress=None, cancelled=None):
        seen.update(scale=scale, progress=progress, cancelled=cancelled)
        return "summary"

    monkeypatch.setattr(app.services.demo, "generate", generate)
    progress, cancelled = (lambda d, t, s: None), (lambda: False)
    assert first_run.generate_demo(object(), progress, cancelled) == "summary"
    assert seen == {"scale": "brokerage", "progress": progress, "cancelled": cancelled}


def test_demo_data_fills_the_people_page(
    qtbot, make_window: WindowFactory, prepared_db_path: Path, prompts: FakePrompts
) -> None:
    prompts.first_run = FirstRunChoice.DEMO
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage().startswith("Demo data is ready"),
        timeout=60_000,
    )
    people = window.page_widget("people")
    qtbot.waitUntil(lambda: people.model.rowCount() > 10, timeout=10_000)
    assert prompts.errors == []


def test_initial_target_order(monkeypatch: pytest.MonkeyPatch) -> None:
    server = ServerSettings("db.office", 5432, "perfdesk", "ann")
    assert initial_target("sqlite:///x.db", server) == ExplicitUrl("sqlite:///x.db")
    monkeypatch.setenv("PERFDESK_DB_URL", "sqlite:///env.db")
    assert initial_target(None, server) == ExplicitUrl("sqlite:///env.db")
    monkeypatch.delenv("PERFDESK_DB_URL")
    assert initial_target(None, server) == Server(server)
    assert initial_target(None, None) == LocalFile()


def test_opening_another_database_discards_the_first_result(
    qtbot, make_window: WindowFactory, prepared_db_path: Path, tmp_path: Path
) -> None:
    gate = threading.Event()
    window = make_window()
    holder = window.ctx.database
    opened: list[str] = []
    holder.opened.connect(lambda db, _status: opened.append(db.describe()))

    def prepare(db):
        if db.file_path == prepared_db_path:
            gate.wait(5)  # the first database is slow to prepare
        return SchemaStatus("current", "x", None, is_empty=False)

    holder.prepare = prepare
    window.open_database(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    other = tmp_path / "other.sqlite3"
    window.open_database(ExplicitUrl(f"sqlite:///{other}"))
    qtbot.waitUntil(lambda: holder.state is DbState.OPEN, timeout=5000)
    gate.set()
    wait_settled(qtbot, window)
    assert opened == [f"Local file {other}"]
    assert holder.db is not None and holder.db.file_path == other
    assert window.mode_label.text() == f"Local file {other}"
