"""Goals (app/services/kpis/goals.py, SPEC §8, §12) on SQLite and PostgreSQL: progress computed
from the records for a person and a team, SPEC §8's statuses, finalising after the period,
custom goals, the goal.achieved notifications (once), setting goals and ``report goals``.

October 2025, looked at on the 20th. Mia manages North (Ann Avery, Ben Baker; Dan Dale has
left); Sam manages South.
- Ann: 3 leads in October, the last at 23:59:59 on the 20th (and one on 30 September);
  deals created 2 and 5 October, the first won on the 10th with a confirmed commission of
  1,500.50 (and Ben's pending one of 100), a deal created in September lost on 12 October;
  an escrow closed on 5 October, commission 2,000.25. Revenue 3,500.75, orders 2, leads 3,
  opportunities 2, conversion 66.6667 %.
- Ben: 1 lead; an escrow closed on 8 October, commission 499.25: orders 1, conversion 100 %.
- Dan (inactive): an escrow closed in October, 1,000 — not in North's figures.
North: revenue 4,000.00, orders 3, leads 4, opportunities 2, conversion 75 %.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.db.models.goals import Goal
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.services.database import Database
from app.services.kpis.goals import (
    GoalError,
    GoalRefresh,
    goals_json,
    list_goals,
    refresh_goals,
    save_goal,
)
from tests.services.kpis.test_definitions import Shop

OCT = (dt.date(2025, 10, 1), dt.date(2025, 10, 31))
TODAY = dt.date(2025, 10, 20)
AFTER = dt.date(2025, 11, 2)


@dataclass
class Office:
    shop: Shop
    ada: int
    mia: int
    sam: int
    bo: int
    ann: int
    ben: int
    north: int
    south: int

    @property
    def db(self) -> Database:
        return self.shop.db

    def email(self, uid: int) -> str:
        return self.shop.emails[uid]

    def goal(
        self,
        kind: str,
        target: str,
        user: int | None = None,
        team: int | None = None,
        current: str = "0",
        period: tuple[dt.date, dt.date] = OCT,
    ) -> int:
        return self.shop.add(
            Goal(
                user_id=user,
                team_id=team,
                goal_type=kind,
                period_type="monthly",
                period_start=period[0],
                period_end=period[1],
                target_value=Decimal(target),
                current_value=Decimal(current),
                status="at_risk",
            )
        )

    def refresh(self, as_of: dt.date = TODAY) -> GoalRefresh:
        with self.db.session() as s:
            return refresh_goals(s, as_of)

    def state(self, gid: int) -> tuple[Decimal, Decimal | None, str, bool]:
        (row,) = [g for g in list_goals(self.db, acting=self.email(self.ada)) if g.id == gid]
        return row.current_value, row.achievement_pct, row.status, row.finalized


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
    north = shop.team("North", mia, [ann, ben, dan], broker=bo)
    south = shop.team("South", sam, [], broker=bo)
    shop.deactivate(dan)

    for created in ("2025-10-01T00:00:00", "2025-10-09T12:00:00", "2025-10-20T23:59:59"):
        shop.lead(ann, created)
    shop.lead(ann, "2025-09-30T23:59:59")
    won = shop.deal(ann, "2025-10-02T09:00:00", closed=dt.date(2025, 10, 10))
    shop.commission(won, ann, "1500.50")
    shop.commission(won, ben, "100", status="pending")
    shop.deal(ann, "2025-10-05T09:00:00")
    shop.deal(ann, "2025-09-01T09:00:00", closed=dt.date(2025, 10, 12), lost=True)
    shop.closed_escrow(ann, "2025-10-05T15:00:00", "2000.25")
    shop.lead(ben, "2025-10-03T10:00:00")
    shop.closed_escrow(ben, "2025-10-08T15:00:00", "499.25")
    shop.closed_escrow(dan, "2025-10-08T15:00:00", "1000")
    return Office(shop, ada, mia, sam, bo, ann, ben, north, south)


# -- computing ------------------------------------------------------------------------------------


def test_progress_is_computed_from_the_records_for_people_and_teams(office: Office) -> None:
    ann, north = office.ann, office.north
    goals = {
        "revenue": office.goal("revenue", "7001.50", user=ann),
        "orders": office.goal("orders", "2", user=ann),
        "leads": office.goal("leads", "4", user=ann),
        "opportunities": office.goal("opportunities", "5", user=ann),
        "conversion": office.goal("conversion_rate", "80", user=ann),
        "team revenue": office.goal("revenue", "8000", team=north),
        "team orders": office.goal("orders", "3", team=north),
        "team leads": office.goal("leads", "8", team=north),
        "team opportunities": office.goal("opportunities", "1", team=north),
        "team conversion": office.goal("conversion_rate", "150", team=north),
    }

    done = office.refresh()

    assert {k: office.state(g)[:3] for k, g in goals.items()} == {
        "revenue": (Decimal("3500.75"), Decimal("50.00"), "behind"),
        "orders": (Decimal("2"), Decimal("100.00"), "achieved"),
        "leads": (Decimal("3"), Decimal("75.00"), "on_track"),
        "opportunities": (Decimal("2"), Decimal("40.00"), "at_risk"),
        "conversion": (Decimal("66.6667"), Decimal("83.33"), "on_track"),
        "team revenue": (Decimal("4000"), Decimal("50.00"), "behind"),
        "team orders": (Decimal("3"), Decimal("100.00"), "achieved"),
        "team leads": (Decimal("4"), Decimal("50.00"), "behind"),
        "team opportunities": (Decimal("2"), Decimal("200.00"), "achieved"),
        "team conversion": (Decimal("75"), Decimal("50.00"), "behind"),
    }
    assert (done.updated, done.finalized, done.achieved) == (10, 0, 3)


def test_status_thresholds_while_open_and_when_the_period_ends(office: Office) -> None:
    targets = ["2.99", "3", "4", "4.01", "6", "6.01"]
    goals = [office.goal("leads", t, user=office.ann) for t in targets]  # Ann has 3 leads

    office.refresh()

    assert [office.state(g)[1:] for g in goals] == [
        (Decimal("100.33"), "achieved", False),
        (Decimal("100.00"), "achieved", False),
        (Decimal("75.00"), "on_track", False),
        (Decimal("74.81"), "behind", False),
        (Decimal("50.00"), "behind", False),
        (Decimal("49.92"), "at_risk", False),
    ]

    office.refresh(AFTER)

    assert [office.state(g)[2:] for g in goals] == [
        ("achieved", True),
        ("achieved", True),
        ("missed", True),
        ("missed", True),
        ("missed", True),
        ("missed", True),
    ]


def test_a_finalised_goal_is_never_recomputed(office: Office) -> None:
    gid = office.goal("revenue", "5000", user=office.ann)
    december = (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    future = office.goal("revenue", "5000", user=office.ann, current="5", period=december)

    first = office.refresh(AFTER)
    office.shop.closed_escrow(office.ann, "2025-10-20T15:00:00", "2000")
    second = office.refresh(AFTER + dt.timedelta(days=1))

    assert (first.finalized, second.finalized, second.updated) == (1, 0, 0)
    assert office.state(gid) == (Decimal("3500.75"), Decimal("70.02"), "missed", True)
    # a goal whose period has not begun is left alone
    assert office.state(future) == (Decimal("5"), Decimal("0.10"), "at_risk", False)


def test_a_custom_goal_keeps_its_entered_value(office: Office) -> None:
    gid = office.goal("custom", "10", user=office.ann, current="7")

    office.refresh()
    assert office.state(gid) == (Decimal("7"), Decimal("70.00"), "behind", False)

    office.refresh(AFTER)
    assert office.state(gid) == (Decimal("7"), Decimal("70.00"), "missed", True)


def test_a_rate_with_no_leads_counts_as_0_and_is_missed_at_the_end(office: Office) -> None:
    gid = office.goal("conversion_rate", "10", team=office.south)

    office.refresh()
    assert office.state(gid) == (Decimal("0"), Decimal("0.00"), "at_risk", False)
    office.refresh(AFTER)
    assert office.state(gid)[2:] == ("missed", True)


# -- goal.achieved --------------------------------------------------------------------------------


def test_reaching_100_tells_the_person_and_the_manager_once(office: Office) -> None:
    gid = office.goal("revenue", "3000", user=office.ann)
    office.goal("revenue", "9000", user=office.ben)

    first = office.refresh()
    second = office.refresh()
    office.refresh(AFTER)  # finalised achieved: nothing new to say

    title = "Ann Avery reached the revenue goal (2025-10-01 to 2025-10-31)"
    assert office.shop.notes("goal.achieved") == [
        (office.ann, gid, title),
        (office.mia, gid, title),
    ]
    assert (first.achieved, first.notified) == (1, 2)
    assert (second.achieved, second.notified) == (0, 0)


def test_a_team_goal_reaching_100_tells_its_manager_and_active_members(office: Office) -> None:
    gid = office.goal("orders", "3", team=office.north)

    done = office.refresh()

    notes = office.shop.notes("goal.achieved")
    assert sorted(r for r, _g, _t in notes) == sorted([office.ann, office.ben, office.mia])
    assert {(g, t) for _r, g, t in notes} == {
        (gid, "North reached the orders goal (2025-10-01 to 2025-10-31)")
    }
    assert done.notified == 3
    assert office.refresh().notified == 0


# -- setting goals --------------------------------------------------------------------------------


def form(office: Office, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "user_id": office.ann,
        "goal_type": "revenue",
        "period_type": "monthly",
        "period_start": "2025-10-15",
        "target_value": "7001.50",
        "description": " October push ",
    }
    values.update(kw)
    return values


def test_save_goal_aligns_the_period_and_computes_progress_at_once(office: Office) -> None:
    mia = office.email(office.mia)
    monthly = save_goal(office.db, form(office), acting=mia, today=TODAY)
    weekly = save_goal(office.db, form(office, period_type="weekly"), acting=mia, today=TODAY)
    quarterly = save_goal(
        office.db,
        form(office, period_type="quarterly", period_start=dt.date(2025, 11, 30)),
        acting=mia,
        today=TODAY,
    )

    rows = {g.id: g for g in list_goals(office.db, acting=mia)}
    assert (rows[monthly].period_start, rows[monthly].period_end) == OCT
    assert (rows[weekly].period_start, rows[weekly].period_end) == (
        dt.date(2025, 10, 13),
        dt.date(2025, 10, 19),
    )
    assert (rows[quarterly].period_start, rows[quarterly].period_end) == (
        dt.date(2025, 10, 1),
        dt.date(2025, 12, 31),
    )
    g = rows[monthly]
    assert (g.current_value, g.achievement_pct, g.status, g.description) == (
        Decimal("3500.75"),
        Decimal("50.00"),
        "behind",
        "October push",
    )
    assert rows[weekly].current_value == Decimal("0")  # nothing closed 13–19 October


def test_save_goal_refuses_a_target_of_0_or_less_and_bad_fields(office: Office) -> None:
    mia = office.email(office.mia)
    for values, errors in (
        ({"target_value": "0"}, {"target_value": "must be more than 0"}),
        ({"target_value": "-5"}, {"target_value": "must be more than 0"}),
        ({"target_value": ""}, {"target_value": "required"}),
        ({"goal_type": "profit"}, {"goal_type": "choose what the goal counts"}),
        ({"period_type": "fortnightly"}, {"period_type": "choose a period"}),
        ({"period_start": "15/10/2025"}, {"period_start": "not a date (YYYY-MM-DD)"}),
        ({"user_id": None}, {"user_id": "choose a person or a team"}),
    ):
        with pytest.raises(GoalError) as caught:
            save_goal(office.db, form(office, **values), acting=mia, today=TODAY)
        assert caught.value.errors == errors, values

    assert office.shop.count(Goal) == 0


def test_a_second_goal_for_the_same_person_type_and_period_is_refused(office: Office) -> None:
    mia = office.email(office.mia)
    first = save_goal(office.db, form(office), acting=mia, today=TODAY)
    with pytest.raises(GoalError) as caught:
        save_goal(office.db, form(office, period_start="2025-10-01"), acting=mia, today=TODAY)
    assert caught.value.errors == {
        "period_start": "there is a revenue goal for this period already; edit that one"
    }
    # Another type, another period, or the goal itself (an edit) is fine.
    save_goal(office.db, form(office, goal_type="orders"), acting=mia, today=TODAY)
    save_goal(office.db, form(office, period_start="2025-11-02"), acting=mia, today=TODAY)
    version = next(g.version for g in list_goals(office.db, acting=mia) if g.id == first)
    save_goal(office.db, form(office, target_value="9000"), first, version, mia, TODAY)
    assert office.shop.count(Goal) == 3


def test_only_the_teams_manager_or_an_admin_sets_goals(office: Office) -> None:
    for who in (office.ann, office.bo, office.sam):
        with pytest.raises(PermissionDenied):
            save_goal(office.db, form(office), acting=office.email(who), today=TODAY)
        with pytest.raises(PermissionDenied, match="North"):
            save_goal(
                office.db,
                form(office, user_id=None, team_id=office.north),
                acting=office.email(who),
                today=TODAY,
            )
    assert office.shop.count(Goal) == 0

    save_goal(
        office.db,
        form(office, user_id=None, team_id=office.north),
        acting=office.email(office.mia),
        today=TODAY,
    )
    save_goal(office.db, form(office), acting=office.email(office.ada), today=TODAY)
    assert office.shop.count(Goal) == 2


def test_changing_a_goal_checks_its_version_and_a_finalised_goal_is_final(office: Office) -> None:
    mia = office.email(office.mia)
    gid = save_goal(office.db, form(office), acting=mia, today=TODAY)
    version = next(g.version for g in list_goals(office.db, acting=mia) if g.id == gid)

    save_goal(
        office.db, form(office, target_value="3500.75"), gid, version, acting=mia, today=TODAY
    )
    with pytest.raises(ConflictError):
        save_goal(
            office.db, form(office, target_value="100"), gid, version, acting=mia, today=TODAY
        )
    assert office.state(gid)[2] == "achieved"

    office.refresh(AFTER)
    with pytest.raises(ValidationError, match="it is final"):
        save_goal(office.db, form(office, target_value="1"), gid, acting=mia, today=AFTER)


def test_a_custom_goal_saved_at_100_tells_the_person_and_the_manager(office: Office) -> None:
    gid = save_goal(
        office.db,
        form(office, goal_type="custom", target_value="10", current_value="12"),
        acting=office.email(office.mia),
        today=TODAY,
    )

    assert office.state(gid) == (Decimal("12"), Decimal("120.00"), "achieved", False)
    title = "Ann Avery reached the custom goal (2025-10-01 to 2025-10-31)"
    assert office.shop.notes("goal.achieved") == [
        (office.ann, gid, title),
        (office.mia, gid, title),
    ]


def test_a_goal_whose_target_is_lowered_to_the_value_tells_them(office: Office) -> None:
    mia = office.email(office.mia)
    gid = save_goal(office.db, form(office), acting=mia, today=TODAY)
    assert office.shop.notes("goal.achieved") == []

    save_goal(office.db, form(office, target_value="3500"), gid, acting=mia, today=TODAY)

    assert [r for r, _g, _t in office.shop.notes("goal.achieved")] == [office.ann, office.mia]


# -- reading --------------------------------------------------------------------------------------


def test_who_reads_which_goals(office: Office) -> None:
    mine = office.goal("leads", "3", user=office.ann)
    bens = office.goal("leads", "3", user=office.ben)
    team = office.goal("leads", "3", team=office.north)
    south = office.goal("leads", "3", team=office.south)

    def seen(who: int) -> set[int]:
        return {g.id for g in list_goals(office.db, acting=office.email(who))}

    assert seen(office.ann) == {mine, team}
    assert seen(office.mia) == {mine, bens, team}
    assert seen(office.ada) == {mine, bens, team, south}


def test_goals_json_has_the_shape_of_spec_12(office: Office) -> None:
    office.goal("revenue", "7001.5", user=office.ann)
    office.goal("conversion_rate", "100", team=office.north)
    office.goal("orders", "4", user=office.ben, period=(dt.date(2025, 9, 1), dt.date(2025, 9, 30)))
    office.refresh()

    shown = goals_json(list_goals(office.db, acting=office.email(office.ada)))

    assert shown == {
        "goals": [
            {
                "user_email": "ann.avery@kpi.example",
                "team": None,
                "goal_type": "revenue",
                "period_start": "2025-10-01",
                "period_end": "2025-10-31",
                "target_value": "7001.50",
                "current_value": "3500.75",
                "achievement_pct": 50.0,
                "status": "behind",
            },
            {
                "user_email": None,
                "team": "North",
                "goal_type": "conversion_rate",
                "period_start": "2025-10-01",
                "period_end": "2025-10-31",
                "target_value": 100.0,
                "current_value": 75.0,
                "achievement_pct": 75.0,
                "status": "on_track",
            },
            {
                "user_email": "ben.baker@kpi.example",
                "team": None,
                "goal_type": "orders",
                "period_start": "2025-09-01",
                "period_end": "2025-09-30",
                "target_value": 4.0,
                "current_value": 0.0,
                "achievement_pct": 0.0,
                "status": "missed",
            },
        ]
    }
    with office.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).where(Goal.finalized_at.is_not(None))) == 1
