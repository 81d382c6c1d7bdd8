"""Badges (app/services/kpis/achievements.py, SPEC §8) on SQLite and PostgreSQL: rules award
themselves for the current and the previous period, once; rates need something to divide by;
``kpi:<name>`` rules read measurements; manual awards; the timeline as each person may see it;
rules are checked and written by admins.

Monday 20 October 2025. Mia manages North (Ann Avery, Ben Baker); Sam manages South (Cat
Cole); Dan Dale has left. October: Ann 3 leads, revenue 3,500.75; Ben 1 lead, revenue 499.25;
Cat no lead, an escrow closed (800); Dan 5,000. September: Ben revenue 4,000, no lead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.db.models.goals import AchievementDefinition, UserAchievement
from app.domain.errors import PermissionDenied, ValidationError
from app.services.database import Database
from app.services.kpis.achievements import (
    award_due,
    award_manually,
    list_rules,
    save_rule,
    timeline,
)
from tests.services.kpis.test_definitions import Shop

TODAY = dt.date(2025, 10, 20)


@dataclass
class Office:
    shop: Shop
    ada: str
    mia: str
    ann: int
    ben: int
    cat: int
    dan: int

    @property
    def db(self) -> Database:
        return self.shop.db

    def email(self, uid: int) -> str:
        return self.shop.emails[uid]

    def rule(
        self, key: str, name: str, metric: str, threshold: str, period: str = "monthly"
    ) -> int:
        values = {
            "key": key,
            "name": name,
            "metric": metric,
            "threshold": threshold,
            "period_type": period,
            "description": "",
        }
        return save_rule(self.db, values, acting=self.ada)

    def award(self, as_of: dt.date = TODAY) -> int:
        with self.db.session() as s:
            return award_due(s, as_of)

    def badges(self) -> list[tuple[int, str, dt.date]]:
        """(person, rule key, period start) of every badge earned, sorted."""
        with self.db.read() as s:
            rows = s.execute(
                sa.select(
                    UserAchievement.user_id, AchievementDefinition.key, UserAchievement.period_start
                ).join(
                    AchievementDefinition,
                    AchievementDefinition.id == UserAchievement.achievement_id,
                )
            )
            return sorted((int(u), str(k), d) for u, k, d in rows)


@pytest.fixture
def office(db: Database) -> Office:
    shop = Shop(db)
    bo = shop.person("Bo", "Broker", role="broker")
    ada = shop.person("Ada", "Admin", role="admin", broker=bo)
    mia = shop.person("Mia", "Manager", role="manager", broker=bo)
    sam = shop.person("Sam", "Stone", role="manager", broker=bo)
    ann = shop.person("Ann", "Avery", broker=bo)
    ben = shop.person("Ben", "Baker", broker=bo)
    cat = shop.person("Cat", "Cole", broker=bo)
    dan = shop.person("Dan", "Dale", broker=bo)
    shop.team("North", mia, [ann, ben, dan])
    shop.team("South", sam, [cat])
    shop.deactivate(dan)
    for created in ("2025-10-01T08:00:00", "2025-10-02T08:00:00", "2025-10-03T08:00:00"):
        shop.lead(ann, created)
    shop.closed_escrow(ann, "2025-10-05T15:00:00", "2000.25")
    won = shop.deal(ann, "2025-10-02T09:00:00", closed=dt.date(2025, 10, 10))
    shop.commission(won, ann, "1500.50")
    shop.lead(ben, "2025-10-03T08:00:00")
    shop.closed_escrow(ben, "2025-10-08T15:00:00", "499.25")
    shop.closed_escrow(ben, "2025-09-20T15:00:00", "4000")
    shop.closed_escrow(cat, "2025-10-08T15:00:00", "800")
    shop.closed_escrow(dan, "2025-10-08T15:00:00", "5000")
    e = shop.emails
    return Office(shop, e[ada], e[mia], ann, ben, cat, dan)


def test_a_revenue_badge_is_awarded_for_this_period_and_the_last_once(office: Office) -> None:
    office.rule("first_3k", "First $3K", "revenue", "3000")

    assert office.award() == 2
    assert office.award() == 0
    assert office.award(dt.date(2025, 11, 3)) == 0  # October again, as the period before

    assert office.badges() == [
        (office.ann, "first_3k", dt.date(2025, 10, 1)),
        (office.ben, "first_3k", dt.date(2025, 9, 1)),  # September's, a period late
    ]
    assert office.shop.notes("achievement.earned") == [  # the period before first
        (office.ben, _award_id(office, office.ben), "Badge earned: First $3K"),
        (office.ann, _award_id(office, office.ann), "Badge earned: First $3K"),
    ]


def _award_id(office: Office, uid: int) -> int:
    with office.db.read() as s:
        found = s.scalar(sa.select(UserAchievement.id).where(UserAchievement.user_id == uid))
    assert found is not None
    return int(found)


def test_a_threshold_exactly_reached_earns_the_badge(office: Office) -> None:
    office.rule("big_month", "Big month", "revenue", "3500.75")
    office.rule("two_orders", "Two orders", "orders", "2")

    office.award()

    assert office.badges() == [
        (office.ann, "big_month", dt.date(2025, 10, 1)),
        (office.ann, "two_orders", dt.date(2025, 10, 1)),
        (office.ben, "big_month", dt.date(2025, 9, 1)),
    ]


def test_a_rate_badge_needs_something_to_divide_by(office: Office) -> None:
    office.rule("converter", "Converter", "conversion_rate", "0")

    assert office.award() == 2

    # Cat closed an escrow but had no lead: a conversion rate of no leads is no rate
    assert office.badges() == [
        (office.ann, "converter", dt.date(2025, 10, 1)),
        (office.ben, "converter", dt.date(2025, 10, 1)),
    ]


def test_a_kpi_badge_reads_the_kpis_measurements(office: Office) -> None:
    calls = office.shop.kpi("Calls Made", period="weekly")
    ann = office.shop.assign(calls, office.ann, "100")
    ben = office.shop.assign(calls, office.ben, "100")
    cat = office.shop.assign(calls, office.cat, "100")
    week = (dt.date(2025, 10, 13), dt.date(2025, 10, 19))
    this_week = (dt.date(2025, 10, 20), dt.date(2025, 10, 26))
    office.shop.measure(ann, *week, "120", "100", "120")
    office.shop.measure(ann, *this_week, "100", "100", "100")
    office.shop.measure(ben, *week, "99.99", "100", "99.99")
    office.shop.measure(cat, dt.date(2025, 10, 6), dt.date(2025, 10, 12), "150", "100", "150")
    office.rule("hundred_calls", "100 calls", "kpi:Calls Made", "100", period="weekly")

    assert office.award() == 2

    assert office.badges() == [  # Cat's week is two weeks back
        (office.ann, "hundred_calls", dt.date(2025, 10, 13)),
        (office.ann, "hundred_calls", dt.date(2025, 10, 20)),
    ]


def test_inactive_rules_and_people_earn_nothing(office: Office) -> None:
    save_rule(
        office.db,
        {
            "key": "off",
            "name": "Off",
            "metric": "revenue",
            "threshold": "1",
            "period_type": "monthly",
            "is_active": False,
        },
        acting=office.ada,
    )
    office.rule("any_revenue", "Any revenue", "revenue", "4500")

    assert office.award() == 0  # Dan's 5,000 does not count: he has left
    assert office.badges() == []


def test_a_badge_awarded_by_hand_once_per_period(office: Office) -> None:
    rule = office.rule("team_player", "Team Player", "calls", "1000000")

    aid = award_manually(office.db, office.ann, rule, dt.date(2025, 10, 15), acting=office.mia)

    assert office.badges() == [(office.ann, "team_player", dt.date(2025, 10, 1))]
    assert office.shop.notes("achievement.earned") == [
        (office.ann, aid, "Badge earned: Team Player")
    ]
    with pytest.raises(ValidationError, match="Ann Avery already has Team Player for that period"):
        award_manually(office.db, office.ann, rule, dt.date(2025, 10, 31), acting=office.mia)
    with pytest.raises(PermissionDenied):
        award_manually(
            office.db, office.ann, rule, dt.date(2025, 9, 1), acting=office.email(office.ann)
        )
    with pytest.raises(PermissionDenied):
        award_manually(office.db, office.cat, rule, dt.date(2025, 9, 1), acting=office.mia)
    with pytest.raises(ValidationError, match="Choose an active person"):
        award_manually(office.db, office.dan, rule, dt.date(2025, 9, 1), acting=office.ada)
    award_manually(office.db, office.cat, rule, dt.date(2025, 9, 1), acting=office.ada)
    assert len(office.badges()) == 2
    assert [r.earned for r in list_rules(office.db)] == [2]


def test_the_timeline_shows_what_each_person_may_read_newest_first(office: Office) -> None:
    rule = office.rule("team_player", "Team Player", "calls", "1000000")
    for uid, month in ((office.ann, 7), (office.ben, 8), (office.cat, 9), (office.ann, 10)):
        award_manually(office.db, uid, rule, dt.date(2025, month, 1), acting=office.ada)

    def seen(who: str, **kw: Any) -> list[tuple[str, int]]:
        return [(e.person, e.period_start.month) for e in timeline(office.db, acting=who, **kw)]

    assert seen(office.email(office.ann)) == [("Ann Avery", 10), ("Ann Avery", 7)]
    assert seen(office.mia) == [("Ann Avery", 10), ("Ben Baker", 8), ("Ann Avery", 7)]
    assert seen(office.ada) == [
        ("Ann Avery", 10),
        ("Cat Cole", 9),
        ("Ben Baker", 8),
        ("Ann Avery", 7),
    ]
    assert seen(office.ada, user_id=office.ben) == [("Ben Baker", 8)]
    assert seen(office.mia, user_id=office.cat) == []


def test_rules_are_checked_and_written_by_admins(office: Office) -> None:
    good: dict[str, Any] = {
        "key": "first_10k",
        "name": "First $10K",
        "metric": "revenue",
        "threshold": "10000",
        "period_type": "monthly",
        "icon": "trophy",
    }
    rid = save_rule(office.db, good, acting=office.ada)
    for bad, reason in (
        ({"key": "First 10K"}, "key: lower-case letters, digits and _, up to 60"),
        ({"key": "first_10k"}, "key: a badge with the key first_10k exists already"),
        ({"name": ""}, "name: required, up to 120 characters"),
        ({"metric": "profit"}, "metric: a sales figure or kpi:<KPI name>"),
        ({"metric": "kpi:"}, "metric: a sales figure or kpi:<KPI name>"),
        (
            {"metric": "kpi:" + "Average Response Time To New Inquiries"},
            "metric: at most 40 characters, kpi: and the KPI's name together",
        ),
        ({"period_type": "fortnightly"}, "period_type: choose a period"),
        ({"threshold": "ten"}, "threshold: a number"),
    ):
        with pytest.raises(ValidationError) as caught:
            save_rule(office.db, {**good, "key": "other", **bad}, acting=office.ada)
        assert str(caught.value).startswith(reason), (bad, str(caught.value))
    with pytest.raises(PermissionDenied):
        save_rule(office.db, {**good, "key": "other"}, acting=office.mia)

    save_rule(
        office.db,
        {**good, "threshold": "12000", "metric": "kpi:Calls Made"},
        rid,
        acting=office.ada,
    )
    (rule,) = list_rules(office.db)
    assert (rule.key, rule.metric, rule.threshold, rule.icon, rule.is_active, rule.earned) == (
        "first_10k",
        "kpi:Calls Made",
        Decimal("12000"),
        "trophy",
        True,
        0,
    )
