"""The dashboard's own reads (app/services/dashboard.py), on both backends: the recent activity
feed and who sees which entries (SPEC §1), My Business, the overview's open escrows, and the
whole page's load.

The office is built by hand; "as of" is 22 October 2025 (a Wednesday), i.e. up to
2025-10-23 00:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import make_url

from app.db.models import Appointment, Client, Escrow, Lead, Listing, Team, User
from app.domain.errors import PermissionDenied, ValidationError
from app.services import dashboard
from app.services.dashboard import (
    NO_SOURCE,
    DashboardRequest,
    SourceCount,
    business_owner,
    my_business,
    open_escrows,
    range_days,
    recent_activity,
    week_of,
    ytd_days,
)
from app.services.database import Database, open_database
from app.services.records import RecordKind
from app.services.users import add_user

AS_OF = dt.date(2025, 10, 22)  # a Wednesday
END = dt.datetime(2025, 10, 23, tzinfo=dt.UTC)
WEEK = week_of(AS_OF)  # Monday 20 October to Monday 27 October, UTC
_ids = itertools.count(1)


def at(text: str, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(hour=hour, minute=minute, tzinfo=dt.UTC)


class Office:
    """People and records through the ORM models, one short transaction each."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _add(self, obj: Any) -> int:
        with self.db.session() as s:
            s.add(obj)
            s.flush()
            return int(obj.id)

    def person(
        self,
        name: str,
        role: str = "agent",
        broker: int | None = None,
        team: int | None = None,
        active: bool = True,
    ) -> int:
        first, _, last = name.partition(" ")
        return self._add(
            User(
                email=f"{first}.{last}@example.com".lower(),
                first_name=first,
                last_name=last,
                role=role,
                broker_id=broker,
                team_id=team,
                is_active=active,
            )
        )

    def team(self, name: str, broker: int, manager: int | None = None) -> int:
        return self._add(Team(name=name, broker_id=broker, manager_id=manager))

    def lead(
        self,
        owner: int,
        created: dt.datetime,
        source: str | None = "Zillow",
        private: bool = True,
        status: str = "new",
    ) -> int:
        return self._add(
            Lead(
                owner_id=owner,
                name=f"Lead {next(_ids)}",
                source=source,
                status=status,
                is_private=private,
                created_at=created,
            )
        )

    def appointment(
        self,
        agent: int,
        start: dt.datetime,
        title: str = "Viewing",
        status: str = "scheduled",
        private: bool = True,
        location: str | None = "456 Oak St",
    ) -> int:
        return self._add(
            Appointment(
                agent_id=agent,
                title=title,
                start_time=start,
                end_time=start + dt.timedelta(hours=1),
                status=status,
                location=location,
                is_private=private,
                created_at=start - dt.timedelta(days=3),
            )
        )

    def escrow(
        self,
        agent: int,
        created: dt.datetime,
        status: str = "Active",
        price: str = "450000",
        commission: str | None = "13500",
        address: str | None = None,
    ) -> int:
        return self._add(
            Escrow(
                agent_id=agent,
                property_address=address or f"{next(_ids)} Main St",
                purchase_price=Decimal(price),
                my_commission=None if commission is None else Decimal(commission),
                escrow_status=status,
                created_at=created,
                closed_at=created + dt.timedelta(days=30) if status == "Closed" else None,
            )
        )

    def client(
        self,
        agent: int,
        created: dt.datetime,
        status: str = "active",
        name: str | None = None,
        source: str | None = "Referral",
    ) -> int:
        return self._add(
            Client(
                agent_id=agent,
                name=name or f"Client {next(_ids)}",
                source=source,
                status=status,
                created_at=created,
            )
        )

    def listing(
        self,
        agent: int,
        created: dt.datetime,
        status: str = "active",
        price: str = "575000",
        address: str | None = None,
    ) -> int:
        return self._add(
            Listing(
                agent_id=agent,
                address=address or f"{next(_ids)} Oak Ave",
                list_price=Decimal(price),
                status=status,
                created_at=created,
            )
        )


