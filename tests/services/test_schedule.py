"""The in-app scheduler's rules (app/services/jobs/schedule.py, docs/rules.md Jobs), on both
backends: which scheduled jobs are due at an explicit ``now``, with which options, read from the
job log; and what ``run_due_jobs`` records there.

Every time is pinned: ``now`` is passed in, and the runner's clock (the ``started_at`` it
records) is set to the same instant, never the wall clock."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from app.db.models import JobRun, User
from app.db.models.notifications import Notification, NotificationDelivery
from app.domain.enums import (
    DeliveryStatus,
    JobStatus,
    JobTrigger,
    NotificationChannel,
    NotificationType,
)
from app.services.database import Database, open_database
from app.services.delivery.run import MAX_ATTEMPTS
from app.services.jobs import runner
from app.services.jobs import schedule as schedule_module
from app.services.jobs.runner import Job, run_jobs
from app.services.jobs.schedule import (
    ScheduledJob,
    cron_slot,
    due_jobs,
    may_run,
    run_due_jobs,
    runnable,
    slot_start,
)
from app.services.users import add_user

DAY, MINUTE = dt.timedelta(days=1), dt.timedelta(minutes=1)
NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
AGENT_KPIS, DELIVERIES = "agent-kpis", "deliveries"
#: The schedule's mechanism is tested on these two; the cron-timed ``kpis`` apart (below).
SCHEDULE = tuple(e for e in schedule_module.SCHEDULE if e.name in (AGENT_KPIS, DELIVERIES))


@pytest.fixture(autouse=True)
def _two_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schedule_module, "SCHEDULE", SCHEDULE)


def at(text: str) -> dt.datetime:
    """An ISO time; UTC unless it carries its own offset."""
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


class Clock:
    """The runner's clock (the ``started_at`` of the runs it records), set by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    pinned = Clock()
    monkeypatch.setattr(runner, "_now", pinned)
    return pinned


def run_at(db: Database, clock: Clock, when: dt.datetime, **kwargs: object) -> list[str]:
    """``run_due_jobs`` at ``when`` (the runner's clock too): the names of the jobs it ran."""
    clock.now = when
    results = run_due_jobs(db, when, **kwargs)  # type: ignore[arg-type]
    return [r.name for r in results]


def due(db: Database, when: dt.datetime) -> dict[str, dict[str, object]]:
    """The due jobs at ``when``: name -> options."""
    return {job.name: dict(job.options) for job in due_jobs(db, when)}


def log_run(
    db: Database,
    name: str,
    started: dt.datetime,
    status: JobStatus = JobStatus.SUCCEEDED,
    trigger: JobTrigger = JobTrigger.SCHEDULER,
    host: str = "this-workstation",
) -> None:
    """A row of the job log, as a window (this one or another workstation's) leaves it."""
    finished = None if status is JobStatus.RUNNING else started + dt.timedelta(minutes=10)
    with db.session() as s:
        s.add(
            JobRun(
                job_name=name,
                started_at=started,
                finished_at=finished,
                status=status.value,
                host=host,
                triggered_by=trigger.value,
            )
        )


def job_log(db: Database) -> list[tuple[str, str, str, dt.datetime]]:
    with db.read() as s:
        rows = s.scalars(sa.select(JobRun).order_by(JobRun.id)).all()
        return [(r.job_name, str(r.status), str(r.triggered_by), r.started_at) for r in rows]


def mail(name: str) -> str:
    """Login roles are the server's, not the database's: unique to this test process."""
    return f"{name}.s{os.getpid()}@office.example"


def add_agent(db: Database) -> int:
    """Bob the broker and his agent Ann; returns Bob's id."""
    broker = add_user(db, mail("bob"), "broker", "Bob", "Broker")
    add_user(db, mail("ann"), "agent", "Ann", "Lee", broker_email=broker.email)
    return int(broker.id)


