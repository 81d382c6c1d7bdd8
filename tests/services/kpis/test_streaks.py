"""Missed-target streaks (app/services/kpis/streaks.py, SPEC §7) on SQLite and PostgreSQL: three
measurements below 100 % running, the newest of the period just computed, tell the member's
team manager once; a 100 % or an unscored measurement in between breaks the run; no team or
no manager: nobody is told.

Monthly "Calls Made", target 100. Mia manages North (Ann Avery, Ben Baker); Cat Cole is in
East, a team without a manager; Dot Diaz is in no team.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from app.db.models import KpiAssignment
from app.domain.enums import PeriodType
from app.domain.periods import month_end
from app.services.database import Database
from app.services.kpis.streaks import alert_missed_streaks, missed_streaks
from tests.services.kpis.test_definitions import Shop

MARCH = dt.date(2025, 3, 1)
KIND = "kpi.target_missed"


@dataclass
class Office:
    shop: Shop
    mia: int
    ann: int
    ben: int
    cat: int
    dot: int
    calls: int

    @property
    def db(self) -> Database:
        return self.shop.db

    def measured(self, user: int, pcts: list[str | None], kpi: int | None = None) -> int:
        """An assignment measured from January, one month per percentage."""
        aid = self.shop.assign(kpi or self.calls, user, "100")
        for m, pct in enumerate(pcts, start=1):
            actual = pct if pct is not None else "7"
            self.shop.measure(aid, dt.date(2025, m, 1), month_end(2025, m), actual, "100", pct)
        return aid

    def alert(self, start: dt.date = MARCH, period: PeriodType = PeriodType.MONTHLY) -> int:
        with self.db.session() as s:
            return alert_missed_streaks(s, period, start)

    def streaks(self, start: dt.date = MARCH) -> list[int]:
        with self.db.read() as s:
            return missed_streaks(s, PeriodType.MONTHLY, start)


@pytest.fixture
def office(db: Database) -> Office:
    shop = Shop(db)
    mia = shop.person("Mia", "Manager", role="manager")
    ann = shop.person("Ann", "Avery")
    ben = shop.person("Ben", "Baker")
    cat = shop.person("Cat", "Cole")
    dot = shop.person("Dot", "Diaz")
    shop.team("North", mia, [ann, ben])
    shop.team("East", None, [cat])
    return Office(shop, mia, ann, ben, cat, dot, shop.kpi("Calls Made"))


def test_three_periods_below_target_tell_the_manager_once(office: Office) -> None:
    aid = office.measured(office.ann, ["80", "99.99", "70"])

    assert office.alert() == 1
    assert office.alert() == 0

    assert office.shop.notes(KIND) == [
        (
            office.mia,
            aid,
            "Ann Avery missed the Calls Made target 3 monthly periods running (to 2025-03-01)",
        )
    ]


def test_a_100_or_an_unscored_measurement_breaks_the_run(office: Office) -> None:
    office.measured(office.ann, ["80", "100", "70"])
    office.measured(office.ben, ["80", None, "70"])

    assert office.streaks() == []
    assert office.alert() == 0
    assert office.shop.notes(KIND) == []


def test_the_run_must_end_with_the_period_and_be_three_long(office: Office) -> None:
    ann = office.measured(office.ann, ["50", "50", "50", "100"])
    office.measured(office.ben, ["50", "50"])

    assert office.streaks(dt.date(2025, 4, 1)) == []  # April reached the target
    assert office.streaks(dt.date(2025, 2, 1)) == []  # two only
    assert office.streaks() == [ann]  # January to March
    assert office.alert(dt.date(2025, 4, 1)) == 0
    assert office.alert(MARCH, PeriodType.WEEKLY) == 0  # not a weekly KPI


def test_a_new_run_is_said_again_for_its_own_period(office: Office) -> None:
    aid = office.measured(office.ann, ["50", "50", "50", "50"])

    assert office.alert() == 1
    assert office.alert(dt.date(2025, 4, 1)) == 1

    assert [t for _r, a, t in office.shop.notes(KIND) if a == aid] == [
        "Ann Avery missed the Calls Made target 3 monthly periods running (to 2025-03-01)",
        "Ann Avery missed the Calls Made target 3 monthly periods running (to 2025-04-01)",
    ]


def test_without_a_manager_nobody_is_told(office: Office) -> None:
    cat = office.measured(office.cat, ["10", "10", "10"])
    dot = office.measured(office.dot, ["10", "10", "10"])
    ann = office.measured(office.ann, ["10", "10", "10"])
    office.shop.deactivate(office.mia)

    assert office.streaks() == sorted([cat, dot, ann])
    assert office.alert() == 0
    assert office.shop.notes(KIND) == []


def test_an_inactive_assignment_is_not_looked_at(office: Office) -> None:
    aid = office.measured(office.ann, ["10", "10", "10"])
    with office.db.session() as s:
        s.get_one(KpiAssignment, aid).is_active = False

    assert office.streaks() == []
    assert office.alert() == 0
