"""The notification bell: model through qtmodeltester, the unread count, mark all read, and an
entry opening its record's page; the settings dialog saves and says email/SMS are not sent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.gui.notifications.bell import NotificationBell, bell_text
from app.gui.notifications.model import ROW_ROLE, NotificationModel
from app.gui.notifications.settings_dialog import NOT_SENT, NotificationSettingsDialog
from app.gui.targets import ExplicitUrl
from app.services import notifications as service
from app.services import records
from app.services.database import open_database
from app.services.notifications import NotificationRow
from app.services.records import ClientFields, EscrowFields
from app.services.users import add_user
from tests.gui.conftest import WindowFactory, wait_settled

BOB, ANN = "bob@office.example", "ann@office.example"
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def _row(i: int, read: bool = False) -> NotificationRow:
    return NotificationRow(
        id=i,
        type="escrow.created",
        recipient_id=1,
        agent_name="Ann Lee",
        entity_type="escrow",
        entity_id=10 + i,
        title=f"New escrow: {i} Main St",
        body="",
        price=Decimal("450000"),
        created_at=NOW - dt.timedelta(hours=2),
        read_at=NOW if read else None,
    )


def test_model_passes_qtmodeltester_and_shows_unread_in_bold(qtmodeltester) -> None:
    model = NotificationModel()
    model.set_rows([_row(1), _row(2, read=True)], NOW)
    qtmodeltester.check(model)
    first = model.index(0)
    assert first.data(Qt.ItemDataRole.FontRole).bold()
    assert not model.index(1).data(Qt.ItemDataRole.FontRole).bold()
    assert first.data() == "New escrow: 1 Main St\nAnn Lee · $450,000.00 · 2 h ago"
    assert first.data(ROW_ROLE).entity_id == 11
    model.mark_read_locally()
    assert not first.data(Qt.ItemDataRole.FontRole).bold()
    qtmodeltester.check(model)


@pytest.fixture
def office_db(prepared_db_path: Path) -> Path:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, BOB, "broker", "Bob", "Broker")
        add_user(db, ANN, "agent", "Ann", "Lee", broker_email=BOB)
        records.create_escrow(
            db,
            EscrowFields(
                property_address="12 Oak St", purchase_price=Decimal(300000), owner_email=ANN
            ),
        )
        records.create_client(db, ClientFields(name="Sarah Johnson", owner_email=ANN))
    finally:
        db.dispose()
    return prepared_db_path


def _open(qtbot, make_window: WindowFactory, path: Path):
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    bell = window.notification_bell
    assert isinstance(bell, NotificationBell)
    qtbot.waitUntil(lambda: bell.text() == bell_text(2) and not bell.ctx.ops.active(), timeout=5000)
    return window, bell


def test_the_bell_counts_unread_and_mark_all_read_clears_it(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    window, bell = _open(qtbot, make_window, office_db)
    assert bell.text() == "2" and bell.isEnabled()
    bell.click()
    assert bell.panel.isVisible() and bell.panel.model.rowCount() == 2
    assert bell.panel.model.index(0).data(ROW_ROLE).type == "client.created"  # newest first
    bell.panel.mark_all_button.click()
    qtbot.waitUntil(lambda: bell.text() == "" and not bell.ctx.ops.active(), timeout=5000)
    assert service.unread_count(window.ctx.database.db) == 0
    # A new escrow saved elsewhere shows once its kind is announced as changed.
    records.create_escrow(
        window.ctx.database.db,
        EscrowFields(property_address="1 New St", purchase_price=Decimal(1), owner_email=ANN),
    )
    window.ctx.events.changed("escrows")
    qtbot.waitUntil(lambda: bell.text() == "1" and not bell.ctx.ops.active(), timeout=5000)


def test_activating_an_entry_marks_it_read_and_opens_the_record(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    window, bell = _open(qtbot, make_window, office_db)
    bell.click()
    index = bell.panel.model.index(1)
    note = index.data(ROW_ROLE)
    assert note.type == "escrow.created"
    with qtbot.waitSignal(window.ctx.events.record_requested) as opened:
        bell.panel.view.activated.emit(index)
    assert opened.args == ["escrows", note.entity_id]
    assert window.current_page_key() == "escrows"
    assert not bell.panel.isVisible()
    qtbot.waitUntil(lambda: bell.text() == "1" and not bell.ctx.ops.active(), timeout=5000)


def test_settings_dialog_saves_and_refuses_a_negative_minimum(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    window, _bell = _open(qtbot, make_window, office_db)
    dialog = NotificationSettingsDialog(window.ctx, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.loaded is not None and not window.ctx.ops.active(), timeout=5000)
    assert NOT_SENT in [label.text() for label in dialog.findChildren(QLabel)]
    assert dialog.types["escrow_created"].isChecked() and dialog.channels["in_app"].isChecked()
    dialog.min_escrow.setText("-5")
    dialog.save()
    assert "negative" in dialog.min_escrow_message.text()
    dialog.min_escrow.setText("500,000")
    dialog.types["client_created"].setChecked(False)
    dialog.save()
    qtbot.waitUntil(lambda: not window.ctx.ops.active(), timeout=5000)
    assert dialog.result() == dialog.DialogCode.Accepted
    stored = service.get_settings(window.ctx.database.db, dialog.loaded.broker_id)
    assert stored.version == 1 and not stored.client_created
    assert stored.min_escrow_value == Decimal("500000.00")
