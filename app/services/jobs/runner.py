"""Scheduled jobs (SPEC §12 ``jobs run``): a registry of named jobs and the runner.

Each job runs in one transaction of its own and is recorded in ``job_runs``: a row marked
``running`` when it starts (its own short transaction, so other workstations see it), then
``succeeded`` with the rows it wrote, ``failed`` with the error's plain message, or
``skipped``. A failing job rolls back its own work only; the next job still runs.

On PostgreSQL the job's transaction first takes ``pg_try_advisory_xact_lock`` on a stable
64-bit hash of the job's name, so two workstations never run the same job at once: the
second one does not wait, it records ``skipped``. The lock ends with the transaction. SQLite
(local mode, one workstation) serialises writers itself and needs no lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import JobRun, User
from app.domain.enums import JobStatus, JobTrigger
from app.domain.errors import PerfDeskError, ValidationError
from app.services.database import Database


@dataclass(frozen=True)
class JobOutcome:
    """What a job wrote, and a line for the log when part of its work could not be done
    (the run still succeeded: e.g. a KPI whose value could not be computed)."""

    rows: int
    note: str | None = None


#: The transaction the job runs in, plus the day it runs as of and the options given for it.
JobFunction = Callable[[Session, "JobContext"], "int | JobOutcome"]


@dataclass(frozen=True)
class JobContext:
    as_of: dt.date
    dialect: str
    options: Mapping[str, Any] = field(default_factory=dict)
    #: The database the job runs on (for work on a connection of its own, such as the
    #: read-only KPI queries).
    database: Database | None = None
    #: Told (done, total, what) as a long job goes (the window's progress bar); may be None.
    progress: Callable[[int, int, str], None] | None = None
    #: Asked between steps of a long job; True: stop, the job fails and writes nothing.
    cancelled: Callable[[], bool] | None = None


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    run: JobFunction


@dataclass(frozen=True)
class JobResult:
    name: str
    status: JobStatus
    rows_affected: int | None
    message: str | None
    seconds: float
    run_id: int


_REGISTRY: dict[str, Job] = {}


def register(job: Job) -> Job:
    """Add a job to the registry (a name is registered once; the order is the run order)."""
    if job.name in _REGISTRY and _REGISTRY[job.name] is not job:
        raise ValueError(f"a job named {job.name!r} is already registered")
    _REGISTRY[job.name] = job
    return job


def _load_builtin_jobs() -> None:
    # Imported here: each job module registers itself, and imports this module.
    from app.services.delivery import run as _deliveries  # noqa: F401
    from app.services.jobs import agent_kpis, feedback, kpis, sales_goals, snapshots  # noqa: F401


def registered_jobs() -> dict[str, Job]:
    """The registered jobs by name, in run order."""
    _load_builtin_jobs()
    return dict(_REGISTRY)


def job_names() -> list[str]:
    return list(registered_jobs())


def person_login(s: Session, dialect: str) -> str | None:
    """On PostgreSQL, the email of the person whose own login the session is; None for a
    login that is nobody's (the office's database owner) and always None on SQLite.

    Under row-level security a person's login sees only part of the office, so the jobs
    that must see all of it refuse (``agent-kpis``) or are not scheduled (schedule.py)."""
    if dialect != "postgresql":
        return None
    return s.scalar(sa.select(User.email).where(User.db_role == sa.func.current_user()))


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for the job's advisory lock (same on every workstation)."""
    digest = hashlib.sha256(f"perfdesk.job:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def run_jobs(
    db: Database,
    names: Iterable[str] | None = None,
    as_of: dt.date | None = None,
    triggered_by: JobTrigger = JobTrigger.CLI,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    started_at: dt.datetime | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[JobResult]:
    """Run the named jobs (None or empty: every registered job) in registry order.

    ``as_of`` defaults to today's date in UTC. ``options`` maps a job's name to its keyword
    options (e.g. ``{"agent-kpis": {"backfill_months": 3}}``). ``started_at`` is the start the
    log records (default: the clock when each job starts); the scheduler passes the time it
    decided at, so a run's slot and its ``as_of`` always agree, even across midnight.
    ``progress`` and ``cancelled`` are handed to the jobs that report progress (snapshots). Raises
    ValidationError, before running anything, for a name that is not registered.
    """
    jobs = registered_jobs()
    wanted = list(dict.fromkeys(names or ()))
    unknown = [n for n in wanted if n not in jobs]
    if unknown:
        raise ValidationError(f"unknown job {', '.join(unknown)} (known jobs: {', '.join(jobs)})")
    selected = [job for name, job in jobs.items() if not wanted or name in wanted]
    day = as_of if as_of is not None else dt.datetime.now(dt.UTC).date()
    every = options or {}
    return [
        _run_one(
            db,
            job,
            JobContext(day, db.dialect, every.get(job.name, {}), db, progress, cancelled),
            triggered_by,
            started_at,
        )
        for job in selected
    ]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _run_one(
    db: Database,
    job: Job,
    ctx: JobContext,
    trigger: JobTrigger,
    started_at: dt.datetime | None = None,
) -> JobResult:
    clock = time.perf_counter()
    with db.session() as s:
        record = JobRun(
            job_name=job.name,
            started_at=started_at or _now(),
            status=JobStatus.RUNNING.value,
            host=socket.gethostname()[:255] or "unknown",
            triggered_by=trigger.value,
        )
        s.add(record)
        s.flush()
        run_id = int(record.id)
    status, rows, message = _execute(db, job, ctx)
    seconds = time.perf_counter() - clock
    with db.session() as s:
        done = s.get_one(JobRun, run_id)
        done.finished_at = max(_now(), done.started_at)
        done.status = status.value
        done.rows_affected = rows
        done.message = message
    return JobResult(job.name, status, rows, message, seconds, run_id)


def _execute(db: Database, job: Job, ctx: JobContext) -> tuple[JobStatus, int | None, str | None]:
    try:
        with db.session() as s:
            if db.dialect == "postgresql":
                # One snapshot for the job's reads; must come before its first statement.
                s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                locked = s.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(lock_key(job.name))))
                if not locked:
                    return (
                        JobStatus.SKIPPED,
                        None,
                        f"{job.name} is already running on another workstation",
                    )
            done = job.run(s, ctx)
    except Exception as exc:  # recorded, and the next job runs
        return JobStatus.FAILED, None, plain_message(exc, db)
    if isinstance(done, JobOutcome):
        return JobStatus.SUCCEEDED, done.rows, done.note
    return JobStatus.SUCCEEDED, done, None


def plain_message(exc: BaseException, db: Database) -> str:
    """The first line of what went wrong, in plain words."""
    if isinstance(exc, PerfDeskError):
        text = str(exc)
    elif type(exc).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3")):
        from app.services.dberrors import explain

        text = explain(exc, db.describe())
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    lines = text.strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def describe(results: Sequence[JobResult]) -> list[str]:
    """One line per job: name, status, rows, seconds."""
    lines = []
    for r in results:
        rows = "-" if r.rows_affected is None else str(r.rows_affected)
        line = f"{r.name}  {r.status.value}  rows={rows}  {r.seconds:.2f}s"
        lines.append(line + (f"  ({r.message})" if r.message else ""))
    return lines
