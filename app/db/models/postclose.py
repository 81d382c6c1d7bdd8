"""Post-close performance: buyers, buy boxes, locked pro formas and monthly rent-roll periods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, Versioned, utcnow
from app.db.types import Money, Rate, ScaledDecimal, UTCDateTime, enum_type, json_document
from app.domain.enums import Grade, LoanType, Strategy, WarningLevel

JSON_DOC = json_document()


def _between(name: str, precision: int, scale: int, low: int, high: int) -> sa.ColumnElement[bool]:
    """``low <= name <= high`` typed, so the bounds render per backend (SQLite stores scaled)."""
    col = sa.column(name, ScaledDecimal(precision, scale))
    return sa.and_(col >= low, col <= high)


class Buyer(Base, CreatedAt, Versioned):
    __tablename__ = "buyers"
    __table_args__ = (
        sa.CheckConstraint(_between("engagement_score", 5, 2, 0, 100), name="engagement_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    engagement_score: Mapped[Decimal | None] = mapped_column(ScaledDecimal(5, 2))


class BuyBox(Base, CreatedAt, Versioned):
    __tablename__ = "buy_boxes"
    __table_args__ = (
        sa.CheckConstraint("min_dscr >= 0", name="min_dscr_not_negative"),
        sa.CheckConstraint(_between("performance_rate", 5, 2, 0, 100), name="rate_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    market_key: Mapped[str] = mapped_column(sa.String(60), index=True)
    strategy: Mapped[str] = mapped_column(enum_type(Strategy, "strategy"))
    min_dscr: Mapped[Decimal] = mapped_column(ScaledDecimal(5, 2))
    buyer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("buyers.id", ondelete="SET NULL"), index=True
    )
    performance_rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(5, 2))
    warning_level: Mapped[str | None] = mapped_column(enum_type(WarningLevel, "warning_level"))


class DealPerformance(Base, CreatedAt, Versioned):
    """Created once at close; the pro forma columns are locked (append-only, by trigger).

    ``version`` guards the columns that do change: ``current_grade``, ``current_flags``, links.
    """

    __tablename__ = "deal_performances"
    __table_args__ = (
        sa.CheckConstraint("purchase_price >= 0", name="purchase_price_not_negative"),
        sa.CheckConstraint("rehab_cost_actual >= 0", name="rehab_cost_not_negative"),
        sa.CheckConstraint(_between("interest_rate", 6, 4, 0, 1), name="interest_rate_range"),
        sa.CheckConstraint(_between("ltv", 5, 4, 0, 1), name="ltv_range"),
        sa.CheckConstraint("amortization_years > 0", name="amortization_positive"),
        sa.Index("ix_deal_performances_buyer_strategy", "buyer_id", "strategy"),
        sa.Index("ix_deal_performances_market_strategy", "market_key", "strategy"),
        sa.Index("ix_deal_performances_buy_box_grade", "buy_box_id", "current_grade"),
        sa.Index("ix_deal_performances_closed_date", "closed_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    deal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("deals.id", ondelete="RESTRICT"), unique=True
    )
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("buyers.id", ondelete="RESTRICT"))
    buy_box_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("buy_boxes.id", ondelete="SET NULL")
    )
    strategy: Mapped[str] = mapped_column(enum_type(Strategy, "strategy"))
    market_key: Mapped[str] = mapped_column(sa.String(60))
    closed_date: Mapped[dt.date] = mapped_column(sa.Date)
    purchase_price: Mapped[Decimal] = mapped_column(Money())
    rehab_cost_actual: Mapped[Decimal | None] = mapped_column(Money())
    loan_type: Mapped[str | None] = mapped_column(enum_type(LoanType, "loan_type"))
    interest_rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(6, 4))
    ltv: Mapped[Decimal | None] = mapped_column(Rate())
    amortization_years: Mapped[int | None] = mapped_column(sa.Integer)
    # The pro forma, locked at creation.
    projected_rent: Mapped[Decimal] = mapped_column(Money())
    projected_noi: Mapped[Decimal] = mapped_column(Money())
    projected_monthly_cash_flow: Mapped[Decimal] = mapped_column(Money())
    projected_dscr: Mapped[Decimal] = mapped_column(ScaledDecimal(6, 2))
    assumptions: Mapped[list[str]] = mapped_column(JSON_DOC, default=list)
    locked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    # Those of the latest period.
    current_grade: Mapped[str | None] = mapped_column(enum_type(Grade, "grade"))
    current_flags: Mapped[list[str]] = mapped_column(JSON_DOC, default=list)


class PerformancePeriod(Base, Versioned):
    """One month of actuals for a record, with its variances, grade and flags."""

    __tablename__ = "performance_periods"
    __table_args__ = (
        sa.UniqueConstraint("performance_id", "year", "month"),
        sa.CheckConstraint("month >= 1 AND month <= 12", name="month_range"),
        sa.CheckConstraint("year >= 1900 AND year <= 2999", name="year_range"),
        sa.CheckConstraint("actual_rent_collected >= 0", name="rent_not_negative"),
        sa.CheckConstraint(_between("actual_vacancy_rate", 5, 4, 0, 1), name="vacancy_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    performance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("deal_performances.id", ondelete="CASCADE")
    )
    year: Mapped[int] = mapped_column(sa.Integer)
    month: Mapped[int] = mapped_column(sa.Integer)
    actual_rent_collected: Mapped[Decimal] = mapped_column(Money())
    actual_vacancy_rate: Mapped[Decimal] = mapped_column(Rate())
    maintenance: Mapped[Decimal | None] = mapped_column(Money())
    property_management: Mapped[Decimal | None] = mapped_column(Money())
    taxes: Mapped[Decimal | None] = mapped_column(Money())
    insurance: Mapped[Decimal | None] = mapped_column(Money())
    other: Mapped[Decimal | None] = mapped_column(Money())
    expenses_total: Mapped[Decimal] = mapped_column(Money())
    actual_noi: Mapped[Decimal] = mapped_column(Money())
    actual_monthly_cash_flow: Mapped[Decimal] = mapped_column(Money())
    actual_dscr: Mapped[Decimal] = mapped_column(ScaledDecimal(6, 2))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    grade: Mapped[str] = mapped_column(enum_type(Grade, "grade"))
    flags: Mapped[list[str]] = mapped_column(JSON_DOC, default=list)
    # Actual − projected; ``…_pct`` = variance / |projected| × 100, null when projected is 0.
    cash_flow_variance: Mapped[Decimal] = mapped_column(Money())
    cash_flow_variance_pct: Mapped[Decimal | None] = mapped_column(ScaledDecimal(9, 2))
    rent_variance: Mapped[Decimal] = mapped_column(Money())
    rent_variance_pct: Mapped[Decimal | None] = mapped_column(ScaledDecimal(9, 2))
    expense_variance: Mapped[Decimal] = mapped_column(Money())
    expense_variance_pct: Mapped[Decimal | None] = mapped_column(ScaledDecimal(9, 2))
    dscr_variance: Mapped[Decimal] = mapped_column(ScaledDecimal(6, 2))
    entered_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
