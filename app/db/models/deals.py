"""The deal pipeline: deals, their append-only stage history, contacts and documents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, Versioned, utcnow
from app.db.types import Money, Rate, UTCDateTime, enum_type
from app.domain.enums import ContactRole, DealStage, DealStatus


class Deal(Base, Versioned):
    """An opportunity. ``status`` follows ``pipeline_stage`` (SPEC §4); cancelled at any stage."""

    __tablename__ = "deals"
    __table_args__ = (
        sa.CheckConstraint("estimated_value_amount >= 0", name="estimated_value_not_negative"),
        # Rates are scaled integers on SQLite: a typed expression renders the bound per dialect.
        sa.CheckConstraint(
            sa.column("confidence", Rate()).between(0, 1), name="confidence_between_0_and_1"
        ),
        sa.CheckConstraint("length(estimated_value_currency) = 3", name="currency_is_3_chars"),
        sa.CheckConstraint(
            "(status = 'open' AND pipeline_stage NOT IN ('closed_won', 'closed_lost'))"
            " OR (status = 'closed_won' AND pipeline_stage = 'closed_won')"
            " OR (status = 'closed_lost' AND pipeline_stage = 'closed_lost')"
            " OR status = 'cancelled'",
            name="status_matches_stage",
        ),
        sa.Index("ix_deals_stage_agent", "pipeline_stage", "agent_id"),
        sa.Index("ix_deals_agent_status", "agent_id", "status"),
        sa.Index("ix_deals_agent_created", "agent_id", "created_at"),
        sa.Index("ix_deals_close_date", "actual_close_date", "pipeline_stage", "agent_id"),
        # The board (0008): a column's most recently moved cards, and the column figures read
        # from the index alone.
        sa.Index("ix_deals_stage_moved", "pipeline_stage", "stage_changed_at", "id"),
        sa.Index(
            "ix_deals_stage_figures",
            "pipeline_stage",
            "estimated_value_currency",
            "agent_id",
            "estimated_value_amount",
            "confidence",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(sa.String(200))
    asset_type: Mapped[str] = mapped_column(sa.String(40))
    deal_type: Mapped[str] = mapped_column(sa.String(40))
    pipeline_stage: Mapped[DealStage] = mapped_column(enum_type(DealStage, "deal_stage"))
    status: Mapped[DealStatus] = mapped_column(
        enum_type(DealStatus, "deal_status"), default=DealStatus.OPEN
    )
    lead_source: Mapped[str | None] = mapped_column(sa.String(80))
    estimated_value_amount: Mapped[Decimal] = mapped_column(Money())
    estimated_value_currency: Mapped[str] = mapped_column(sa.String(3))
    expected_close_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    actual_close_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    confidence: Mapped[Decimal] = mapped_column(Rate())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the deal last changed stage (its latest stage event): what a board card shows
    #: without reading the history. Written by each move in the move's transaction.
    stage_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=utcnow)


class DealStageEvent(Base):
    """One move on the board. Append-only: never updated or deleted (no version column)."""

    __tablename__ = "deal_stage_events"
    __table_args__ = (
        sa.CheckConstraint(
            "from_stage IS NULL OR from_stage <> to_stage", name="stage_actually_changes"
        ),
        sa.Index("ix_deal_stage_events_deal_recorded", "deal_id", "recorded_at"),
        sa.Index("ix_deal_stage_events_to_recorded", "to_stage", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT, not CASCADE/SET NULL: either would rewrite or delete append-only rows.
    deal_id: Mapped[int] = mapped_column(sa.ForeignKey("deals.id", ondelete="RESTRICT"))
    from_stage: Mapped[DealStage | None] = mapped_column(enum_type(DealStage, "from_stage"))
    to_stage: Mapped[DealStage] = mapped_column(enum_type(DealStage, "to_stage"))
    changed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DealContact(Base, CreatedAt, Versioned):
    __tablename__ = "deal_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(sa.ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    role: Mapped[ContactRole] = mapped_column(enum_type(ContactRole, "contact_role"))
    name: Mapped[str] = mapped_column(sa.String(160))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    company: Mapped[str | None] = mapped_column(sa.String(160))
    notes: Mapped[str | None] = mapped_column(sa.Text)


class DealDocument(Base, CreatedAt, Versioned):
    """A reference (URI) to a file kept elsewhere; PerfDesk stores no file contents."""

    __tablename__ = "deal_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(sa.ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    doc_type: Mapped[str] = mapped_column(sa.String(40))
    uri: Mapped[str] = mapped_column(sa.String(2000))
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
