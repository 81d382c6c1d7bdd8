"""The in-app scheduler's rules: which registered jobs are due now, decided from the job log.

The schedule is data (``SCHEDULE``): a job's name, how often it runs, how long it waits after
a run that did not succeed, and its options. The window's scheduler (app/gui/scheduler.py)
asks ``due_jobs`` every minute and runs what it returns; this module never waits or loops.

Rules (docs/rules.md, Jobs):
- A job runs once per slot of its interval, slots counted from midnight UTC: ``agent-kpis``
  once per UTC day, ``deliveries`` at most once per minute. It is due when no
  scheduler-triggered run of it succeeded since the current slot began. Only scheduler runs
  count (their ``as_of`` is always the day they ran); on a server the log is shared, so a
  job another workstation's window ran in this slot is not run again.
- After a scheduler run that did not succeed (failed, skipped because another workstation
  held the job's lock, or still running, perhaps elsewhere), the job waits ``retry_after``
  from that run's start before it is tried again.
- ``deliveries`` is due only while a delivery is due to be sent (pending or failed, attempts
  left, retry time reached), so an idle office writes no job-log row a minute.
- ``agent-kpis``: the first scheduler run in a new UTC month (the last successful one
  started in an earlier month, or there was none) uses ``new_month_options``, i.e.
  ``backfill_months=1``: it counts the month that just ended once more, whole, after its
  end, so that month's row becomes final (``agent_kpis.is_final``) and the agent report's
  history reads it. A month with no run after its end stays live in the history.
- Shared mode: a job marked ``office_login`` is scheduled only under the office's database
  owner login. Under a person's own login ``agent-kpis`` would refuse (row-level security
  hides other people's leads) and ``deliveries`` would see only that person's own
  notifications, sending them with this workstation's keyring (where the SMTP password and
  SMS token usually are not) and so using up their retries; the scheduler skips both,
  quietly (``runnable``, one query when the database opens).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from cronsim import CronSim, CronSimError
from sqlalchemy.orm import Session

from app.db.models import JobRun
from app.db.models.notifications import NotificationDelivery
from app.domain.enums import DeliveryStatus, JobStatus, JobTrigger
from app.domain.errors import ValidationError
from app.services.database import Database
from app.services.delivery.run import MAX_ATTEMPTS
from app.services.jobs.runner import JobResult, person_login, registered_jobs, run_jobs

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

#: Whether there is work for the job at ``now``, read in the scheduler's session.
HasWork = Callable[[Session, dt.datetime], bool]


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    every: dt.timedelta
    retry_after: dt.timedelta
    #: A cron expression (UTC, five fields) for when the job's slots begin; None: slots of
    #: ``every`` from midnight UTC. A slot begins at the newest time the expression names.
    cron: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    #: Options of the first run in a new UTC month (None: ``options``).
    new_month_options: Mapping[str, Any] | None = None
    #: Shared mode: only under the office's owner login, never a person's own.
    office_login: bool = True
    #: None: always due when its slot comes; else only when this says there is work.
    has_work: HasWork | None = None


@dataclass(frozen=True)
class DueJob:
    name: str
    as_of: dt.date
    options: Mapping[str, Any]


def deliveries_due(s: Session, now: dt.datetime) -> bool:
    """A delivery is due to be sent (the ``deliveries`` job's own selection, as one EXISTS)."""
    due = sa.select(NotificationDelivery.id).where(
        NotificationDelivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED]),
        NotificationDelivery.attempts < MAX_ATTEMPTS,
        sa.or_(
            NotificationDelivery.next_attempt_at.is_(None),
            NotificationDelivery.next_attempt_at <= now,
        ),
    )
    return bool(s.scalar(sa.select(due.exists())))


SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob(
        "agent-kpis",
        every=dt.timedelta(days=1),
        retry_after=dt.timedelta(minutes=15),
        new_month_options={"backfill_months": 1},
    ),
    # KPI measurements of the periods just ended, early each UTC morning (the office's
    # records of the day before are in by then); a window opened later that day catches up.
    ScheduledJob(
        "kpis",
        every=dt.timedelta(days=1),
        retry_after=dt.timedelta(minutes=30),
        cron="0 5 * * *",
    ),
    # Goals and badges after the KPIs: a goal that ended yesterday is finalised even if nobody
    # opened the app (SPEC §8); badges come the day they are earned.
    ScheduledJob(
        "goals",
        every=dt.timedelta(days=1),
        retry_after=dt.timedelta(minutes=30),
        cron="15 5 * * *",
    ),
    ScheduledJob(
        "achievements",
        every=dt.timedelta(days=1),
        retry_after=dt.timedelta(minutes=30),
        cron="20 5 * * *",
    ),
    # Yesterday's snapshots, final now the day is over, and today's so far (SPEC §10).
    ScheduledJob(
        "snapshots",
        every=dt.timedelta(days=1),
        retry_after=dt.timedelta(minutes=30),
        cron="30 5 * * *",
        options={"days": 2},
    ),
    ScheduledJob(
        "deliveries",
        every=dt.timedelta(minutes=1),
        retry_after=dt.timedelta(minutes=1),
        has_work=deliveries_due,
    ),
)


#: Every scheduled job as shipped (tests narrow ``SCHEDULE``; this stays whole).
ALL_SCHEDULED = SCHEDULE


