"""Sales figures per person and period (app/services/kpis/sales.py, SPEC §8) on both backends:
each kind of record counted by its own date, the period's UTC boundaries, revenue from closed
escrows and earned commissions, the rates and their null cases, and exact money.

The period is March 2025: from 2025-03-01 00:00 UTC (included) to 2025-04-01 00:00 UTC
(excluded).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from decimal import Decimal
from typing import Any

import pytest

from app.db.models import Appointment, CommissionRecord, Deal, Escrow, Lead, User
from app.db.models.goals import ActivityEntry
from app.domain.enums import DealStage, DealStatus
from app.domain.money import quantize
from app.services.database import Database
from app.services.kpis.sales import (
    METRIC_KEYS,
    SalesFigures,
    bounds,
    sales_figures,
    team_figures,
)

START = dt.date(2025, 3, 1)
END = dt.date(2025, 3, 31)
_serial = itertools.count(1)


def at(text: str) -> dt.datetime:
    """A UTC time; text with its own offset keeps it (converted to UTC when stored)."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Office:
    """Builds the records sales figures are computed from (each in its own transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, obj: Any) -> int:
        with self.db.session() as s:
            s.add(obj)
            s.flush()
            return int(obj.id)

    def person(self, name: str, role: str = "agent") -> int:
        return self.add(
            User(email=f"{name}@example.com", first_name=name.title(), last_name="Test", role=role)
        )

    def lead(self, owner: int, created: str, status: str = "new", private: bool = False) -> int:
        return self.add(
            Lead(
                owner_id=owner,
                name=f"Lead {next(_serial)}",
                status=status,
                is_private=private,
                created_at=at(created),
            )
        )

    def deal(
        self,
        agent: int,
        created: str,
        stage: DealStage = DealStage.PROPOSAL,
        closed: dt.date | None = None,
    ) -> int:
        status = {
            DealStage.CLOSED_WON: DealStatus.CLOSED_WON,
            DealStage.CLOSED_LOST: DealStatus.CLOSED_LOST,
        }.get(stage, DealStatus.OPEN)
        return self.add(
            Deal(
                ref=f"T-{os.getpid()}-{next(_serial)}",
                agent_id=agent,
                title=f"{next(_serial)} Oak St",
                asset_type="single_family",
                deal_type="acquisition",
                pipeline_stage=stage,
                status=status,
                estimated_value_amount=Decimal("450000"),
                estimated_value_currency="USD",
                confidence=Decimal("0.5"),
                actual_close_date=closed,
                created_at=at(created),
            )
        )

    def won(self, agent: int, created: str, closed: dt.date) -> int:
        return self.deal(agent, created, DealStage.CLOSED_WON, closed)

    def commission(
        self,
        deal: int,
        agent: int,
        amount: str,
        status: str = "confirmed",
        ctype: str = "exclusive",
    ) -> int:
        disputed = status == "disputed"
        return self.add(
            CommissionRecord(
                deal_id=deal,
                agent_id=agent,
                commission_type=ctype,
                basis_amount=Decimal(amount),
                commission_rate=Decimal(1),
                commission_amount=Decimal(amount),
                status=status,
                disputed_from_status="confirmed" if disputed else None,
                dispute_reason="wrong split" if disputed else None,
                created_at=at("2025-03-01T12:00"),
            )
        )

    def escrow(
        self,
        agent: int,
        created: str,
        status: str = "Active",
        commission: str | None = "0",
        closed: str | None = None,
    ) -> int:
        return self.add(
            Escrow(
                agent_id=agent,
                property_address=f"{next(_serial)} Main St",
                purchase_price=Decimal("100000"),
                my_commission=None if commission is None else Decimal(commission),
                escrow_status=status,
                created_at=at(created),
                closed_at=None if closed is None else at(closed),
            )
        )

    def appointment(self, agent: int, start: str, status: str = "completed") -> int:
        return self.add(
            Appointment(agent_id=agent, title="Viewing", start_time=at(start), status=status)
        )

    def activity(
        self, user: int, kind: str, period_type: str, period_start: dt.date, count: int
    ) -> int:
        return self.add(
            ActivityEntry(
                user_id=user,
                activity_type=kind,
                period_type=period_type,
                period_start=period_start,
                count=count,
            )
        )


@pytest.fixture
def office(db: Database) -> Office:
    return Office(db)


def four(value: Decimal | None) -> Decimal:
    """A rate kept to 4 decimals, as a measurement keeps it."""
    assert value is not None
    return quantize(value, 4)


def figures(db: Database, user_ids: list[int] | None = None) -> dict[int, SalesFigures]:
    with db.read() as s:
        return sales_figures(s, START, END, user_ids)


# --------------------------------------------------------------------------- the period


def test_bounds_are_utc_midnights_of_the_inclusive_days() -> None:
    assert bounds(START, END) == (
        dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        dt.datetime(2025, 4, 1, tzinfo=dt.UTC),
    )
    assert bounds(dt.date(2024, 12, 31), dt.date(2024, 12, 31)) == (
        dt.datetime(2024, 12, 31, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    )


# --------------------------------------------------------------------------- leads


def test_leads_counted_per_owner_within_the_utc_boundaries(db: Database, office: Office) -> None:
    ann, bob = office.person("ann"), office.person("bob")
    office.lead(ann, "2025-03-01T00:00:00")  # first instant: in
    office.lead(ann, "2025-03-31T23:59:59.999999", status="converted")  # last instant: in
    office.lead(ann, "2025-03-15T10:00", status="converted", private=True)  # private: counted
    office.lead(ann, "2025-03-20T10:00", status="lost")
    office.lead(ann, "2025-02-28T23:59:59.999999", status="converted")  # the day before: out
    office.lead(ann, "2025-04-01T00:00:00", status="converted")  # the day after: out
    office.lead(ann, "2025-03-31T20:00:00-05:00")  # 2025-04-01 01:00 UTC: out
    office.lead(ann, "2025-03-01T02:00:00+05:00")  # 2025-02-28 21:00 UTC: out
    office.lead(bob, "2025-03-10T09:00", status="qualified")

    got = figures(db)

    assert set(got) == {ann, bob}
    assert (got[ann].leads, got[ann].converted_leads) == (4, 2)
    assert (got[bob].leads, got[bob].converted_leads) == (1, 0)
    assert got[ann].lead_conversion == Decimal(50)
    assert got[bob].lead_conversion == Decimal(0)


# --------------------------------------------------------------------------- deals


def test_deals_opportunities_won_lost_win_rate_and_cycle(db: Database, office: Office) -> None:
    ann, bob = office.person("ann"), office.person("bob")
    office.deal(ann, "2025-03-02T10:00")  # open, created in March: an opportunity
    office.deal(ann, "2025-03-31T23:59:59")  # created on the last instant: an opportunity
    office.deal(ann, "2025-04-01T00:00")  # created after: not
    office.deal(ann, "2025-02-28T23:59:59")  # created before: not
    office.won(ann, "2025-01-10T08:00", dt.date(2025, 3, 11))  # won in March, 60 days
    office.won(ann, "2025-03-05T23:30", dt.date(2025, 3, 31))  # created and won, 26 days
    office.won(ann, "2025-01-05T08:00", dt.date(2025, 4, 1))  # won after the period: not
    office.won(ann, "2025-01-05T08:00", dt.date(2025, 2, 28))  # won before: not
    office.deal(ann, "2025-02-01T08:00", DealStage.CLOSED_LOST, dt.date(2025, 3, 20))  # lost
    office.deal(ann, "2025-02-01T08:00", DealStage.CLOSED_LOST, dt.date(2025, 4, 2))  # not
    office.deal(bob, "2025-02-01T08:00", DealStage.CLOSED_LOST, dt.date(2025, 3, 1))

    got = figures(db)

    a = got[ann]
    assert a.opportunities == 3  # the two open ones and the deal created and won in March
    assert (a.deals_won, a.deals_lost) == (2, 1)
    assert four(a.win_rate) == Decimal("66.6667")
    assert a.cycle_days_total == 26 + 60
    assert a.avg_cycle_days == Decimal(43)
    b = got[bob]
    assert (b.opportunities, b.deals_won, b.deals_lost) == (0, 0, 1)
    assert b.win_rate == Decimal(0)
    assert b.avg_cycle_days is None  # nothing won: no cycle


def test_cycle_days_count_from_the_utc_date_of_creation(db: Database, office: Office) -> None:
    ann = office.person("ann")
    # 23:30 on 3 March at UTC-5 is 04:30 on 4 March UTC: 6 days to the 10th, not 7.
    office.won(ann, "2025-03-03T23:30:00-05:00", dt.date(2025, 3, 10))
    office.won(ann, "2025-03-07T12:00", dt.date(2025, 3, 7))  # the same day: 0

    got = figures(db)[ann]

    assert (got.deals_won, got.cycle_days_total) == (2, 0 + 6)
    assert got.avg_cycle_days == Decimal(3)


# --------------------------------------------------------------------------- escrows, revenue


def test_escrows_commissions_revenue_and_orders(db: Database, office: Office) -> None:
    ann, bob = office.person("ann"), office.person("bob")
    for when in ("2025-03-01T00:00", "2025-03-10T09:00", "2025-03-31T18:00"):
        office.lead(ann, when)
    office.lead(bob, "2025-03-10T09:00")

    # Escrows.
    office.escrow(ann, "2025-03-03T10:00")  # opened
    office.escrow(ann, "2025-03-04T10:00", status="Pending")  # opened
    office.escrow(ann, "2025-03-04T10:00", status="Cancelled")  # cancelled: not opened
    office.escrow(ann, "2025-02-27T10:00")  # opened before: not
    office.escrow(  # opened before, closed on the last instant: closed, 3000.10
        ann, "2025-02-10T10:00", "Closed", "3000.10", closed="2025-03-31T23:59:59.999999"
    )
    office.escrow(  # opened and closed in March: both, 1500.00
        ann, "2025-03-06T10:00", "Closed", "1500.00", closed="2025-03-25T10:00"
    )
    office.escrow(ann, "2025-02-10T10:00", "Closed", None, closed="2025-03-12T10:00")  # no money
    office.escrow(  # closed at the first instant after: not
        ann, "2025-02-10T10:00", "Closed", "9999.00", closed="2025-04-01T00:00"
    )
    office.escrow(  # a closing time on an escrow that is not Closed: not
        ann, "2025-02-10T10:00", "Pending", "8888.00", closed="2025-03-12T10:00"
    )

    # Commissions on deals won in March: confirmed, invoiced and paid count.
    won1 = office.won(ann, "2025-01-10T08:00", dt.date(2025, 3, 11))
    won2 = office.won(ann, "2025-03-05T08:00", dt.date(2025, 3, 31))
    office.commission(won1, ann, "1000.00", "confirmed", "exclusive")
    office.commission(won1, ann, "250.50", "invoiced", "introducer")
    office.commission(won1, ann, "999.00", "pending", "referral")  # not earned
    office.commission(won1, ann, "777.00", "disputed", "bonus")  # not earned
    office.commission(won1, ann, "666.00", "written_off", "co_broke")  # not earned
    office.commission(won2, ann, "100.25", "paid")
    office.commission(won2, bob, "300.00", "confirmed", "co_broke")  # bob's, on ann's deal
    lost = office.deal(ann, "2025-01-10T08:00", DealStage.CLOSED_LOST, dt.date(2025, 3, 12))
    office.commission(lost, ann, "5000.00")  # a lost deal: not revenue
    later = office.won(ann, "2025-01-10T08:00", dt.date(2025, 4, 1))
    office.commission(later, ann, "4000.00")  # won after the period: not
    still_open = office.deal(ann, "2025-01-10T08:00")
    office.commission(still_open, ann, "2000.00")  # not won: not

    got = figures(db)

    a = got[ann]
    assert (a.escrows_opened, a.escrows_closed) == (3, 3)
    assert (a.deals_won, a.deals_lost) == (2, 1)
    assert a.orders == 5
    # 3000.10 + 1500.00 (escrows) + 1000.00 + 250.50 + 100.25 (commissions)
    assert a.revenue == Decimal("5850.85")
    assert isinstance(a.revenue, Decimal)
    assert a.avg_deal_size == Decimal("1170.17")
    assert four(a.conversion_rate) == Decimal("166.6667")  # 5 orders over 3 leads
    b = got[bob]
    assert b.revenue == Decimal("300.00")  # his commission on the deal ann won
    assert (b.orders, b.escrows_closed, b.escrows_opened) == (0, 0, 0)
    assert b.avg_deal_size is None  # no orders
    assert b.conversion_rate == Decimal(0)  # one lead, no order


def test_conversion_rate_is_null_without_leads(db: Database, office: Office) -> None:
    ann = office.person("ann")
    office.escrow(ann, "2025-02-10T10:00", "Closed", "10.00", closed="2025-03-12T10:00")

    got = figures(db)[ann]

    assert (got.leads, got.orders) == (0, 1)
    assert got.conversion_rate is None
    assert got.lead_conversion is None
    assert got.avg_deal_size == Decimal("10.00")


def test_money_sums_exactly(db: Database, office: Office) -> None:
    ann, bob = office.person("ann"), office.person("bob")
    for _ in range(10):
        office.escrow(ann, "2025-02-10T10:00", "Closed", "0.10", closed="2025-03-12T10:00")
    for kind in ("exclusive", "introducer", "co_broke", "referral", "bonus"):
        for deal in (
            office.won(bob, "2025-02-01T08:00", dt.date(2025, 3, 2)),
            office.won(bob, "2025-02-01T08:00", dt.date(2025, 3, 3)),
        ):
            office.commission(deal, bob, "0.10", "paid", kind)

    got = figures(db)

    assert got[ann].revenue == Decimal("1.00")
    assert got[bob].revenue == Decimal("1.00")
    assert got[ann].avg_deal_size == Decimal("0.10")
    assert got[bob].avg_deal_size == Decimal("0.10")


# --------------------------------------------------------------------------- appointments


def test_appointments_by_start_time_and_show_rate(db: Database, office: Office) -> None:
    ann, bob = office.person("ann"), office.person("bob")
    office.appointment(ann, "2025-03-01T00:00", "completed")
    office.appointment(ann, "2025-03-20T10:00", "completed")
    office.appointment(ann, "2025-03-31T23:59:59", "no_show")
    office.appointment(ann, "2025-03-21T10:00", "scheduled")
    office.appointment(ann, "2025-03-22T10:00", "cancelled")
    office.appointment(ann, "2025-04-01T00:00", "completed")  # after: out
    office.appointment(ann, "2025-02-28T23:59:59", "no_show")  # before: out
    office.appointment(bob, "2025-03-05T10:00", "scheduled")

    got = figures(db)

    assert (got[ann].appointments_completed, got[ann].no_shows) == (2, 1)
    assert four(got[ann].show_rate) == Decimal("66.6667")
    assert (got[bob].appointments_completed, got[bob].no_shows) == (0, 0)
    assert got[bob].show_rate is None  # nothing completed or missed: no rate


# --------------------------------------------------------------------------- activities


def test_entered_activities_by_period_start(db: Database, office: Office) -> None:
    ann, bob = office.person("ann"), office.person("bob")
    office.activity(ann, "calls", "monthly", dt.date(2025, 3, 1), 40)
    office.activity(ann, "calls", "weekly", dt.date(2025, 3, 31), 5)  # starts in March
    office.activity(ann, "calls", "weekly", dt.date(2025, 2, 24), 7)  # starts before: out
    office.activity(ann, "emails", "daily", dt.date(2025, 3, 15), 12)
    office.activity(ann, "meetings", "daily", dt.date(2025, 4, 1), 3)  # after: out
    office.activity(bob, "meetings", "daily", dt.date(2025, 3, 1), 2)

    got = figures(db)

    assert (got[ann].calls, got[ann].emails, got[ann].meetings) == (45, 12, 0)
    assert (got[bob].calls, got[bob].emails, got[bob].meetings) == (0, 0, 2)


# --------------------------------------------------------------------------- people asked for


def test_people_asked_for_are_all_there_and_only_they(db: Database, office: Office) -> None:
    ann, bob, cat = office.person("ann"), office.person("bob"), office.person("cat")
    office.lead(ann, "2025-03-10T09:00")
    office.lead(bob, "2025-03-10T09:00", status="converted")
    office.escrow(ann, "2025-02-10T10:00", "Closed", "50.00", closed="2025-03-12T10:00")
    office.appointment(ann, "2025-03-20T10:00")
    office.activity(ann, "calls", "monthly", START, 4)

    everyone = figures(db)
    asked = figures(db, [bob, cat])
    nobody = figures(db, [])

    assert set(everyone) == {ann, bob}  # cat has no record: absent unless asked for
    assert set(asked) == {bob, cat}
    assert (asked[bob].leads, asked[bob].converted_leads) == (1, 1)
    c = asked[cat]
    assert c == SalesFigures(cat)
    assert c.revenue == Decimal(0) and isinstance(c.revenue, Decimal)
    assert (c.leads, c.orders, c.calls, c.appointments_completed) == (0, 0, 0, 0)
    assert (c.win_rate, c.conversion_rate, c.show_rate, c.avg_deal_size) == (None,) * 4
    assert c.avg_cycle_days is None
    assert nobody == {}


def test_metric_gives_every_key_as_a_decimal_or_none(db: Database, office: Office) -> None:
    ann = office.person("ann")
    office.lead(ann, "2025-03-10T09:00")
    office.won(ann, "2025-03-01T09:00", dt.date(2025, 3, 5))

    got = figures(db)[ann]

    values = {key: got.metric(key) for key in METRIC_KEYS}
    assert all(v is None or isinstance(v, Decimal) for v in values.values())
    assert values["leads"] == Decimal(1)
    assert values["orders"] == Decimal(1)
    assert values["avg_cycle_days"] == Decimal(4)
    assert values["conversion_rate"] == Decimal(100)
    assert values["show_rate"] is None
    assert values["revenue"] == Decimal(0)


def test_team_figures_sum_counts_and_recompute_rates() -> None:
    ann = SalesFigures(1, leads=3, deals_won=1, revenue=Decimal("10.10"), cycle_days_total=4)
    bob = SalesFigures(2, leads=1, deals_won=1, deals_lost=2, revenue=Decimal("0.90"))
    bob.cycle_days_total += 8

    team = team_figures([ann, bob], user_id=7)

    assert team.user_id == 7
    assert (team.leads, team.orders, team.deals_won, team.deals_lost) == (4, 2, 2, 2)
    assert team.revenue == Decimal("11.00")
    assert team.conversion_rate == Decimal(50)
    assert team.win_rate == Decimal(50)
    assert team.avg_cycle_days == Decimal(6)
    assert ann.cycle_days_total == 4  # the people's own figures are not changed