@pytest.fixture
def office(db: Database) -> Office:
    return Office(db)


JOSH = "josh.riley@example.com"
JAYDEN = "jayden.metz@example.com"
COLE = "cole.rangel@example.com"
MARIA = "maria.delgado@example.com"
PAM = "pam.ochoa@example.com"
OTTO = "otto.other@example.com"
OLGA = "olga.other@example.com"


def two_brokerages(office: Office) -> dict[str, int]:
    """Josh's brokerage (team Central managed by Maria: Jayden; Cole without a team; admin
    Pam) and Otto's (agent Olga)."""
    josh = office.person("Josh Riley", "broker")
    maria = office.person("Maria Delgado", "manager", broker=josh)
    central = office.team("Central", josh, maria)
    ids = {
        "josh": josh,
        "maria": maria,
        "jayden": office.person("Jayden Metz", broker=josh, team=central),
        "cole": office.person("Cole Rangel", broker=josh),
        "pam": office.person("Pam Ochoa", "admin", broker=josh),
        "otto": office.person("Otto Other", "broker"),
    }
    ids["olga"] = office.person("Olga Other", broker=ids["otto"])
    return ids


# ---------------------------------------------------------------------------- periods


def test_year_to_date_and_custom_ranges_are_whole_days() -> None:
    assert ytd_days(dt.date(2025, 1, 1)) == 1
    assert ytd_days(AS_OF) == 295
    assert ytd_days(dt.date(2024, 12, 31)) == 366  # a leap year
    assert range_days(dt.date(2025, 10, 1), AS_OF) == 22
    assert range_days(AS_OF, AS_OF) == 1
    with pytest.raises(ValidationError, match=r"ends .* before it starts"):
        range_days(AS_OF, dt.date(2025, 10, 1))


def test_this_week_is_monday_to_monday_in_the_given_time_zone() -> None:
    assert (at("2025-10-20", 0), at("2025-10-27", 0)) == WEEK
    assert week_of(dt.date(2025, 10, 20)) == WEEK  # a Monday starts its own week
    assert week_of(dt.date(2025, 10, 26)) == WEEK  # and Sunday ends it
    la = week_of(AS_OF, ZoneInfo("America/Los_Angeles"))
    assert la == (at("2025-10-20", 7), at("2025-10-27", 7))  # midnight in California, in UTC


# ---------------------------------------------------------------------------- the feed


def test_feed_lists_escrows_clients_and_listings_newest_first(db: Database, office: Office) -> None:
    ids = two_brokerages(office)
    jayden, cole = ids["jayden"], ids["cole"]
    office.escrow(jayden, at("2025-10-20", 9), price="450000", address="123 Main St")
    office.client(cole, at("2025-10-21", 9), name="Sarah Johnson", source="Referral")
    office.listing(jayden, at("2025-10-22", 9), price="575000", address="456 Oak Ave")
    office.lead(jayden, at("2025-10-22", 10), private=False)  # never in the feed
    office.appointment(jayden, at("2025-10-22", 11), private=False)  # nor this

    feed = recent_activity(db, acting=PAM)

    assert [(e.kind, e.subject) for e in feed] == [
        (RecordKind.LISTINGS, "456 Oak Ave"),
        (RecordKind.CLIENTS, "Sarah Johnson"),
        (RecordKind.ESCROWS, "123 Main St"),
    ]
    listing, client, escrow = feed
    assert (listing.agent_name, listing.agent_email, listing.price) == (
        "Jayden Metz",
        JAYDEN,
        Decimal("575000.00"),
    )
    assert (client.agent_name, client.price, client.detail) == ("Cole Rangel", None, "Referral")
    assert (escrow.price, escrow.status, escrow.created_at) == (
        Decimal("450000.00"),
        "Active",
        at("2025-10-20", 9),
    )


