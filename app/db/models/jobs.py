"""Scheduled-job runs: what ran, where, when, and how it ended."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow
from app.db.types import UTCDateTime, enum_type
from app.domain.enums import JobStatus, JobTrigger


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (
        sa.CheckConstraint("finished_at IS NULL OR finished_at >= started_at", name="time_order"),
        sa.Index("ix_job_runs_name_started", "job_name", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(sa.String(80))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(enum_type(JobStatus, "job_status"))
    rows_affected: Mapped[int | None] = mapped_column(sa.Integer)
    message: Mapped[str | None] = mapped_column(sa.Text)
    host: Mapped[str] = mapped_column(sa.String(255))
    triggered_by: Mapped[str] = mapped_column(enum_type(JobTrigger, "job_trigger"))
