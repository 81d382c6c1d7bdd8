"""A lost server connection (issue 3): the watch (app/gui/connection_watch.py), the window's
banner, the error presenter keeping quiet while the banner speaks, and a record form that keeps
what the broker typed until it can be saved once the server answers again."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import errors as pg_errors
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from app.domain.errors import DatabaseProblem, ValidationError
from app.gui import connection_watch
from app.gui.connection_watch import BACKOFF_S, ConnectionWatch, lost_message
from app.gui.context import AppContext
from app.gui.errors import CONNECTION_LOST_TEXT, UserMessage, describe_error
from app.gui.main_window import MainWindow
from app.gui.records.lead_dialog import LeadDialog
from app.gui.records.page import RecordPage
from app.gui.targets import ExplicitUrl
from app.services.database import Database, open_database
from app.services.users import add_user
from tests.gui.conftest import FakePrompts, WindowFactory, wait_settled

ADMIN_COMMAND = "terminating connection due to administrator command"
COARSE = 1.06  # QTimer's default coarse timers may fire up to 5 % late


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def unreachable_db() -> Iterator[Database]:
    """A shared database whose server is down (nothing listens on its port)."""
    db = open_database(f"postgresql+psycopg://ann@127.0.0.1:{_free_port()}/perfdesk")
    yield db
    db.dispose()


@dataclass
class FakePing:
    """Stands in for ``ping`` on the watch's worker: no answer for the first ``failures``
    calls, then the real ping (or nothing, without a server)."""

    failures: int
    real: Callable[[Database], None] | None = None
    calls: int = 0
    release: threading.Event | None = None  # when set, each call waits for it

    def __call__(self, db: Database) -> None:
        self.calls += 1
        if self.release is not None:
            assert self.release.wait(10)
        if self.calls <= self.failures:
            raise psycopg.OperationalError(
                f'connection to server at "127.0.0.1", port 5432 failed: Connection refused '
                f"(try {self.calls})"
            )
        if self.real is not None:
            self.real(db)


def fake_ping(monkeypatch: pytest.MonkeyPatch, failures: int, *, real: bool = False) -> FakePing:
    fake = FakePing(failures, connection_watch.ping if real else None)
    monkeypatch.setattr(connection_watch, "ping", fake)
    return fake


def lost_error() -> sa_exc.OperationalError:
    return sa_exc.OperationalError(
        "SELECT 1", {}, pg_errors.AdminShutdown(ADMIN_COMMAND), connection_invalidated=True
    )


class Recorder:
    """Every signal of a watch, in order, and the thread each came on."""

    def __init__(self, watch: ConnectionWatch) -> None:
        self.events: list[tuple[str, str | None]] = []
        self.threads: list[QThread] = []
        watch.lost.connect(lambda text: self._add("lost", text))
        watch.still_lost.connect(lambda text: self._add("still_lost", text))
        watch.restored.connect(lambda: self._add("restored", None))

    def _add(self, name: str, text: str | None) -> None:
        self.events.append((name, text))
        self.threads.append(QThread.currentThread())

    def names(self) -> list[str]:
        return [name for name, _ in self.events]


def watching(ctx: AppContext, db: Database) -> tuple[ConnectionWatch, Recorder]:
    watch = ConnectionWatch(ctx.ops)
    watch.watch(db)
    return watch, Recorder(watch)


def wait_idle(qtbot, ctx: AppContext) -> None:
    qtbot.waitUntil(lambda: not ctx.ops.active(), timeout=10_000)


# -- ConnectionWatch on its own ---------------------------------------------------------------


def test_the_first_report_says_lost_once_and_pings_on_the_default_schedule(
    qtbot, ctx: AppContext, unreachable_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert BACKOFF_S == (1, 2, 5, 10, 30)
    ping = fake_ping(monkeypatch, failures=99)
    watch, recorder = watching(ctx, unreachable_db)
    assert not watch.is_lost and watch.next_try_ms is None

    watch.report(lost_error())
    where = unreachable_db.describe()
    assert recorder.events == [("lost", lost_message(where))]
    assert lost_message(where) == (
        f"Lost the connection to {where}. Reconnecting… Your unsaved changes are kept."
    )
    assert watch.is_lost and ping.calls == 0  # the first try waits for the first back-off
    assert watch.next_try_ms is not None and 900 <= watch.next_try_ms <= 1000 * COARSE

    watch.report(lost_error())  # more statements failing meanwhile say nothing new
    assert recorder.names() == ["lost"]

    # Each failed try plans the next one further away; the last back-off repeats.
    for expected in (2, 5, 10, 30, 30):
        with qtbot.waitSignal(watch.still_lost, timeout=5000) as blocker:
            watch.check_now()  # as the banner's Retry does, instead of waiting
        assert blocker.args == [f"Still no answer from {where}; trying again in {expected} s."]
        assert watch.is_lost
        next_try = watch.next_try_ms
        assert next_try is not None and expected * 900 <= next_try <= expected * 1000 * COARSE
    assert ping.calls == 5
    assert recorder.names() == ["lost"] + ["still_lost"] * 5
    watch.stop()
    assert watch.next_try_ms is None and not watch.is_lost
    wait_idle(qtbot, ctx)


def test_the_watch_pings_by_itself_until_the_server_answers(
    qtbot, ctx: AppContext, unreachable_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ping = fake_ping(monkeypatch, failures=2)
    watch, recorder = watching(ctx, unreachable_db)
    watch.backoff_s = (0.05, 0.15)
    started = time.monotonic()
    with qtbot.waitSignal(watch.restored, timeout=5000):
        watch.report(lost_error())
    elapsed = time.monotonic() - started
    where = unreachable_db.describe()
    assert recorder.events == [
        ("lost", lost_message(where)),
        ("still_lost", f"Still no answer from {where}; trying again in 0.15 s."),
        ("still_lost", f"Still no answer from {where}; trying again in 0.15 s."),
        ("restored", None),
    ]
    assert ping.calls == 3
    assert elapsed >= 0.05 + 0.15 + 0.15 - 0.03  # it waited between tries
    assert not watch.is_lost and watch.next_try_ms is None

    # Lost again later: said again, and the back-off starts over from the first.
    watch.backoff_s = (5, 10)
    watch.report(lost_error())
    assert recorder.names()[-1] == "lost" and watch.is_lost
    assert watch.next_try_ms is not None and watch.next_try_ms > 4000
    watch.stop()
    wait_idle(qtbot, ctx)


def test_check_now_pings_only_when_lost_and_once_at_a_time(
    qtbot, ctx: AppContext, unreachable_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ping = fake_ping(monkeypatch, failures=0)
    watch, recorder = watching(ctx, unreachable_db)
    watch.check_now()
    assert ping.calls == 0 and ctx.ops.active() == []  # nothing lost: nothing to check

    ping.release = threading.Event()
    watch.backoff_s = (60,)
    watch.report(lost_error())
    watch.check_now()
    watch.check_now()  # a ping is under way
    assert len(ctx.ops.active()) == 1
    assert watch.next_try_ms is None  # the timer waits for the answer
    with qtbot.waitSignal(watch.restored, timeout=5000):
        ping.release.set()
    assert ping.calls == 1
    assert recorder.names() == ["lost", "restored"]
    wait_idle(qtbot, ctx)


def test_an_answer_after_stop_is_dropped(
    qtbot, ctx: AppContext, unreachable_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ping = fake_ping(monkeypatch, failures=0)
    ping.release = threading.Event()
    watch, recorder = watching(ctx, unreachable_db)
    watch.backoff_s = (60,)
    watch.report(lost_error())
    watch.check_now()
    watch.stop()  # the database was closed while the ping ran
    ping.release.set()
    wait_idle(qtbot, ctx)
    assert recorder.names() == ["lost"]
    assert not watch.is_lost and watch.next_try_ms is None
    watch.report(lost_error())  # no database watched any more
    assert recorder.names() == ["lost"]


def test_a_local_file_is_never_watched(
    qtbot, ctx: AppContext, prepared_db_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ping = fake_ping(monkeypatch, failures=0)
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        watch, recorder = watching(ctx, db)
        assert watch.db is None
        watch.report(lost_error())
        watch.check_now()
        assert recorder.events == [] and not watch.is_lost and ping.calls == 0
    finally:
        db.dispose()


def test_a_lost_connection_on_a_worker_is_said_on_the_gui_thread(
    qtbot, ctx: AppContext, unreachable_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real path: the Database's listener runs on the worker that hit the error."""
    ping = fake_ping(monkeypatch, failures=0)
    watch, recorder = watching(ctx, unreachable_db)
    watch.backoff_s = (60,)
    errors: list[BaseException] = []

    def read(db: Database) -> None:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    with qtbot.waitSignal(watch.lost, timeout=10_000):
        ctx.ops.run(lambda: read(unreachable_db), on_error=errors.append)
    assert recorder.threads == [QApplication.instance().thread()]
    wait_idle(qtbot, ctx)
    assert len(errors) == 1 and isinstance(errors[0], sa_exc.OperationalError)
    assert watch.is_lost and ping.calls == 0
    with qtbot.waitSignal(watch.restored, timeout=5000):
        watch.check_now()
    assert recorder.names() == ["lost", "restored"]
    assert recorder.threads[-1] is QApplication.instance().thread()
    watch.stop()
    wait_idle(qtbot, ctx)


