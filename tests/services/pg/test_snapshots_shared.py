"""Snapshots on a server (SPEC §1, §10): a person's own login computes only the people whose
records it sees, and reads only their snapshots; the office's login computes everyone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.models import AgentPerformanceSnapshot as S
from app.domain.enums import JobStatus
from app.services.analytics.snapshot_report import snapshot_lines
from app.services.database import Database, open_database
from app.services.jobs.runner import run_jobs
from app.services.users import add_user

pytestmark = pytest.mark.pg
DAY = dt.date(2026, 11, 20)


def mail(name: str) -> str:
    return f"{name}@snapshots.example"


@pytest.fixture
def office(pg_db: Database) -> Iterator[tuple[dict[str, int], dict[str, Database]]]:
    ids = {"bob": add_user(pg_db, mail("bob"), "broker", "Bob", "Broker").id}
    ids["zoe"] = add_user(pg_db, mail("zoe"), "broker", "Zoe", "Other").id
    ids["ann"] = add_user(pg_db, mail("ann"), "agent", "Ann", "A", broker_email=mail("bob")).id
    ids["dee"] = add_user(pg_db, mail("dee"), "agent", "Dee", "D", broker_email=mail("zoe")).id
    held: dict[str, Database] = {}
    for who in ("bob", "ann"):
        url = make_url(pg_db.url).set(username=mail(who)).render_as_string(False)
        held[who] = open_database(url)
    yield ids, held
    for db in held.values():
        db.dispose()


def _agents(db: Database) -> set[int]:
    with db.read() as s:
        return {int(a) for a in s.scalars(sa.select(S.agent_id))}


def test_a_brokers_login_computes_and_reads_only_its_own_people(
    pg_db: Database, office: tuple[dict[str, int], dict[str, Database]]
) -> None:
    ids, held = office
    (result,) = run_jobs(held["bob"], ["snapshots"], DAY)
    assert result.status is JobStatus.SUCCEEDED, result.message
    assert _agents(pg_db) == {ids["bob"], ids["ann"]}
    (result,) = run_jobs(pg_db, ["snapshots"], DAY)  # the office's login: everyone
    assert result.status is JobStatus.SUCCEEDED and result.rows_affected == 4
    assert _agents(held["bob"]) == {ids["bob"], ids["ann"]}
    assert _agents(held["ann"]) == {ids["ann"]}
    lines = snapshot_lines(held["ann"], DAY, DAY)
    assert [line.email for line in lines] == [mail("ann")]


def test_analytics_tables_tell_other_workstations_what_changed(pg_db: Database) -> None:
    import psycopg

    from app.services.live import CHANNEL, conninfo

    add_user(pg_db, mail("solo"), "agent", "Solo", "Agent")
    with psycopg.connect(conninfo(pg_db.url), autocommit=True) as raw:
        raw.execute(f"LISTEN {CHANNEL}")
        run_jobs(pg_db, ["snapshots"], DAY)
        with pg_db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO benchmarks (metric_key, cohort, value_numeric, source, "
                    "effective_date, created_at) VALUES ('conversion_rate', 'industry_avg', "
                    "42.5, 'Survey', '2026-01-15', now())"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO lead_source_costs (source, month, cost, created_at, version) "
                    "VALUES ('Zillow', '2026-11-01', 900, now(), 1)"
                )
            )
        payloads = {n.payload for n in raw.notifies(timeout=1.0, stop_after=3)}
    assert {"snapshots", "benchmarks", "lead_source_costs"} <= payloads


def test_the_offices_own_login_reads_the_whole_office_analytics(
    pg_db: Database, office: tuple[dict[str, int], dict[str, Database]]
) -> None:
    from app.services.analytics.overview import AnalyticsScope, analytics_overview

    _ids, held = office
    run_jobs(pg_db, ["snapshots"], DAY)
    whole = analytics_overview(pg_db, AnalyticsScope(), DAY, DAY)
    assert whole.points[-1].agents == 4
    mine = analytics_overview(held["bob"], AnalyticsScope(), DAY, DAY)
    assert mine.points[-1].agents == 2  # bob and ann; row-level security keeps the rest