def add_delivery(db: Database, broker_id: int) -> int:
    """One pending email to ``broker_id``, due at once (next_attempt_at empty)."""
    with db.session() as s:
        note = Notification(
            recipient_id=broker_id,
            type=NotificationType.ESCROW_CREATED,
            entity_type="escrow",
            entity_id=1,
            title="New escrow: 12 Oak St",
        )
        s.add(note)
        s.flush()
        delivery = NotificationDelivery(
            notification_id=note.id,
            channel=NotificationChannel.EMAIL,
            status=DeliveryStatus.PENDING,
            attempts=0,
        )
        s.add(delivery)
        s.flush()
        return int(delivery.id)


def set_delivery(db: Database, delivery_id: int, **values: object) -> None:
    with db.session() as s:
        s.execute(
            sa.update(NotificationDelivery)
            .where(NotificationDelivery.id == delivery_id)
            .values(**values)
        )


# ------------------------------------------------------------------------------- slots


def test_slots_are_counted_from_midnight_utc() -> None:
    assert slot_start(at("2026-03-10T09:30:15"), DAY) == at("2026-03-10T00:00")
    assert slot_start(at("2026-03-10T00:00"), DAY) == at("2026-03-10T00:00")
    assert slot_start(at("2026-03-10T09:30:15.5"), MINUTE) == at("2026-03-10T09:30")
    # 21:30 in New York on the 10th is 02:30 UTC on the 11th: the UTC day's slot.
    assert slot_start(at("2026-03-10T21:30-05:00"), DAY) == at("2026-03-11T00:00")


def test_agent_kpis_runs_once_per_utc_day(db: Database, clock: Clock) -> None:
    assert AGENT_KPIS in due(db, NOW)  # never ran
    assert run_at(db, clock, NOW) == [AGENT_KPIS]
    for later in ("2026-03-10T09:00:01", "2026-03-10T18:00", "2026-03-10T23:59:59.999999"):
        assert AGENT_KPIS not in due(db, at(later)), later
    # The same UTC day, though another day where the clock is: not again.
    assert AGENT_KPIS not in due(db, at("2026-03-11T00:30+02:00"))
    assert run_at(db, clock, at("2026-03-10T23:59")) == []

    # The next UTC day, even where it is still the 10th: once more, as of the UTC day.
    [job] = due_jobs(db, at("2026-03-10T20:00-05:00"))
    assert (job.name, job.as_of) == (AGENT_KPIS, dt.date(2026, 3, 11))
    assert run_at(db, clock, at("2026-03-11T00:00")) == [AGENT_KPIS]
    assert AGENT_KPIS not in due(db, at("2026-03-11T12:00"))
    assert [row[0] for row in job_log(db)] == [AGENT_KPIS, AGENT_KPIS]


def test_a_run_another_workstation_made_in_the_slot_counts(db: Database) -> None:
    log_run(db, AGENT_KPIS, at("2026-03-10T07:00"), host="front-desk-pc")
    assert AGENT_KPIS not in due(db, NOW)
    assert AGENT_KPIS in due(db, at("2026-03-11T00:01"))


# --------------------------------------------------------------------- the month's options


def test_first_run_of_a_month_backfills_the_month_just_ended(db: Database, clock: Clock) -> None:
    add_agent(db)
    # No run ever: the first one counts the previous month once more.
    assert due(db, at("2026-02-27T08:00")) == {AGENT_KPIS: {"backfill_months": 1}}
    clock.now = at("2026-02-27T08:00")
    [first] = run_due_jobs(db, clock.now)
    assert first.status is JobStatus.SUCCEEDED and first.rows_affected == 2  # Jan, Feb

    # Later in the same month: the month to date only.
    assert due(db, at("2026-02-28T08:00")) == {AGENT_KPIS: {}}
    clock.now = at("2026-02-28T08:00")
    [same_month] = run_due_jobs(db, clock.now)
    assert same_month.rows_affected == 1  # Feb only

    # The first run in March counts February again, whole, after its end.
    assert due(db, at("2026-03-01T00:05")) == {AGENT_KPIS: {"backfill_months": 1}}
    clock.now = at("2026-03-01T00:05")
    [new_month] = run_due_jobs(db, clock.now)
    assert new_month.status is JobStatus.SUCCEEDED and new_month.rows_affected == 2  # Feb, Mar

    # And only the first one.
    assert due(db, at("2026-03-02T08:00")) == {AGENT_KPIS: {}}


