"""The job log as the window shows it: every run of the scheduled jobs, newest first, with
how it ended and why (SPEC §12; issue "KPI management", item 3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from app.db.models import JobRun
from app.services.database import Database
from app.services.jobs.runner import registered_jobs

MAX_ROWS = 500


@dataclass(frozen=True)
class RunRow:
    id: int
    job: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    rows_affected: int | None
    message: str | None
    host: str
    triggered_by: str

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def job_descriptions() -> dict[str, str]:
    """Each registered job's name and what it does, in run order."""
    return {name: job.description for name, job in registered_jobs().items()}


def list_runs(db: Database, job: str | None = None, limit: int = MAX_ROWS) -> list[RunRow]:
    stmt = sa.select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job:
        stmt = stmt.where(JobRun.job_name == job)
    with db.read() as s:
        return [
            RunRow(
                r.id,
                r.job_name,
                r.started_at,
                r.finished_at,
                str(r.status),
                r.rows_affected,
                r.message,
                r.host,
                str(r.triggered_by),
            )
            for r in s.scalars(stmt)
        ]
