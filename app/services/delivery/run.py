"""Queueing and sending email/SMS deliveries, with retries; the ``deliveries`` job.

Rules (docs/rules.md, Notifications):
- When a notification is raised, a delivery row is queued in the same transaction for each
  external channel the broker has on (no settings row: email on, SMS off) that the office has
  set up (SMTP host and from address; SMS endpoint and sender number) and the broker can be
  reached on (an email address; a phone number in ``users.phone`` for SMS), for a notification
  the broker's settings want (its type's switch, in-app on, ``min_escrow_value`` for escrows).
  On the server a person's login cannot queue them (row-level security): ``notify_broker``
  queues them in SQL (``perfdesk_queue_deliveries``, migration 0007), deciding the same.
- ``send_pending`` sends every due delivery: status pending or failed, fewer than
  ``MAX_ATTEMPTS`` attempts, ``next_attempt_at`` empty or not after ``now``; oldest first.
- A send that works: ``sent`` with ``sent_at``. One that fails: ``failed``, ``attempts`` + 1,
  ``last_error`` in plain words and ``next_attempt_at`` after 1, 2, 4, 8 minutes; after the
  fifth failure it is never tried again (``next_attempt_at`` then keeps that failure's time).
- The in-app notification is never changed by a delivery, whatever happens.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.db.models.notifications import Notification, NotificationDelivery, NotificationSetting
from app.db.models.people import User
from app.domain.enums import DeliveryStatus, NotificationChannel, NotificationType
from app.domain.errors import DatabaseProblem, ValidationError
from app.domain.money import format_money
from app.services.database import Database
from app.services.dberrors import explain
from app.services.delivery.senders import (
    SendFailed,
    SmsSender,
    SmtpSender,
    send_email,
    send_sms,
)
from app.services.delivery.settings import (
    SmsSettings,
    SmtpSettings,
    load_secret,
    read_sms,
    read_smtp,
)
from app.services.jobs.runner import Job, JobContext, register

NAME = "deliveries"
MAX_ATTEMPTS = 5
#: Wait after the 1st, 2nd, 3rd and 4th failure.
BACKOFF_MINUTES: tuple[int, ...] = (1, 2, 4, 8)
#: Notifications about an escrow, to which ``min_escrow_value`` applies.
ESCROW_TYPES = frozenset({NotificationType.ESCROW_CREATED, NotificationType.ESCROW_CLOSED})
#: The managers' post-close alerts: about a buy box or a buyer, not an agent's record.
ALERT_TYPES = frozenset({NotificationType.BUY_BOX_WARNING, NotificationType.BUYER_SCORE_DROP})
#: What an alert's email tells the reader to open.
_ALERT_OPEN = {"buy_box": "the buy box", "buyer": "the buyer"}
#: At most this many deliveries are sent per run (the rest wait for the next run).
BATCH = 200
MAX_ERROR = 500
NOT_SET_UP = "Sending by email/SMS is not set up yet: these switches are only stored for now."


@dataclass(frozen=True)
class DeliveryRun:
    sent: int = 0
    failed: int = 0  # failed this run, to be retried
    given_up: int = 0  # failed for the last time this run
    errors: tuple[str, ...] = field(default_factory=tuple)

    @property
    def tried(self) -> int:
        return self.sent + self.failed + self.given_up


@dataclass(frozen=True)
class DeliveryFailure:
    id: int
    notification_id: int
    channel: str  # "email" or "sms"
    title: str
    attempts: int
    error: str
    failed_at: dt.datetime  # when the last attempt failed
    next_attempt_at: dt.datetime | None  # None: given up

    @property
    def given_up(self) -> bool:
        return self.next_attempt_at is None


def backoff(attempts: int) -> dt.timedelta | None:
    """The wait after the ``attempts``-th failure; None once no attempt is left."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return dt.timedelta(minutes=BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1])


# -- queueing ---------------------------------------------------------------------------------

#: The whitespace a phone number of nothing but is no number: ASCII only, as the SQL twin
#: (migration 0007, ``btrim``) strips the same set.
BLANK = " \t\n\v\f\r"