def test_the_new_month_options_wait_for_a_successful_run_of_the_month(db: Database) -> None:
    log_run(db, AGENT_KPIS, at("2026-02-28T08:00"))
    log_run(db, AGENT_KPIS, at("2026-03-01T00:05"), JobStatus.FAILED)
    # The failed first try of March did not count February: its retry still backfills.
    assert due(db, at("2026-03-01T00:20")) == {AGENT_KPIS: {"backfill_months": 1}}


def test_a_month_with_no_run_after_its_end_is_not_backfilled(db: Database) -> None:
    log_run(db, AGENT_KPIS, at("2026-01-15T08:00"))
    # Nothing ran in February: March's first run counts February only, January stays live.
    assert due(db, at("2026-03-03T08:00")) == {AGENT_KPIS: {"backfill_months": 1}}


# ----------------------------------------------------------------------------- deliveries


def test_deliveries_job_is_due_only_while_a_delivery_is_due(db: Database) -> None:
    log_run(db, AGENT_KPIS, at("2026-03-10T00:01"))  # agent-kpis is done for the day
    assert due(db, NOW) == {}  # an idle office: nothing, not even a log row a minute

    broker = add_agent(db)
    delivery = add_delivery(db, broker)
    assert due(db, NOW) == {DELIVERIES: {}}  # pending, never tried

    set_delivery(
        db, delivery, status=DeliveryStatus.FAILED, attempts=1, next_attempt_at=NOW + MINUTE
    )
    assert DELIVERIES not in due(db, NOW)  # its retry time has not come
    assert DELIVERIES not in due(db, NOW + MINUTE - dt.timedelta(microseconds=1))
    assert DELIVERIES in due(db, NOW + MINUTE)

    set_delivery(db, delivery, attempts=MAX_ATTEMPTS, next_attempt_at=NOW)
    assert DELIVERIES not in due(db, NOW + DAY)  # given up: never due again

    set_delivery(
        db,
        delivery,
        status=DeliveryStatus.SENT,
        attempts=1,
        sent_at=NOW,
        next_attempt_at=None,
    )
    assert DELIVERIES not in due(db, NOW + DAY)  # sent


def test_deliveries_job_runs_at_most_once_a_minute(db: Database) -> None:
    add_delivery(db, add_agent(db))
    log_run(db, DELIVERIES, at("2026-03-10T09:00:10"))
    # A delivery is still due (as after a run that failed to send it), but the minute's run
    # has been made.
    assert DELIVERIES not in due(db, at("2026-03-10T09:00:59.999"))
    assert DELIVERIES in due(db, at("2026-03-10T09:01:00"))


# -------------------------------------------------------------------------------- retries


@pytest.mark.parametrize(
    "status", [JobStatus.FAILED, JobStatus.SKIPPED, JobStatus.RUNNING], ids=str
)
def test_a_failed_run_waits_retry_after(db: Database, status: JobStatus) -> None:
    log_run(db, AGENT_KPIS, at("2026-03-09T06:00"))  # yesterday's went well
    log_run(db, AGENT_KPIS, at("2026-03-10T09:00"), status)
    # 15 minutes from the start of the run that did not succeed (not from its end, 09:10).
    assert AGENT_KPIS not in due(db, at("2026-03-10T09:00"))
    assert AGENT_KPIS not in due(db, at("2026-03-10T09:14:59.999999"))
    assert due(db, at("2026-03-10T09:15")) == {AGENT_KPIS: {}}

    add_delivery(db, add_agent(db))
    log_run(db, DELIVERIES, at("2026-03-10T09:30:30"), status)
    # deliveries: one minute from the start, though the next minute's slot began before.
    assert DELIVERIES not in due(db, at("2026-03-10T09:31:29.999999"))
    assert DELIVERIES in due(db, at("2026-03-10T09:31:30"))


