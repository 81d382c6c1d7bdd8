"""Email and SMS deliveries (SPEC §3) on both backends, against a local SMTP server and a local
HTTP provider started by the test: queued with the notification, sent, retried with backoff,
given up after the fifth failure, and never touching the in-app notification."""

from __future__ import annotations

import base64
import datetime as dt
import os
import socketserver
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import keyring
import pytest
import sqlalchemy as sa
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from app.db.models import User
from app.db.models.notifications import Notification, NotificationDelivery
from app.domain.enums import DeliveryStatus
from app.domain.errors import ValidationError
from app.services import delivery, records
from app.services import notifications as notes
from app.services.connection import KEYRING_SERVICE, KeyringUnavailable
from app.services.database import Database
from app.services.delivery import SmsSettings, SmtpSettings
from app.services.jobs import job_names, run_jobs
from app.services.records import EscrowFields
from app.services.users import add_user


def mail(name: str) -> str:
    return f"{name}.d{os.getpid()}@office.example"


BOB, ANN = mail("bob"), mail("ann")
BOB_PHONE = "+15550001111"
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
SMTP_PASSWORD = "s3cret-smtp-Password"
SMS_TOKEN = "tok-9f8e7d"


# -- a keyring in memory ----------------------------------------------------------------------


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

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


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


# -- a local SMTP server ----------------------------------------------------------------------


