"""The office's sending settings (SMTP for email, a Twilio-style HTTP provider for SMS), with
Test email / Test SMS buttons and the last failed sends. Every database or network call goes
through ``ctx.ops.run``. Passwords are typed here and go only to the keyring."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.context import AppContext
from app.gui.field_message import FieldMessage
from app.services import delivery
from app.services.delivery import DeliveryFailure, DeliverySettings, SmsSettings, SmtpSettings

TLS_LABELS = {"none": "None", "starttls": "STARTTLS", "ssl": "SSL/TLS"}
KEPT = "kept in the keyring; type to replace"


class DeliverySection(QGroupBox):
    """Office-wide sending settings and the last failures."""

    changed = Signal()  # saved, or a test ended: the dialog refreshes its status line

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Sending email and SMS (whole office)", parent)
        self.ctx = ctx
        self.setObjectName("deliverySection")
        self.loaded: DeliverySettings | None = None

        self.smtp_host = self._line("smtpHost", "smtp.example.com")
        self.smtp_port = QSpinBox()
        self.smtp_port.setObjectName("smtpPort")
        self.smtp_port.setRange(1, 65535)
        self.smtp_port.setValue(587)
        self.smtp_tls = QComboBox()
        self.smtp_tls.setObjectName("smtpTls")
        for mode in delivery.TLS_MODES:
            self.smtp_tls.addItem(TLS_LABELS[mode], mode)
        self.smtp_user = self._line("smtpUser", "user name (empty: no login)")
        self.smtp_password = self._line("smtpPassword", "password")
        self.smtp_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.smtp_from = self._line("smtpFrom", "office@example.com")
        self.sms_endpoint = self._line("smsEndpoint", "https://api.example.com/Messages")
        self.sms_account = self._line("smsAccount", "account id")
        self.sms_token = self._line("smsToken", "token")
        self.sms_token.setEchoMode(QLineEdit.EchoMode.Password)
        self.sms_sender = self._line("smsSender", "+15550000000")
        self.test_to_email = self._line("testEmailTo", "send the test email to…")
        self.test_to_phone = self._line("testSmsTo", "send the test SMS to…")

        self.save_button = QPushButton("Save sending settings")
        self.save_button.setObjectName("saveDelivery")
        self.save_button.clicked.connect(self.save)
        self.test_email_button = QPushButton("Test email")
        self.test_email_button.setObjectName("testEmail")
        self.test_email_button.clicked.connect(self.test_email)
        self.test_sms_button = QPushButton("Test SMS")
        self.test_sms_button.setObjectName("testSms")
        self.test_sms_button.clicked.connect(self.test_sms)
        self.message = FieldMessage()
        self.result = QLabel("")
        self.result.setObjectName("deliveryResult")
        self.result.setWordWrap(True)

        self.failures = QTableWidget(0, 3)
        self.failures.setObjectName("deliveryFailures")
        self.failures.setHorizontalHeaderLabels(["When (UTC)", "Channel", "Error"])
        self.failures.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.failures.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.failures.verticalHeader().setVisible(False)
        self.failures.setMaximumHeight(140)

        form = QFormLayout()
        form.addRow("SMTP server", self.smtp_host)
        form.addRow("Port", self.smtp_port)
        form.addRow("TLS", self.smtp_tls)
        form.addRow("User", self.smtp_user)
        form.addRow("Password", self.smtp_password)
        form.addRow("From address", self.smtp_from)
        form.addRow("SMS provider URL", self.sms_endpoint)
        form.addRow("Account id", self.sms_account)
        form.addRow("Token", self.sms_token)
        form.addRow("Sender number", self.sms_sender)
        tests = QHBoxLayout()
        tests.addWidget(self.test_to_email)
        tests.addWidget(self.test_email_button)
        tests.addWidget(self.test_to_phone)
        tests.addWidget(self.test_sms_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.save_button)
        layout.addLayout(tests)
        layout.addWidget(self.message)
        layout.addWidget(self.result)
        layout.addWidget(QLabel("Last failed sends (the in-app notification is kept)"))
        layout.addWidget(self.failures)
        self._set_editable(False)
        self.load()

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        line = QLineEdit()
        line.setObjectName(name)
        line.setPlaceholderText(placeholder)
        return line

    def _set_editable(self, editable: bool) -> None:
        buttons = (self.save_button, self.test_email_button, self.test_sms_button)
        for widget in (*self.findChildren(QLineEdit), self.smtp_port, self.smtp_tls, *buttons):
            widget.setEnabled(editable)

    @Slot()
    def load(self) -> None:
        db = self.ctx.database.db
        if db is None:
            return
        self.ctx.ops.run(
            lambda: (delivery.get_delivery_settings(db), delivery.recent_failures(db)),
            label="Reading sending settings…",
            on_success=self._read,
            on_error=self._failed,
            parent=self,
        )

    def _read(self, got: tuple[DeliverySettings, tuple[DeliveryFailure, ...]]) -> None:
        settings, failures = got
        self.show_settings(settings)
        self.show_failures(failures)
        self._set_editable(True)

    def show_settings(self, settings: DeliverySettings) -> None:
        self.loaded = settings
        smtp, sms = settings.smtp, settings.sms
        self.smtp_host.setText(smtp.host)
        self.smtp_port.setValue(smtp.port)
        self.smtp_tls.setCurrentIndex(max(self.smtp_tls.findData(smtp.tls), 0))
        self.smtp_user.setText(smtp.user)
        self.smtp_from.setText(smtp.from_address)
        self.sms_endpoint.setText(sms.endpoint)
        self.sms_account.setText(sms.account)
        self.sms_sender.setText(sms.sender)
        self.smtp_password.clear()
        self.sms_token.clear()
        self.smtp_password.setPlaceholderText(KEPT if settings.smtp_password_kept else "password")
        self.sms_token.setPlaceholderText(KEPT if settings.sms_token_kept else "token")
        if not settings.keyring:
            self.message.show_error(
                "This computer has no system keyring: a password or token cannot be kept here."
            )

    def show_failures(self, failures: tuple[DeliveryFailure, ...]) -> None:
        self.failures.setRowCount(len(failures))
        for row, f in enumerate(failures):
            retry = "gave up" if f.given_up else f"retry {f.attempts}/{delivery.MAX_ATTEMPTS}"
            cells = (
                f.failed_at.strftime("%Y-%m-%d %H:%M"),
                "Email" if f.channel == "email" else "SMS",
                f"{f.error} ({retry}) — {f.title}",
            )
            for column, text in enumerate(cells):
                self.failures.setItem(row, column, QTableWidgetItem(text))

    def entered(self) -> tuple[SmtpSettings, SmsSettings, str, str]:
        smtp = SmtpSettings(
            host=self.smtp_host.text().strip(),
            port=self.smtp_port.value(),
            tls=str(self.smtp_tls.currentData()),
            user=self.smtp_user.text().strip(),
            from_address=self.smtp_from.text().strip(),
        )
        sms = SmsSettings(
            endpoint=self.sms_endpoint.text().strip(),
            account=self.sms_account.text().strip(),
            sender=self.sms_sender.text().strip(),
        )
        return smtp, sms, self.smtp_password.text(), self.sms_token.text()

    @Slot()
    def save(self) -> None:
        db = self.ctx.database.db
        if db is None:
            return
        smtp, sms, password, token = self.entered()
        self.message.clear_message()
        self.result.clear()
        self._set_editable(False)
        self.ctx.ops.run(
            lambda: delivery.save_delivery_settings(
                db, smtp, sms, smtp_password=password or None, sms_token=token or None
            ),
            label="Saving sending settings…",
            on_success=self._saved,
            on_error=self._failed,
            parent=self,
        )

    def _saved(self, settings: DeliverySettings) -> None:
        self.show_settings(settings)
        self.result.setText("Sending settings saved.")
        self._set_editable(True)
        self.changed.emit()

    def _failed(self, exc: BaseException) -> None:
        self.message.show_error(str(exc))
        self._set_editable(True)

    @Slot()
    def test_email(self) -> None:
        db = self.ctx.database.db
        if db is None:
            return
        to = self.test_to_email.text()
        self._start_test(lambda: delivery.test_email(db, to), "Sending a test email…")

    @Slot()
    def test_sms(self) -> None:
        db = self.ctx.database.db
        if db is None:
            return
        to = self.test_to_phone.text()
        self._start_test(lambda: delivery.test_sms(db, to), "Sending a test SMS…")

    def _start_test(self, task: Callable[[], str], label: str) -> None:
        self.message.clear_message()
        self.result.clear()
        self._set_editable(False)
        self.ctx.ops.run(
            task,
            label=label,
            on_success=self._tested,
            on_error=self._failed,
            parent=self,
        )

    def _tested(self, text: str) -> None:
        self.result.setText(text)
        self._set_editable(True)