def notification_wanted(
    setting: NotificationSetting | None, kind: NotificationType, price: Decimal | None
) -> bool:
    """The broker's settings want a notification of ``kind`` at ``price`` at all: its type's
    switch and the in-app channel on, and an escrow's price at least ``min_escrow_value``
    (no settings row: every type, in-app on, no threshold)."""
    if setting is None:
        return True
    if not (setting.wants(kind) and setting.uses(NotificationChannel.IN_APP)):
        return False
    threshold = setting.min_escrow_value
    if kind in ESCROW_TYPES and threshold is not None:
        return price is not None and price >= threshold
    return True


def delivery_channels(
    setting: NotificationSetting | None,
    kind: NotificationType,
    price: Decimal | None,
    broker: User | None,
    smtp: SmtpSettings,
    sms: SmsSettings,
) -> tuple[NotificationChannel, ...]:
    """The external channels a notification goes out on (the in-app row is the notification).

    Only for a wanted notification to an active broker; email when the broker has it on (no
    settings row: on), has an address and the office has set email up; SMS when on (no
    settings row: off), the broker has a phone number and the office has set SMS up.
    ``perfdesk_queue_deliveries`` (migrations 0007, 0009) decides the same on the server.
    A manager's post-close alert follows the same rules (its type has no switch: wanted).
    """
    if broker is None or not broker.is_active or not notification_wanted(setting, kind, price):
        return ()
    email_on = True if setting is None else setting.uses(NotificationChannel.EMAIL)
    sms_on = False if setting is None else setting.uses(NotificationChannel.SMS)
    channels: list[NotificationChannel] = []
    if email_on and broker.email and smtp.configured:
        channels.append(NotificationChannel.EMAIL)
    if sms_on and (broker.phone or "").strip(BLANK) and sms.configured:
        channels.append(NotificationChannel.SMS)
    return tuple(channels)


def queue_deliveries(s: Session, notification_id: int) -> int:
    """Queue the email/SMS deliveries of a notification just written in ``s``; how many.

    A new delivery has no ``next_attempt_at``: it is due at the next run. A person's login
    on the server cannot (row-level security): ``notify_broker`` queues them there.
    """
    note = s.get(Notification, notification_id)
    if note is None:
        return 0
    setting = s.scalar(
        sa.select(NotificationSetting).where(NotificationSetting.broker_id == note.recipient_id)
    )
    channels = delivery_channels(
        setting, note.type, note.price, s.get(User, note.recipient_id), read_smtp(s), read_sms(s)
    )
    for channel in channels:
        s.add(
            NotificationDelivery(
                notification_id=note.id,
                channel=channel,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=None,
            )
        )
    s.flush()
    return len(channels)


# -- the messages -----------------------------------------------------------------------------


def email_message(
    smtp: SmtpSettings, to: str, note: Notification, agent: str, currency: str = "USD"
) -> EmailMessage:
    """The email of a notification: the title as subject; agent, thing and price in the body."""
    message = EmailMessage()
    message["Subject"] = note.title
    message["From"] = smtp.from_address
    message["To"] = to
    if note.type in ALERT_TYPES:  # about a buy box or a buyer, no agent: the subject names it
        what = _ALERT_OPEN.get(note.entity_type, "it")
        lines = [note.title, "", note.body or "", "", f"Open PerfDesk to see {what}."]
        message.set_content("\n".join(lines))
        return message
    lines = [note.body or note.title, ""]
    lines.append(f"Agent: {agent or 'unknown'}")
    lines.append(f"{note.entity_type.capitalize()}: {note.title.split(': ', 1)[-1]}")
    if note.price is not None:
        lines.append(f"Price: {format_money(note.price, currency)}")
    lines += ["", "Open PerfDesk to see the record."]
    message.set_content("\n".join(lines))
    return message


def sms_text(note: Notification) -> str:
    if note.type in ALERT_TYPES and note.body:  # the body does not name the buy box or buyer
        return f"{note.title}. {note.body}"[:320]
    return (note.body or note.title)[:320]


# -- sending ----------------------------------------------------------------------------------


def _plain(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, SendFailed) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:MAX_ERROR] or type(exc).__name__