@dataclass
class SmtpSink:
    port: int
    messages: list[dict[str, object]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


def _smtp_handler(sink: SmtpSink) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write((line + "\r\n").encode())

        def handle(self) -> None:
            self.reply("220 sink ESMTP")
            sender, rcpts = "", []
            while True:
                raw = self.rfile.readline()
                if not raw:
                    return
                line = raw.decode().rstrip("\r\n")
                verb = line.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    self.reply("250-sink")
                    self.reply("250 AUTH PLAIN")
                elif verb == "HELO":
                    self.reply("250 sink")
                elif verb == "AUTH":
                    _, _, payload = line.split(" ", 2)
                    _, user, password = base64.b64decode(payload).decode().split("\0")
                    sink.logins.append((user, password))
                    self.reply("235 ok")
                elif verb == "MAIL":
                    sender, rcpts = line[10:].strip("<> "), []
                    self.reply("250 ok")
                elif verb == "RCPT":
                    rcpts.append(line[8:].strip("<> "))
                    self.reply("250 ok")
                elif verb == "DATA":
                    self.reply("354 go on")
                    lines = []
                    while (part := self.rfile.readline().decode()) not in (".\r\n", ""):
                        lines.append(part[1:] if part.startswith("..") else part)
                    sink.messages.append({"from": sender, "to": rcpts, "data": "".join(lines)})
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 ok")

    return Handler


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler)
    server.daemon_threads = True
    sink = SmtpSink(port=int(server.server_address[1]))
    server.RequestHandlerClass = _smtp_handler(sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sink
    server.shutdown()
    server.server_close()
    thread.join(5)


# -- a local SMS provider ---------------------------------------------------------------------


@dataclass
class SmsProvider:
    url: str
    answers: list[int] = field(default_factory=list)  # statuses to give, then 201
    posts: list[dict[str, object]] = field(default_factory=list)


@pytest.fixture
def sms_provider() -> Iterator[SmsProvider]:
    provider = SmsProvider(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            provider.posts.append(
                {
                    "path": self.path,
                    "auth": self.headers.get("Authorization", ""),
                    "form": {k: v[0] for k, v in form.items()},
                }
            )
            status = provider.answers.pop(0) if provider.answers else 201
            body = b'{"sid": "SM1"}' if status < 300 else b'{"message": "provider down"}'
            self.send_response(status, "Created" if status == 201 else None)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/2010-04-01/Accounts/AC1/Messages"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider
    server.shutdown()
    server.server_close()
    thread.join(5)


# -- the office -------------------------------------------------------------------------------


@pytest.fixture
def office(
    db: Database, memory_keyring: MemoryKeyring, smtp_sink: SmtpSink, sms_provider: SmsProvider
) -> Database:
    add_user(db, BOB, "broker", "Bob", "Broker")
    add_user(db, ANN, "agent", "Ann", "Lee", broker_email=BOB)
    with db.session() as s:
        s.execute(sa.update(User).where(User.email == BOB).values(phone=BOB_PHONE))
    broker = notes.settings_brokers(db)[0]
    settings = notes.get_settings(db, broker.id)
    notes.save_settings(db, notes.NotificationSettings(**{**settings.__dict__, "sms": True}))
    delivery.save_delivery_settings(
        db,
        SmtpSettings("127.0.0.1", smtp_sink.port, "none", "office", "office@example.com"),
        SmsSettings(sms_provider.url, "AC1", "+15559990000"),
        smtp_password=SMTP_PASSWORD,
        sms_token=SMS_TOKEN,
    )
    return db


def _escrow(db: Database, address: str = "12 Oak St") -> int:
    row = records.create_escrow(
        db,
        EscrowFields(property_address=address, purchase_price=Decimal(450000), owner_email=ANN),
        acting=ANN,
    )
    return int(row.id)


def _deliveries(db: Database) -> dict[str, NotificationDelivery]:
    with db.read() as s:
        rows = s.scalars(sa.select(NotificationDelivery)).all()
        for row in rows:
            s.expunge(row)
    return {row.channel.value: row for row in rows}


def _notifications(db: Database) -> list[tuple[int, str, dt.datetime | None]]:
    with db.read() as s:
        return [
            (n.id, n.title, n.read_at)
            for n in s.scalars(sa.select(Notification).order_by(Notification.id))
        ]


def test_password_and_token_are_kept_only_in_the_keyring(
    office: Database, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    kept = set(memory_keyring.passwords.values())
    assert kept == {SMTP_PASSWORD, SMS_TOKEN}
    assert all(service == KEYRING_SERVICE for service, _ in memory_keyring.passwords)
    with office.read() as s:
        values = " ".join(s.scalars(sa.text("SELECT value FROM app_settings")).all())
    assert SMTP_PASSWORD not in values and SMS_TOKEN not in values
    if office.dialect == "sqlite":
        path = Path(office.engine.url.database or "")
        blob = path.read_bytes()
        assert SMTP_PASSWORD.encode() not in blob and SMS_TOKEN.encode() not in blob
    for file in tmp_path.rglob("*"):
        if file.is_file():
            assert SMTP_PASSWORD.encode() not in file.read_bytes()
    shown = delivery.get_delivery_settings(office)
    assert shown.smtp_password_kept and shown.sms_token_kept
    assert shown.smtp.host == "127.0.0.1" and shown.sms.sender == "+15559990000"


def test_no_keyring_refuses_a_password_and_stores_nothing(db: Database) -> None:
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(KeyringUnavailable):
            delivery.save_delivery_settings(
                db,
                SmtpSettings("mail.example.com", 587, "starttls", "u", "o@example.com"),
                SmsSettings(),
                smtp_password="x",
            )
    finally:
        keyring.set_keyring(previous)
    assert not delivery.get_delivery_settings(db).smtp.host


def test_bad_settings_are_refused(db: Database) -> None:
    with pytest.raises(ValidationError, match="from"):
        delivery.save_delivery_settings(
            db, SmtpSettings("mail.example.com", 587, "starttls", "", ""), SmsSettings()
        )
    with pytest.raises(ValidationError, match="https"):
        delivery.save_delivery_settings(db, SmtpSettings(), SmsSettings("ftp://x", "", "+1"))


def test_email_and_sms_are_queued_with_the_notification_and_sent(
    office: Database, smtp_sink: SmtpSink, sms_provider: SmsProvider
) -> None:
    _escrow(office)
    queued = _deliveries(office)
    assert set(queued) == {"email", "sms"}
    assert all(d.status is DeliveryStatus.PENDING for d in queued.values())

    run = delivery.send_pending(office, NOW)
    assert (run.sent, run.failed, run.given_up, run.errors) == (2, 0, 0, ())
    [message] = smtp_sink.messages
    assert message["to"] == [BOB]
    data = str(message["data"])
    assert "Subject: New escrow: 12 Oak St" in data
    assert "Agent: Ann Lee" in data and "Price: $450,000.00" in data
    assert smtp_sink.logins == [("office", SMTP_PASSWORD)]
    [post] = sms_provider.posts
    form = post["form"]
    assert isinstance(form, dict)
    assert form["To"] == BOB_PHONE and form["From"] == "+15559990000"
    assert "Ann Lee" in form["Body"] and "12 Oak St" in form["Body"]
    assert post["auth"] == "Basic " + base64.b64encode(f"AC1:{SMS_TOKEN}".encode()).decode()
    sent = _deliveries(office)
    assert all(d.status is DeliveryStatus.SENT and d.sent_at == NOW for d in sent.values())
    assert delivery.send_pending(office, NOW + dt.timedelta(hours=1)).tried == 0


def test_failed_sms_keeps_the_notification_and_is_retried(
    office: Database, sms_provider: SmsProvider
) -> None:
    _escrow(office)
    before = _notifications(office)
    sms_provider.answers = [500]
    run = delivery.send_pending(office, NOW)
    assert (run.sent, run.failed) == (1, 1)
    sms = _deliveries(office)["sms"]
    assert sms.status is DeliveryStatus.FAILED and sms.attempts == 1
    assert sms.last_error is not None and "answered 500" in sms.last_error
    assert sms.next_attempt_at == NOW + dt.timedelta(minutes=1)
    assert _notifications(office) == before  # the in-app notification is untouched
    [failure] = delivery.recent_failures(office)
    assert failure.channel == "sms" and "500" in failure.error and failure.failed_at == NOW
    assert not failure.given_up

    assert delivery.send_pending(office, NOW + dt.timedelta(seconds=30)).tried == 0  # not due
    run = delivery.send_pending(office, NOW + dt.timedelta(minutes=1))
    assert run.sent == 1
    assert _deliveries(office)["sms"].status is DeliveryStatus.SENT
    assert len(sms_provider.posts) == 2
    assert delivery.recent_failures(office) == ()


def test_fifth_failure_stops_retrying(office: Database, smtp_sink: SmtpSink) -> None:
    _escrow(office)
    smtp_sink.port = 1  # nothing listens there: every email fails

    def refused(*_: object) -> None:
        raise delivery.SendFailed("The SMTP server 127.0.0.1:1 refused the connection.")

    when = NOW
    waits = []
    for _ in range(5):
        delivery.send_pending(office, when, smtp_sender=refused)
        email = _deliveries(office)["email"]
        assert email.status is DeliveryStatus.FAILED
        assert email.next_attempt_at is not None
        waits.append(email.next_attempt_at - when)
        when = email.next_attempt_at
    assert waits == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)] + [dt.timedelta(0)]
    email = _deliveries(office)["email"]
    assert email.attempts == 5 and "refused the connection" in (email.last_error or "")
    later = delivery.send_pending(office, when + dt.timedelta(days=1), smtp_sender=refused)
    assert later.tried == 0
    assert _deliveries(office)["email"].attempts == 5
    [failure] = delivery.recent_failures(office)
    assert failure.given_up and failure.channel == "email"
    assert len(_notifications(office)) == 1


def test_real_smtp_failure_is_in_plain_words(office: Database) -> None:
    with office.session() as s:
        s.execute(
            sa.text("UPDATE app_settings SET value = :v WHERE key = 'delivery.smtp'"),
            {
                "v": '{"from_address": "office@example.com", "host": "127.0.0.1", '
                '"port": 1, "tls": "none", "user": ""}'
            },
        )
    _escrow(office)
    delivery.send_pending(office, NOW)
    email = _deliveries(office)["email"]
    assert email.status is DeliveryStatus.FAILED
    assert email.last_error == "The SMTP server 127.0.0.1:1 refused the connection."


def test_nothing_is_queued_when_the_broker_turned_the_channels_off(office: Database) -> None:
    broker = notes.settings_brokers(office)[0]
    settings = notes.get_settings(office, broker.id)
    notes.save_settings(
        office, notes.NotificationSettings(**{**settings.__dict__, "email": False, "sms": False})
    )
    _escrow(office)
    assert len(_notifications(office)) == 1
    assert _deliveries(office) == {}


def test_nothing_is_queued_when_sending_is_not_set_up(db: Database) -> None:
    add_user(db, BOB, "broker", "Bob", "Broker")
    add_user(db, ANN, "agent", "Ann", "Lee", broker_email=BOB)
    _escrow(db)
    assert len(_notifications(db)) == 1
    assert _deliveries(db) == {}
    assert "not set up" in delivery.sending_status(db)


def test_test_buttons_send_with_the_stored_settings(
    office: Database, smtp_sink: SmtpSink, sms_provider: SmsProvider
) -> None:
    assert "sent to me@example.com" in delivery.test_email(office, "me@example.com")
    assert smtp_sink.messages[-1]["to"] == ["me@example.com"]
    assert "+15551234567" in delivery.test_sms(office, "+15551234567")
    sms_provider.answers = [401]
    with pytest.raises(delivery.SendFailed, match="answered 401"):
        delivery.test_sms(office, "+15551234567")
    with pytest.raises(ValidationError):
        delivery.test_email(office, "nobody")


def test_the_deliveries_job_sends_what_is_due(office: Database, smtp_sink: SmtpSink) -> None:
    assert "deliveries" in job_names()
    _escrow(office)
    [result] = run_jobs(office, ["deliveries"])
    assert result.status.value == "succeeded" and result.rows_affected == 2
    assert len(smtp_sink.messages) == 1


# -- shared mode: raised by the agent's own login (issue 3 item 5) ------------------------------


def _login(db: Database, email: str) -> Database:
    from sqlalchemy.engine import make_url

    from app.services.database import open_database

    return open_database(make_url(db.url).set(username=email).render_as_string(False))


@pytest.mark.pg
def test_an_agents_own_login_queues_the_brokers_email_and_sms(
    pg_db: Database, memory_keyring: MemoryKeyring, smtp_sink: SmtpSink, sms_provider: SmsProvider
) -> None:
    bob, ann = mail("lbob"), mail("lann")
    add_user(pg_db, bob, "broker", "Bob", "Broker", password="pw")
    add_user(pg_db, ann, "agent", "Ann", "Lee", broker_email=bob, password="pw")
    with pg_db.session() as s:
        s.execute(sa.update(User).where(User.email == bob).values(phone=BOB_PHONE))
    broker = notes.settings_brokers(pg_db)[0]
    start = notes.get_settings(pg_db, broker.id)
    notes.save_settings(
        pg_db,
        notes.NotificationSettings(
            **{**start.__dict__, "sms": True, "min_escrow_value": Decimal(400000)}
        ),
    )
    delivery.save_delivery_settings(
        pg_db,
        SmtpSettings("127.0.0.1", smtp_sink.port, "none", "office", "office@example.com"),
        SmsSettings(sms_provider.url, "AC1", "+15559990000"),
        smtp_password=SMTP_PASSWORD,
        sms_token=SMS_TOKEN,
    )
    as_ann, as_bob = _login(pg_db, ann), _login(pg_db, bob)
    try:
        fields = EscrowFields(
            property_address="9 Elm St", purchase_price=Decimal(450000), owner_email=ann
        )
        records.create_escrow(as_ann, fields)
        records.create_escrow(
            as_ann, EscrowFields(property_address="1 Low St", purchase_price=Decimal("399999.99"))
        )
        with as_ann.engine.connect() as conn:  # the agent reads none of it
            seen = conn.execute(sa.text("SELECT count(*) FROM notification_deliveries")).scalar()
        assert seen == 0
        with as_bob.engine.connect() as conn:  # the broker reads their own deliveries
            rows = conn.execute(
                sa.text(
                    "SELECT n.title, d.channel, d.status, d.attempts, d.next_attempt_at "
                    "FROM notification_deliveries d JOIN notifications n "
                    "ON n.id = d.notification_id ORDER BY d.channel"
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            ("New escrow: 9 Elm St", "email", "pending", 0, None),
            ("New escrow: 9 Elm St", "sms", "pending", 0, None),
        ]
        run = delivery.send_pending(pg_db, NOW)
        assert (run.sent, run.failed) == (2, 0)
        [message] = smtp_sink.messages
        assert message["to"] == [bob] and "Agent: Ann Lee" in str(message["data"])
    finally:
        as_ann.dispose()
        as_bob.dispose()