def test_describe_error_says_a_lost_connection_plainly() -> None:
    message = describe_error(lost_error())
    assert message.text == CONNECTION_LOST_TEXT and message.connection_lost
    assert message.details is not None and ADMIN_COMMAND in message.details
    try:
        raise DatabaseProblem("Lost the connection to x.") from pg_errors.AdminShutdown("x")
    except DatabaseProblem as problem:
        told = describe_error(problem)
    assert told == UserMessage("Lost the connection to x.", connection_lost=True)
    refused = describe_error(pg_errors.UniqueViolation("duplicate key value"))
    assert not refused.connection_lost
    assert refused.text == "Something went wrong: duplicate key value"
    assert not describe_error(ValidationError("Name: required")).connection_lost


# -- the window over a real server --------------------------------------------------------------

APP_CONNECTIONS = "application_name = 'PerfDesk'"  # the window's engine (not live updates)


@dataclass
class Office:
    db: Database  # the superuser's own handle on the test database
    name: str  # the database's name
    broker: str  # the broker's login (the window connects as this person)
    url: str  # the broker's URL
    admin: sa.Engine  # a superuser connection of its own, for ending sessions and locking

    def count(self, sql: str, **params: object) -> int:
        with self.admin.connect() as conn:
            return int(conn.execute(sa.text(sql), params).scalar() or 0)

    def waiting_on_a_lock(self) -> bool:
        return (
            self.count(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :d "
                f"AND {APP_CONNECTIONS} AND wait_event_type = 'Lock'",
                d=self.name,
            )
            > 0
        )

    def terminate_window_sessions(self) -> int:
        """End the window's server sessions, as a server restart or an administrator would."""
        return self.count(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            f"WHERE datname = :d AND {APP_CONNECTIONS} AND pid <> pg_backend_pid()",
            d=self.name,
        )

    def leads(self, name: str) -> int:
        return self.count(
            "SELECT count(*) FROM leads l JOIN users u ON u.id = l.owner_id "
            "WHERE l.name = :n AND u.email = :e",
            n=name,
            e=self.broker,
        )

    def add_lead_quietly(self, name: str) -> None:
        """A lead another workstation saved meanwhile, without the NOTIFY that live updates
        would relay (triggers off): only reading again after reconnecting shows it."""
        with self.admin.connect() as conn:
            conn.execute(sa.text("SET session_replication_role = replica"))
            conn.execute(
                sa.text(
                    "INSERT INTO leads (owner_id, name, status, is_private, created_at, version) "
                    "SELECT id, :n, 'new', false, now(), 1 FROM users WHERE email = :e"
                ),
                {"n": name, "e": self.broker},
            )
            conn.execute(sa.text("RESET session_replication_role"))

    @contextmanager
    def lock_leads(self) -> Iterator[None]:
        """Hold the leads table, so that the window's next statement on it waits."""
        locker = sa.create_engine(self.admin.url)  # not autocommit: the lock needs a transaction
        try:
            with locker.connect() as conn, conn.begin():
                conn.execute(sa.text("LOCK TABLE leads IN ACCESS EXCLUSIVE MODE"))
                yield
        finally:
            locker.dispose()

    def lose_connection_during(self, qtbot, action: Callable[[], None]) -> None:
        """Run ``action`` (which reads or writes leads in the window) and end the window's
        sessions while its statement is under way: the statement fails as on a server that
        went away, not at the pool's pre-ping (which would quietly reconnect)."""
        with self.lock_leads():
            action()
            qtbot.waitUntil(self.waiting_on_a_lock, timeout=10_000)
            assert self.terminate_window_sessions() >= 1