def test_a_failing_job_is_recorded_and_the_next_still_runs(
    db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: object) -> int:
        raise RuntimeError("the mail server is down")

    runner.registered_jobs()  # the built-in jobs first, then the test's
    monkeypatch.setitem(runner._REGISTRY, "boom", Job("boom", "always fails", boom))
    schedule = (ScheduledJob("boom", every=DAY, retry_after=MINUTE * 5), SCHEDULE[0])

    results = run_due_jobs(db, NOW, schedule)  # never raises
    assert [(r.name, r.status) for r in results] == [
        ("boom", JobStatus.FAILED),
        (AGENT_KPIS, JobStatus.SUCCEEDED),
    ]
    assert results[0].message == "RuntimeError: the mail server is down"
    assert [(name, status) for name, status, _, _ in job_log(db)] == [
        ("boom", "failed"),
        (AGENT_KPIS, "succeeded"),
    ]
    assert due_jobs(db, NOW + MINUTE * 4, schedule) == []
    assert [j.name for j in due_jobs(db, NOW + MINUTE * 5, schedule)] == ["boom"]


# ------------------------------------------------------------------------ only the scheduler


def test_manual_runs_do_not_count_for_the_schedule(db: Database, clock: Clock) -> None:
    # Someone ran agent-kpis by hand today (command line), and tried it from a window too.
    clock.now = at("2026-03-10T08:00")
    [manual] = run_jobs(db, [AGENT_KPIS], as_of=dt.date(2026, 3, 10), triggered_by=JobTrigger.CLI)
    assert manual.status is JobStatus.SUCCEEDED
    log_run(db, AGENT_KPIS, at("2026-03-10T08:59"), JobStatus.FAILED, JobTrigger.WINDOW)
    # Neither counts: no slot taken, no retry wait, and still the month's first run.
    assert due(db, NOW) == {AGENT_KPIS: {"backfill_months": 1}}
    assert run_at(db, clock, NOW) == [AGENT_KPIS]
    assert due(db, NOW + MINUTE) == {}


def test_run_due_jobs_records_scheduler_runs_in_the_log(db: Database, clock: Clock) -> None:
    add_delivery(db, add_agent(db))
    results = run_due_jobs(db, NOW)
    assert [r.name for r in results] == [AGENT_KPIS, DELIVERIES]  # in schedule order
    assert all(r.status is JobStatus.SUCCEEDED for r in results)
    assert job_log(db) == [
        (AGENT_KPIS, "succeeded", "scheduler", NOW),
        (DELIVERIES, "succeeded", "scheduler", NOW),
    ]
    # The runs counted: within the minute nothing is due, so nothing more is written.
    assert run_at(db, clock, NOW + dt.timedelta(seconds=30)) == []
    assert len(job_log(db)) == 2


def test_run_due_jobs_stops_between_jobs_when_cancelled(db: Database, clock: Clock) -> None:
    add_delivery(db, add_agent(db))
    asked: list[bool] = []

    def cancelled() -> bool:
        asked.append(True)
        return len(asked) > 1  # cancelled while the first job ran

    assert run_at(db, clock, NOW, cancelled=cancelled) == [AGENT_KPIS]
    assert [row[0] for row in job_log(db)] == [AGENT_KPIS]
    assert run_at(db, clock, NOW, cancelled=lambda: True) == []


def test_a_scheduled_job_that_is_not_registered_is_left_out(db: Database) -> None:
    schedule = (ScheduledJob("no-such-job", every=DAY, retry_after=MINUTE), SCHEDULE[0])
    assert runnable(db, schedule) == (SCHEDULE[0],)
    assert [j.name for j in due_jobs(db, NOW, schedule)] == [AGENT_KPIS]


# ------------------------------------------------------------------------------- logins


def test_every_scheduled_job_is_runnable_locally_and_under_the_owner_login(
    db: Database,
) -> None:
    assert runnable(db) == SCHEDULE
    assert {e.name for e in SCHEDULE} == {AGENT_KPIS, DELIVERIES}
    assert all(e.office_login for e in SCHEDULE)
    assert may_run(db, AGENT_KPIS) and may_run(db, DELIVERIES)
    assert not may_run(db, "no-such-job")


