"""A broker's notification settings: a switch per type, the channels, the minimum escrow value.

A status line says how email and SMS are sent (or that sending is not set up); the office's
sending settings, Test buttons and last failures are in the delivery section below. A save
carries the version it loaded; a stale one is refused and reloaded. Whether new ones pop up
from the system tray while the window is in the background is this computer's choice
(QSettings), saved with the same button.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ConflictError
from app.domain.money import parse_decimal
from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.gui.notifications.delivery_section import DeliverySection
from app.services import delivery
from app.services import notifications as service
from app.services.notifications import BrokerChoice, NotificationSettings

#: The status line while neither email nor SMS is set up for the office.
NOT_SENT = delivery.NOT_SET_UP


class NotificationSettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("notificationSettingsDialog")
        self.setWindowTitle("Notification settings")
        self.loaded: NotificationSettings | None = None

        self.broker = QComboBox()
        self.broker.setObjectName("broker")
        self.broker.currentIndexChanged.connect(self._load)
        self.types = {
            "escrow_created": QCheckBox("New escrow"),
            "escrow_closed": QCheckBox("Escrow closed"),
            "client_created": QCheckBox("New client"),
            "listing_created": QCheckBox("New listing"),
        }
        self.channels = {
            "in_app": QCheckBox("In the app (the bell)"),
            "email": QCheckBox("Email"),
            "sms": QCheckBox("SMS"),
        }
        self.min_escrow = QLineEdit()
        self.min_escrow.setObjectName("minEscrowValue")
        self.min_escrow.setPlaceholderText("no minimum")
        self.min_escrow_message = FieldMessage()
        self.min_escrow.textEdited.connect(self.min_escrow_message.clear_message)
        self.message = FieldMessage()

        types_box = QGroupBox("Notify me about")
        types_layout = QVBoxLayout(types_box)
        for box in self.types.values():
            types_layout.addWidget(box)
        channels_box = QGroupBox("Channels")
        channels_layout = QVBoxLayout(channels_box)
        for box in self.channels.values():
            channels_layout.addWidget(box)
        self.sending_status = QLabel("")
        self.sending_status.setObjectName("sendingStatus")
        self.sending_status.setWordWrap(True)
        channels_layout.addWidget(self.sending_status)
        self.desktop = QCheckBox("Show desktop notifications when PerfDesk is in the background")
        self.desktop.setObjectName("desktopNotifications")
        self.desktop.setChecked(ctx.settings.desktop_notifications)
        computer_box = QGroupBox("On this computer")
        QVBoxLayout(computer_box).addWidget(self.desktop)
        self.delivery = DeliverySection(ctx, self)
        self.delivery.changed.connect(self._load_status)

        form = QFormLayout()
        form.addRow("Broker", self.broker)
        form.addRow("Minimum escrow value", self.min_escrow)
        form.addRow("", self.min_escrow_message)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(types_box)
        layout.addWidget(channels_box)
        layout.addWidget(computer_box)
        layout.addWidget(self.delivery)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._set_editable(False)
        self._load_status()
        self._load_brokers()

    def _set_editable(self, editable: bool) -> None:
        for box in (*self.types.values(), *self.channels.values()):
            box.setEnabled(editable)
        self.min_escrow.setEnabled(editable)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(editable)

    @Slot()
    def _load_status(self) -> None:
        db = self.ctx.database.db
        if db is None:
            return
        self.ctx.ops.run(
            lambda: delivery.sending_status(db),
            label="Reading how notifications are sent…",
            on_success=self.sending_status.setText,
            parent=self,
        )

    def _load_brokers(self) -> None:
        db = self.ctx.database.db
        if db is None:
            self.message.show_error("No database is open.")
            return
        self.ctx.ops.run(
            lambda: service.settings_brokers(db),
            label="Reading brokers…",
            on_success=self._brokers_read,
            parent=self,
        )

    def _brokers_read(self, brokers: tuple[BrokerChoice, ...]) -> None:
        if not brokers:
            self.message.show_error("There is no broker whose settings you may change.")
            return
        self.broker.blockSignals(True)
        for b in brokers:
            self.broker.addItem(f"{b.full_name} <{b.email}>", b.id)
        self.broker.blockSignals(False)
        self.broker.setEnabled(len(brokers) > 1)
        self._load()

    @Slot()
    def _load(self) -> None:
        db = self.ctx.database.db
        broker_id = self.broker.currentData()
        if db is None or not isinstance(broker_id, int):
            return
        self._set_editable(False)
        self.ctx.ops.run(
            lambda: service.get_settings(db, broker_id),
            label="Reading notification settings…",
            on_success=self.show_settings,
            parent=self,
        )

    def show_settings(self, settings: NotificationSettings) -> None:
        self.loaded = settings
        for name, box in (*self.types.items(), *self.channels.items()):
            box.setChecked(bool(getattr(settings, name)))
        value = settings.min_escrow_value
        self.min_escrow.setText("" if value is None else f"{value:.2f}")
        self.min_escrow_message.clear_message()
        self._set_editable(True)

    def entered(self) -> NotificationSettings | None:
        """The settings as entered, or None (with the field marked) when the value is wrong."""
        if self.loaded is None:
            return None
        text = self.min_escrow.text().replace(",", "").replace("$", "").strip()
        minimum: Decimal | None = None
        problem: str | None = None
        if text:
            try:
                minimum = parse_decimal(text)
            except ValueError as exc:
                problem = str(exc)
            else:
                problem = service.check_min_escrow_value(minimum)
        if problem is not None:
            self.min_escrow_message.show_error(problem)
            self.min_escrow.setFocus()
            return None
        on = {name: box.isChecked() for name, box in (*self.types.items(), *self.channels.items())}
        return replace(
            self.loaded,
            escrow_created=on["escrow_created"],
            escrow_closed=on["escrow_closed"],
            client_created=on["client_created"],
            listing_created=on["listing_created"],
            in_app=on["in_app"],
            email=on["email"],
            sms=on["sms"],
            min_escrow_value=minimum,
        )

    @Slot()
    def save(self) -> None:
        self.ctx.settings.set_desktop_notifications(self.desktop.isChecked())
        db = self.ctx.database.db
        wanted = self.entered()
        if db is None or wanted is None:
            return
        self._set_editable(False)
        self.ctx.ops.run(
            lambda: service.save_settings(db, wanted),
            label="Saving notification settings…",
            on_success=self._saved,
            on_error=self._refused,
            parent=self,
        )

    def _saved(self, settings: NotificationSettings) -> None:
        self.loaded = settings
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.message.show_error(str(exc))
        if isinstance(exc, ConflictError):
            self._load()  # show what is stored now
        else:
            self._set_editable(True)
