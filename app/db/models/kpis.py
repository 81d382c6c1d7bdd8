"""KPIs: definitions, assignments to people, measurements per period, score snapshots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, Versioned, utcnow
from app.db.types import ScaledDecimal, UTCDateTime, enum_type, json_document
from app.domain.enums import CalculationType, PeriodType, TargetType

JSON_DOC = json_document()

# Typed so that CHECK bounds render per backend (100 is 10000 in SQLite's scaled integer).
_weight = sa.column("weight", ScaledDecimal(5, 2))


class KpiDefinition(Base, CreatedAt, Versioned):
    __tablename__ = "kpi_definitions"
    __table_args__ = (
        sa.CheckConstraint(
            "min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="value_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    category: Mapped[str | None] = mapped_column(sa.String(100))
    calculation_type: Mapped[str] = mapped_column(enum_type(CalculationType, "calculation_type"))
    data_source: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOC)
    unit: Mapped[str | None] = mapped_column(sa.String(50))
    aggregation_period: Mapped[str] = mapped_column(enum_type(PeriodType, "period_type"))
    target_type: Mapped[str] = mapped_column(enum_type(TargetType, "target_type"))
    # Allowed range of a manually entered value.
    min_value: Mapped[Decimal | None] = mapped_column(ScaledDecimal(16, 4))
    max_value: Mapped[Decimal | None] = mapped_column(ScaledDecimal(16, 4))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    is_builtin: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class KpiAssignment(Base, CreatedAt, Versioned):
    """A KPI assigned to a person; ``team_id`` records that it came from a team assignment."""

    __tablename__ = "kpi_assignments"
    __table_args__ = (
        sa.CheckConstraint(sa.and_(_weight >= 0, _weight <= 100), name="weight_range"),
        sa.CheckConstraint("user_id IS NOT NULL OR team_id IS NOT NULL", name="has_assignee"),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="date_order"),
        sa.UniqueConstraint("user_id", "kpi_definition_id", "start_date"),
        sa.Index("ix_kpi_assignments_user_active", "user_id", "is_active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_definition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kpi_definitions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    target_value: Mapped[Decimal] = mapped_column(ScaledDecimal(16, 4))
    weight: Mapped[Decimal] = mapped_column(ScaledDecimal(5, 2))
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    assigned_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)


class KpiMeasurement(Base, Versioned):
    """One value per (assignment, period), keeping a snapshot of the target it was scored on."""

    __tablename__ = "kpi_measurements"
    __table_args__ = (
        sa.UniqueConstraint("assignment_id", "period_start"),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
        sa.Index("ix_kpi_measurements_period", "period_start", "period_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kpi_assignments.id", ondelete="CASCADE")
    )
    period_start: Mapped[dt.date] = mapped_column(sa.Date)
    period_end: Mapped[dt.date] = mapped_column(sa.Date)
    actual_value: Mapped[Decimal] = mapped_column(ScaledDecimal(16, 4))
    target_value: Mapped[Decimal] = mapped_column(ScaledDecimal(16, 4))
    achievement_pct: Mapped[Decimal | None] = mapped_column(ScaledDecimal(9, 2))
    calculation_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOC)
    calculated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    calculated_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    notes: Mapped[str | None] = mapped_column(sa.Text)


class KpiScoreSnapshot(Base, CreatedAt):
    __tablename__ = "kpi_score_snapshots"
    __table_args__ = (sa.UniqueConstraint("user_id", "snapshot_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    snapshot_date: Mapped[dt.date] = mapped_column(sa.Date)
    overall_score: Mapped[Decimal | None] = mapped_column(ScaledDecimal(7, 2))
    kpi_scores: Mapped[list[dict[str, Any]]] = mapped_column(JSON_DOC, default=list)
