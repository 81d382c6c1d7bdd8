"""Broker notifications (SPEC §3), each broker's settings, and email/SMS deliveries to retry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, Versioned, utcnow
from app.db.types import Money, UTCDateTime, enum_type
from app.domain.enums import DeliveryStatus, NotificationChannel, NotificationType

#: The types a broker switches on and off (SPEC §3); the others have no switch.
SWITCHED_TYPES = frozenset(
    {
        NotificationType.ESCROW_CREATED,
        NotificationType.ESCROW_CLOSED,
        NotificationType.CLIENT_CREATED,
        NotificationType.LISTING_CREATED,
    }
)


class Notification(Base):
    """What an agent produced, for one recipient; links to ``entity_type``/``entity_id``."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_recipient_read", "recipient_id", "read_at"),
        sa.Index("ix_notifications_recipient_created", "recipient_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[NotificationType] = mapped_column(enum_type(NotificationType, "notification_type"))
    agent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # "escrow", "client", "listing"; "buy_box", "buyer" (post-close alerts, no agent)
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int] = mapped_column(sa.Integer)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str | None] = mapped_column(sa.Text)
    price: Mapped[Decimal | None] = mapped_column(Money())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class NotificationSetting(Base, CreatedAt, Versioned):
    """One row per broker: a switch per type, the channels, and the escrow price threshold."""

    __tablename__ = "notification_settings"
    __table_args__ = (
        sa.CheckConstraint(
            "min_escrow_value IS NULL OR min_escrow_value >= 0", name="min_escrow_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broker_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    notify_escrow_created: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    notify_escrow_closed: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    notify_client_created: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    notify_listing_created: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    channel_in_app: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    channel_email: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    channel_sms: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    min_escrow_value: Mapped[Decimal | None] = mapped_column(Money())

    def wants(self, kind: NotificationType) -> bool:
        """The type's switch; a type without one (the managers' post-close alerts) is wanted."""
        if kind not in SWITCHED_TYPES:
            return True
        return bool(getattr(self, "notify_" + kind.value.replace(".", "_")))

    def uses(self, channel: NotificationChannel) -> bool:
        return bool(getattr(self, "channel_" + channel.value))


class NotificationDelivery(Base):
    """One email or SMS send of a notification; the in-app row stays whatever happens here.

    ``pending``: to be tried at ``next_attempt_at`` (a failed try records ``last_error`` and
    moves it on); ``sent``; ``failed``: given up after the last allowed attempt.
    """

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("notification_id", "channel"),
        sa.CheckConstraint("channel IN ('email', 'sms')", name="channel_is_external"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_sent_at"),
        sa.Index("ix_notification_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notifications.id", ondelete="CASCADE")
    )
    channel: Mapped[NotificationChannel] = mapped_column(
        enum_type(NotificationChannel, "delivery_channel")
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_type(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
