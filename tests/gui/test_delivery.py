"""The delivery section of the notification settings dialog: office SMTP/SMS settings saved
(the password only in the keyring), Test email against a local SMTP server, the last failures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from app.gui.notifications.settings_dialog import NOT_SENT, NotificationSettingsDialog
from app.gui.targets import ExplicitUrl
from app.services import delivery, records
from app.services.connection import KEYRING_SERVICE
from app.services.database import open_database
from app.services.records import EscrowFields
from app.services.users import add_user
from tests.gui.conftest import MemoryKeyring, WindowFactory, wait_settled
from tests.services.test_delivery import SmtpSink, smtp_sink  # noqa: F401 - the fixture

BOB, ANN = "bob@office.example", "ann@office.example"


@pytest.fixture
def office_db(prepared_db_path: Path) -> Path:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, BOB, "broker", "Bob", "Broker")
        add_user(db, ANN, "agent", "Ann", "Lee", broker_email=BOB)
    finally:
        db.dispose()
    return prepared_db_path


def _dialog(qtbot, make_window: WindowFactory, path: Path) -> NotificationSettingsDialog:
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    dialog = NotificationSettingsDialog(window.ctx, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.loaded is not None and not window.ctx.ops.active(), timeout=5000)
    return dialog


def test_sending_settings_are_saved_tested_and_failures_shown(
    qtbot,
    make_window: WindowFactory,
    office_db: Path,
    smtp_sink: SmtpSink,  # noqa: F811 - the fixture imported above
    memory_keyring: MemoryKeyring,
) -> None:
    dialog = _dialog(qtbot, make_window, office_db)
    ops = dialog.ctx.ops
    section = dialog.delivery
    assert dialog.sending_status.text() == NOT_SENT
    assert section.save_button.isEnabled() and section.test_email_button.isEnabled()

    section.smtp_host.setText("127.0.0.1")
    section.smtp_port.setValue(smtp_sink.port)
    section.smtp_tls.setCurrentIndex(section.smtp_tls.findData("none"))
    section.smtp_user.setText("office")
    section.smtp_password.setText("pw-123")
    section.smtp_from.setText("office@example.com")
    section.save_button.click()
    qtbot.waitUntil(lambda: not ops.active(), timeout=5000)
    assert section.result.text() == "Sending settings saved."
    assert memory_keyring.passwords == {
        (KEYRING_SERVICE, "smtp:office@127.0.0.1:" + str(smtp_sink.port)): "pw-123"
    }
    assert (
        section.smtp_password.text() == "" and "keyring" in section.smtp_password.placeholderText()
    )
    assert dialog.sending_status.text().startswith("Email is sent through 127.0.0.1")

    section.test_to_email.setText("me@example.com")
    section.test_email_button.click()
    qtbot.waitUntil(lambda: not ops.active(), timeout=5000)
    assert section.result.text() == "A test email was sent to me@example.com."
    assert smtp_sink.messages[-1]["to"] == ["me@example.com"]
    assert smtp_sink.logins == [("office", "pw-123")]

    section.test_to_phone.setText("+15551234567")
    section.test_sms_button.click()
    qtbot.waitUntil(lambda: not ops.active(), timeout=5000)
    assert "SMS is not set up" in section.message.text()

    db = dialog.ctx.database.db
    records.create_escrow(
        db, EscrowFields(property_address="9 Elm St", purchase_price=Decimal(1), owner_email=ANN)
    )

    def refused(*_: object) -> None:
        raise delivery.SendFailed("The SMTP server 127.0.0.1:1 refused the connection.")

    when = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    assert delivery.send_pending(db, when, smtp_sender=refused).failed == 1
    section.load()
    qtbot.waitUntil(lambda: not ops.active(), timeout=5000)
    assert section.failures.rowCount() == 1
    assert section.failures.item(0, 0).text() == "2026-03-02 12:00"
    assert section.failures.item(0, 1).text() == "Email"
    assert "refused the connection. (retry 1/5)" in section.failures.item(0, 2).text()
    assert NOT_SENT not in [label.text() for label in dialog.findChildren(QLabel)]
