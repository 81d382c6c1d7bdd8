"""People: users with roles, their broker and team; office-wide settings."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, Versioned
from app.db.types import UTCDateTime, enum_type
from app.domain.enums import Role


class Team(Base, CreatedAt, Versioned):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    broker_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", use_alter=True, ondelete="SET NULL")
    )
    manager_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", use_alter=True, ondelete="SET NULL")
    )


class User(Base, CreatedAt, Versioned):
    """A person. In shared mode each person logs in as the database role ``db_role``."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(80))
    last_name: Mapped[str] = mapped_column(sa.String(80))
    role: Mapped[str] = mapped_column(enum_type(Role, "role"))
    broker_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    team_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    db_role: Mapped[str | None] = mapped_column(sa.String(63), unique=True)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    last_login: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class AppSetting(Base, Versioned):
    """Office-wide settings (e.g. ``currency``), shared by every workstation."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
