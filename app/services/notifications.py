"""In-app broker notifications (SPEC §3): raised when an agent creates an escrow, client or
listing or closes an escrow; listed, counted and marked read by their recipient; and each
broker's settings.

Rules:
- types ``escrow.created``, ``escrow.closed`` (an update moving an escrow to Closed),
  ``client.created``, ``listing.created``; never for leads or appointments;
- the recipient is the record owner's broker (``users.broker_id``); no broker, or a broker's
  own record, notifies nobody;
- only when the broker's settings want the type and the in-app channel is on; no settings
  row means every type on and in-app on; escrow notifications only when the purchase price
  is at least ``min_escrow_value``;
- raised in the transaction that writes the record (``raise_for_record``). On PostgreSQL a
  person's login cannot insert a row for someone else (row-level security): it calls the
  SECURITY DEFINER function ``notify_broker`` (migrations 0005, 0007), which takes recipient,
  agent and price from the stored rows, applies the broker's settings again and queues the
  email/SMS deliveries. Local mode and the database owner's login insert directly.
- the managers' post-close alerts (``buy_box.warning``, ``buyer.score_drop``, no agent) are
  raised by ``app.services.postclose.alerts``; they are listed, counted and read here like
  the others, and open the Buy boxes or Buyers page.

Who reads: a person their own notifications. Local mode with nobody named, and the server's
owner login with nobody named, read every notification of the office (the whole office is at
that computer). Email and SMS: a notification inserted directly also queues its deliveries
(``app.services.delivery.queue_deliveries``) in the same transaction, one raised through
``notify_broker`` has them queued by the server (``perfdesk_queue_deliveries``, deciding the
same channels); the ``deliveries`` job sends them and retries failures, and the in-app row
stays whatever happens to them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.db.models.notifications import Notification, NotificationSetting
from app.db.models.people import User
from app.db.models.records import Client, Escrow, Listing
from app.domain.enums import EscrowStatus, NotificationType, Role
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.domain.money import format_money
from app.services.database import Database
from app.services.delivery.run import notification_wanted, queue_deliveries

#: NUMERIC(16,2): fourteen digits before the point.
MONEY_LIMIT = Decimal(10) ** 14
#: A list shows at most this many (the newest).
MAX_ROWS = 200

ENTITY_OF: dict[NotificationType, str] = {
    NotificationType.ESCROW_CREATED: "escrow",
    NotificationType.ESCROW_CLOSED: "escrow",
    NotificationType.CLIENT_CREATED: "client",
    NotificationType.LISTING_CREATED: "listing",
    NotificationType.BUY_BOX_WARNING: "buy_box",
    NotificationType.BUYER_SCORE_DROP: "buyer",
    NotificationType.KPI_TARGET_MISSED: "kpi_assignment",
    NotificationType.GOAL_ACHIEVED: "goal",
    NotificationType.ACHIEVEMENT_EARNED: "user_achievement",
}
#: The window's page key of each entity type.
PAGE_OF: dict[str, str] = {
    "escrow": "escrows",
    "client": "clients",
    "listing": "listings",
    "buy_box": "buy_boxes",
    "buyer": "buyers",
    "kpi_assignment": "kpi_assignments",
    "goal": "goals",
    "user_achievement": "leaderboard",
}

TYPE_LABELS: dict[NotificationType, str] = {
    NotificationType.ESCROW_CREATED: "New escrow",
    NotificationType.ESCROW_CLOSED: "Escrow closed",
    NotificationType.CLIENT_CREATED: "New client",
    NotificationType.LISTING_CREATED: "New listing",
    NotificationType.BUY_BOX_WARNING: "Buy box warning",
    NotificationType.BUYER_SCORE_DROP: "Buyer score drop",
    NotificationType.KPI_TARGET_MISSED: "Target missed",
    NotificationType.GOAL_ACHIEVED: "Goal reached",
    NotificationType.ACHIEVEMENT_EARNED: "Badge earned",
}


# -- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationRow:
    id: int
    type: str
    recipient_id: int
    agent_name: str  # "" when the agent has been removed
    entity_type: str  # "escrow", "client", "listing"; "buy_box", "buyer" (post-close alerts)
    entity_id: int
    title: str
    body: str
    price: Decimal | None
    created_at: dt.datetime
    read_at: dt.datetime | None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def page(self) -> str:
        """The page to open: "escrows", "clients", "listings", "buy_boxes" or "buyers"."""
        return PAGE_OF[self.entity_type]


@dataclass(frozen=True)
class NotificationList:
    rows: tuple[NotificationRow, ...]  # newest first, at most the limit asked for
    unread: int  # all unread, listed or not


@dataclass(frozen=True)
class BrokerChoice:
    id: int
    email: str
    full_name: str


@dataclass(frozen=True)
class NotificationSettings:
    """A broker's settings; ``version`` 0 means no row is stored yet (the defaults)."""

    broker_id: int
    broker_name: str
    version: int
    escrow_created: bool = True
    escrow_closed: bool = True
    client_created: bool = True
    listing_created: bool = True
    in_app: bool = True
    email: bool = True
    sms: bool = False
    min_escrow_value: Decimal | None = None