def test_feed_keeps_only_the_newest_and_nothing_after_as_of(db: Database, office: Office) -> None:
    ids = two_brokerages(office)
    for i in range(6):
        office.escrow(ids["jayden"], at("2025-10-01", 9) + dt.timedelta(days=i))
        office.client(ids["cole"], at("2025-10-01", 10) + dt.timedelta(days=i))
    office.listing(ids["cole"], at("2025-10-23", 1))  # after the end of AS_OF

    feed = recent_activity(db, limit=5, acting=PAM, as_of=AS_OF)

    assert len(feed) == 5
    assert [e.created_at for e in feed] == sorted((e.created_at for e in feed), reverse=True)
    assert feed[0].created_at == at("2025-10-06", 10)
    assert all(e.created_at < END for e in feed)
    assert recent_activity(db, 1, PAM)[0].kind is RecordKind.LISTINGS  # without as_of


def feed_agents(db: Database, acting: str | None) -> set[str]:
    return {e.agent_email for e in recent_activity(db, acting=acting)}


def test_feed_shows_what_spec_1_lets_each_person_see(db: Database, office: Office) -> None:
    ids = two_brokerages(office)
    for who in ("josh", "maria", "jayden", "cole", "otto", "olga"):
        office.escrow(ids[who], at("2025-10-10", 9))
        office.client(ids[who], at("2025-10-11", 9))
        office.listing(ids[who], at("2025-10-12", 9))

    everyone = {JOSH, MARIA, JAYDEN, COLE, OTTO, OLGA}
    assert feed_agents(db, JOSH) == {JOSH, MARIA, JAYDEN, COLE}  # own and their agents'
    assert feed_agents(db, MARIA) == {MARIA, JAYDEN}  # own and her team's
    assert feed_agents(db, COLE) == {COLE}  # an agent: only their own
    assert feed_agents(db, OTTO) == {OTTO, OLGA}  # another brokerage stays apart
    assert feed_agents(db, PAM) == everyone  # an admin sees all
    if db.is_local:
        assert feed_agents(db, None) == everyone  # the one local person
    with pytest.raises(PermissionDenied, match=r"nobody@example\.com"):
        recent_activity(db, acting="nobody@example.com")


# ---------------------------------------------------------------------------- my business


def test_my_business_groups_own_leads_by_source(db: Database, office: Office) -> None:
    ids = two_brokerages(office)
    josh = ids["josh"]
    for _ in range(3):
        office.lead(josh, at("2025-05-01"), "Zillow")
    office.lead(josh, at("2025-10-20"), "Zillow", status="converted")  # new in 30 d
    office.lead(josh, at("2025-10-01"), "Referral", private=False)  # his, though public
    office.lead(josh, at("2025-06-01"), None)
    office.lead(josh, at("2025-06-02"), "  ")
    office.lead(josh, at("2025-10-23", 1), "Zillow")  # after AS_OF
    office.lead(ids["jayden"], at("2025-10-20"), "Zillow")  # an agent's: not his business

    b = my_business(db, AS_OF, 30, acting=JOSH, week=WEEK)

    assert b.person.email == JOSH and b.person.role == "broker"
    assert b.sources == (
        SourceCount("Zillow", total=4, new=1, private=4),
        SourceCount(NO_SOURCE, total=2, new=0, private=2),
        SourceCount("Referral", total=1, new=1, private=0),
    )
    assert (b.leads_total, b.leads_new, b.leads_private, b.leads_converted) == (7, 2, 6, 1)
    assert my_business(db, AS_OF, 7, acting=JOSH, week=WEEK).leads_new == 1


def test_my_business_lists_this_weeks_appointments_in_order(db: Database, office: Office) -> None:
    ids = two_brokerages(office)
    josh = ids["josh"]
    tue = office.appointment(josh, at("2025-10-21", 14), "Buyer consultation — Mike", "scheduled")
    mon = office.appointment(josh, at("2025-10-20", 10), "Sarah: viewing 456 Oak St", "completed")
    sun = office.appointment(josh, at("2025-10-26", 18), "Open house", private=False)
    office.appointment(josh, at("2025-10-22", 9), "Called off", "cancelled")
    office.appointment(josh, at("2025-10-19", 23), "Last week")
    office.appointment(josh, at("2025-10-27", 0), "Next week")
    office.appointment(ids["jayden"], at("2025-10-21", 9), "Jayden's")

    b = my_business(db, AS_OF, 30, acting=JOSH, week=WEEK)

    assert [a.id for a in b.appointments] == [mon, tue, sun]
    first = b.appointments[0]
    assert (first.title, first.location, first.status, first.is_private) == (
        "Sarah: viewing 456 Oak St",
        "456 Oak St",
        "completed",
        True,
    )
    assert first.start_time == at("2025-10-20", 10)
    assert b.appointments_scheduled == 2
    assert (b.week_start, b.week_end) == WEEK
    assert my_business(db, AS_OF, 30, acting=JOSH).week_start == WEEK[0]  # the default week