@pytest.fixture
def office(pg_db: Database) -> Iterator[Office]:
    pid = os.getpid()
    broker = f"bob.cw{pid}@office.example"
    add_user(pg_db, broker, "broker", "Bob", "Broker", password="pw-bob-123")
    url = make_url(pg_db.url)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        yield Office(
            db=pg_db,
            name=url.database or "",
            broker=broker,
            url=url.set(username=broker).render_as_string(hide_password=False),
            admin=admin,
        )
    finally:
        admin.dispose()


def open_leads(qtbot, make_window: WindowFactory, office: Office) -> tuple[MainWindow, RecordPage]:
    window = make_window()
    window.open_database(ExplicitUrl(office.url))
    wait_settled(qtbot, window)
    assert window.ctx.database.is_open, window.banner.label.text()
    assert window.show_page("leads")
    page = window.page_widget("leads")
    assert isinstance(page, RecordPage)
    qtbot.waitUntil(
        lambda: page._loaded is not None and not window.ctx.ops.active(), timeout=10_000
    )
    return window, page


def message_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]


def finish(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.ctx.ops.active(), timeout=10_000)
    window.ctx.database.close()
    qtbot.waitUntil(lambda: not window.ctx.ops.active(), timeout=10_000)


@pytest.mark.pg
def test_a_lost_connection_shows_the_banner_and_reconnects(
    qtbot,
    make_window: WindowFactory,
    office: Office,
    prompts: FakePrompts,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="app.gui.database_holder")
    window, page = open_leads(qtbot, make_window, office)
    holder = window.ctx.database
    watch = holder.watch
    watch.backoff_s = (1.0,)
    recorder = Recorder(watch)
    assert not window.banner.isVisible() and window.refresh_action.isEnabled()

    with qtbot.waitSignal(watch.lost, timeout=10_000):
        office.lose_connection_during(qtbot, window.refresh_action.trigger)
    # The read's own failure arrives right after; it is not shown again in a message box.
    qtbot.waitUntil(lambda: "Not shown (the banner says" in caplog.text, timeout=5000)
    assert holder.connection_lost and watch.is_lost
    assert window.banner.isVisible() and window.banner.kind == "error"
    text = window.banner.label.text()
    assert text.startswith("Lost the connection")
    assert text == lost_message(holder.db.describe())
    assert "Your unsaved changes are kept." in text
    assert window.banner.retry_button.isVisible()
    assert not window.refresh_action.isEnabled()
    assert prompts.errors == [] and message_boxes() == []

    # Meanwhile another workstation saved a lead; the window cannot have seen it.
    office.add_lead_quietly("Saved meanwhile")
    assert page.model.rowCount() == 0

    # The server answers: the banner goes, and what is shown is read again.
    with qtbot.waitSignal(watch.restored, timeout=10_000):
        pass
    assert recorder.names() == ["lost", "restored"]
    assert not window.banner.isVisible() and not holder.connection_lost
    assert window.refresh_action.isEnabled()
    assert window.statusBar().currentMessage() == f"Reconnected to {holder.describe_target()}."
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    assert page.model.rows()[0].name == "Saved meanwhile"
    assert page._problem is None
    assert prompts.errors == [] and message_boxes() == []
    finish(qtbot, window)


