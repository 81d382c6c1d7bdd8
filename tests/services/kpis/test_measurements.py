"""Manual KPI values (app/services/kpis/measurements.py, SPEC §7) on SQLite and PostgreSQL:
the whole period holding the day picked is stored, the target snapshot and achievement, the
range check, the periods refused, computed KPIs refused, re-entry with its version, the
audit entry and the history.

Today is Thursday 20 March 2025. Mia manages North (Ann); Sam manages South.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.db.models import KpiMeasurement
from app.domain.errors import ConflictError, PermissionDenied
from app.domain.periods import Period
from app.services.audit import chain_entries, verify_all
from app.services.database import Database
from app.services.kpis.assignments import update_assignment
from app.services.kpis.measurements import Entered, MeasurementError, enter_value, history
from tests.services.kpis.test_definitions import Shop

TODAY = dt.date(2025, 3, 20)


@dataclass
class Office:
    shop: Shop
    mia: str
    sam: str
    bo: str
    ann: str
    calls: int  # Ann's weekly "Calls Made" (0–500), target 50, from Wednesday 5 March
    nps: int  # Ann's quarterly "Client NPS", target 40
    deals: int  # Ann's built-in "Deals Closed" (computed)

    @property
    def db(self) -> Database:
        return self.shop.db


@pytest.fixture
def office(db: Database) -> Office:
    shop = Shop(db)
    bo = shop.person("Bo", "Broker", role="broker")
    mia = shop.person("Mia", "Manager", role="manager", broker=bo)
    sam = shop.person("Sam", "Stone", role="manager", broker=bo)
    ann = shop.person("Ann", "Avery", broker=bo)
    shop.team("North", mia, [ann])
    shop.team("South", sam, [])
    calls = shop.kpi("Calls Made", period="weekly", low="0", high="500")
    nps = shop.kpi("Client NPS", period="quarterly", target_type="exact")
    return Office(
        shop,
        shop.emails[mia],
        shop.emails[sam],
        shop.emails[bo],
        shop.emails[ann],
        shop.assign(calls, ann, "50", start=dt.date(2025, 3, 5), end=dt.date(2025, 3, 31)),
        shop.assign(nps, ann, "40"),
        shop.assign(shop.builtin("Deals Closed"), ann, "3"),
    )


def enter(office: Office, aid: int, day: dt.date, value: str, **kw: Any) -> Entered:
    kw.setdefault("acting", office.mia)
    kw.setdefault("today", TODAY)
    return enter_value(office.db, aid, day, value, **kw)


def rows(db: Database) -> list[tuple[object, ...]]:
    with db.read() as s:
        return [
            tuple(r)
            for r in s.execute(
                sa.select(
                    KpiMeasurement.assignment_id,
                    KpiMeasurement.period_start,
                    KpiMeasurement.period_end,
                    KpiMeasurement.actual_value,
                    KpiMeasurement.target_value,
                    KpiMeasurement.achievement_pct,
                ).order_by(KpiMeasurement.id)
            )
        ]


def refusal(office: Office, aid: int, day: dt.date, value: str, **kw: Any) -> str:
    with pytest.raises(MeasurementError) as caught:
        enter(office, aid, day, value, **kw)
    return str(caught.value)


def test_a_weekly_value_is_stored_for_monday_to_sunday(office: Office) -> None:
    done = enter(office, office.calls, dt.date(2025, 3, 12), "42", notes=" good week ")

    assert done == Entered(
        done.id,
        Period(dt.date(2025, 3, 10), dt.date(2025, 3, 16)),
        Decimal("84.00"),
        True,
    )
    assert rows(office.db) == [
        (
            office.calls,
            dt.date(2025, 3, 10),
            dt.date(2025, 3, 16),
            Decimal("42"),
            Decimal("50"),
            Decimal("84.00"),
        )
    ]
    (h,) = history(office.db, office.calls, acting=office.ann)
    assert (h.method, h.calculated_by, h.notes) == ("manual", "Mia Manager", "good week")


def test_a_quarterly_value_is_stored_for_the_quarter(office: Office) -> None:
    done = enter(office, office.nps, dt.date(2025, 2, 14), "38")

    assert done.period == Period(dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert done.achievement_pct == Decimal("95.00")  # exact: 100 − 2/40


def test_a_value_outside_the_range_or_not_a_number_is_refused(office: Office) -> None:
    day = dt.date(2025, 3, 12)

    assert refusal(office, office.calls, day, "500.5") == (
        "Value: 500.5 is above the allowed maximum 500."
    )
    assert refusal(office, office.calls, day, "-1") == "Value: -1 is below the allowed minimum 0."
    assert refusal(office, office.calls, day, "many") == "Value: 'many' is not a number"
    assert refusal(office, office.calls, day, "") == "Value: required"
    assert refusal(office, office.calls, day, "1.23456") == "Value: at most four decimals"
    assert rows(office.db) == []
    enter(office, office.calls, day, "500")  # the bound itself is allowed
    enter(office, office.calls, dt.date(2025, 3, 5), "0")
    assert [r[3] for r in rows(office.db)] == [Decimal("500"), Decimal("0")]


def test_periods_outside_the_assignment_or_in_the_future_are_refused(office: Office) -> None:
    assert refusal(office, office.calls, dt.date(2025, 3, 2), "10") == (
        "Period: the assignment starts on 2025-03-05, after this period"
    )
    assert refusal(office, office.calls, dt.date(2025, 4, 7), "10", today=dt.date(2025, 4, 9)) == (
        "Period: the assignment ended on 2025-03-31, before this period"
    )
    assert refusal(office, office.calls, dt.date(2025, 3, 24), "10") == (
        "Period: this period has not started yet"
    )
    assert rows(office.db) == []

    # the week of the start (3–9 March) overlaps it; the current week is not over but open
    enter(office, office.calls, dt.date(2025, 3, 3), "10")
    enter(office, office.calls, TODAY, "11")
    enter(office, office.nps, dt.date(2025, 3, 1), "40")  # the quarter holding today
    assert [(r[1], r[2]) for r in rows(office.db)] == [
        (dt.date(2025, 3, 3), dt.date(2025, 3, 9)),
        (dt.date(2025, 3, 17), dt.date(2025, 3, 23)),
        (dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
    ]


def test_a_computed_kpi_is_not_entered(office: Office) -> None:
    assert refusal(office, office.deals, dt.date(2025, 3, 12), "3") == (
        "Value: Deals Closed is computed (query); it is not entered"
    )
    assert rows(office.db) == []


def test_only_the_manager_of_the_team_or_an_admin_enters_values(office: Office) -> None:
    for who in (office.ann, office.bo, office.sam):
        with pytest.raises(PermissionDenied):
            enter(office, office.calls, dt.date(2025, 3, 12), "42", acting=who)

    assert rows(office.db) == []


def test_re_entry_changes_the_value_and_a_stale_version_is_a_conflict(office: Office) -> None:
    day = dt.date(2025, 3, 12)
    first = enter(office, office.calls, day, "42")
    (h,) = history(office.db, office.calls, acting=office.mia)

    again = enter(office, office.calls, dt.date(2025, 3, 16), "45", version=h.version)

    assert (again.id, again.created) == (first.id, False)
    (h2,) = history(office.db, office.calls, acting=office.mia)
    assert (h2.actual_value, h2.achievement_pct, h2.version) == (
        Decimal("45"),
        Decimal("90.00"),
        h.version + 1,
    )
    with pytest.raises(ConflictError):
        enter(office, office.calls, day, "47", version=h.version)
    assert [r[3] for r in rows(office.db)] == [Decimal("45")]


def test_the_target_is_a_snapshot_at_the_time_of_entry(office: Office) -> None:
    enter(office, office.calls, dt.date(2025, 3, 5), "40")
    update_assignment(office.db, office.calls, {"target_value": "80"}, acting=office.mia)

    enter(office, office.calls, dt.date(2025, 3, 12), "40")

    assert [(r[4], r[5]) for r in rows(office.db)] == [
        (Decimal("50"), Decimal("80.00")),
        (Decimal("80"), Decimal("50.00")),
    ]


def test_each_entry_writes_an_audit_entry_with_the_old_and_new_value(office: Office) -> None:
    day = dt.date(2025, 3, 12)
    enter(office, office.calls, day, "42")
    enter(office, office.calls, day, "45")

    chain = chain_entries(office.db, f"kpi_assignment:{office.calls}")

    assert [(e.event_type, ok) for e, ok in chain] == [
        ("kpi.measurement_entered", True),
        ("kpi.measurement_entered", True),
    ]
    first, second = (e.payload for e, _ in chain)
    assert first["old_value"] is None and Decimal(first["new_value"]) == 42
    assert Decimal(second["old_value"]) == 42 and Decimal(second["new_value"]) == 45
    assert (second["kpi"], second["period_start"], second["period_end"]) == (
        "Calls Made",
        "2025-03-10",
        "2025-03-16",
    )
    assert Decimal(second["achievement_pct"]) == Decimal("90")
    assert verify_all(office.db).intact


def test_history_is_newest_first(office: Office) -> None:
    for day, value in ((dt.date(2025, 3, 5), "10"), (dt.date(2025, 3, 19), "30")):
        enter(office, office.calls, day, value)
    enter(office, office.calls, dt.date(2025, 3, 12), "20", acting=office.mia)

    shown = history(office.db, office.calls, acting=office.ann)

    assert [(h.period_start, h.actual_value) for h in shown] == [
        (dt.date(2025, 3, 17), Decimal("30")),
        (dt.date(2025, 3, 10), Decimal("20")),
        (dt.date(2025, 3, 3), Decimal("10")),
    ]
    assert history(office.db, office.nps, acting=office.ann) == []