def _currency(s: Session) -> str:
    from app.db.models.people import AppSetting

    row = s.get(AppSetting, "currency")
    return row.value if row is not None else "USD"


def send_pending_in(
    s: Session,
    now: dt.datetime,
    smtp_sender: SmtpSender = send_email,
    sms_sender: SmsSender = send_sms,
) -> DeliveryRun:
    """Send the due deliveries within ``s`` (the caller commits)."""
    due = s.scalars(
        sa.select(NotificationDelivery)
        .where(
            NotificationDelivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED]),
            NotificationDelivery.attempts < MAX_ATTEMPTS,
            sa.or_(
                NotificationDelivery.next_attempt_at.is_(None),
                NotificationDelivery.next_attempt_at <= now,
            ),
        )
        .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id)
        .limit(BATCH)
    ).all()
    if not due:
        return DeliveryRun()
    smtp, sms = read_smtp(s), read_sms(s)
    password = load_secret(smtp.keyring_key) if smtp.host else None
    token = load_secret(sms.keyring_key) if sms.endpoint else None
    currency = _currency(s)
    sent = failed = given_up = 0
    errors: list[str] = []
    for delivery in due:
        try:
            _send_one(s, delivery, smtp, sms, password, token, currency, smtp_sender, sms_sender)
        except Exception as exc:  # every failure is recorded; the next delivery still goes
            delivery.attempts += 1
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = _plain(exc)
            wait = backoff(delivery.attempts)
            # Given up: next_attempt_at keeps the time of the last failure (never due again:
            # attempts has reached MAX_ATTEMPTS).
            delivery.next_attempt_at = now if wait is None else now + wait
            errors.append(f"{delivery.channel.value} #{delivery.id}: {delivery.last_error}")
            if wait is None:
                given_up += 1
            else:
                failed += 1
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            delivery.next_attempt_at = None
            sent += 1
        s.flush()
    return DeliveryRun(sent, failed, given_up, tuple(errors))


def _send_one(
    s: Session,
    delivery: NotificationDelivery,
    smtp: SmtpSettings,
    sms: SmsSettings,
    password: str | None,
    token: str | None,
    currency: str,
    smtp_sender: SmtpSender,
    sms_sender: SmsSender,
) -> None:
    note = s.get(Notification, delivery.notification_id)
    if note is None:
        raise SendFailed("The notification no longer exists.")
    broker = s.get(User, note.recipient_id)
    if broker is None or not broker.is_active:
        raise SendFailed("The broker has left the office or was deactivated.")
    agent = s.get(User, note.agent_id) if note.agent_id is not None else None
    agent_name = agent.full_name if agent is not None else ""
    if delivery.channel is NotificationChannel.EMAIL:
        if not smtp.configured:
            raise SendFailed("Email is not set up: enter the SMTP server in the sending settings.")
        smtp_sender(smtp, password, email_message(smtp, broker.email, note, agent_name, currency))
    elif delivery.channel is NotificationChannel.SMS:
        if not sms.configured:
            raise SendFailed("SMS is not set up: enter the provider in the sending settings.")
        phone = (broker.phone or "").strip()
        if not phone:
            raise SendFailed(f"{broker.full_name} has no phone number to send the SMS to.")
        sms_sender(sms, token, phone, sms_text(note))
    else:
        raise SendFailed(f"{delivery.channel} is not an email or SMS channel.")


def send_pending(
    db: Database,
    now: dt.datetime | None = None,
    smtp_sender: SmtpSender = send_email,
    sms_sender: SmsSender = send_sms,
) -> DeliveryRun:
    """Send every due delivery in one transaction; failures are recorded, never raised."""
    when = now or dt.datetime.now(dt.UTC)
    try:
        with db.session() as s:
            return send_pending_in(s, when, smtp_sender, sms_sender)
    except DBAPIError as exc:
        raise DatabaseProblem(explain(exc, db.describe())) from exc


# -- what the window shows --------------------------------------------------------------------


