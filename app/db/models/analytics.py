"""Analytics: agent snapshots, the broker dashboard's monthly KPIs, benchmarks, lead costs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, Versioned, utcnow
from app.db.types import Money, ScaledDecimal, UTCDateTime, enum_type, json_document
from app.domain.enums import BenchmarkCohort

JSON_DOC = json_document()


class AgentPerformanceSnapshot(Base):
    """SPEC §10: one row per (agent, as_of_date), recomputed by upsert."""

    __tablename__ = "agent_performance_snapshots"
    __table_args__ = (
        sa.UniqueConstraint("agent_id", "as_of_date"),
        sa.Index("ix_agent_performance_snapshots_date", "as_of_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    as_of_date: Mapped[dt.date] = mapped_column(sa.Date)
    deals_open: Mapped[int] = mapped_column(sa.Integer, default=0)
    deals_closed_won: Mapped[int] = mapped_column(sa.Integer, default=0)
    gross_pipeline_value: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    weighted_pipeline_value: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    avg_cycle_days: Mapped[Decimal | None] = mapped_column(ScaledDecimal(9, 2))
    conversion_rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(7, 2))
    confirmed_commission_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    disputed_commission_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    # Kept as columns (0012) so a team's or the office's trend sums in SQL: the closed-lost
    # count (conversion), the closed-won volume and the cycle days summed over the won deals
    # (the mean cycle of several agents is Σ days / Σ won, not a mean of means).
    deals_closed_lost: Mapped[int] = mapped_column(sa.Integer, default=0)
    closed_won_volume: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    cycle_days_total: Mapped[int] = mapped_column(sa.Integer, default=0)
    ratios: Mapped[dict[str, Any]] = mapped_column(JSON_DOC, default=dict)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AgentMonthlyKpi(Base, CreatedAt):
    """The broker dashboard's per-agent figures for a period (seed ``agent_kpis``)."""

    __tablename__ = "agent_monthly_kpis"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "period_start", "period_end"),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
        sa.Index("ix_agent_monthly_kpis_broker_period", "broker_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    broker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    period_start: Mapped[dt.date] = mapped_column(sa.Date)
    period_end: Mapped[dt.date] = mapped_column(sa.Date)
    total_leads: Mapped[int] = mapped_column(sa.Integer, default=0)
    new_leads: Mapped[int] = mapped_column(sa.Integer, default=0)
    converted_leads: Mapped[int] = mapped_column(sa.Integer, default=0)
    conversion_rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(5, 2))
    total_appointments: Mapped[int] = mapped_column(sa.Integer, default=0)
    completed_appointments: Mapped[int] = mapped_column(sa.Integer, default=0)
    no_shows: Mapped[int] = mapped_column(sa.Integer, default=0)
    show_rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(5, 2))
    total_escrows: Mapped[int] = mapped_column(sa.Integer, default=0)
    total_clients: Mapped[int] = mapped_column(sa.Integer, default=0)
    active_listings: Mapped[int] = mapped_column(sa.Integer, default=0)
    total_volume: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    total_commission: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    last_activity: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    days_active: Mapped[int | None] = mapped_column(sa.Integer)


class Benchmark(Base, CreatedAt):
    """An imported reference figure; the newest ``effective_date`` per key wins."""

    __tablename__ = "benchmarks"
    __table_args__ = (
        sa.CheckConstraint("value_numeric IS NOT NULL OR value_text IS NOT NULL", name="has_value"),
        sa.Index(
            "ix_benchmarks_lookup",
            "metric_key",
            "asset_type",
            "deal_type",
            "cohort",
            "effective_date",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_key: Mapped[str] = mapped_column(sa.String(80))
    asset_type: Mapped[str | None] = mapped_column(sa.String(40))
    deal_type: Mapped[str | None] = mapped_column(sa.String(40))
    cohort: Mapped[str] = mapped_column(enum_type(BenchmarkCohort, "benchmark_cohort"))
    value_numeric: Mapped[Decimal | None] = mapped_column(ScaledDecimal(18, 4))
    value_text: Mapped[str | None] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(200))
    effective_date: Mapped[dt.date] = mapped_column(sa.Date)


class LeadSourceCost(Base, CreatedAt, Versioned):
    """What a lead source cost in a month (brokerage-wide when ``agent_id`` is null), for ROI."""

    __tablename__ = "lead_source_costs"
    __table_args__ = (
        sa.UniqueConstraint("source", "month", "agent_id"),
        sa.CheckConstraint("cost >= 0", name="cost_not_negative"),
        # Renders per backend: STRFTIME on SQLite, EXTRACT on PostgreSQL.
        sa.CheckConstraint(sa.extract("day", sa.column("month", sa.Date)) == 1, name="month_first"),
        sa.Index("ix_lead_source_costs_month", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(80))
    month: Mapped[dt.date] = mapped_column(sa.Date)
    agent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    cost: Mapped[Decimal] = mapped_column(Money())