# -- who is asking ----------------------------------------------------------------------------


def _login_person(s: Session, db: Database) -> User | None:
    if db.is_local:
        return None
    return s.scalar(sa.select(User).where(User.db_role == sa.func.current_user()))


def _me(s: Session, db: Database, acting: str | None) -> User | None:
    """The acting person; None: the whole office (local or owner login, nobody named)."""
    named: User | None = None
    if acting:
        email = acting.strip().lower()
        named = s.scalar(sa.select(User).where(User.email == email))
        if named is None:
            raise PermissionDenied(f"No one with the email {email} is in the office.")
    login = _login_person(s, db)
    if login is not None and named is not None and login.id != named.id:
        raise PermissionDenied(
            f"You are signed in as {login.email}; you cannot act as {named.email}."
        )
    person = login or named
    if person is not None and not person.is_active:
        raise PermissionDenied(f"{person.email} has been deactivated.")
    return person


# -- raising ----------------------------------------------------------------------------------


def _setting(s: Session, broker_id: int) -> NotificationSetting | None:
    return s.scalar(
        sa.select(NotificationSetting).where(NotificationSetting.broker_id == broker_id)
    )


def _describe(kind: NotificationType, record: Any, agent: str) -> tuple[str, str, Decimal | None]:
    """Title, body and price of a notification about ``record``."""
    if kind is NotificationType.CLIENT_CREATED:
        source = f" (source: {record.source})" if record.source else ""
        return f"New client: {record.name}", f"{agent} added the client {record.name}{source}", None
    if kind is NotificationType.LISTING_CREATED:
        price = record.list_price
        return (
            f"New listing: {record.address}",
            f"{agent} listed {record.address} at {format_money(price)}",
            price,
        )
    price = record.purchase_price
    if kind is NotificationType.ESCROW_CLOSED:
        return (
            f"Escrow closed: {record.property_address}",
            f"{agent} closed the escrow on {record.property_address} at {format_money(price)}",
            price,
        )
    return (
        f"New escrow: {record.property_address}",
        f"{agent} opened an escrow on {record.property_address} at {format_money(price)}",
        price,
    )


_MODEL_OF: dict[str, Any] = {"escrow": Escrow, "client": Client, "listing": Listing}


def raise_for_record(
    s: Session, db: Database, kind: NotificationType, record_id: int
) -> int | None:
    """Notify the owner's broker about a record just written in ``s``, if the rules say so.

    Returns the new notification's id, or None when nobody is notified. The post-close alerts
    go to the managers instead (``app.services.postclose.alerts.notify_managers``).
    """
    model = _MODEL_OF.get(ENTITY_OF[kind])
    if model is None:
        raise ValueError(f"{kind} is no notification about an agent's record")
    record = s.get(model, record_id)
    if record is None:
        return None
    owner = s.get(User, record.agent_id)
    if owner is None or owner.broker_id is None or owner.broker_id == owner.id:
        return None
    if kind is NotificationType.ESCROW_CLOSED and record.escrow_status != EscrowStatus.CLOSED:
        return None
    title, body, price = _describe(kind, record, owner.full_name)
    if not notification_wanted(_setting(s, owner.broker_id), kind, price):
        return None
    title = title[:200]
    if _login_person(s, db) is not None:
        # A person's login may not insert someone else's notification nor its deliveries
        # (RLS): the definer function checks the caller sees the record, applies the broker's
        # settings again, inserts the notification and queues its email/SMS (0005, 0007).
        new_id = s.scalar(
            sa.text("SELECT public.notify_broker(:kind, :record_id, :title, :body)"),
            {"kind": kind.value, "record_id": record_id, "title": title, "body": body},
        )
        return int(new_id) if new_id is not None else None
    note = Notification(
        recipient_id=owner.broker_id,
        type=kind,
        agent_id=owner.id,
        entity_type=ENTITY_OF[kind],
        entity_id=record_id,
        title=title,
        body=body,
        price=price,
    )
    s.add(note)
    s.flush()
    queue_deliveries(s, note.id)
    return note.id


# -- reading and marking ----------------------------------------------------------------------


def _mine(me: User | None) -> sa.ColumnElement[bool]:
    return sa.true() if me is None else Notification.recipient_id == me.id


def list_notifications(
    db: Database, acting: str | None = None, limit: int = MAX_ROWS
) -> NotificationList:
    """The acting person's notifications, newest first, and how many are unread."""
    agent = sa.orm.aliased(User)
    with db.read() as s:
        me = _me(s, db, acting)
        stmt = (
            sa.select(Notification, agent)
            .outerjoin(agent, agent.id == Notification.agent_id)
            .where(_mine(me))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(max(limit, 0))
        )
        rows = tuple(
            NotificationRow(
                id=n.id,
                type=str(n.type),
                recipient_id=n.recipient_id,
                agent_name=a.full_name if a is not None else "",
                entity_type=n.entity_type,
                entity_id=n.entity_id,
                title=n.title,
                body=n.body or "",
                price=n.price,
                created_at=n.created_at,
                read_at=n.read_at,
            )
            for n, a in s.execute(stmt)
        )
        unread = _unread(s, me)
    return NotificationList(rows, unread)


