"""Desktop notifications from the tray: only new unread ones, only while the window is in the
background, one message per list; clicking it raises the window and opens the record."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from app.gui.main_window import MainWindow
from app.gui.notifications.bell import NotificationBell
from app.gui.notifications.settings_dialog import NotificationSettingsDialog
from app.gui.notifications.tray import TrayNotifier, message_text
from app.gui.targets import ExplicitUrl
from app.services import notifications as service
from app.services import records
from app.services.database import Database, open_database
from app.services.notifications import NotificationRow
from app.services.records import ClientFields, EscrowFields
from app.services.users import add_user
from tests.gui.conftest import WindowFactory, wait_settled

BOB, ANN = "bob@office.example", "ann@office.example"


@pytest.fixture
def office_db(prepared_db_path: Path) -> Path:
    """Bob the broker with two unread notifications about his agent Ann's records."""
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, BOB, "broker", "Bob", "Broker")
        add_user(db, ANN, "agent", "Ann", "Lee", broker_email=BOB)
        new_escrow(db, "12 Oak St")
        records.create_client(db, ClientFields(name="Sarah Johnson", owner_email=ANN))
    finally:
        db.dispose()
    return prepared_db_path


def new_escrow(db: Database, address: str) -> None:
    records.create_escrow(
        db,
        EscrowFields(property_address=address, purchase_price=Decimal(300000), owner_email=ANN),
    )


class Shown:
    """Stands in for the tray: what would have been shown."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def __call__(self, title: str, body: str) -> None:
        self.messages.append((title, body))


def open_office(
    qtbot, make_window: WindowFactory, path: Path, *, tray: bool = True
) -> tuple[MainWindow, TrayNotifier, Shown]:
    window = make_window()
    notifier = window.tray_notifier
    assert isinstance(notifier, TrayNotifier)
    shown = Shown()
    if tray:  # offscreen has no tray: pretend there is one, and note what it would show
        notifier.tray_available = lambda: True
        notifier.show_message = shown
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    bell = window.notification_bell
    qtbot.waitUntil(lambda: bell.text() == "2" and not window.ctx.ops.active(), timeout=5000)
    return window, notifier, shown


def announce(qtbot, window: MainWindow, kind: str = "escrows") -> None:
    """Say ``kind`` changed (as a save or a NOTIFY would) and wait for the bell's new list."""
    bell: NotificationBell = window.notification_bell
    with qtbot.waitSignal(bell.listed, timeout=5000):
        window.ctx.events.changed(kind)
    qtbot.waitUntil(lambda: not window.ctx.ops.active(), timeout=5000)


def to_background(qtbot, window: MainWindow, how: str) -> None:
    if how == "another window in front":
        other = QWidget()
        qtbot.addWidget(other)
        other.show()
        other.activateWindow()
        qtbot.waitUntil(lambda: other.isActiveWindow() and not window.isActiveWindow())
    elif how == "minimized":
        window.showMinimized()
        qtbot.waitUntil(window.isMinimized)
    else:
        window.hide()


def to_front(qtbot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def _row(i: int) -> NotificationRow:
    return NotificationRow(
        id=i,
        type="escrow.created",
        recipient_id=1,
        agent_name="Ann Lee",
        entity_type="escrow",
        entity_id=10 + i,
        title=f"New escrow: {i} Main St",
        body=f"Ann Lee opened an escrow on {i} Main St at $450,000.00",
        price=Decimal("450000"),
        created_at=dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC),
        read_at=None,
    )


def test_message_text_names_one_or_sums_up_several() -> None:
    assert message_text([_row(1)]) == (
        "New escrow: 1 Main St",
        "Ann Lee opened an escrow on 1 Main St at $450,000.00",
    )
    assert message_text([_row(3), _row(2)]) == (
        "2 new notifications",
        "New escrow: 3 Main St\nNew escrow: 2 Main St",
    )
    title, body = message_text([_row(i) for i in range(5, 0, -1)])
    assert title == "5 new notifications"
    assert body.splitlines() == [
        "New escrow: 5 Main St",
        "New escrow: 4 Main St",
        "New escrow: 3 Main St",
        "…and 2 more",
    ]


