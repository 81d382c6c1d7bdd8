"""Leaderboards and team cards (app/services/kpis/leaderboard.py, SPEC §8, §12) on SQLite and
PostgreSQL: competition ranks and medals (none for a value of 0), conversion only for people
with leads, who sees whom, team cards and ``report leaderboard``'s JSON.

October 2025. Producers (agents and brokers): Ann Avery (North) revenue 1,000 from a closed
escrow plus a deal won without commission: 2 orders, 4 leads; Ben Baker (North) a deal won
with 1,000 confirmed commission: 1 order, 3 leads; Cat Cole (South) an escrow, 500.50, no
lead; Bo Broker 1 lead; Dan Dale (North) and Eve Ely (East) nothing. Mia, North's manager,
closed an escrow of her own (9,999) but managers are not ranked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from app.services.database import Database
from app.services.kpis.leaderboard import Leaderboards, TeamCard, leaderboard_json, leaderboards
from tests.services.kpis.test_definitions import Shop

OCT = (dt.date(2025, 10, 1), dt.date(2025, 10, 31))


@dataclass
class Office:
    shop: Shop
    ids: dict[str, int]

    @property
    def db(self) -> Database:
        return self.shop.db

    def email(self, name: str) -> str:
        return self.shop.emails[self.ids[name]]

    def boards(self, who: str) -> Leaderboards:
        return leaderboards(self.db, *OCT, acting=self.email(who))


@pytest.fixture
def office(db: Database) -> Office:
    shop = Shop(db)
    bo = shop.person("Bo", "Broker", role="broker")
    ids = {
        "bo": bo,
        "ada": shop.person("Ada", "Admin", role="admin", broker=bo),
        "mia": shop.person("Mia", "Manager", role="manager", broker=bo),
        "sam": shop.person("Sam", "Stone", role="manager", broker=bo),
        "ann": shop.person("Ann", "Avery", broker=bo),
        "ben": shop.person("Ben", "Baker", broker=bo),
        "cat": shop.person("Cat", "Cole", broker=bo),
        "dan": shop.person("Dan", "Dale", broker=bo),
        "eve": shop.person("Eve", "Ely", broker=bo),
        "zed": shop.person("Zed", "Zane", broker=bo),
    }
    ids["North"] = shop.team("North", ids["mia"], [ids["ann"], ids["ben"], ids["dan"], ids["zed"]])
    ids["South"] = shop.team("South", ids["sam"], [ids["cat"]])
    ids["East"] = shop.team("East", None, [ids["eve"]])
    shop.deactivate(ids["zed"])
    ann, ben = ids["ann"], ids["ben"]
    shop.closed_escrow(ann, "2025-10-05T15:00:00", "1000")
    shop.deal(ann, "2025-09-01T09:00:00", closed=dt.date(2025, 10, 9))
    for day in (1, 2, 3, 4):
        shop.lead(ann, f"2025-10-0{day}T09:00:00")
    won = shop.deal(ben, "2025-09-01T09:00:00", closed=dt.date(2025, 10, 31))
    shop.commission(won, ben, "1000")
    for day in (1, 2, 3):
        shop.lead(ben, f"2025-10-0{day}T09:00:00")
    shop.closed_escrow(ids["cat"], "2025-10-31T23:59:59", "500.50")
    shop.closed_escrow(ids["cat"], "2025-11-01T00:00:00", "7000")  # November
    shop.lead(bo, "2025-10-10T09:00:00")
    shop.closed_escrow(ids["mia"], "2025-10-10T09:00:00", "9999")
    shop.closed_escrow(ids["zed"], "2025-10-10T09:00:00", "9999")  # has left
    return Office(shop, ids)


def places(board: Leaderboards, key: str) -> list[tuple[int, str, Decimal, str | None]]:
    return [(p.rank, p.name, p.value, p.medal) for p in board.boards[key]]


def test_ties_share_a_rank_and_the_next_rank_is_skipped(office: Office) -> None:
    board = office.boards("ada")

    assert places(board, "by_revenue") == [
        (1, "Ann Avery", Decimal("1000.00"), "gold"),
        (1, "Ben Baker", Decimal("1000.00"), "gold"),
        (3, "Cat Cole", Decimal("500.50"), "bronze"),
        (4, "Bo Broker", Decimal("0.00"), None),
        (4, "Dan Dale", Decimal("0.00"), None),
        (4, "Eve Ely", Decimal("0.00"), None),
    ]
    assert places(board, "by_orders") == [
        (1, "Ann Avery", Decimal("2"), "gold"),
        (2, "Ben Baker", Decimal("1"), "silver"),
        (2, "Cat Cole", Decimal("1"), "silver"),
        (4, "Bo Broker", Decimal("0"), None),
        (4, "Dan Dale", Decimal("0"), None),
        (4, "Eve Ely", Decimal("0"), None),
    ]
    assert (board.start, board.end) == OCT


def test_conversion_ranks_only_people_with_leads(office: Office) -> None:
    board = office.boards("ada")

    assert places(board, "by_conversion") == [
        (1, "Ann Avery", Decimal("50.00"), "gold"),
        (2, "Ben Baker", Decimal("33.33"), "silver"),  # rounded to 2 decimals
        (3, "Bo Broker", Decimal("0.00"), None),  # no medal for nothing
    ]


def test_each_person_sees_whom_they_may_read(office: Office) -> None:
    def names(who: str) -> list[str]:
        return [p.name for p in office.boards(who).boards["by_revenue"]]

    assert names("ann") == ["Ann Avery"]
    assert places(office.boards("ann"), "by_revenue") == [
        (1, "Ann Avery", Decimal("1000.00"), "gold")
    ]
    assert places(office.boards("cat"), "by_conversion") == []
    assert names("mia") == ["Ann Avery", "Ben Baker", "Dan Dale"]
    assert places(office.boards("mia"), "by_revenue")[2] == (
        3,
        "Dan Dale",
        Decimal("0.00"),
        None,  # third, but no medal for nothing
    )
    assert names("bo") == ["Ann Avery", "Ben Baker", "Cat Cole", "Bo Broker", "Dan Dale", "Eve Ely"]


def test_team_cards_sum_the_members_and_name_the_top_performer(office: Office) -> None:
    assert office.boards("ada").teams == (
        TeamCard(office.ids["East"], "East", 1, Decimal("0.00"), 0, 0, None, None, None),
        TeamCard(
            office.ids["North"],
            "North",
            3,
            Decimal("2000.00"),
            3,
            7,
            Decimal("42.86"),
            "Ann Avery",  # tied with Ben: by name
            Decimal("1000.00"),
        ),
        TeamCard(
            office.ids["South"],
            "South",
            1,
            Decimal("500.50"),
            1,
            0,
            None,
            "Cat Cole",
            Decimal("500.50"),
        ),
    )
    (north,) = office.boards("mia").teams
    assert (north.team, north.members, north.revenue) == ("North", 3, Decimal("2000.00"))


def test_leaderboard_json_has_the_shape_of_spec_12(office: Office) -> None:
    shown = leaderboard_json(office.boards("mia"))

    assert shown == {
        "by_revenue": [
            {"rank": 1, "email": "ann.avery@kpi.example", "value": "1000.00", "medal": "gold"},
            {"rank": 1, "email": "ben.baker@kpi.example", "value": "1000.00", "medal": "gold"},
            {"rank": 3, "email": "dan.dale@kpi.example", "value": "0.00", "medal": None},
        ],
        "by_orders": [
            {"rank": 1, "email": "ann.avery@kpi.example", "value": 2, "medal": "gold"},
            {"rank": 2, "email": "ben.baker@kpi.example", "value": 1, "medal": "silver"},
            {"rank": 3, "email": "dan.dale@kpi.example", "value": 0, "medal": None},
        ],
        "by_conversion": [
            {"rank": 1, "email": "ann.avery@kpi.example", "value": 50.0, "medal": "gold"},
            {"rank": 2, "email": "ben.baker@kpi.example", "value": 33.33, "medal": "silver"},
        ],
    }
    assert [type(p["value"]) for p in shown["by_orders"]] == [int, int, int]
