"""Goals and gamification: entered activities, goals, badge rules and badges earned."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, Versioned, utcnow
from app.db.types import ScaledDecimal, UTCDateTime, enum_type
from app.domain.enums import ActivityType, GoalStatus, GoalType, PeriodType


class ActivityEntry(Base, CreatedAt, Versioned):
    """Calls, emails and meetings: activities with no record of their own, counted per period."""

    __tablename__ = "activity_entries"
    __table_args__ = (
        sa.UniqueConstraint(
            "user_id",
            "activity_type",
            "period_type",
            "period_start",
            name="uq_activity_entries_user_type_period",
        ),
        sa.CheckConstraint("count >= 0", name="count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    activity_type: Mapped[str] = mapped_column(enum_type(ActivityType, "activity_type"))
    period_type: Mapped[str] = mapped_column(enum_type(PeriodType, "period_type"))
    period_start: Mapped[dt.date] = mapped_column(sa.Date)
    count: Mapped[int] = mapped_column(sa.Integer)


class Goal(Base, CreatedAt, Versioned):
    """A person's or a team's target for a period; ``finalized_at`` is set when the period ends."""

    __tablename__ = "goals"
    __table_args__ = (
        sa.CheckConstraint("user_id IS NOT NULL OR team_id IS NOT NULL", name="has_owner"),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
        sa.Index("ix_goals_user_period", "user_id", "period_start"),
        sa.Index("ix_goals_finalized_period_end", "finalized_at", "period_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True
    )
    goal_type: Mapped[str] = mapped_column(enum_type(GoalType, "goal_type"))
    period_type: Mapped[str] = mapped_column(enum_type(PeriodType, "period_type"))
    period_start: Mapped[dt.date] = mapped_column(sa.Date)
    period_end: Mapped[dt.date] = mapped_column(sa.Date)
    target_value: Mapped[Decimal] = mapped_column(ScaledDecimal(16, 4))
    current_value: Mapped[Decimal] = mapped_column(ScaledDecimal(16, 4), default=Decimal(0))
    status: Mapped[str] = mapped_column(enum_type(GoalStatus, "goal_status"))
    description: Mapped[str | None] = mapped_column(sa.Text)
    finalized_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AchievementDefinition(Base, CreatedAt, Versioned):
    """A badge rule: earned when ``metric`` (a §8 sales metric key) reaches ``threshold``."""

    __tablename__ = "achievement_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str | None] = mapped_column(sa.Text)
    metric: Mapped[str] = mapped_column(sa.String(40))
    threshold: Mapped[Decimal] = mapped_column(ScaledDecimal(16, 4))
    period_type: Mapped[str] = mapped_column(enum_type(PeriodType, "period_type"))
    icon: Mapped[str | None] = mapped_column(sa.String(80))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)


class UserAchievement(Base):
    __tablename__ = "user_achievements"
    __table_args__ = (sa.UniqueConstraint("user_id", "achievement_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    achievement_id: Mapped[int] = mapped_column(
        sa.ForeignKey("achievement_definitions.id", ondelete="CASCADE"), index=True
    )
    period_start: Mapped[dt.date] = mapped_column(sa.Date)
    earned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