def test_my_business_production_is_own_and_year_to_date(db: Database, office: Office) -> None:
    ids = two_brokerages(office)
    josh = ids["josh"]
    office.escrow(josh, at("2025-02-01"), "Closed", "400000", "12000")
    office.escrow(josh, at("2025-09-01"), "Pending", "450000.10", "13500.05")
    office.escrow(josh, at("2025-09-02"), "Cancelled", "999999")
    office.escrow(josh, at("2024-12-31", 23), "Closed", "777777")  # last year
    office.escrow(josh, at("2025-10-23", 1), "Active", "888888")  # after AS_OF
    office.escrow(ids["jayden"], at("2025-05-01"), "Closed", "555555")  # his agent's
    office.client(josh, at("2024-03-01"))
    office.client(josh, at("2025-03-01"), "inactive")
    office.listing(josh, at("2025-01-05"))
    office.listing(josh, at("2025-01-06"), "sold")

    b = my_business(db, AS_OF, 30, acting=JOSH, week=WEEK)

    assert (b.escrows_ytd, b.volume_ytd, b.commission_ytd) == (
        2,
        Decimal("850000.10"),
        Decimal("25500.05"),
    )
    assert (b.active_clients, b.active_listings) == (1, 1)


def test_my_business_of_someone_with_nothing_is_zeros(db: Database, office: Office) -> None:
    two_brokerages(office)
    b = my_business(db, AS_OF, 30, acting=COLE, week=WEEK)
    assert b.sources == () and b.appointments == ()
    assert (b.leads_total, b.escrows_ytd, b.volume_ytd, b.active_clients) == (
        0,
        0,
        Decimal("0.00"),
        0,
    )


def test_my_business_needs_a_person(db: Database, office: Office) -> None:
    two_brokerages(office)
    if db.is_local:
        with pytest.raises(ValidationError, match="name the person"):
            my_business(db, AS_OF, 30)
    with pytest.raises(PermissionDenied):
        my_business(db, AS_OF, 30, acting="nobody@example.com")


def test_business_owner_is_the_only_broker_or_the_one_chosen(db: Database, office: Office) -> None:
    assert business_owner(db) == dashboard.BusinessOwners(None, (), fixed=False)  # nobody yet
    josh = office.person("Josh Riley", "broker")
    office.person("Jayden Metz", broker=josh)
    only = business_owner(db)
    assert only.person is not None and only.person.email == JOSH and not only.fixed

    office.person("Otto Other", "broker")
    office.person("Ann Gone", "broker", active=False)
    several = business_owner(db)
    assert several.person is None  # several brokers: nobody is guessed
    assert [p.email for p in several.choices] == [JOSH, OTTO]  # by name, active only
    chosen = business_owner(db, OTTO.upper())
    assert chosen.person is not None and chosen.person.email == OTTO
    assert business_owner(db, "someone@else.example").person is None


