"""``jobs run`` (SPEC §12): the job runner (JobRun rows, failures, the PostgreSQL advisory
lock) and the ``agent-kpis`` job (monthly agent KPIs, upserted), on both backends."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import AgentMonthlyKpi, Appointment, Client, Escrow, JobRun, Lead, Listing, User
from app.domain.enums import JobStatus, JobTrigger
from app.domain.errors import ValidationError
from app.services.database import Database, open_database
from app.services.jobs import runner
from app.services.jobs.agent_kpis import month_windows
from app.services.jobs.runner import Job, JobContext, lock_key, run_jobs

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"
AS_OF = dt.date(2025, 10, 22)
_ids = itertools.count(1)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


class Office:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, obj: Any) -> int:
        with self.db.session() as s:
            s.add(obj)
            s.flush()
            return int(obj.id)

    def person(
        self, name: str, role: str = "agent", broker: int | None = None, active: bool = True
    ) -> int:
        first, _, last = name.partition(" ")
        return self.add(
            User(
                email=f"{first}.{last}@example.com".lower(),
                first_name=first,
                last_name=last,
                role=role,
                broker_id=broker,
                is_active=active,
            )
        )

    def lead(self, owner: int, created: str, status: str = "new", private: bool = False) -> None:
        self.add(
            Lead(
                owner_id=owner,
                name=f"Lead {next(_ids)}",
                status=status,
                is_private=private,
                created_at=at(created),
            )
        )

    def appointment(self, agent: int, start: str, status: str = "completed") -> None:
        begins = at(start)
        self.add(
            Appointment(
                agent_id=agent,
                title="Viewing",
                start_time=begins,
                status=status,
                is_private=False,
                created_at=begins - dt.timedelta(days=3),
            )
        )

    def escrow(
        self, agent: int, created: str, status: str = "Active", price: str = "100000"
    ) -> None:
        self.add(
            Escrow(
                agent_id=agent,
                property_address=f"{next(_ids)} Main St",
                purchase_price=Decimal(price),
                my_commission=Decimal(price) * Decimal("0.03"),
                escrow_status=status,
                created_at=at(created),
            )
        )


@pytest.fixture
def office(db: Database) -> Office:
    return Office(db)


def kpis(db: Database) -> dict[tuple[int, dt.date], AgentMonthlyKpi]:
    with db.read() as s:
        rows = s.scalars(sa.select(AgentMonthlyKpi)).all()
    return {(r.user_id, r.period_start): r for r in rows}


def job_runs(db: Database) -> list[JobRun]:
    with db.read() as s:
        return list(s.scalars(sa.select(JobRun).order_by(JobRun.id)))


# ---------------------------------------------------------------------------- agent-kpis


def test_month_windows_cover_whole_months_then_the_month_to_date() -> None:
    (oct_,) = month_windows(AS_OF)
    assert (oct_.start, oct_.end, oct_.as_of) == (
        at("2025-10-01"),
        at("2025-10-23"),
        dt.date(2025, 10, 31),
    )
    dec, jan, feb = month_windows(dt.date(2024, 2, 29), backfill_months=2)
    assert (dec.start, dec.end, dec.as_of) == (
        at("2023-12-01"),
        at("2024-01-01"),
        dt.date(2023, 12, 31),
    )
    assert (jan.start, jan.end, jan.as_of) == (
        at("2024-01-01"),
        at("2024-02-01"),
        dt.date(2024, 1, 31),
    )
    assert (feb.start, feb.end, feb.as_of) == (
        at("2024-02-01"),
        at("2024-03-01"),
        dt.date(2024, 2, 29),
    )
    with pytest.raises(ValidationError):
        month_windows(AS_OF, backfill_months=-1)


def test_every_active_agent_gets_a_row_with_zeros(db: Database, office: Office) -> None:
    broker = office.person("Bea Broker", role="broker")
    busy = office.person("Ann Agent", broker=broker)
    idle = office.person("Ian Idle", broker=broker)
    loner = office.person("Lou Loner")  # no broker
    office.person("Gone Agent", broker=broker, active=False)
    office.lead(busy, "2025-10-05T10:00")

    [result] = run_jobs(db, ["agent-kpis"], AS_OF)
    assert (result.status, result.rows_affected) == (JobStatus.SUCCEEDED, 3)

    rows = kpis(db)
    assert sorted(uid for uid, _ in rows) == sorted([busy, idle, loner])
    zero = rows[(idle, dt.date(2025, 10, 1))]
    assert zero.broker_id == broker
    assert zero.period_end == dt.date(2025, 10, 31)
    assert (zero.total_leads, zero.new_leads, zero.total_appointments, zero.total_escrows) == (
        0,
        0,
        0,
        0,
    )
    assert (zero.total_volume, zero.total_commission) == (Decimal("0.00"), Decimal("0.00"))
    assert (zero.conversion_rate, zero.show_rate, zero.last_activity) == (None, None, None)
    assert rows[(loner, dt.date(2025, 10, 1))].broker_id == loner


def test_month_boundaries(db: Database, office: Office) -> None:
    broker = office.person("Bea Broker", role="broker")
    agent = office.person("Ann Agent", broker=broker)
    office.lead(agent, "2025-09-30T23:59:59", status="converted")  # September
    office.lead(agent, "2025-10-01T00:00:00")  # October
    office.lead(agent, "2025-10-22T23:59:59")  # October, the last instant of as_of
    office.lead(agent, "2025-10-23T00:00:00")  # after as_of: nowhere
    office.lead(agent, "2025-10-10T00:00:00", private=True)  # private: nowhere
    office.appointment(agent, "2025-09-30T23:30", "completed")
    office.appointment(agent, "2025-10-01T00:00", "no_show")
    office.appointment(agent, "2025-10-02T09:00", "cancelled")
    office.escrow(agent, "2025-09-15T12:00", price="200000")
    office.escrow(agent, "2025-10-01T00:00", price="300000")
    office.escrow(agent, "2025-10-05T00:00", status="Cancelled", price="999999")

    run_jobs(db, ["agent-kpis"], AS_OF, options={"agent-kpis": {"backfill_months": 1}})
    rows = kpis(db)
    sep, oct_ = rows[(agent, dt.date(2025, 9, 1))], rows[(agent, dt.date(2025, 10, 1))]
    assert sep.period_end == dt.date(2025, 9, 30)
    assert (sep.total_leads, sep.new_leads, sep.converted_leads) == (1, 1, 1)
    assert sep.conversion_rate == Decimal("100.00")
    assert (sep.total_appointments, sep.completed_appointments, sep.no_shows) == (1, 1, 0)
    assert sep.show_rate == Decimal("100.0")
    assert (sep.total_escrows, sep.total_volume) == (1, Decimal("200000.00"))
    assert sep.total_commission == Decimal("6000.00")
    assert sep.last_activity == at("2025-09-30T23:59:59")

    assert (oct_.total_leads, oct_.new_leads, oct_.converted_leads) == (3, 2, 1)
    assert oct_.conversion_rate == Decimal("33.33")
    assert (oct_.total_appointments, oct_.completed_appointments, oct_.no_shows) == (1, 0, 1)
    assert oct_.show_rate == Decimal("0.0")
    assert (oct_.total_escrows, oct_.total_volume) == (1, Decimal("300000.00"))
    # The cancelled escrow is no production but is activity (docs/rules.md).
    assert oct_.last_activity == at("2025-10-22T23:59:59")


def test_a_rerun_updates_and_never_duplicates(db: Database, office: Office) -> None:
    broker = office.person("Bea Broker", role="broker")
    agent = office.person("Ann Agent", broker=broker)
    other = office.person("Bob Agent", broker=broker)
    office.lead(agent, "2025-10-03T10:00")
    options = {"agent-kpis": {"backfill_months": 2}}

    first = run_jobs(db, ["agent-kpis"], AS_OF, options=options)
    assert first[0].rows_affected == 6
    before = kpis(db)
    assert before[(agent, dt.date(2025, 10, 1))].new_leads == 1

    office.lead(agent, "2025-10-20T10:00", status="converted")
    office.escrow(other, "2025-08-20T10:00", price="150000")
    second = run_jobs(db, ["agent-kpis"], AS_OF, options=options)
    assert second[0].status is JobStatus.SUCCEEDED
    after = kpis(db)
    assert len(after) == len(before) == 6
    assert {k: r.id for k, r in after.items()} == {k: r.id for k, r in before.items()}
    assert after[(agent, dt.date(2025, 10, 1))].new_leads == 2
    assert after[(agent, dt.date(2025, 10, 1))].conversion_rate == Decimal("50.00")
    assert after[(other, dt.date(2025, 8, 1))].total_volume == Decimal("150000.00")
    # A later day of the same month updates the same row.
    run_jobs(db, ["agent-kpis"], dt.date(2025, 10, 31))
    assert len(kpis(db)) == 6


def test_client_and_listing_counts_are_the_active_ones_created_by_the_end(
    db: Database, office: Office
) -> None:
    agent = office.person("Ann Agent")
    for status, created in (
        ("active", "2025-05-01"),
        ("active", "2025-10-30"),
        ("inactive", "2025-05-01"),
    ):
        office.add(
            Client(agent_id=agent, name=f"C {next(_ids)}", status=status, created_at=at(created))
        )
    office.add(
        Listing(
            agent_id=agent,
            address="1 Oak Ave",
            list_price=Decimal("450000"),
            status="active",
            created_at=at("2025-01-01"),
        )
    )
    run_jobs(db, ["agent-kpis"], AS_OF)
    row = kpis(db)[(agent, dt.date(2025, 10, 1))]
    assert (row.total_clients, row.active_listings) == (1, 1)


# ---------------------------------------------------------------------------- runner


def test_job_runs_are_recorded_for_success_and_failure(
    db: Database, office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    office.person("Ann Agent")

    def boom(s: Session, ctx: JobContext) -> int:
        s.add(User(email="half@example.com", first_name="Half", last_name="Saved", role="agent"))
        s.flush()
        raise ValidationError("the feed is unreachable\nsecond line")

    ran: list[dt.date] = []

    def after(s: Session, ctx: JobContext) -> int:
        ran.append(ctx.as_of)
        return 7

    monkeypatch.setitem(runner._REGISTRY, "boom", Job("boom", "fails", boom))
    monkeypatch.setitem(runner._REGISTRY, "after", Job("after", "runs after", after))

    results = run_jobs(db, ["after", "boom", "agent-kpis"], AS_OF, JobTrigger.SCHEDULER)
    assert [(r.name, r.status) for r in results] == [
        ("agent-kpis", JobStatus.SUCCEEDED),
        ("boom", JobStatus.FAILED),
        ("after", JobStatus.SUCCEEDED),
    ]
    assert ran == [AS_OF]
    records = job_runs(db)
    assert [(r.job_name, r.status, r.rows_affected, r.message) for r in records] == [
        ("agent-kpis", "succeeded", 1, None),
        ("boom", "failed", None, "the feed is unreachable"),
        ("after", "succeeded", 7, None),
    ]
    for r in records:
        assert r.triggered_by == "scheduler"
        assert r.host
        assert r.finished_at is not None and r.finished_at >= r.started_at
    with db.read() as s:  # the failed job's work was rolled back
        assert s.scalar(sa.select(sa.func.count()).where(User.email == "half@example.com")) == 0


def test_no_names_runs_every_job_and_an_unknown_name_runs_nothing(db: Database) -> None:
    assert [r.name for r in run_jobs(db, None, AS_OF)] == list(runner.registered_jobs())
    before = len(job_runs(db))
    with pytest.raises(ValidationError, match=r"known jobs: .*agent-kpis"):
        run_jobs(db, ["agent-kpis", "nope"], AS_OF)
    assert len(job_runs(db)) == before


def test_a_job_held_by_another_workstation_is_skipped(pg_db: Database) -> None:
    Office(pg_db).person("Ann Agent")
    with pg_db.engine.connect() as other, other.begin():
        other.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key("agent-kpis"))))
        [result] = run_jobs(pg_db, ["agent-kpis"], AS_OF)
    assert result.status is JobStatus.SKIPPED
    assert result.message and "already running" in result.message
    assert kpis(pg_db) == {}
    [record] = job_runs(pg_db)
    assert (record.status, record.rows_affected) == ("skipped", None)
    # Once the other transaction has ended, the job runs.
    assert run_jobs(pg_db, ["agent-kpis"], AS_OF)[0].status is JobStatus.SUCCEEDED
    assert len(kpis(pg_db)) == 1


def test_lock_keys_are_stable_64_bit_and_distinct() -> None:
    assert lock_key("agent-kpis") == lock_key("agent-kpis")
    assert lock_key("agent-kpis") != lock_key("snapshots")
    assert -(2**63) <= lock_key("agent-kpis") < 2**63


# ---------------------------------------------------------------------------- command line


def test_jobs_run_on_the_command_line(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "cli.sqlite3"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    env = {k: v for k, v in os.environ.items() if k != "PERFDESK_DB_URL"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(MAIN), "--db", url, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    demo = run("demo", "--scale", "small", "--as-of", "2026-06-15")
    assert demo.returncode == 0, demo.stderr

    done = run("--as-of", "2026-06-15", "jobs", "run")
    assert (done.returncode, done.stderr) == (0, "")
    lines = {line.split()[0]: line for line in done.stdout.splitlines()}
    assert set(lines) == set(runner.job_names())  # no names: every registered job
    line = lines["agent-kpis"]
    assert line.startswith("agent-kpis  succeeded  rows=") and line.endswith("s")

    again = run("jobs", "run", "agent-kpis", "--as-of", "2026-06-15", "--backfill-months", "2")
    assert again.returncode == 0, again.stderr

    unknown = run("jobs", "run", "agent-kpis", "nope")
    assert unknown.returncode == 2
    assert "nope" in unknown.stderr and "agent-kpis" in unknown.stderr

    failed = run("jobs", "run", "--backfill-months", "1000")
    assert failed.returncode == 1
    assert "agent-kpis  failed" in failed.stdout and "backfill_months" in failed.stdout

    db = open_database(url)
    try:
        with db.read() as s:
            agents = s.scalar(
                sa.select(sa.func.count()).where(User.role == "agent", User.is_active.is_(True))
            )
            months = s.execute(
                sa.select(AgentMonthlyKpi.period_start, sa.func.count()).group_by(
                    AgentMonthlyKpi.period_start
                )
            ).all()
            statuses = list(
                s.scalars(
                    sa.select(JobRun.status)
                    .where(JobRun.job_name == "agent-kpis")
                    .order_by(JobRun.id)
                )
            )
    finally:
        db.dispose()
    assert agents and {start: n for start, n in months} == {
        dt.date(2026, 4, 1): agents,
        dt.date(2026, 5, 1): agents,
        dt.date(2026, 6, 1): agents,
    }
    assert statuses == ["succeeded", "succeeded", "failed"]


@pytest.mark.pg
def test_agent_kpis_refuses_a_persons_login_under_row_level_security(pg_db: Database) -> None:
    from sqlalchemy.engine import make_url

    from app.services.users import add_user

    email = f"kpi.admin{os.getpid()}@example.com"
    add_user(pg_db, email, "admin", password="pw-kpi-admin")
    as_person = open_database(make_url(pg_db.url).set(username=email).render_as_string(False))
    try:
        (result,) = run_jobs(as_person, ["agent-kpis"], as_of=dt.date(2026, 6, 15))
    finally:
        as_person.dispose()
    assert result.status == "failed" and "office's database owner login" in result.message