@pytest.mark.pg
def test_a_server_still_down_keeps_the_banner_and_retry_pings_at_once(
    qtbot,
    make_window: WindowFactory,
    office: Office,
    prompts: FakePrompts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, _page = open_leads(qtbot, make_window, office)
    holder = window.ctx.database
    watch = holder.watch
    watch.backoff_s = (0.1, 60)
    ping = fake_ping(monkeypatch, failures=2, real=True)
    recorder = Recorder(watch)
    opened = holder.db

    with qtbot.waitSignal(watch.still_lost, timeout=10_000) as blocker:
        office.lose_connection_during(qtbot, window.refresh_action.trigger)
    where = opened.describe()
    assert blocker.args == [f"Still no answer from {where}; trying again in 60 s."]
    assert window.statusBar().currentMessage() == blocker.args[0]
    assert window.banner.isVisible()
    assert window.banner.label.text() == lost_message(where)
    assert ping.calls == 1 and holder.connection_lost

    # Retry on the banner pings now rather than opening the database anew.
    with qtbot.waitSignal(watch.still_lost, timeout=5000):
        window.banner.retry_button.click()
    assert ping.calls == 2 and window.banner.isVisible()
    with qtbot.waitSignal(watch.restored, timeout=5000):
        window.banner.retry_button.click()
    assert ping.calls == 3
    assert holder.db is opened  # the same database, not opened again
    assert not window.banner.isVisible()
    assert recorder.names() == ["lost", "still_lost", "still_lost", "restored"]
    assert prompts.errors == [] and message_boxes() == []

    window.banner.retry_button.click()  # hidden, but: nothing lost, nothing pinged
    assert ping.calls == 3
    finish(qtbot, window)


@pytest.mark.pg
def test_while_the_banner_is_up_only_other_errors_get_a_message_box(
    qtbot, make_window: WindowFactory, office: Office, prompts: FakePrompts
) -> None:
    window, _page = open_leads(qtbot, make_window, office)
    holder, ops = window.ctx.database, window.ctx.ops
    holder.watch.backoff_s = (60,)

    ops.present(lost_error(), window)  # no banner yet: said in a box
    assert [m.text for m in prompts.errors] == [CONNECTION_LOST_TEXT]

    holder.watch.report(lost_error())
    assert holder.connection_lost and window.banner.isVisible()
    ops.present(lost_error(), window)
    ops.present(lost_error(), None)
    assert len(prompts.errors) == 1  # the banner says it

    dialog = QDialog(window)  # a dialog is a window of its own: it still says why
    qtbot.addWidget(dialog)
    ops.present(lost_error(), dialog)
    ops.present(pg_errors.UniqueViolation("duplicate key value"), window)
    assert [m.text for m in prompts.errors[1:]] == [
        CONNECTION_LOST_TEXT,
        "Something went wrong: duplicate key value",
    ]
    finish(qtbot, window)
    assert not holder.connection_lost


# -- a record form whose save was lost with the connection --------------------------------------


@pytest.mark.pg
def test_a_lead_lost_with_the_connection_stays_in_the_form_and_is_saved_once(
    qtbot, make_window: WindowFactory, office: Office, prompts: FakePrompts
) -> None:
    window, page = open_leads(qtbot, make_window, office)
    holder = window.ctx.database
    holder.watch.backoff_s = (1.0,)
    dialog = page.new_record()
    assert isinstance(dialog, LeadDialog)
    dialog.name_edit.setText("Maria Lopez")
    dialog.email_edit.setText("maria@mail.example")
    dialog.phone_edit.setText("(661) 555-0199")
    dialog.source_edit.setText("Open house")
    dialog.status_combo.setCurrentIndex(dialog.status_combo.findData("contacted"))
    dialog.owner_combo.setCurrentIndex(dialog.owner_combo.findData(office.broker))
    assert dialog.private_check is not None
    dialog.private_check.click()  # the broker makes this one of his leads not private
    assert not dialog.private_check.isChecked()

    saved: list[object] = []
    dialog.saved.connect(saved.append)
    with qtbot.waitSignal(holder.watch.lost, timeout=10_000):
        office.lose_connection_during(qtbot, dialog.ok_button.click)
    qtbot.waitUntil(lambda: dialog.ok_button.isEnabled(), timeout=10_000)

    assert dialog.isVisible() and dialog.result() == 0 and saved == []
    assert (
        dialog.name_edit.text(),
        dialog.email_edit.text(),
        dialog.phone_edit.text(),
        dialog.source_edit.text(),
        dialog.status_combo.status(),
        dialog.owner_combo.email(),
        dialog.private_check.isChecked(),
    ) == (
        "Maria Lopez",
        "maria@mail.example",
        "(661) 555-0199",
        "Open house",
        "contacted",
        office.broker,
        False,
    )
    assert dialog.form_message.is_error
    assert dialog.form_message.text() == (
        "Nothing was saved: the connection to the server was lost. Everything you typed is "
        "still here; choose Add again once PerfDesk has reconnected."
    )
    assert window.banner.isVisible() and holder.connection_lost
    assert office.leads("Maria Lopez") == 0  # the failed attempt's transaction died with it
    assert prompts.errors == [] and message_boxes() == []

    with qtbot.waitSignal(holder.watch.restored, timeout=10_000):
        pass
    assert dialog.isVisible() and not dialog.form_message.is_error
    assert dialog.form_message.text() == (
        "The connection is back. Nothing has been saved yet: choose Add to save it now."
    )
    assert dialog.name_edit.text() == "Maria Lopez"

    with qtbot.waitSignal(dialog.saved, timeout=10_000) as blocker:
        dialog.ok_button.click()
    row = blocker.args[0]
    assert (row.name, row.email, row.source, row.status, row.is_private) == (
        "Maria Lopez",
        "maria@mail.example",
        "Open house",
        "contacted",
        False,
    )
    assert office.leads("Maria Lopez") == 1
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    assert prompts.errors == []
    finish(qtbot, window)


@pytest.mark.pg
def test_a_lost_save_on_a_connection_already_back_says_so_at_once(
    qtbot,
    make_window: WindowFactory,
    office: Office,
    prompts: FakePrompts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The save failed, but by the time it is told the watch has nothing lost (another
    statement's failure was never reported, or the server already answered): the form says at
    once that it can be saved, and saving writes the lead once."""
    from app.services import records

    window, page = open_leads(qtbot, make_window, office)
    real_save = records.save_record
    calls: list[int] = []

    def save_once_lost(db, fields, record_id=None, version=None, acting=None):
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseProblem("Lost the connection.") from pg_errors.AdminShutdown("x")
        return real_save(db, fields, record_id, version, acting)

    monkeypatch.setattr(records, "save_record", save_once_lost)
    dialog = page.new_record()
    assert isinstance(dialog, LeadDialog)
    dialog.name_edit.setText("Raj Stewart")
    dialog.owner_combo.setCurrentIndex(dialog.owner_combo.findData(office.broker))
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.form_message.text() != "", timeout=10_000)
    assert dialog.isVisible() and dialog.name_edit.text() == "Raj Stewart"
    assert not window.ctx.database.connection_lost
    assert dialog.form_message.text() == (
        "The connection is back. Nothing has been saved yet: choose Add to save it now."
    )
    assert office.leads("Raj Stewart") == 0
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.ok_button.click()
    assert len(calls) == 2 and office.leads("Raj Stewart") == 1
    assert prompts.errors == [] and message_boxes() == []
    finish(qtbot, window)
