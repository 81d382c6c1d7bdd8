"""The window's job scheduler (app/gui/scheduler.py): with a database open it runs the due
scheduled jobs through ctx.ops, one check at a time, as the scheduler; it stops when the
database closes, stays idle when no job may run under the login, and says a failure once in
the status bar.

The timers never really wait here: FIRST_CHECK_MS and CHECK_MS are an hour unless a test says
otherwise, and the tests call ``check()`` themselves."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.models import JobRun
from app.domain.enums import JobStatus
from app.domain.errors import DatabaseProblem
from app.gui import scheduler as scheduler_module
from app.gui.context import AppContext
from app.gui.database_holder import DbState
from app.gui.scheduler import JobScheduler
from app.gui.targets import ExplicitUrl
from app.services.database import Database, open_database
from app.services.jobs import runner
from app.services.jobs import schedule as schedule_module
from app.services.jobs.runner import Job, JobContext
from app.services.jobs.schedule import ScheduledJob
from app.services.users import add_user

HOUR_MS = 3_600_000
AGENT = "ann.scheduler@office.example"
#: A slot so short that every check finds the job due again (for the repeat rules).
EVERY_CHECK = dt.timedelta(microseconds=1)


@pytest.fixture
def office_path(prepared_db_path: Path) -> Path:
    """A local office with one agent (so agent-kpis writes a row)."""
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, AGENT, "agent", "Ann", "Lee")
    finally:
        db.dispose()
    return prepared_db_path


@pytest.fixture
def scheduler(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[JobScheduler]:
    monkeypatch.setattr(scheduler_module, "FIRST_CHECK_MS", HOUR_MS)
    monkeypatch.setattr(scheduler_module, "CHECK_MS", HOUR_MS)
    job_scheduler = JobScheduler(ctx)
    yield job_scheduler
    ctx.database.close()  # stops it; no_threads_left waits for what is still running
    job_scheduler.stop()


@pytest.fixture
def said(ctx: AppContext) -> list[str]:
    """What was said in the status bar."""
    messages: list[str] = []
    ctx.events.status_message.connect(messages.append)
    return messages


def open_url(qtbot, ctx: AppContext, url: str) -> None:
    """Open ``url`` in the window's holder and wait until the scheduler has read its schedule."""
    ctx.database.open(ExplicitUrl(url))
    qtbot.waitUntil(
        lambda: ctx.database.state in (DbState.OPEN, DbState.FAILED) and not ctx.ops.active(),
        timeout=15_000,
    )
    assert ctx.database.state is DbState.OPEN, ctx.database.error_text


def open_local(qtbot, ctx: AppContext, path: Path) -> None:
    open_url(qtbot, ctx, f"sqlite:///{path}")


def check_and_wait(qtbot, job_scheduler: JobScheduler) -> None:
    job_scheduler.check()
    qtbot.waitUntil(lambda: not job_scheduler.is_running, timeout=15_000)


def job_log(path: Path) -> list[tuple[str, str, str]]:
    db = open_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            rows = s.scalars(sa.select(JobRun).order_by(JobRun.id)).all()
            return [(r.job_name, str(r.status), str(r.triggered_by)) for r in rows]
    finally:
        db.dispose()


@pytest.fixture(autouse=True)
def _agent_kpis_and_deliveries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The window's scheduler is tested on these two jobs (kpis keeps its own tests)."""
    kept = tuple(e for e in schedule_module.SCHEDULE if e.name in ("agent-kpis", "deliveries"))
    monkeypatch.setattr(schedule_module, "SCHEDULE", kept)


def only_job(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    run: Callable[[object, JobContext], int],
    every: dt.timedelta = EVERY_CHECK,
    retry_after: dt.timedelta = dt.timedelta(0),
) -> None:
    """Schedule only the test's job ``name`` (registered for the test), before a database opens."""
    runner.registered_jobs()  # the built-in jobs first, so they never register over the test's
    monkeypatch.setitem(runner._REGISTRY, name, Job(name, "a test's job", run))
    entry = ScheduledJob(name, every=every, retry_after=retry_after)
    monkeypatch.setattr(schedule_module, "SCHEDULE", (entry,))


# ------------------------------------------------------------------------------- running