def _unread(s: Session, me: User | None) -> int:
    return int(
        s.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(_mine(me), Notification.read_at.is_(None))
        )
        or 0
    )


def unread_count(db: Database, acting: str | None = None) -> int:
    with db.read() as s:
        return _unread(s, _me(s, db, acting))


def mark_read(db: Database, notification_id: int, acting: str | None = None) -> int:
    """Mark one notification read; returns 1, or 0 if it was read already or is not yours."""
    with db.session() as s:
        me = _me(s, db, acting)
        result = s.execute(
            sa.update(Notification)
            .where(_mine(me), Notification.id == notification_id, Notification.read_at.is_(None))
            .values(read_at=dt.datetime.now(dt.UTC))
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def mark_all_read(db: Database, acting: str | None = None) -> int:
    """Mark every unread notification of the acting person read; returns how many."""
    with db.session() as s:
        me = _me(s, db, acting)
        result = s.execute(
            sa.update(Notification)
            .where(_mine(me), Notification.read_at.is_(None))
            .values(read_at=dt.datetime.now(dt.UTC))
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- settings ---------------------------------------------------------------------------------


def _may_edit(me: User | None, broker: User) -> bool:
    return me is None or me.role == Role.ADMIN.value or me.id == broker.id


def settings_brokers(db: Database, acting: str | None = None) -> tuple[BrokerChoice, ...]:
    """The active brokers whose settings the acting person may change (themself; admin: all)."""
    with db.read() as s:
        me = _me(s, db, acting)
        stmt = sa.select(User).where(User.is_active.is_(True), User.role == Role.BROKER.value)
        brokers = s.scalars(stmt.order_by(User.first_name, User.last_name, User.email)).all()
        return tuple(BrokerChoice(b.id, b.email, b.full_name) for b in brokers if _may_edit(me, b))


def _broker(s: Session, broker_id: int) -> User:
    broker = s.get(User, broker_id)
    if broker is None or broker.role != Role.BROKER.value:
        raise ValidationError("Notification settings belong to a broker; choose one.")
    return broker


def _settings_of(broker: User, row: NotificationSetting | None) -> NotificationSettings:
    if row is None:
        return NotificationSettings(broker.id, broker.full_name, 0)
    return NotificationSettings(
        broker.id,
        broker.full_name,
        row.version,
        escrow_created=row.notify_escrow_created,
        escrow_closed=row.notify_escrow_closed,
        client_created=row.notify_client_created,
        listing_created=row.notify_listing_created,
        in_app=row.channel_in_app,
        email=row.channel_email,
        sms=row.channel_sms,
        min_escrow_value=row.min_escrow_value,
    )


def get_settings(db: Database, broker_id: int, acting: str | None = None) -> NotificationSettings:
    """A broker's settings (the defaults, version 0, when none are stored)."""
    with db.read() as s:
        _me(s, db, acting)
        broker = _broker(s, broker_id)
        return _settings_of(broker, _setting(s, broker_id))


def check_min_escrow_value(value: Decimal | None) -> str | None:
    """What is wrong with a minimum escrow value, or None."""
    if value is None:
        return None
    if not value.is_finite():
        return f"{value} is not a number"
    if value < 0:
        return f"must not be negative (got {value})"
    if value >= MONEY_LIMIT:
        return "too large (at most 99,999,999,999,999.99)"
    return None


def save_settings(
    db: Database, settings: NotificationSettings, acting: str | None = None
) -> NotificationSettings:
    """Store ``settings`` read at ``settings.version`` (0: none stored yet).

    ConflictError when they were changed (or first stored) on another workstation meanwhile.
    """
    problem = check_min_escrow_value(settings.min_escrow_value)
    if problem is not None:
        raise ValidationError(f"Minimum escrow value: {problem}")
    stale = ConflictError(
        "These notification settings were changed on another workstation; reload them. "
        "Nothing was saved."
    )
    values = {
        "notify_escrow_created": settings.escrow_created,
        "notify_escrow_closed": settings.escrow_closed,
        "notify_client_created": settings.client_created,
        "notify_listing_created": settings.listing_created,
        "channel_in_app": settings.in_app,
        "channel_email": settings.email,
        "channel_sms": settings.sms,
        "min_escrow_value": settings.min_escrow_value,
    }
    try:
        with db.session() as s:
            me = _me(s, db, acting)
            broker = _broker(s, settings.broker_id)
            if not _may_edit(me, broker):
                raise PermissionDenied(
                    f"Only {broker.full_name} or an administrator may change their "
                    "notification settings."
                )
            row = _setting(s, broker.id)
            if (row.version if row is not None else 0) != settings.version:
                raise stale
            if row is None:
                row = NotificationSetting(broker_id=broker.id, **values)
                s.add(row)
            else:
                for name, value in values.items():
                    setattr(row, name, value)
            s.flush()
            s.refresh(row)
            return _settings_of(broker, row)
    except StaleDataError:
        raise stale from None
    except sa.exc.IntegrityError:
        raise stale from None  # another workstation stored the first row meanwhile
