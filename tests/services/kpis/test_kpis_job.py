"""The ``kpis`` job (app/services/jobs/kpis.py) run by the job runner on both backends: the
newest whole period of each type measured, rows = measurements written, values that could not
be computed listed in the log's message (one line), ``periods`` back, bad options refused.

Run as of Wednesday 2 April 2025: the month is March, the week Monday 24 – Sunday 30 March.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.db.models import JobRun, KpiAssignment, KpiDefinition, KpiMeasurement
from app.domain.enums import JobStatus
from app.services.database import Database
from app.services.jobs.runner import JobResult, run_jobs
from tests.services.kpis.test_sales import Office

AS_OF = dt.date(2025, 4, 2)
BROKEN_SQL = (
    "SELECT COUNT(*) FROM no_such_table WHERE owner_id = :user_id "
    "AND created_at >= :start_date AND created_at < :end_date"
)


@dataclass
class World:
    db: Database
    office: Office
    ann: int
    bob: int
    monthly: dict[int, int]  # person → assignment of "Leads Generated"
    weekly: int  # ann's assignment of a weekly leads KPI

    def define(self, name: str, source: dict[str, Any], period: str = "monthly") -> int:
        return self.office.add(
            KpiDefinition(
                name=name,
                calculation_type="query",
                data_source=source,
                aggregation_period=period,
                target_type="higher_better",
            )
        )

    def assign(self, kpi: int, user: int, target: str = "2") -> int:
        return self.office.add(
            KpiAssignment(
                kpi_definition_id=kpi,
                user_id=user,
                target_value=Decimal(target),
                weight=Decimal(50),
                start_date=dt.date(2024, 1, 1),
            )
        )

    def values(self) -> dict[tuple[int, dt.date], tuple[dt.date, Decimal]]:
        """(assignment, period start) → (period end, actual value)."""
        with self.db.read() as s:
            rows = s.scalars(sa.select(KpiMeasurement))
            return {(m.assignment_id, m.period_start): (m.period_end, m.actual_value) for m in rows}

    def run(self, options: dict[str, Any] | None = None) -> JobResult:
        results = run_jobs(self.db, ["kpis"], as_of=AS_OF, options=options)
        assert [r.name for r in results] == ["kpis"]
        return results[0]

    def logged(self, result: JobResult) -> JobRun:
        with self.db.read() as s:
            return s.get_one(JobRun, result.run_id)


@pytest.fixture
def world(db: Database) -> World:
    office = Office(db)
    ann, bob = office.person("ann"), office.person("bob")
    for when in ("2025-01-10T09:00", "2025-01-20T09:00", "2025-02-10T09:00"):
        office.lead(ann, when)
    for when in ("2025-03-10T09:00", "2025-03-20T09:00", "2025-03-25T09:00"):
        office.lead(ann, when)
    office.lead(ann, "2025-04-01T09:00")  # the run's month: not measured
    office.lead(bob, "2025-03-05T09:00")
    w = World(db, office, ann, bob, {}, 0)
    with db.read() as s:
        leads = s.scalar(sa.select(KpiDefinition.id).where(KpiDefinition.name == "Leads Generated"))
    assert leads is not None  # the built-in library (migration 0010)
    w.monthly = {ann: w.assign(leads, ann), bob: w.assign(leads, bob)}
    weekly = w.define("Weekly leads", {"type": "builtin", "metric": "leads"}, "weekly")
    w.weekly = w.assign(weekly, ann, "1")
    return w


MARCH, WEEK = dt.date(2025, 3, 1), dt.date(2025, 3, 24)


def test_the_job_measures_the_periods_just_ended(world: World) -> None:
    w = world

    first = w.run()

    assert (first.status, first.rows_affected, first.message) == (JobStatus.SUCCEEDED, 3, None)
    run = w.logged(first)
    assert (run.job_name, run.status, run.rows_affected, run.message) == (
        "kpis", "succeeded", 3, None,
    )  # fmt: skip
    assert w.values() == {
        (w.monthly[w.ann], MARCH): (dt.date(2025, 3, 31), Decimal(3)),
        (w.monthly[w.bob], MARCH): (dt.date(2025, 3, 31), Decimal(1)),
        (w.weekly, WEEK): (dt.date(2025, 3, 30), Decimal(1)),
    }

    again = w.run()

    assert (again.status, again.rows_affected, again.message) == (JobStatus.SUCCEEDED, 0, None)
    assert len(w.values()) == 3

    w.office.lead(w.bob, "2025-03-31T23:59")
    changed = w.run()

    assert (changed.status, changed.rows_affected) == (JobStatus.SUCCEEDED, 1)
    assert w.values()[(w.monthly[w.bob], MARCH)] == (dt.date(2025, 3, 31), Decimal(2))


def test_values_not_computed_are_listed_in_one_line(world: World) -> None:
    w = world
    broken = w.define("Broken", {"type": "database", "query": BROKEN_SQL})
    w.assign(broken, w.ann)
    w.assign(broken, w.bob)

    result = w.run()

    assert (result.status, result.rows_affected) == (JobStatus.SUCCEEDED, 3)
    assert result.message is not None
    assert result.message.startswith(
        "1 KPI value(s) not computed; Broken: the database refused the query: "
    )
    assert "no_such_table" in result.message and "\n" not in result.message
    assert w.logged(result).message == result.message
    assert len(w.values()) == 3  # the others were computed and kept

    also = w.define("Also broken", {"type": "database", "query": BROKEN_SQL}, "weekly")
    w.assign(also, w.ann)
    two = w.run()

    assert (two.status, two.rows_affected) == (JobStatus.SUCCEEDED, 0)
    assert two.message is not None and "\n" not in two.message
    assert two.message.startswith("2 KPI value(s) not computed; ")
    assert two.message.endswith(" (and 1 more)")


def test_periods_option_measures_that_many_periods_back(world: World) -> None:
    w = world

    result = w.run({"kpis": {"periods": 3}})

    assert (result.status, result.rows_affected, result.message) == (JobStatus.SUCCEEDED, 9, None)
    ann, bob = w.monthly[w.ann], w.monthly[w.bob]
    assert w.values() == {
        (ann, dt.date(2025, 1, 1)): (dt.date(2025, 1, 31), Decimal(2)),
        (ann, dt.date(2025, 2, 1)): (dt.date(2025, 2, 28), Decimal(1)),
        (ann, dt.date(2025, 3, 1)): (dt.date(2025, 3, 31), Decimal(3)),
        (bob, dt.date(2025, 1, 1)): (dt.date(2025, 1, 31), Decimal(0)),
        (bob, dt.date(2025, 2, 1)): (dt.date(2025, 2, 28), Decimal(0)),
        (bob, dt.date(2025, 3, 1)): (dt.date(2025, 3, 31), Decimal(1)),
        (w.weekly, dt.date(2025, 3, 10)): (dt.date(2025, 3, 16), Decimal(1)),
        (w.weekly, dt.date(2025, 3, 17)): (dt.date(2025, 3, 23), Decimal(1)),
        (w.weekly, dt.date(2025, 3, 24)): (dt.date(2025, 3, 30), Decimal(1)),
    }

    assert w.run({"kpis": {"periods": "3"}}).rows_affected == 0  # as typed: the same


BAD_PERIODS = [
    (0, "periods must be from 1 to 36"),
    (37, "periods must be from 1 to 36"),
    (-1, "periods must be from 1 to 36"),
    ("abc", "periods must be a whole number, not 'abc'"),
    (None, "periods must be a whole number, not None"),
    (2.5, "periods must be a whole number, not 2.5"),
    (True, "periods must be a whole number, not True"),
    (float("inf"), "periods must be a whole number, not inf"),
]


def test_a_bad_periods_option_fails_the_run(world: World) -> None:
    w = world
    for periods, message in BAD_PERIODS:
        result = w.run({"kpis": {"periods": periods}})

        assert (result.status, result.rows_affected, result.message) == (
            JobStatus.FAILED, None, message,
        )  # fmt: skip
        run = w.logged(result)
        assert (run.status, run.rows_affected, run.message) == ("failed", None, message)
        assert w.values() == {}
