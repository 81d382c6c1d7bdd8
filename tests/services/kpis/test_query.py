"""Running query KPIs (app/services/kpis/query.py) on both backends: exact values per person,
the period's boundaries, the set-based run agreeing with per-person dry runs, and the refusals
(writes, time limit, several rows or columns, a text, a missing table).

The period is March 2025: ``:start_date`` = 2025-03-01, ``:end_date`` = 2025-04-01.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.db.models import Appointment, Lead, User
from app.domain.kpi_query import QueryRefused, check_query_text
from app.services.database import Database, open_database
from app.services.demo import kpis as demo
from app.services.kpis import query
from app.services.kpis.query import dry_run, run_for_people

START = dt.date(2025, 3, 1)
END = dt.date(2025, 3, 31)
READ_ONLY = "the query tries to change data or settings; KPI queries may only read"
SINGLE = "it must return a single number"
_serial = itertools.count(1)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _add(db: Database, obj: Any) -> int:
    with db.session() as s:
        s.add(obj)
        s.flush()
        return int(obj.id)


def person(db: Database, name: str) -> int:
    return _add(
        db,
        User(email=f"{name}.{next(_serial)}@example.com", first_name=name, last_name="Test",
             role="agent"),
    )  # fmt: skip


def lead(db: Database, owner: int, created: str, status: str = "new") -> int:
    return _add(
        db,
        Lead(owner_id=owner, name=f"Lead {next(_serial)}", status=status, created_at=at(created)),
    )


def appointment(db: Database, agent: int, start: str, status: str = "scheduled") -> int:
    return _add(
        db, Appointment(agent_id=agent, title="Viewing", start_time=at(start), status=status)
    )


@dataclass
class Office:
    ann: int  # three leads in March (one converted), two just outside it, two appointments
    bob: int  # one lead in March
    cat: int  # nothing at all

    @property
    def everyone(self) -> list[int]:
        return [self.ann, self.bob, self.cat]


@pytest.fixture
def office(db: Database) -> Office:
    ann, bob, cat = person(db, "ann"), person(db, "bob"), person(db, "cat")
    lead(db, ann, "2025-02-28T23:59:59.999999")  # the day before: out
    lead(db, ann, "2025-03-01T00:00:00")  # the first instant: in
    lead(db, ann, "2025-03-15T12:00:00", status="converted")
    lead(db, ann, "2025-03-31T23:59:59.999999")  # the last instant: in
    lead(db, ann, "2025-04-01T00:00:00")  # :end_date itself: out
    lead(db, bob, "2025-03-10T09:00:00")
    appointment(db, ann, "2025-03-03T10:00:00", status="completed")
    appointment(db, ann, "2025-03-20T10:00:00", status="no_show")
    appointment(db, ann, "2025-04-02T10:00:00", status="completed")
    return Office(ann, bob, cat)


def lead_count(db: Database) -> int:
    with db.read() as s:
        return int(s.execute(sa.text("SELECT count(*) FROM leads")).scalar_one())


def refusal(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(QueryRefused) as info:
        call(*args, **kwargs)
    return str(info.value)


# --- values ---------------------------------------------------------------------------------


def test_counts_per_person_with_the_period_boundaries(db: Database, office: Office) -> None:
    values = run_for_people(db, demo.Q_LEADS, office.everyone, START, END)
    assert values == {office.ann: 3, office.bob: 1, office.cat: 0}
    assert all(isinstance(v, Decimal) for v in values.values())


def test_the_demo_queries_pass_the_checks_and_run(db: Database, office: Office) -> None:
    expected = {
        demo.Q_LEADS: (3, 1),
        demo.Q_CONVERTED: (1, 0),
        demo.Q_APPTS: (2, 0),
        demo.Q_COMPLETED: (1, 0),
        demo.Q_NO_SHOWS: (1, 0),
        demo.Q_ESCROWS: (0, 0),
        demo.Q_LISTINGS: (0, 0),
    }
    for sql, (ann, bob) in expected.items():
        assert check_query_text(sql) == sql
        values = run_for_people(db, sql, office.everyone, START, END)
        assert values == {office.ann: ann, office.bob: bob, office.cat: 0}, sql
        assert dry_run(db, sql, office.ann, START, END) == ann


def test_the_set_based_run_agrees_with_dry_runs(db: Database, office: Office) -> None:
    sqls = [
        demo.Q_LEADS,
        demo.Q_COMPLETED,
        "SELECT SUM(1) FROM leads WHERE owner_id = :user_id"
        " AND created_at >= :start_date AND created_at < :end_date",
        "SELECT COUNT(*) / 2.0 FROM leads WHERE owner_id = :user_id",
        "WITH mine AS (SELECT * FROM leads WHERE owner_id = :user_id)"
        " SELECT COUNT(*) FROM mine WHERE created_at < :end_date -- ends with a comment",
    ]
    for sql in sqls:
        together = run_for_people(db, sql, office.everyone, START, END)
        alone = {uid: dry_run(db, sql, uid, START, END) for uid in office.everyone}
        assert together == alone, sql


def test_people_are_chunked_and_duplicates_asked_once(
    db: Database, office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(query, "CHUNK", 2)
    ids = [office.cat, office.ann, office.cat, office.bob]
    values = run_for_people(db, demo.Q_LEADS, ids, START, END)
    assert list(values) == [office.cat, office.ann, office.bob]
    assert values == {office.ann: 3, office.bob: 1, office.cat: 0}
    assert run_for_people(db, demo.Q_LEADS, [], START, END) == {}


def test_a_null_result_is_none(db: Database, office: Office) -> None:
    sql = (
        "SELECT SUM(1) FROM leads WHERE owner_id = :user_id"
        " AND created_at >= :start_date AND created_at < :end_date"
    )
    assert run_for_people(db, sql, office.everyone, START, END) == {
        office.ann: 3,
        office.bob: 1,
        office.cat: None,
    }
    assert dry_run(db, sql, office.cat, START, END) is None


def test_no_row_is_none_together_and_refused_alone(db: Database, office: Office) -> None:
    sql = "SELECT 7 FROM leads WHERE owner_id = :user_id LIMIT 1"
    assert run_for_people(db, sql, [office.ann, office.cat], START, END) == {
        office.ann: 7,
        office.cat: None,
    }
    assert "no row" in refusal(dry_run, db, sql, office.cat, START, END)


def test_numbers_of_every_kind(db: Database, office: Office) -> None:
    cases = {
        "SELECT COUNT(*) / 2.0 FROM leads WHERE owner_id = :user_id": Decimal("2.5"),
        "SELECT '42' WHERE :user_id > 0": Decimal(42),
        "SELECT CAST(0.1 AS REAL) WHERE :user_id > 0": Decimal("0.1"),
        "SELECT -3 WHERE :user_id > 0": Decimal(-3),
    }
    for sql, expected in cases.items():
        assert dry_run(db, sql, office.ann, START, END) == expected, sql
        assert run_for_people(db, sql, [office.ann], START, END) == {office.ann: expected}


def test_literals_that_look_special_are_left_alone(db: Database, office: Office) -> None:
    sql = (
        "SELECT COUNT(*) FROM leads WHERE owner_id = :user_id AND name LIKE 'Lead%'"
        " AND name <> ':user_id; :foo' AND created_at >= :start_date AND created_at < :end_date;"
    )
    assert run_for_people(db, sql, office.everyone, START, END) == {
        office.ann: 3,
        office.bob: 1,
        office.cat: 0,
    }


# --- refusals -------------------------------------------------------------------------------


def test_two_statements_are_refused_before_running(db: Database, office: Office) -> None:
    sql = "SELECT 1 FROM leads WHERE owner_id = :user_id; DELETE FROM leads"
    assert "more than one statement" in refusal(dry_run, db, sql, office.ann, START, END)
    assert "more than one statement" in refusal(
        run_for_people, db, sql, office.everyone, START, END
    )
    assert lead_count(db) == 6


@pytest.mark.parametrize(
    "sql",
    [
        "WITH d AS (DELETE FROM leads RETURNING 1) SELECT count(*) FROM d WHERE :user_id > 0",
        "WITH x AS (SELECT 1) DELETE FROM leads WHERE owner_id = :user_id",
        "WITH x AS (SELECT 1) UPDATE leads SET status = 'lost' WHERE owner_id = :user_id",
    ],
)
def test_a_write_that_passes_the_text_check_is_refused_when_run(
    db: Database, office: Office, sql: str
) -> None:
    assert check_query_text(sql) == sql
    alone = refusal(dry_run, db, sql, office.ann, START, END)
    together = refusal(run_for_people, db, sql, office.everyone, START, END)
    if db.dialect == "postgresql" or "WITH x" in sql:
        assert alone == READ_ONLY
    else:  # SQLite has no DELETE inside WITH at all
        assert alone.startswith("the database refused the query:")
    if db.dialect == "postgresql" and "RETURNING" in sql:
        assert together == READ_ONLY
    assert lead_count(db) == 6
    with db.read() as s:
        statuses = s.execute(sa.text("SELECT DISTINCT status FROM leads")).scalars()
        assert set(statuses) == {"new", "converted"}


def test_sqlite_refuses_pragmas(sqlite_db: Database) -> None:
    sql = "SELECT count(*) FROM pragma_table_info('leads') WHERE :user_id > 0"
    assert refusal(dry_run, sqlite_db, sql, 1, START, END) == READ_ONLY
    assert refusal(run_for_people, sqlite_db, sql, [1], START, END) == READ_ONLY


@pytest.mark.pg
def test_postgresql_refuses_nextval(pg_db: Database) -> None:
    sql = "SELECT nextval('leads_id_seq') WHERE :user_id > 0"
    assert refusal(dry_run, pg_db, sql, 1, START, END) == READ_ONLY


def test_a_too_slow_query_is_stopped(db: Database, office: Office) -> None:
    if db.dialect == "sqlite":
        sql = (
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000000000)"
            " SELECT count(*) FROM r WHERE :user_id > 0"
        )
    else:
        sql = "SELECT count(*) FROM (SELECT pg_sleep(2)) AS s WHERE :user_id > 0"
    message = "the query ran longer than 0.2 s and was stopped"
    began = time.monotonic()
    assert refusal(dry_run, db, sql, office.ann, START, END, timeout_s=0.2) == message
    assert refusal(run_for_people, db, sql, office.everyone, START, END, timeout_s=0.2) == message
    assert time.monotonic() - began < 3


def test_two_rows_are_refused(db: Database, office: Office) -> None:
    sql = "SELECT 1 FROM leads WHERE owner_id = :user_id"
    assert refusal(dry_run, db, sql, office.ann, START, END) == (
        f"the query returned 2 rows; {SINGLE}"
    )
    if db.dialect == "postgresql":
        message = refusal(run_for_people, db, sql, office.everyone, START, END)
        assert message == f"the query returned more than one row for a person; {SINGLE}"
    else:  # SQLite takes the first row; dry_run refuses such a query when it is saved
        assert run_for_people(db, sql, [office.ann], START, END) == {office.ann: 1}


def test_two_columns_are_refused(db: Database, office: Office) -> None:
    sql = "SELECT 1, 2 WHERE :user_id > 0"
    assert refusal(dry_run, db, sql, office.ann, START, END) == (
        f"the query returns 2 columns; {SINGLE}"
    )
    assert refusal(run_for_people, db, sql, office.everyone, START, END) == (
        f"the query returns several columns; {SINGLE}"
    )


def test_a_text_or_a_date_is_refused(db: Database, office: Office) -> None:
    text = "SELECT 'many' WHERE :user_id > 0"
    assert refusal(dry_run, db, text, office.ann, START, END) == (
        "the query returned the text 'many', not a number"
    )
    assert "not a number" in refusal(run_for_people, db, text, office.everyone, START, END)
    when = "SELECT MAX(created_at) FROM leads WHERE owner_id = :user_id"
    assert "not a number" in refusal(dry_run, db, when, office.ann, START, END)


def test_a_missing_table_is_refused_with_the_reason(db: Database, office: Office) -> None:
    sql = "SELECT count(*) FROM no_such_table WHERE owner_id = :user_id"
    for message in (
        refusal(dry_run, db, sql, office.ann, START, END),
        refusal(run_for_people, db, sql, office.everyone, START, END),
    ):
        assert message.startswith("the database refused the query: ")
        assert "no_such_table" in message
        assert "\n" not in message


def test_an_in_memory_database_cannot_run_query_kpis() -> None:
    db = open_database("sqlite://")
    try:
        assert "need a database file" in refusal(dry_run, db, demo.Q_LEADS, 1, START, END)
    finally:
        db.dispose()


def test_a_period_that_ends_before_it_starts_is_an_error(sqlite_db: Database) -> None:
    with pytest.raises(ValueError):
        dry_run(sqlite_db, demo.Q_LEADS, 1, END, START)
