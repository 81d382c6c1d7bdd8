"""The records agents produce: leads, appointments, clients, listings, escrows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Versioned, utcnow
from app.db.types import Money, UTCDateTime, enum_type
from app.domain.enums import (
    AppointmentStatus,
    ClientStatus,
    EscrowStatus,
    LeadStatus,
    ListingStatus,
)


class Lead(Base, Versioned):
    __tablename__ = "leads"
    __table_args__ = (
        sa.Index("ix_leads_owner_created", "owner_id", "created_at"),
        # Everyone's leads of a period at once (KPI and sales-performance runs, 0010).
        sa.Index("ix_leads_created_owner", "created_at", "owner_id", "status"),
        # Covers the dashboard's per-agent counts (SPEC §2) without touching the table.
        sa.Index("ix_leads_owner_kpi", "owner_id", "is_private", "created_at", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(160))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    source: Mapped[str | None] = mapped_column(sa.String(80))
    status: Mapped[str] = mapped_column(enum_type(LeadStatus, "lead_status"))
    is_private: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Appointment(Base, Versioned):
    __tablename__ = "appointments"
    __table_args__ = (
        sa.Index("ix_appointments_agent_start", "agent_id", "start_time"),
        sa.Index("ix_appointments_start_agent", "start_time", "agent_id", "status"),
        sa.Index(
            "ix_appointments_agent_kpi",
            "agent_id",
            "is_private",
            "created_at",
            "start_time",
            "status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leads.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(200))
    start_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    end_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(enum_type(AppointmentStatus, "appointment_status"))
    location: Mapped[str | None] = mapped_column(sa.String(200))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    is_private: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Client(Base, Versioned):
    __tablename__ = "clients"
    __table_args__ = (sa.Index("ix_clients_agent_kpi", "agent_id", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    source: Mapped[str | None] = mapped_column(sa.String(80))
    status: Mapped[str] = mapped_column(enum_type(ClientStatus, "client_status"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Listing(Base, Versioned):
    __tablename__ = "listings"
    __table_args__ = (sa.CheckConstraint("list_price >= 0", name="list_price_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(sa.String(240))
    list_price: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(enum_type(ListingStatus, "listing_status"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Escrow(Base, Versioned):
    __tablename__ = "escrows"
    __table_args__ = (
        sa.CheckConstraint("purchase_price >= 0", name="purchase_price_not_negative"),
        sa.Index("ix_escrows_agent_created", "agent_id", "created_at"),
        sa.Index("ix_escrows_created_agent", "created_at", "agent_id"),
        sa.Index("ix_escrows_closed_agent", "closed_at", "agent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id", ondelete="SET NULL"))
    property_address: Mapped[str] = mapped_column(sa.String(240))
    purchase_price: Mapped[Decimal] = mapped_column(Money())
    my_commission: Mapped[Decimal | None] = mapped_column(Money())
    escrow_status: Mapped[str] = mapped_column(enum_type(EscrowStatus, "escrow_status"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