def test_a_check_runs_the_due_jobs_as_the_scheduler(
    qtbot, ctx: AppContext, scheduler: JobScheduler, office_path: Path, said: list[str]
) -> None:
    assert not scheduler.is_active
    open_local(qtbot, ctx, office_path)
    assert scheduler.is_active and not scheduler.is_running
    assert job_log(office_path) == []  # the first check waits for its timer

    with qtbot.waitSignal(scheduler.ran, timeout=15_000) as blocker:
        scheduler.check()
    [result] = blocker.args[0]
    assert (result.name, result.status) == ("agent-kpis", JobStatus.SUCCEEDED)
    assert result.rows_affected == 2  # the agent's month to date, and the month before it
    qtbot.waitUntil(lambda: not scheduler.is_running, timeout=5000)
    assert job_log(office_path) == [("agent-kpis", "succeeded", "scheduler")]

    # A second check right after: agent-kpis has run today, no delivery is due.
    with qtbot.assertNotEmitted(scheduler.ran):
        check_and_wait(qtbot, scheduler)
    assert job_log(office_path) == [("agent-kpis", "succeeded", "scheduler")]
    assert said == []
    assert scheduler.is_active  # still checking on its timer


def test_the_first_check_comes_on_its_own_after_the_database_opens(
    qtbot,
    ctx: AppContext,
    scheduler: JobScheduler,
    office_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler_module, "FIRST_CHECK_MS", 0)
    with qtbot.waitSignal(scheduler.ran, timeout=15_000) as blocker:
        ctx.database.open(ExplicitUrl(f"sqlite:///{office_path}"))
    assert [r.name for r in blocker.args[0]] == ["agent-kpis"]
    qtbot.waitUntil(lambda: not scheduler.is_running, timeout=5000)
    assert scheduler.is_active  # the every-minute timer goes on