@pytest.mark.pg
def test_on_a_server_my_business_is_the_logins_own(pg_db: Database) -> None:
    office = Office(pg_db)
    ids = two_brokerages(office)
    email = f"ivy{os.getpid()}@example.com"  # pg_db drops the login roles it was given
    ivy = add_user(pg_db, email, "agent", broker_email=JOSH, password="pw-ivy-123").id
    office.lead(ivy, at("2025-10-20"), "Open house")
    office.lead(ids["josh"], at("2025-10-20"), "Zillow")
    as_ivy = open_database(make_url(pg_db.url).set(username=email).render_as_string(False))
    try:
        owners = business_owner(as_ivy)
        assert owners.fixed and owners.person is not None and owners.person.email == email
        mine = my_business(as_ivy, AS_OF, 30, week=WEEK)
        assert [s.source for s in mine.sources] == ["Open house"]
        with pytest.raises(PermissionDenied, match="cannot act as"):
            my_business(as_ivy, AS_OF, 30, acting=JOSH, week=WEEK)  # not the broker's
        assert {e.agent_email for e in recent_activity(as_ivy)} <= {email}
    finally:
        as_ivy.dispose()


# ---------------------------------------------------------------------------- overview, load


def test_open_escrows_are_active_or_pending_and_visible(db: Database, office: Office) -> None:
    ids = two_brokerages(office)
    office.escrow(ids["jayden"], at("2024-11-01"), "Active", "300000")  # opened last year
    office.escrow(ids["cole"], at("2025-09-01"), "Pending", "200000.50")
    office.escrow(ids["cole"], at("2025-09-02"), "Closed", "999999")
    office.escrow(ids["cole"], at("2025-09-03"), "Cancelled", "999999")
    office.escrow(ids["olga"], at("2025-09-04"), "Active", "100000")
    office.escrow(ids["cole"], at("2025-10-23", 1), "Active", "100000")  # after AS_OF

    mine = open_escrows(db, AS_OF, acting=JOSH)
    assert (mine.count, mine.volume) == (2, Decimal("500000.50"))
    assert open_escrows(db, AS_OF, acting=COLE).count == 1
    assert open_escrows(db, AS_OF, acting=PAM).count == 3


def test_load_brings_every_part_for_the_period(db: Database, office: Office) -> None:
    ids = two_brokerages(office)
    office.lead(ids["jayden"], at("2025-10-20"), private=False)
    office.lead(ids["jayden"], at("2025-09-01"), private=False)
    office.lead(ids["josh"], at("2025-10-20"), "Zillow")
    office.escrow(ids["cole"], at("2025-10-21"), "Active", "450000")
    office.client(ids["cole"], at("2025-10-22"))
    now = at("2025-10-22", 18)

    def load(days: int, broker: str | None = None) -> dashboard.Dashboard:
        request = DashboardRequest(AS_OF, days, WEEK, business_email=broker)
        return dashboard.load(db, request, now=now)

    d = load(30)
    jayden = next(a for a in d.report.agents if a.email == JAYDEN)
    assert (jayden.total_leads, jayden.new_leads) == (2, 1)
    assert next(a for a in load(90).report.agents if a.email == JAYDEN).new_leads == 2
    assert d.currency == "USD" and d.now == now and d.request.period_days == 30
    # Two brokers: My Business waits for a choice.
    assert d.owners.person is None and d.business is None
    chosen = load(30, JOSH)
    assert chosen.business is not None and chosen.business.leads_total == 1
    if db.is_local:  # the one local person sees every row
        assert [e.kind for e in d.feed] == [RecordKind.CLIENTS, RecordKind.ESCROWS]
        assert d.open_escrows is not None and d.open_escrows.count == 1
    else:  # the server's owner login is nobody: counts, but no rows
        assert d.feed == () and d.open_escrows is None
        assert d.feed_problem is not None and "not a person of the office" in d.feed_problem
    # Cole's escrow (and client) on 21-22 October; Jayden only has a lead: all in 7 days.
    assert d.agents_active == 2


def test_agents_active_counts_last_activity_within_seven_days(db: Database, office: Office) -> None:
    ids = two_brokerages(office)
    office.lead(ids["jayden"], at("2025-10-15", 19), private=False)  # 7 days before now
    office.lead(ids["cole"], at("2025-10-15", 17), private=False)  # a little longer ago
    rep = dashboard.agent_report(db, AS_OF, 30)
    assert dashboard.agents_active(rep, at("2025-10-22", 18)) == 1
    assert dashboard.agents_active(rep, at("2025-10-22", 16)) == 2