def test_the_first_list_after_opening_shows_nothing(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    window, _notifier, shown = open_office(qtbot, make_window, office_db)
    to_background(qtbot, window, "another window in front")
    announce(qtbot, window)  # the same two unread: not new
    assert shown.messages == []


@pytest.mark.parametrize("how", ["another window in front", "minimized", "hidden"])
def test_a_new_notification_in_the_background_shows_one_message(
    qtbot, make_window: WindowFactory, office_db: Path, how: str
) -> None:
    window, _notifier, shown = open_office(qtbot, make_window, office_db)
    to_background(qtbot, window, how)
    new_escrow(window.ctx.database.db, "1 New St")
    announce(qtbot, window)
    newest = service.list_notifications(window.ctx.database.db).rows[0]
    assert newest.title == "New escrow: 1 New St"
    assert shown.messages == [(newest.title, newest.body)]
    assert "Ann Lee opened an escrow on 1 New St" in newest.body
    announce(qtbot, window)  # listed again: no longer new
    assert len(shown.messages) == 1


def test_nothing_is_shown_while_the_window_is_in_front(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    window, _notifier, shown = open_office(qtbot, make_window, office_db)
    to_front(qtbot, window)
    new_escrow(window.ctx.database.db, "1 New St")
    announce(qtbot, window)
    assert window.notification_bell.text() == "3"
    assert shown.messages == []
    to_background(qtbot, window, "another window in front")
    announce(qtbot, window)  # seen while in front: not new later either
    assert shown.messages == []


def test_a_new_notification_already_read_is_not_shown(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    window, _notifier, shown = open_office(qtbot, make_window, office_db)
    to_background(qtbot, window, "minimized")
    db = window.ctx.database.db
    new_escrow(db, "1 New St")
    service.mark_all_read(db)  # e.g. on another workstation, before this one listed it
    announce(qtbot, window)
    assert window.notification_bell.text() == ""
    assert shown.messages == []


def test_several_new_notifications_make_one_summary(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    window, _notifier, shown = open_office(qtbot, make_window, office_db)
    to_background(qtbot, window, "another window in front")
    db = window.ctx.database.db
    for address in ("1 New St", "2 New St", "3 New St"):
        new_escrow(db, address)
    records.create_client(db, ClientFields(name="Tom Reed", owner_email=ANN))
    announce(qtbot, window)
    assert shown.messages == [
        (
            "4 new notifications",
            "New client: Tom Reed\nNew escrow: 3 New St\nNew escrow: 2 New St\n…and 1 more",
        )
    ]


def test_clicking_the_message_raises_the_window_and_opens_the_record(
    qtbot, make_window: WindowFactory, office_db: Path, fail_on_qt_warnings: list[str]
) -> None:
    window, notifier, shown = open_office(qtbot, make_window, office_db)
    window.show_page("clients")
    to_background(qtbot, window, "minimized")
    db = window.ctx.database.db
    new_escrow(db, "1 New St")
    announce(qtbot, window)
    assert len(shown.messages) == 1
    newest = service.list_notifications(db).rows[0]
    with qtbot.waitSignal(window.ctx.events.record_requested) as opened:
        notifier.open_newest()  # what QSystemTrayIcon.messageClicked calls
    assert opened.args == ["escrows", newest.entity_id]
    assert not window.isMinimized() and window.isVisible()
    qtbot.waitUntil(window.isActiveWindow)
    assert window.current_page_key() == "escrows"
    qtbot.waitUntil(
        lambda: window.notification_bell.text() == "2" and not window.ctx.ops.active(),
        timeout=5000,
    )
    assert service.list_notifications(db).rows[0].is_read
    with qtbot.assertNotEmitted(window.ctx.events.record_requested):
        notifier.open_newest()  # a second click has nothing more to open
    # The offscreen platform cannot raise a window and says so; the raise was asked for.
    raised = "QtWarningMsg: This plugin does not support raise()"
    assert raised in fail_on_qt_warnings
    fail_on_qt_warnings[:] = [m for m in fail_on_qt_warnings if m != raised]


def test_switching_database_starts_a_new_baseline(
    qtbot, make_window: WindowFactory, office_db: Path, tmp_path: Path
) -> None:
    other_path = tmp_path / "other.sqlite3"
    shutil.copy(office_db, other_path)
    other = open_database(f"sqlite:///{other_path}")
    try:
        new_escrow(other, "9 Elm St")  # an id the first database's list never had
    finally:
        other.dispose()
    window, _notifier, shown = open_office(qtbot, make_window, office_db)
    to_background(qtbot, window, "minimized")
    bell = window.notification_bell
    with qtbot.waitSignal(bell.listed, timeout=15_000):
        window.open_database(ExplicitUrl(f"sqlite:///{other_path}"))
    wait_settled(qtbot, window)
    assert bell.text() == "3"
    assert shown.messages == []


def test_turned_off_in_the_settings_dialog_nothing_is_shown(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    window, _notifier, shown = open_office(qtbot, make_window, office_db)
    dialog = NotificationSettingsDialog(window.ctx, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.loaded is not None and not window.ctx.ops.active(), timeout=5000)
    assert dialog.desktop.isChecked()
    dialog.desktop.setChecked(False)
    dialog.save()
    qtbot.waitUntil(lambda: not window.ctx.ops.active(), timeout=5000)
    assert dialog.result() == dialog.DialogCode.Accepted
    assert window.ctx.settings.desktop_notifications is False
    to_background(qtbot, window, "another window in front")
    new_escrow(window.ctx.database.db, "1 New St")
    announce(qtbot, window)
    assert shown.messages == []
    again = NotificationSettingsDialog(window.ctx, window)
    qtbot.addWidget(again)
    assert not again.desktop.isChecked()
    qtbot.waitUntil(lambda: not window.ctx.ops.active(), timeout=5000)


def test_without_a_system_tray_nothing_is_shown_and_that_is_logged_once(
    qtbot, make_window: WindowFactory, office_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.gui.notifications.tray")
    window, notifier, _shown = open_office(qtbot, make_window, office_db, tray=False)
    assert notifier.tray_available() is False  # the offscreen platform has none
    to_background(qtbot, window, "another window in front")
    for address in ("1 New St", "2 New St"):
        new_escrow(window.ctx.database.db, address)
        announce(qtbot, window)
    assert notifier.tray_icon is None
    said = [r for r in caplog.records if r.name == "app.gui.notifications.tray"]
    assert [r.levelno for r in said] == [logging.INFO]
    assert "No system tray" in said[0].getMessage()