def test_one_check_at_a_time_and_stop_asks_it_to_end_after_its_current_job(
    qtbot,
    ctx: AppContext,
    scheduler: JobScheduler,
    office_path: Path,
    said: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def slow(_s: object, _ctx: JobContext) -> int:
        ran.append("slow")
        started.set()
        assert release.wait(10), "the test never released the job"
        return 0

    def after(_s: object, _ctx: JobContext) -> int:
        ran.append("after")
        return 0

    runner.registered_jobs()
    monkeypatch.setitem(runner._REGISTRY, "slow", Job("slow", "waits", slow))
    monkeypatch.setitem(runner._REGISTRY, "after", Job("after", "runs next", after))
    monkeypatch.setattr(
        schedule_module,
        "SCHEDULE",
        tuple(
            ScheduledJob(n, every=dt.timedelta(days=1), retry_after=dt.timedelta(0))
            for n in ("slow", "after")
        ),
    )
    open_local(qtbot, ctx, office_path)

    try:
        scheduler.check()
        assert started.wait(10)
        scheduler.check()  # the first is still running: no second one
        running = [op for op in ctx.ops.active() if op.label == "Running scheduled jobs"]
        assert len(running) == 1 and scheduler.is_running

        with qtbot.assertNotEmitted(scheduler.ran):
            scheduler.stop()
            assert not scheduler.is_active
            release.set()
            qtbot.waitUntil(lambda: not scheduler.is_running, timeout=10_000)
    finally:
        release.set()
    assert ran == ["slow"]  # the job that was running ended; the next one never started
    assert said == []


# ------------------------------------------------------------------------------ stopping


def test_closing_the_database_stops_the_scheduler(
    qtbot, ctx: AppContext, scheduler: JobScheduler, office_path: Path
) -> None:
    open_local(qtbot, ctx, office_path)
    assert scheduler.is_active and scheduler.db is not None

    ctx.database.close()
    assert not scheduler.is_active and scheduler.db is None
    scheduler.check()  # nothing is open: nothing runs
    assert not scheduler.is_running
    qtbot.waitUntil(lambda: not ctx.ops.active(), timeout=5000)
    assert job_log(office_path) == []

    open_local(qtbot, ctx, office_path)  # opening again schedules again
    assert scheduler.is_active
    scheduler.stop()
    assert not scheduler.is_active and scheduler.db is None
    scheduler.check()
    assert not scheduler.is_running
    assert job_log(office_path) == []


def test_the_scheduler_is_idle_when_no_job_may_run(
    qtbot,
    ctx: AppContext,
    scheduler: JobScheduler,
    office_path: Path,
    said: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler_module, "runnable", lambda _db: ())
    open_local(qtbot, ctx, office_path)
    assert not scheduler.is_active and scheduler.db is None
    scheduler.check()
    assert not scheduler.is_running
    assert job_log(office_path) == [] and said == []


@pytest.mark.pg
def test_a_persons_own_login_leaves_the_scheduler_idle(
    qtbot, ctx: AppContext, scheduler: JobScheduler, pg_db: Database, said: list[str]
) -> None:
    email = f"bea.scheduler{os.getpid()}@office.example"
    add_user(pg_db, email, "broker", "Bea", "Broker", password="pw-scheduler")
    as_person = make_url(pg_db.url).set(username=email).render_as_string(hide_password=False)

    open_url(qtbot, ctx, as_person)
    assert not scheduler.is_active and scheduler.db is None
    scheduler.check()
    assert not scheduler.is_running and said == []

    open_url(qtbot, ctx, pg_db.url)  # the office's owner login
    assert scheduler.is_active
    assert {e.name for e in scheduler.entries} == {"agent-kpis", "deliveries"}
    assert said == []


# ------------------------------------------------------------------------------ failures


def test_a_failing_job_is_said_once(
    qtbot,
    ctx: AppContext,
    scheduler: JobScheduler,
    office_path: Path,
    said: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(_s: object, _ctx: JobContext) -> int:
        raise RuntimeError("the office's figures could not be read")

    runner.registered_jobs()
    monkeypatch.setitem(runner._REGISTRY, "agent-kpis", Job("agent-kpis", "fails", boom))
    open_local(qtbot, ctx, office_path)

    with qtbot.waitSignal(scheduler.ran, timeout=15_000) as blocker:
        scheduler.check()
    [result] = blocker.args[0]
    assert result.status is JobStatus.FAILED
    qtbot.waitUntil(lambda: not scheduler.is_running, timeout=5000)
    assert said == [
        "The scheduled job agent-kpis failed: RuntimeError: the office's figures could not be read"
    ]
    assert job_log(office_path) == [("agent-kpis", "failed", "scheduler")]
    assert ctx.ops.active() == []  # never a dialog, and nothing left over

    check_and_wait(qtbot, scheduler)  # waits retry_after: not run, not said again
    assert said == [
        "The scheduled job agent-kpis failed: RuntimeError: the office's figures could not be read"
    ]
    assert job_log(office_path) == [("agent-kpis", "failed", "scheduler")]


def test_the_same_failure_is_said_again_only_after_a_success(
    qtbot,
    ctx: AppContext,
    scheduler: JobScheduler,
    office_path: Path,
    said: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcomes = ["fail", "fail", "ok", "fail", "fail other"]

    def flaky(_s: object, _ctx: JobContext) -> int:
        outcome = outcomes.pop(0)
        if outcome == "fail":
            raise RuntimeError("the mail server is down")
        if outcome == "fail other":
            raise RuntimeError("the mail server refused the password")
        return 1

    only_job(monkeypatch, "flaky", flaky)  # due at every check, no wait after a failure
    open_local(qtbot, ctx, office_path)
    down = "The scheduled job flaky failed: RuntimeError: the mail server is down"
    refused = "The scheduled job flaky failed: RuntimeError: the mail server refused the password"

    check_and_wait(qtbot, scheduler)
    assert said == [down]
    check_and_wait(qtbot, scheduler)  # it ran and failed the same way again: not repeated
    assert said == [down]
    check_and_wait(qtbot, scheduler)  # it worked
    assert said == [down]
    check_and_wait(qtbot, scheduler)  # so the same failure is news again
    assert said == [down, down]
    check_and_wait(qtbot, scheduler)  # and so is a different one
    assert said == [down, down, refused]
    assert outcomes == []
    assert [status for _, status, _ in job_log(office_path)] == [
        "failed",
        "failed",
        "succeeded",
        "failed",
        "failed",
    ]


def test_a_check_that_cannot_run_is_said_once(
    qtbot,
    ctx: AppContext,
    scheduler: JobScheduler,
    office_path: Path,
    said: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable(*_: object, **__: object) -> list[object]:
        raise DatabaseProblem("The database server at db.office:5432 does not answer.")

    open_local(qtbot, ctx, office_path)
    monkeypatch.setattr(scheduler_module, "run_due_jobs", unreachable)
    check_and_wait(qtbot, scheduler)
    check_and_wait(qtbot, scheduler)
    assert len(said) == 1 and said[0].startswith("Scheduled jobs could not run: ")
    assert "does not answer" in said[0]
    assert scheduler.is_active  # it keeps checking
    assert ctx.ops.active() == []
