"""The commission ledger: one record per (deal, agent, type) and its adjustments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Versioned, utcnow
from app.db.types import Money, Rate, UTCDateTime, enum_type
from app.domain.enums import AdjustmentType, CommissionStatus, CommissionType


class CommissionRecord(Base, Versioned):
    """``commission_amount = basis_amount × commission_rate``; status machine in SPEC §6.

    ``disputed_from_status`` is the status a dispute came from, so resolving can return to it.
    """

    __tablename__ = "commission_records"
    __table_args__ = (
        sa.UniqueConstraint("deal_id", "agent_id", "commission_type"),
        sa.CheckConstraint("basis_amount >= 0", name="basis_not_negative"),
        sa.CheckConstraint("commission_amount >= 0", name="amount_not_negative"),
        # Rates are scaled integers on SQLite: a typed expression renders the bound per dialect.
        sa.CheckConstraint(
            sa.column("commission_rate", Rate()).between(0, 1), name="rate_between_0_and_1"
        ),
        sa.CheckConstraint(
            "disputed_from_status IS NULL"
            " OR disputed_from_status IN ('pending', 'confirmed', 'invoiced')",
            name="disputed_from_disputable",
        ),
        sa.CheckConstraint(
            "status <> 'disputed'"
            " OR (disputed_from_status IS NOT NULL AND dispute_reason IS NOT NULL)",
            name="dispute_has_origin_and_reason",
        ),
        sa.Index("ix_commission_records_agent_status", "agent_id", "status"),
        # The ledger (0008): its newest records first, page by page.
        sa.Index("ix_commission_records_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(sa.ForeignKey("deals.id", ondelete="RESTRICT"))
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    commission_type: Mapped[CommissionType] = mapped_column(
        enum_type(CommissionType, "commission_type")
    )
    basis_amount: Mapped[Decimal] = mapped_column(Money())
    commission_rate: Mapped[Decimal] = mapped_column(Rate())
    commission_amount: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[CommissionStatus] = mapped_column(
        enum_type(CommissionStatus, "commission_status"), default=CommissionStatus.PENDING
    )
    disputed_from_status: Mapped[CommissionStatus | None] = mapped_column(
        enum_type(CommissionStatus, "disputed_from_status")
    )
    dispute_reason: Mapped[str | None] = mapped_column(sa.Text)
    dispute_document_uri: Mapped[str | None] = mapped_column(sa.String(2000))
    introduced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    invoiced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    disputed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    written_off_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CommissionAdjustment(Base):
    """A signed change: clawback < 0, bonus > 0, correction ≠ 0; net = amount + Σ adjustments."""

    __tablename__ = "commission_adjustments"
    __table_args__ = (
        sa.CheckConstraint(
            "adjustment_type <> 'clawback' OR amount < 0", name="clawback_is_negative"
        ),
        sa.CheckConstraint("adjustment_type <> 'bonus' OR amount > 0", name="bonus_is_positive"),
        sa.CheckConstraint(
            "adjustment_type <> 'correction' OR amount <> 0", name="correction_not_zero"
        ),
        sa.CheckConstraint("length(note) > 0", name="note_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("commission_records.id", ondelete="RESTRICT"), index=True
    )
    adjustment_type: Mapped[AdjustmentType] = mapped_column(
        enum_type(AdjustmentType, "adjustment_type")
    )
    amount: Mapped[Decimal] = mapped_column(Money())
    note: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