def recent_failures(db: Database, limit: int = 20) -> tuple[DeliveryFailure, ...]:
    """The latest failed deliveries (retrying or given up), the most recently failed first."""
    try:
        with db.read() as s:
            rows = s.execute(
                sa.select(NotificationDelivery, Notification.title)
                .join(Notification, Notification.id == NotificationDelivery.notification_id)
                .where(NotificationDelivery.status == DeliveryStatus.FAILED)
                .order_by(NotificationDelivery.id.desc())
                .limit(max(limit, 0) * 4)
            ).all()
    except DBAPIError as exc:
        raise DatabaseProblem(explain(exc, db.describe())) from exc
    failures = [
        DeliveryFailure(
            id=d.id,
            notification_id=d.notification_id,
            channel=d.channel.value,
            title=title,
            attempts=d.attempts,
            error=d.last_error or "",
            failed_at=_failed_at(d),
            next_attempt_at=d.next_attempt_at if d.attempts < MAX_ATTEMPTS else None,
        )
        for d, title in rows
    ]
    failures.sort(key=lambda f: (f.failed_at, f.id), reverse=True)
    return tuple(failures[: max(limit, 0)])


def _failed_at(d: NotificationDelivery) -> dt.datetime:
    """When the last attempt failed: the next attempt minus its wait (given up: kept as is)."""
    if d.next_attempt_at is None:
        return d.created_at
    return d.next_attempt_at - (backoff(d.attempts) or dt.timedelta())


def sending_status(db: Database) -> str:
    """One sentence on how email and SMS are sent, for the notification settings dialog."""
    try:
        with db.read() as s:
            smtp, sms = read_smtp(s), read_sms(s)
            failing = int(
                s.scalar(
                    sa.select(sa.func.count())
                    .select_from(NotificationDelivery)
                    .where(NotificationDelivery.status == DeliveryStatus.FAILED)
                )
                or 0
            )
    except DBAPIError as exc:
        raise DatabaseProblem(explain(exc, db.describe())) from exc
    if not smtp.configured and not sms.configured:
        return NOT_SET_UP
    parts = [
        f"Email is sent through {smtp.host}:{smtp.port} from {smtp.from_address}."
        if smtp.configured
        else "Email is not set up.",
        f"SMS is sent from {sms.sender} through {sms.endpoint}."
        if sms.configured
        else "SMS is not set up.",
    ]
    if failing:
        parts.append(f"{failing} failed send(s), listed below.")
    return " ".join(parts)


# -- test sends -------------------------------------------------------------------------------


def test_email(db: Database, to: str, smtp_sender: SmtpSender = send_email) -> str:
    """Send a test email with the stored settings; SendFailed says why it did not go."""
    to = to.strip()
    if "@" not in to:
        raise ValidationError("Enter the address to send the test email to.")
    with db.read() as s:
        smtp = read_smtp(s)
    if not smtp.configured:
        raise SendFailed("Email is not set up: enter and save the SMTP server first.")
    message = EmailMessage()
    message["Subject"] = "PerfDesk test email"
    message["From"] = smtp.from_address
    message["To"] = to
    message.set_content("This is a test from PerfDesk: email notifications can reach you.")
    smtp_sender(smtp, load_secret(smtp.keyring_key), message)
    return f"A test email was sent to {to}."


def test_sms(db: Database, to: str, sms_sender: SmsSender = send_sms) -> str:
    """Send a test SMS with the stored settings; SendFailed says why it did not go."""
    to = to.strip()
    if not to:
        raise ValidationError("Enter the number to send the test SMS to.")
    with db.read() as s:
        sms = read_sms(s)
    if not sms.configured:
        raise SendFailed("SMS is not set up: enter and save the provider first.")
    sms_sender(sms, load_secret(sms.keyring_key), to, "PerfDesk test: SMS notifications work.")
    return f"A test SMS was sent to {to}."


# -- the job ----------------------------------------------------------------------------------


def _run_job(s: Session, ctx: JobContext) -> int:
    run = send_pending_in(s, dt.datetime.now(dt.UTC))
    return run.tried


JOB = register(
    Job(
        NAME,
        "Send the due email/SMS notifications and retry failed ones (1, 2, 4, 8 min).",
        _run_job,
    )
)