def slot_start(now: dt.datetime, every: dt.timedelta, cron: str | None = None) -> dt.datetime:
    """The start of the slot holding ``now``: the newest time ``cron`` names (at or before
    ``now``), else the slot of length ``every`` counted from midnight UTC."""
    if cron is not None:
        return cron_slot(cron, now)
    return EPOCH + ((now - EPOCH) // every) * every


def check_cron(expr: str) -> str:
    """The expression, if cronsim reads it; ValidationError in plain words if not."""
    try:
        CronSim(expr, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    except CronSimError as exc:
        raise ValidationError(f"{expr!r} is not a cron expression: {exc}") from None
    return expr


def cron_slot(expr: str, now: dt.datetime) -> dt.datetime:
    """The newest time at or before ``now`` that ``expr`` names (UTC). cronsim walks back
    from strictly before its start, so it starts a second past ``now`` (cron has no seconds)."""
    after = now.astimezone(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    fire: dt.datetime = next(iter(CronSim(expr, after, reverse=True)))
    return fire


def month_start(now: dt.datetime) -> dt.datetime:
    utc = now.astimezone(dt.UTC)
    return dt.datetime(utc.year, utc.month, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class LastRuns:
    """What the log says of a job's scheduler runs."""

    succeeded: dt.datetime | None  # start of the newest successful run
    attempt: dt.datetime | None  # start of the newest run, whatever its status
    attempt_status: str | None


def last_runs(s: Session, name: str) -> LastRuns:
    scheduled = (JobRun.job_name == name, JobRun.triggered_by == JobTrigger.SCHEDULER.value)
    succeeded = s.scalar(
        sa.select(sa.func.max(JobRun.started_at)).where(
            *scheduled, JobRun.status == JobStatus.SUCCEEDED.value
        )
    )
    newest = s.execute(
        sa.select(JobRun.started_at, JobRun.status)
        .where(*scheduled)
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(1)
    ).one_or_none()
    if newest is None:
        return LastRuns(succeeded, None, None)
    return LastRuns(succeeded, newest[0], str(newest[1]))


def is_due(entry: ScheduledJob, last: LastRuns, now: dt.datetime) -> bool:
    """The slot and retry rules (not the work check, not the login check)."""
    if last.succeeded is not None and last.succeeded >= slot_start(now, entry.every, entry.cron):
        return False
    waiting = (
        last.attempt is not None
        and last.attempt_status != JobStatus.SUCCEEDED.value
        and now - last.attempt < entry.retry_after
    )
    return not waiting


def options_for(entry: ScheduledJob, last: LastRuns, now: dt.datetime) -> Mapping[str, Any]:
    if entry.new_month_options is not None and (
        last.succeeded is None or last.succeeded < month_start(now)
    ):
        return dict(entry.new_month_options)
    return dict(entry.options)


def _allowed(entries: Iterable[ScheduledJob], person: str | None) -> tuple[ScheduledJob, ...]:
    known = registered_jobs()
    return tuple(
        e for e in entries if e.name in known and not (e.office_login and person is not None)
    )


def runnable(
    db: Database, schedule: Sequence[ScheduledJob] | None = None
) -> tuple[ScheduledJob, ...]:
    """The scheduled jobs this connection may run: all of them in local mode and under the
    office's owner login; under a person's own login only those not marked ``office_login``."""
    with db.read() as s:
        person = person_login(s, db.dialect)
    return _allowed(SCHEDULE if schedule is None else schedule, person)


def may_run(db: Database, name: str) -> bool:
    """Whether the in-app scheduler would run the scheduled job ``name`` on this connection."""
    return any(e.name == name for e in runnable(db))


def due_jobs(
    db: Database,
    now: dt.datetime | None = None,
    schedule: Sequence[ScheduledJob] | None = None,
) -> list[DueJob]:
    """The jobs of ``schedule`` (default ``SCHEDULE``, filtered by ``runnable`` here) that
    are due at ``now`` (default the clock), in schedule order, with their options."""
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    due: list[DueJob] = []
    with db.read() as s:
        entries = _allowed(SCHEDULE if schedule is None else schedule, person_login(s, db.dialect))
        for entry in entries:
            last = last_runs(s, entry.name)
            if not is_due(entry, last, when):
                continue
            if entry.has_work is not None and not entry.has_work(s, when):
                continue
            due.append(DueJob(entry.name, when.date(), options_for(entry, last, when)))
    return due


def run_due_jobs(
    db: Database,
    now: dt.datetime | None = None,
    schedule: Sequence[ScheduledJob] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[JobResult]:
    """Run what ``due_jobs`` returns, one after the other, as the scheduler (``cancelled``
    is asked between jobs, and by the jobs that take long, which then store nothing).
    Failures are recorded in the log and returned, never raised."""
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    results: list[JobResult] = []
    for job in due_jobs(db, when, schedule):
        if cancelled is not None and cancelled():
            break
        results += run_jobs(
            db,
            [job.name],
            as_of=job.as_of,
            triggered_by=JobTrigger.SCHEDULER,
            options={job.name: job.options},
            started_at=when,  # the slot it was due in, whatever the clock says by now
            cancelled=cancelled,  # a long job (snapshots) stops when the window closes the db
        )
    return results
