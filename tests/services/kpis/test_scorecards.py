"""Scorecards (app/services/kpis/scorecards.py, SPEC §7, §12) on SQLite and PostgreSQL: My
KPIs' cards and overall score, Team view, ``report kpis``'s window rule, and who may read whom.

The office (monthly KPIs, 2025): Mia manages North (Ann Avery, Ben Baker, Dan Dale); Sam
manages South (Cat Cole); Bo is everyone's broker; Ada the admin.
- Ann: Calls Made (target 100, weight 50) measured every month January–September at 10 %,
  20 %, … 90 %; Exact Score (target 0: not scored, weight 40) measured in August; Listings
  Taken (target 10, weight 30) measured in August at 12 (120 %); Response Minutes (lower is
  better, target 30, weight 20) never measured; Old Calls (weight 10) ended 30 June.
- Ben: Calls Made (weight 100) at 50 % in August. Dan: Calls Made, never measured.
- Cat: Calls Made at 100 % in August.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from app.domain.errors import PermissionDenied, ValidationError
from app.domain.periods import month_end
from app.services.database import Database
from app.services.kpis.scorecards import KpiAverage, MemberScore, kpi_report, my_kpis, team_view
from tests.services.kpis.test_definitions import Shop

MID_AUGUST = dt.date(2025, 8, 15)


@dataclass
class Office:
    shop: Shop
    ada: str
    bo: str
    mia: str
    sam: str
    ann: int
    ben: int
    cat: int
    dan: int
    north: int
    south: int

    @property
    def db(self) -> Database:
        return self.shop.db

    def email(self, uid: int) -> str:
        return self.shop.emails[uid]


def month(m: int) -> tuple[dt.date, dt.date]:
    return dt.date(2025, m, 1), month_end(2025, m)


@pytest.fixture
def office(db: Database) -> Office:
    shop = Shop(db)
    bo = shop.person("Bo", "Broker", role="broker")
    ada = shop.person("Ada", "Admin", role="admin", broker=bo)
    mia = shop.person("Mia", "Manager", role="manager", broker=bo)
    sam = shop.person("Sam", "Stone", role="manager", broker=bo)
    ann = shop.person("Ann", "Avery", broker=bo)
    ben = shop.person("Ben", "Baker", broker=bo)
    dan = shop.person("Dan", "Dale", broker=bo)
    cat = shop.person("Cat", "Cole", broker=bo)
    north = shop.team("North", mia, [ann, ben, dan], broker=bo)
    south = shop.team("South", sam, [cat], broker=bo)
    calls = shop.kpi("Calls Made")
    exact = shop.kpi("Exact Score", target_type="exact")
    listings = shop.kpi("Listings Taken")
    minutes = shop.kpi("Response Minutes", target_type="lower_better")
    old = shop.kpi("Old Calls")

    a = shop.assign(calls, ann, "100", weight="50")
    for m in range(1, 10):
        shop.measure(a, *month(m), str(10 * m), "100", str(10 * m))
    a = shop.assign(exact, ann, "0", weight="40")
    shop.measure(a, *month(8), "5", "0", None)
    a = shop.assign(listings, ann, "10", weight="30")
    shop.measure(a, *month(8), "12", "10", "120")
    shop.assign(minutes, ann, "30", weight="20")
    shop.assign(old, ann, "100", weight="10", end=dt.date(2025, 6, 30))
    shop.assign(calls, ann, "100", weight="10", active=False, start=dt.date(2025, 2, 1))
    shop.assign(listings, ann, "10", weight="10", start=dt.date(2025, 9, 1))  # not begun

    a = shop.assign(calls, ben, "100", weight="100")
    shop.measure(a, *month(8), "50", "100", "50")
    shop.assign(calls, dan, "100", weight="100")
    a = shop.assign(calls, cat, "100", weight="100")
    shop.measure(a, *month(8), "100", "100", "100")
    e = shop.emails
    return Office(shop, e[ada], e[bo], e[mia], e[sam], ann, ben, cat, dan, north, south)


# -- My KPIs --------------------------------------------------------------------------------------


def test_my_kpis_shows_the_active_assignments_with_their_newest_measurement(office: Office) -> None:
    card = my_kpis(office.db, acting=office.email(office.ann), as_of=MID_AUGUST)

    assert (card.user_id, card.name, card.email, card.as_of) == (
        office.ann,
        "Ann Avery",
        "ann.avery@kpi.example",
        MID_AUGUST,
    )
    assert [(c.kpi, c.weight) for c in card.cards] == [  # by weight, heaviest first
        ("Calls Made", Decimal("50")),
        ("Exact Score", Decimal("40")),
        ("Listings Taken", Decimal("30")),
        ("Response Minutes", Decimal("20")),
    ]
    calls, exact, listings, minutes = card.cards
    assert calls.latest is not None and calls.latest.period_start == dt.date(2025, 8, 1)  # not Sept
    assert (calls.achievement, calls.latest_target) == (Decimal("80"), Decimal("100"))
    assert [(p.period_start.month, p.achievement) for p in calls.history] == [
        (m, Decimal(10 * m)) for m in range(3, 9)
    ]
    assert exact.latest is not None and exact.achievement is None
    assert listings.achievement == Decimal("120")
    assert (minutes.latest, minutes.achievement, minutes.history) == (None, None, ())
    assert card.weights_total == Decimal("140")
    # SPEC §7: (50 × 80 + 30 × 120) / (50 + 30); not scored and not measured are left out
    assert card.overall == Decimal("95.00")


def test_my_kpis_as_of_an_earlier_day(office: Office) -> None:
    card = my_kpis(office.db, office.ann, acting=office.mia, as_of=dt.date(2025, 5, 20))

    assert [c.kpi for c in card.cards] == [
        "Calls Made",
        "Exact Score",
        "Listings Taken",
        "Response Minutes",
        "Old Calls",
    ]
    calls = card.cards[0]
    assert [p.period_start.month for p in calls.history] == [1, 2, 3, 4, 5]
    assert calls.achievement == Decimal("50")
    assert card.overall == Decimal("50.00")  # only Calls Made measured by then

    before = my_kpis(office.db, office.ann, acting=office.mia, as_of=dt.date(2024, 12, 31))
    assert (before.cards, before.overall, before.weights_total) == ((), None, Decimal("0"))


def test_a_scorecard_without_a_scored_measurement_has_no_overall_score(office: Office) -> None:
    card = my_kpis(office.db, office.dan, acting=office.mia, as_of=MID_AUGUST)

    assert [(c.kpi, c.latest) for c in card.cards] == [("Calls Made", None)]
    assert card.overall is None


def test_who_may_read_whose_scorecard(office: Office) -> None:
    ann = office.email(office.ann)

    with pytest.raises(PermissionDenied):
        my_kpis(office.db, office.ben, acting=ann, as_of=MID_AUGUST)
    with pytest.raises(PermissionDenied):
        my_kpis(office.db, office.ann, acting=office.sam, as_of=MID_AUGUST)
    for reader in (ann, office.mia, office.bo, office.ada):
        card = my_kpis(office.db, office.ann, acting=reader, as_of=MID_AUGUST)
        assert card.overall == Decimal("95.00")
    if office.db.is_local:  # the one local person names whose KPIs to show
        with pytest.raises(ValidationError, match="Choose whose KPIs to show"):
            my_kpis(office.db, as_of=MID_AUGUST)


# -- Team view ------------------------------------------------------------------------------------


def test_team_view_scores_members_and_averages_them(office: Office) -> None:
    view = team_view(office.db, office.north, acting=office.mia, as_of=MID_AUGUST)

    assert (view.title, view.as_of) == ("North", MID_AUGUST)
    assert view.members == (
        MemberScore(
            office.ann, "Ann Avery", "ann.avery@kpi.example", "North", Decimal("95.00"), 4, 1, 1
        ),
        MemberScore(
            office.ben, "Ben Baker", "ben.baker@kpi.example", "North", Decimal("50.00"), 1, 1, 0
        ),
        MemberScore(office.dan, "Dan Dale", "dan.dale@kpi.example", "North", None, 1, 0, 1),
    )
    assert view.average == Decimal("72.50")  # of the scores there are: (95 + 50) / 2
    assert view.by_kpi == (
        KpiAverage("Calls Made", 2, Decimal("65.00")),
        KpiAverage("Listings Taken", 1, Decimal("120.00")),
    )


def test_team_view_of_every_team_one_may_see(office: Office) -> None:
    mine = team_view(office.db, acting=office.mia, as_of=MID_AUGUST)
    everyone = team_view(office.db, acting=office.ada, as_of=MID_AUGUST)
    brokers = team_view(office.db, acting=office.bo, as_of=MID_AUGUST)

    assert mine.title == "All my teams"
    assert [m.user_id for m in mine.members] == [office.ann, office.ben, office.dan]
    assert [m.user_id for m in everyone.members] == [office.ann, office.ben, office.cat, office.dan]
    assert [m.team for m in everyone.members] == ["North", "North", "South", "North"]
    assert everyone.average == Decimal("81.67")  # (95 + 50 + 100) / 3
    assert [m.user_id for m in brokers.members] == [office.ann, office.ben, office.cat, office.dan]
    with pytest.raises(PermissionDenied):
        team_view(office.db, office.south, acting=office.mia, as_of=MID_AUGUST)
    with pytest.raises(PermissionDenied):
        team_view(office.db, office.north, acting=office.email(office.ann), as_of=MID_AUGUST)


# -- report kpis ----------------------------------------------------------------------------------


def test_kpi_report_takes_the_newest_measurement_starting_in_the_range(office: Office) -> None:
    report = kpi_report(office.db, dt.date(2025, 8, 1), dt.date(2025, 8, 31), acting=office.ada)

    assert [u["email"] for u in report["users"]] == [
        "ann.avery@kpi.example",
        "ben.baker@kpi.example",
        "cat.cole@kpi.example",
        "dan.dale@kpi.example",
    ]
    ann = report["users"][0]
    assert ann == {
        "email": "ann.avery@kpi.example",
        "overall_score": 95.0,
        "kpis": [
            {
                "name": "Calls Made",
                "actual": 80.0,
                "target": 100.0,
                "achievement_pct": 80.0,
                "weight": 50.0,
            },
            {
                "name": "Exact Score",
                "actual": 5.0,
                "target": 0.0,
                "achievement_pct": None,
                "weight": 40.0,
            },
            {
                "name": "Listings Taken",
                "actual": 12.0,
                "target": 10.0,
                "achievement_pct": 120.0,
                "weight": 30.0,
            },
            {
                "name": "Response Minutes",
                "actual": None,
                "target": 30.0,
                "achievement_pct": None,
                "weight": 20.0,
            },
        ],
    }
    assert report["users"][3] == {
        "email": "dan.dale@kpi.example",
        "overall_score": None,
        "kpis": [
            {
                "name": "Calls Made",
                "actual": None,
                "target": 100.0,
                "achievement_pct": None,
                "weight": 100.0,
            }
        ],
    }


def test_kpi_report_window_rule(office: Office) -> None:
    def calls(start: dt.date, end: dt.date) -> tuple[object, object]:
        report = kpi_report(office.db, start, end, acting=office.email(office.ann))
        (ann,) = report["users"]  # an agent sees herself only
        (row,) = [k for k in ann["kpis"] if k["name"] == "Calls Made"]
        return row["actual"], ann["overall_score"]

    assert calls(dt.date(2025, 2, 10), dt.date(2025, 4, 15)) == (40.0, 40.0)  # April's
    assert calls(dt.date(2025, 2, 1), dt.date(2025, 2, 28)) == (20.0, 20.0)
    assert calls(dt.date(2025, 2, 10), dt.date(2025, 2, 28)) == (None, None)  # none starts in it
    report = kpi_report(office.db, dt.date(2025, 5, 1), dt.date(2025, 7, 31), acting=office.ada)
    names = [k["name"] for k in report["users"][0]["kpis"]]
    assert names == ["Calls Made", "Exact Score", "Listings Taken", "Old Calls", "Response Minutes"]
    with pytest.raises(ValidationError):
        kpi_report(office.db, dt.date(2025, 8, 31), dt.date(2025, 8, 1), acting=office.ada)


def test_report_values_of_money_kpis_are_strings_with_two_decimals() -> None:
    from decimal import Decimal as D

    from app.services.kpis.scorecards import _value

    assert _value("$", D("12500.5")) == "12500.50"
    assert _value("count", D("3.0000")) == 3.0
    assert _value(None, D("87.5")) == 87.5
