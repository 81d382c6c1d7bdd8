"""Window tests: offscreen Qt, isolated settings and keyring, and no Qt warnings or threads left."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported anywhere

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from PySide6.QtCore import (
    QCoreApplication,
    QMessageLogContext,
    QSettings,
    QThreadPool,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QWidget

from app.gui.app_settings import AppSettings
from app.gui.context import AppContext
from app.gui.database_holder import DbState
from app.gui.errors import UserMessage
from app.gui.main_window import MainWindow
from app.gui.operations import Operations
from app.gui.prompts import FirstRunChoice, Prompts

# Qt messages a test may produce without failing. Each entry needs a reason.
ALLOWED_QT_MESSAGES: tuple[str, ...] = (
    # The offscreen platform cannot resize native window frames and says so whenever a
    # top-level window is shown; it is a property of the test platform, not of our code.
    "This plugin does not support propagateSizeHints()",
)

FAILING_LEVELS = (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)


@pytest.fixture(autouse=True)
def fail_on_qt_warnings() -> Iterator[list[str]]:
    """Any Qt warning or critical message during a test fails it (see ALLOWED_QT_MESSAGES)."""
    seen: list[str] = []

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if mode in FAILING_LEVELS and not any(a in message for a in ALLOWED_QT_MESSAGES):
            seen.append(f"{mode.name}: {message}")
        if previous is not None:
            previous(mode, context, message)  # pytest-qt's own capture keeps working

    previous = qInstallMessageHandler(handler)
    yield seen
    qInstallMessageHandler(previous)
    if seen:
        pytest.fail("Qt warnings during the test:\n" + "\n".join(seen), pytrace=False)


@pytest.fixture(autouse=True)
def no_threads_left(qapp: QCoreApplication) -> Iterator[None]:
    """Every background operation has finished, and been delivered, when a test ends."""
    yield
    deadline = time.monotonic() + 10
    for ops in Operations.instances():
        ops.cancel_all()
        assert ops.wait_for_done(10_000), "a background task is still running"
        while ops.active() and time.monotonic() < deadline:
            QCoreApplication.processEvents()
        assert not ops.active(), f"undelivered operations: {[o.label for o in ops.active()]}"
        assert ops.pool.activeThreadCount() == 0
    assert QThreadPool.globalInstance().activeThreadCount() == 0


@pytest.fixture(autouse=True)
def scheduler_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every window starts the in-app scheduler; its first check (10 s after a database opens)
    would run jobs behind a test that keeps a window open that long. Tests of the scheduler
    set the delays they want (tests/gui/test_scheduler.py)."""
    from app.gui import scheduler

    monkeypatch.setattr(scheduler, "FIRST_CHECK_MS", 3_600_000)
    monkeypatch.setattr(scheduler, "CHECK_MS", 3_600_000)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing touches the person's real settings, data folder or database."""
    monkeypatch.delenv("PERFDESK_DB_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in a dict (the tests' stand-in for the system keyring)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@dataclass
class FakePrompts:
    """Answers every question at once and remembers what was asked."""

    passwords: list[str | None] = field(default_factory=list)  # answers, in order
    first_run: FirstRunChoice | None = FirstRunChoice.EMPTY
    errors: list[UserMessage] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    first_run_asked: int = 0

    def ask_password(self, _parent: QWidget | None, question: str) -> str | None:
        self.questions.append(question)
        return self.passwords.pop(0) if self.passwords else None

    def notice(self, _parent: QWidget | None, text: str) -> None:
        self.notices.append(text)

    def present_error(self, _parent: QWidget | None, message: UserMessage) -> None:
        self.errors.append(message)

    def choose_first_run(self, _parent: QWidget | None) -> FirstRunChoice | None:
        self.first_run_asked += 1
        return self.first_run

    def as_prompts(self) -> Prompts:
        return Prompts(
            ask_password=self.ask_password,
            notice=self.notice,
            present_error=self.present_error,
            choose_first_run=self.choose_first_run,
        )


@pytest.fixture
def prompts() -> FakePrompts:
    return FakePrompts()


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "perfdesk.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def ctx(qapp: QCoreApplication, qsettings: QSettings, prompts: FakePrompts) -> AppContext:
    return AppContext.create(AppSettings(qsettings), prompts.as_prompts())


@pytest.fixture
def prepared_db_path(tmp_path: Path) -> Path:
    """A SQLite file with the current schema and no people."""
    from app.services.database import open_database
    from app.services.schema import prepare

    path = tmp_path / "office.sqlite3"
    db = open_database(f"sqlite:///{path}")
    try:
        prepare(db)
    finally:
        db.dispose()
    return path


WindowFactory = Callable[..., MainWindow]


@pytest.fixture
def make_window(qtbot, ctx: AppContext) -> WindowFactory:
    def make(context: AppContext | None = None, **kwargs: object) -> MainWindow:
        window = MainWindow(context or ctx, **kwargs)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


def wait_settled(qtbot, window: MainWindow) -> None:
    """Until the database is open or has failed, and no background work is pending."""
    holder = window.ctx.database
    qtbot.waitUntil(
        lambda: holder.state in (DbState.OPEN, DbState.FAILED) and not window.ctx.ops.active(),
        timeout=15_000,
    )