@pytest.fixture
def persons_login(pg_db: Database) -> Iterator[Database]:
    """pg_db as a person's own login (a broker with agents, so deliveries could be due)."""
    from sqlalchemy.engine import make_url

    email = mail("bea")
    broker = add_user(pg_db, email, "broker", "Bea", "Broker", password="pw-sched")
    add_delivery(pg_db, int(broker.id))
    as_person = open_database(make_url(pg_db.url).set(username=email).render_as_string(False))
    yield as_person
    as_person.dispose()


@pytest.mark.pg
def test_office_login_jobs_are_not_runnable_under_a_persons_login(
    pg_db: Database, persons_login: Database, clock: Clock
) -> None:
    with pg_db.read() as s:  # the login really is the person's, not the owner's
        role = s.scalar(sa.select(User.db_role).where(User.email == mail("bea")))
    with persons_login.read() as s:
        assert s.scalar(sa.select(sa.func.current_user())) == role

    assert runnable(persons_login) == ()
    assert not may_run(persons_login, AGENT_KPIS) and not may_run(persons_login, DELIVERIES)
    assert due_jobs(persons_login, NOW) == []
    assert run_due_jobs(persons_login, NOW) == []
    assert job_log(pg_db) == []  # quietly: not even a failed or skipped row

    # What decides is the mark: a job not marked office_login is runnable under it.
    mine = ScheduledJob(AGENT_KPIS, every=DAY, retry_after=MINUTE, office_login=False)
    assert runnable(persons_login, (mine, SCHEDULE[1])) == (mine,)

    # The owner's login runs everything, and both are due.
    assert runnable(pg_db) == SCHEDULE
    assert due(pg_db, NOW) == {AGENT_KPIS: {"backfill_months": 1}, DELIVERIES: {}}


def test_a_run_that_starts_after_midnight_keeps_the_slot_it_was_due_in(
    db: Database, clock: Clock
) -> None:
    # Decided at 23:59:59.9, the job's log row would otherwise start at 00:00:00.1 the next
    # day: that day's slot would be filled by a run whose as_of is the day before.
    decided = at("2026-03-10T23:59:59.900000")
    clock.now = at("2026-03-11T00:00:00.100000")
    results = run_due_jobs(db, decided)
    assert [r.name for r in results] == [AGENT_KPIS]
    [(name, _status, _trigger, started)] = job_log(db)
    assert name == AGENT_KPIS and started == decided
    assert AGENT_KPIS in due(db, at("2026-03-11T00:00:01"))


# -- cron-timed jobs ---------------------------------------------------------------------------
def test_cron_slots_begin_at_the_newest_time_the_expression_names() -> None:
    assert cron_slot("0 5 * * *", at("2026-03-10T04:59:59")) == at("2026-03-09T05:00")
    assert cron_slot("0 5 * * *", at("2026-03-10T05:00")) == at("2026-03-10T05:00")
    assert cron_slot("0 5 * * *", at("2026-03-10T23:00")) == at("2026-03-10T05:00")
    assert cron_slot("30 6 1 * *", at("2026-03-10T09:00")) == at("2026-03-01T06:30")
    assert slot_start(at("2026-03-10T04:00"), DAY, "0 5 * * *") == at("2026-03-09T05:00")


def test_a_bad_cron_expression_is_refused_in_plain_words() -> None:
    from app.domain.errors import ValidationError
    from app.services.jobs.schedule import check_cron

    assert check_cron("0 5 * * 1-5") == "0 5 * * 1-5"
    with pytest.raises(ValidationError, match="not a cron expression"):
        check_cron("61 * * * *")


def test_kpis_runs_once_after_each_5am_utc(
    db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    [entry] = [e for e in schedule_module.ALL_SCHEDULED if e.name == "kpis"]
    assert entry.cron == "0 5 * * *" and entry.office_login
    schedule = (entry,)
    clock.now = at("2026-03-10T04:00")
    assert [j.name for j in due_jobs(db, clock.now, schedule)] == ["kpis"]  # never ran
    [done] = run_due_jobs(db, clock.now, schedule)
    assert done.status is JobStatus.SUCCEEDED
    assert due_jobs(db, at("2026-03-10T04:59"), schedule) == []  # same slot (from 9 March 5:00)
    assert [j.name for j in due_jobs(db, at("2026-03-10T05:00"), schedule)] == ["kpis"]
