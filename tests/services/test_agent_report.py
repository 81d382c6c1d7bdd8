"""The agent report (SPEC §2) and who sees which cards (SPEC §1), on both backends.

Each test builds a small office by hand. The report is as of 22 October 2025, i.e. up to
2025-10-23 00:00 UTC; the default 30-day period starts 2025-09-23 00:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.models import Appointment, Client, Escrow, Lead, Listing, Team, User
from app.domain.agent_kpis import (
    AgentKpis,
    AgentReport,
    conversion_rate_pct,
    iso_utc,
    reference_time,
    report_json,
    report_period,
    show_rate_pct,
    time_ago,
)
from app.domain.errors import PermissionDenied, ValidationError
from app.services.database import Database, open_database
from app.services.reports import agent_report
from app.services.users import add_user

AS_OF = dt.date(2025, 10, 22)
END = dt.datetime(2025, 10, 23, tzinfo=dt.UTC)  # the end of AS_OF
START = dt.datetime(2025, 9, 23, tzinfo=dt.UTC)  # 30 whole days before END
JAN_1 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
_ids = itertools.count(1)


def day(text: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(hour=hour, tzinfo=dt.UTC)


class Office:
    """Inserts people and records through the ORM models, one short transaction each."""

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
        last_login: dt.datetime | None = None,
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
                last_login=last_login,
                is_active=active,
            )
        )

    def team(self, name: str, broker: int, manager: int | None = None) -> int:
        return self._add(Team(name=name, broker_id=broker, manager_id=manager))

    def set_team(self, user: int, team: int) -> None:
        with self.db.session() as s:
            s.get_one(User, user).team_id = team

    def lead(
        self, owner: int, created: dt.datetime, status: str = "new", private: bool = False
    ) -> None:
        self._add(
            Lead(
                owner_id=owner,
                name=f"Lead {next(_ids)}",
                status=status,
                is_private=private,
                created_at=created,
            )
        )

    def appointment(
        self,
        agent: int,
        start: dt.datetime,
        status: str = "scheduled",
        private: bool = False,
        created: dt.datetime | None = None,
    ) -> None:
        self._add(
            Appointment(
                agent_id=agent,
                title="Viewing",
                start_time=start,
                status=status,
                is_private=private,
                created_at=created or start - dt.timedelta(days=3),
            )
        )

    def escrow(
        self,
        agent: int,
        created: dt.datetime,
        status: str = "Active",
        price: str = "100000",
        commission: str | None = "3000",
    ) -> None:
        self._add(
            Escrow(
                agent_id=agent,
                property_address=f"{next(_ids)} Main St",
                purchase_price=Decimal(price),
                my_commission=None if commission is None else Decimal(commission),
                escrow_status=status,
                created_at=created,
                closed_at=created + dt.timedelta(days=30) if status == "Closed" else None,
            )
        )

    def client(
        self, agent: int, status: str = "active", created: dt.datetime | None = None
    ) -> None:
        self._add(
            Client(
                agent_id=agent,
                name=f"Client {next(_ids)}",
                status=status,
                created_at=created or day("2024-06-01"),
            )
        )

    def listing(
        self, agent: int, status: str = "active", created: dt.datetime | None = None
    ) -> None:
        self._add(
            Listing(
                agent_id=agent,
                address=f"{next(_ids)} Oak Ave",
                list_price=Decimal("450000"),
                status=status,
                created_at=created or day("2024-06-01"),
            )
        )


@pytest.fixture
def office(db: Database) -> Office:
    return Office(db)


def report(db: Database, acting: str | None = None, **kwargs: Any) -> AgentReport:
    return agent_report(db, kwargs.pop("as_of", AS_OF), acting_email=acting, **kwargs)


def card(rep: AgentReport, email: str) -> AgentKpis:
    (found,) = [a for a in rep.agents if a.email == email]
    return found


def emails(rep: AgentReport) -> list[str]:
    return [a.email for a in rep.agents]


JOSH = "josh.riley@example.com"
JAYDEN = "jayden.metz@example.com"
COLE = "cole.rangel@example.com"


# ---------------------------------------------------------------------------- SPEC §2


def test_every_agent_appears_with_zeros(db: Database, office: Office) -> None:
    josh = office.person("Josh Riley", "broker")
    jayden = office.person("Jayden Metz", broker=josh)
    office.person("Cole Rangel", broker=josh)
    office.lead(jayden, day("2025-10-01"))

    cole = card(report(db, JOSH), COLE)

    assert emails(report(db, JOSH)) == [COLE, JAYDEN]  # sorted by name
    assert cole == AgentKpis(
        user_id=cole.user_id,
        email=COLE,
        name="Cole Rangel",
        team=None,
        total_leads=0,
        new_leads=0,
        converted_leads=0,
        conversion_rate_pct=None,
        appointments_scheduled=0,
        appointments_completed=0,
        no_shows=0,
        show_rate_pct=None,
        escrows_ytd=0,
        volume_ytd=Decimal("0.00"),
        commission_ytd=Decimal("0.00"),
        active_clients=0,
        active_listings=0,
        last_activity=None,
    )


def test_total_leads_count_every_non_private_lead_up_to_as_of(db: Database, office: Office) -> None:
    agent = office.person("Jayden Metz")
    office.lead(agent, day("2023-02-01"))
    office.lead(agent, END - SECOND)
    office.lead(agent, day("2025-10-01"), private=True)
    office.lead(agent, END)  # created after the end of as_of: not yet there

    assert card(report(db), JAYDEN).total_leads == 2


def test_new_leads_are_created_within_the_period_ending_as_of(db: Database, office: Office) -> None:
    agent = office.person("Jayden Metz")
    office.lead(agent, START - SECOND)  # 30 days and a second before the end: old
    office.lead(agent, START)  # the first instant of the period
    office.lead(agent, END - SECOND)  # the last instant of as_of
    office.lead(agent, END)  # tomorrow

    assert card(report(db), JAYDEN).new_leads == 2


def test_period_days_sets_the_period(db: Database, office: Office) -> None:
    agent = office.person("Jayden Metz")
    for created in ("2025-10-15", "2025-10-16", "2025-10-22", "2025-08-01"):
        office.lead(agent, day(created, 0))
        office.appointment(agent, day(created, 0), "completed")

    week = card(report(db, period_days=7), JAYDEN)
    quarter = card(report(db, period_days=90), JAYDEN)

    assert (week.new_leads, week.appointments_completed) == (2, 2)  # from 16 Oct 00:00
    assert (quarter.new_leads, quarter.appointments_completed) == (4, 4)
    with pytest.raises(ValidationError, match="1 or more"):
        report(db, period_days=0)


def test_converted_leads_are_those_with_status_converted(db: Database, office: Office) -> None:
    agent = office.person("Jayden Metz")
    office.lead(agent, day("2024-01-05"), "converted")  # old leads count, whatever their age
    office.lead(agent, day("2025-10-01"), "converted")
    office.lead(agent, day("2025-10-01"), "qualified")
    office.lead(agent, day("2025-10-01"), "converted", private=True)

    jayden = card(report(db), JAYDEN)

    assert (jayden.converted_leads, jayden.total_leads) == (2, 3)
    assert jayden.conversion_rate_pct == Decimal("66.67")  # 66.666… half-up, 2 decimals


def test_conversion_rate_is_converted_over_total_with_two_decimals() -> None:
    assert conversion_rate_pct(12, 523) == Decimal("2.29")
    assert conversion_rate_pct(1, 8) == Decimal("12.50")
    assert conversion_rate_pct(1, 3) == Decimal("33.33")
    assert conversion_rate_pct(1, 400) == Decimal("0.25")
    assert conversion_rate_pct(1, 800) == Decimal("0.13")  # 0.125 rounds half-up
    assert conversion_rate_pct(0, 5) == Decimal("0.00")
    assert conversion_rate_pct(5, 5) == Decimal("100.00")


def test_conversion_rate_is_null_with_no_leads(db: Database, office: Office) -> None:
    agent = office.person("Jayden Metz")
    office.lead(agent, day("2025-10-01"), "converted", private=True)

    jayden = card(report(db), JAYDEN)

    assert jayden.conversion_rate_pct is None
    assert conversion_rate_pct(0, 0) is None
    assert report_json(report(db))["agents"][0]["conversion_rate_pct"] is None


def test_appointments_scheduled_are_all_not_cancelled_within_the_period(
    db: Database, office: Office
) -> None:
    agent = office.person("Jayden Metz")
    for status in ("scheduled", "completed", "no_show", "cancelled"):
        office.appointment(agent, day("2025-10-10"), status)
    office.appointment(agent, START - SECOND, "completed")  # before the period
    office.appointment(agent, END, "scheduled")  # after as_of

    jayden = card(report(db), JAYDEN)

    assert (jayden.appointments_scheduled, jayden.appointments_completed, jayden.no_shows) == (
        3,
        1,
        1,
    )


def test_show_rate_ignores_future_and_cancelled(db: Database, office: Office) -> None:
    agent = office.person("Jayden Metz")
    for _ in range(2):
        office.appointment(agent, day("2025-10-01"), "completed")
    office.appointment(agent, day("2025-10-02"), "no_show")
    office.appointment(agent, day("2025-10-03"), "cancelled")
    office.appointment(agent, day("2025-10-22", 23), "scheduled")  # later on as_of's day
    office.appointment(agent, day("2025-11-05"), "scheduled")  # after as_of
    office.appointment(agent, day("2025-11-05"), "no_show")  # (bad data) after as_of

    jayden = card(report(db), JAYDEN)

    assert jayden.show_rate_pct == Decimal("66.7")  # 2 / (2 + 1), 1 decimal
    assert jayden.appointments_scheduled == 4


def test_show_rate_is_null_without_completed_or_no_shows(db: Database, office: Office) -> None:
    agent = office.person("Jayden Metz")
    office.appointment(agent, day("2025-10-01"), "scheduled")
    office.appointment(agent, day("2025-10-02"), "cancelled")

    assert card(report(db), JAYDEN).show_rate_pct is None
    assert show_rate_pct(0, 0) is None
    assert show_rate_pct(38, 14) == Decimal("73.1")
    assert show_rate_pct(1, 7) == Decimal("12.5")
    assert show_rate_pct(1, 15) == Decimal("6.3")  # 6.25 half-up


def test_private_appointments_never_count(db: Database, office: Office) -> None:
    agent = office.person("Jayden Metz")
    office.appointment(agent, day("2025-10-01"), "completed", private=True)
    office.appointment(agent, day("2025-10-01"), "no_show", private=True)

    jayden = card(report(db, JAYDEN), JAYDEN)  # not even on the owner's own card

    assert (jayden.appointments_scheduled, jayden.appointments_completed, jayden.no_shows) == (
        0,
        0,
        0,
    )
    assert jayden.last_activity is None


def test_escrows_ytd_counts_active_pending_closed_since_january(
    db: Database, office: Office
) -> None:
    agent = office.person("Jayden Metz")
    office.escrow(agent, JAN_1, "Active", "300000", "9000")
    office.escrow(agent, day("2025-05-01"), "Pending", "400000", "12000.50")
    office.escrow(agent, day("2025-10-22", 23), "Closed", "500000", None)
    office.escrow(agent, day("2025-06-01"), "Cancelled", "900000", "27000")
    office.escrow(agent, JAN_1 - SECOND, "Closed", "800000", "24000")  # last year
    office.escrow(agent, END, "Active", "700000", "21000")  # after as_of

    jayden = card(report(db), JAYDEN)

    assert jayden.escrows_ytd == 3
    assert jayden.volume_ytd == Decimal("1200000.00")
    assert jayden.commission_ytd == Decimal("21000.50")


def test_volume_and_commission_sum_exactly(db: Database, office: Office) -> None:
    agent = office.person("Jayden Metz")
    for _ in range(10):
        office.escrow(agent, day("2025-03-01"), "Closed", "0.10", "0.10")

    rep = report(db)
    shown = report_json(rep)

    assert card(rep, JAYDEN).volume_ytd == Decimal("1.00")
    assert shown["agents"][0]["volume_ytd"] == "1.00"
    assert shown["agents"][0]["commission_ytd"] == "1.00"
    assert shown["brokerage"]["volume_ytd"] == "1.00"


def test_active_clients_and_listings_count_current_status_not_ytd(
    db: Database, office: Office
) -> None:
    agent = office.person("Jayden Metz")
    office.client(agent, "active", day("2019-04-01"))  # years ago, still active
    office.client(agent, "active")
    office.client(agent, "inactive")
    office.client(agent, "active", END)  # created after as_of
    for status in ("active", "active", "pending", "sold", "withdrawn", "expired"):
        office.listing(agent, status)
    office.listing(agent, "active", END)

    jayden = card(report(db), JAYDEN)

    assert (jayden.active_clients, jayden.active_listings) == (2, 2)


def test_last_activity_is_the_latest_of_login_lead_appointment_escrow(
    db: Database, office: Office
) -> None:
    login = day("2025-10-20", 9)
    lead = office.person("Lee Rangel", last_login=login)
    appt = office.person("Cole Rangel", last_login=login)
    escrow = office.person("Jayden Metz", last_login=login)
    office.person("Ann Login", last_login=login)
    office.lead(lead, day("2025-10-21", 8))
    office.appointment(appt, day("2025-11-30"), created=day("2025-10-21", 9))
    office.escrow(escrow, day("2025-10-21", 10), "Cancelled")

    rep = report(db)

    assert card(rep, "lee.rangel@example.com").last_activity == day("2025-10-21", 8)
    assert card(rep, COLE).last_activity == day("2025-10-21", 9)  # created, not starting
    assert card(rep, JAYDEN).last_activity == day("2025-10-21", 10)  # any escrow status
    assert card(rep, "ann.login@example.com").last_activity == login
    assert report_json(rep)["agents"][0]["last_activity"] == "2025-10-20T09:00:00Z"


def test_last_activity_ignores_private_records_and_anything_after_as_of(
    db: Database, office: Office
) -> None:
    agent = office.person("Jayden Metz", last_login=END + dt.timedelta(hours=2))
    office.lead(agent, day("2025-10-01"))
    office.lead(agent, day("2025-10-21"), private=True)
    office.appointment(agent, day("2025-10-25"), private=True, created=day("2025-10-21"))
    office.escrow(agent, END + SECOND)

    assert card(report(db), JAYDEN).last_activity == day("2025-10-01")


def test_an_agent_with_no_escrows_is_not_dropped(db: Database, office: Office) -> None:
    josh = office.person("Josh Riley", "broker")
    office.person("Jayden Metz", broker=josh)
    cole = office.person("Cole Rangel", broker=josh)
    office.escrow(cole, day("2025-03-01"))
    office.lead(cole, day("2025-03-01"))

    rep = report(db, JOSH)

    assert emails(rep) == [COLE, JAYDEN]
    assert card(rep, JAYDEN).escrows_ytd == 0


def test_queries_do_not_grow_with_the_number_of_agents(db: Database, office: Office) -> None:
    josh = office.person("Josh Riley", "broker")
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def run_counted() -> int:
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            report(db, JOSH)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    agent = office.person("Ann One", broker=josh)
    office.lead(agent, day("2025-10-01"))
    few = run_counted()
    for n in range(12):
        agent = office.person(f"Agent No{n}", broker=josh)
        office.lead(agent, day("2025-10-01"))
        office.escrow(agent, day("2025-10-01"))

    assert run_counted() == few <= 9  # SQLite: appointments in two statements


# ---------------------------------------------------------------------------- SPEC §1


def _two_brokerages(office: Office) -> dict[str, int]:
    josh = office.person("Josh Riley", "broker")
    maria = office.person("Maria Delgado", "manager", broker=josh)
    central = office.team("Central", josh, manager=maria)
    south = office.team("South", josh)
    office.set_team(maria, central)
    ids = {
        "josh": josh,
        "maria": maria,
        "jayden": office.person("Jayden Metz", broker=josh, team=central),
        "cole": office.person("Cole Rangel", broker=josh, team=south),
        "lee": office.person("Lee Rangel", broker=josh),
        "closer": office.person("Dana Kessler", "closer", broker=josh),
        "dialer": office.person("Tyler Brooks", "dialer", broker=josh),
        "admin": office.person("Pam Ochoa", "admin", broker=josh),
    }
    other = office.person("Olga Broker", "broker")
    ids["other"] = other
    ids["rival"] = office.person("Rita Rival", broker=other)
    for name in ("jayden", "cole", "lee", "rival", "josh", "other", "maria"):
        office.escrow(ids[name], day("2025-04-01"), "Closed", "100000", "2500")
        office.client(ids[name])
        office.listing(ids[name])
        office.lead(ids[name], day("2025-10-01"))
    return ids


def test_private_leads_never_count_for_the_broker(db: Database, office: Office) -> None:
    josh = office.person("Josh Riley", "broker")
    jayden = office.person("Jayden Metz", broker=josh)
    office.lead(jayden, day("2025-10-01"), "converted", private=True)
    office.lead(jayden, day("2025-10-02"), "new")
    office.lead(josh, day("2025-10-03"), "converted", private=True)  # the broker's own

    rep = report(db, JOSH)

    assert emails(rep) == [JAYDEN]  # the broker has no card
    card_ = card(rep, JAYDEN)
    assert (card_.total_leads, card_.new_leads, card_.converted_leads) == (1, 1, 0)
    assert card_.conversion_rate_pct == Decimal("0.00")
    assert card_.last_activity == day("2025-10-02")


def test_broker_totals_include_broker_escrows(db: Database, office: Office) -> None:
    josh = office.person("Josh Riley", "broker")
    jayden = office.person("Jayden Metz", broker=josh)
    office.escrow(jayden, day("2025-03-01"), "Closed", "450000.00")
    office.escrow(josh, day("2025-04-01"), "Pending", "400000.00")
    office.escrow(josh, day("2025-04-01"), "Cancelled", "999999.00")
    office.client(josh)
    office.client(jayden)
    office.listing(josh)

    rep = report(db, JOSH)

    assert emails(rep) == [JAYDEN]
    assert rep.brokerage.volume_ytd == Decimal("850000.00")
    assert (rep.brokerage.escrows_ytd, rep.brokerage.active_clients) == (2, 2)
    assert rep.brokerage.active_listings == 1
    assert card(rep, JAYDEN).volume_ytd == Decimal("450000.00")


def test_broker_sees_the_agents_of_their_own_brokerage(db: Database, office: Office) -> None:
    _two_brokerages(office)

    rep = report(db, JOSH)

    assert emails(rep) == [COLE, JAYDEN, "lee.rangel@example.com"]  # agents only, not Rita
    # Josh, Maria and the three agents: Olga's and Rita's production is another brokerage's.
    assert (rep.brokerage.escrows_ytd, rep.brokerage.active_clients) == (5, 5)
    assert rep.brokerage.volume_ytd == Decimal("500000.00")


def test_manager_sees_own_team(db: Database, office: Office) -> None:
    _two_brokerages(office)

    rep = report(db, "maria.delgado@example.com")

    assert emails(rep) == [JAYDEN]
    assert (rep.brokerage.escrows_ytd, rep.brokerage.active_listings) == (2, 2)  # Maria + Jayden


def test_manager_of_no_team_sees_no_agents(db: Database, office: Office) -> None:
    josh = office.person("Josh Riley", "broker")
    office.person("Jayden Metz", broker=josh)
    office.person("Tom Whitaker", "manager", broker=josh)

    rep = report(db, "tom.whitaker@example.com")

    assert rep.agents == ()
    assert rep.brokerage.escrows_ytd == 0


def test_agent_sees_only_own_row(db: Database, office: Office) -> None:
    _two_brokerages(office)

    rep = report(db, JAYDEN.upper())  # emails match regardless of case

    assert emails(rep) == [JAYDEN]
    assert rep.brokerage.volume_ytd == Decimal("100000.00")  # their own, nobody else's
    assert (rep.brokerage.escrows_ytd, rep.brokerage.active_clients) == (1, 1)


def test_admin_sees_every_agent(db: Database, office: Office) -> None:
    _two_brokerages(office)

    rep = report(db, "pam.ochoa@example.com")

    assert emails(rep) == [COLE, JAYDEN, "lee.rangel@example.com", "rita.rival@example.com"]
    assert rep.brokerage.escrows_ytd == 7


@pytest.mark.parametrize("who", ["dana.kessler@example.com", "tyler.brooks@example.com"])
def test_closers_and_dialers_may_not_see_the_agent_report(
    db: Database, office: Office, who: str
) -> None:
    _two_brokerages(office)

    with pytest.raises(PermissionDenied, match="SPEC §1"):
        report(db, who)


def test_an_unknown_acting_person_is_refused(db: Database, office: Office) -> None:
    _two_brokerages(office)

    with pytest.raises(ValidationError, match=r"nobody with the email nobody@example\.com"):
        report(db, "nobody@example.com")


def test_a_deactivated_person_may_not_see_the_report(db: Database, office: Office) -> None:
    office.person("Jayden Metz", active=False)

    with pytest.raises(PermissionDenied, match="deactivated"):
        report(db, JAYDEN)


def test_without_an_acting_person_the_whole_office_is_seen(db: Database, office: Office) -> None:
    # Locally the one user holds every role; on a server, a login that is nobody's
    # (the tests connect as the postgres superuser) is not narrowed to anyone.
    _two_brokerages(office)

    rep = report(db)

    assert len(rep.agents) == 4
    assert rep.brokerage.escrows_ytd == 7  # everyone's, both brokers' included


def test_only_active_agents_get_cards_but_all_production_counts(
    db: Database, office: Office
) -> None:
    josh = office.person("Josh Riley", "broker")
    gone = office.person("Jayden Metz", broker=josh, active=False)
    office.person("Cole Rangel", broker=josh)
    office.escrow(gone, day("2025-02-01"), "Closed", "200000")

    rep = report(db, JOSH)

    assert emails(rep) == [COLE]
    assert (rep.brokerage.escrows_ytd, rep.brokerage.volume_ytd) == (1, Decimal("200000.00"))


def test_card_carries_team_name_for_the_window(db: Database, office: Office) -> None:
    ids = _two_brokerages(office)

    rep = report(db, JOSH)

    assert card(rep, JAYDEN).team == "Central"
    assert card(rep, JAYDEN).user_id == ids["jayden"]
    assert card(rep, "lee.rangel@example.com").team is None


@pytest.mark.pg
def test_shared_mode_acting_person_is_the_login(pg_db: Database) -> None:
    office = Office(pg_db)
    _two_brokerages(office)
    email = f"cole{os.getpid()}@example.com"  # pg_db drops the login roles it was given
    cole = add_user(pg_db, email, "agent", broker_email=JOSH, password="pw-cole-1").id
    office.escrow(cole, day("2025-05-01"), "Closed", "123000")
    as_cole = open_database(make_url(pg_db.url).set(username=email).render_as_string(False))
    try:
        rep = agent_report(as_cole, AS_OF)
        assert emails(agent_report(as_cole, AS_OF, acting_email=email)) == [email]
        with pytest.raises(PermissionDenied, match=f"logged in as {email}, who may not act"):
            agent_report(as_cole, AS_OF, acting_email=JOSH)  # no posing as the broker
    finally:
        as_cole.dispose()

    assert emails(rep) == [email]
    assert rep.brokerage.volume_ytd == Decimal("123000.00")


# ---------------------------------------------------------------------------- domain


def test_period_is_whole_days_ending_with_as_of_in_utc() -> None:
    period = report_period(AS_OF, 30)

    assert (period.start, period.end, period.ytd_start) == (START, END, JAN_1)
    assert report_period(dt.date(2024, 3, 1), 1).start == dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    for bad in (0, -5):
        with pytest.raises(ValidationError):
            report_period(AS_OF, bad)
    with pytest.raises(ValidationError, match="out of range"):
        report_period(AS_OF, 10**7)


def test_last_activity_reads_as_time_ago() -> None:
    now = dt.datetime(2025, 10, 22, 15, 0, tzinfo=dt.UTC)

    def ago(**delta: float) -> str:
        return time_ago(now - dt.timedelta(**delta), now)

    assert time_ago(None, now) == "never"
    assert ago(seconds=59) == "just now"
    assert ago(seconds=-30) == "just now"  # another workstation's clock
    assert ago(minutes=5, seconds=59) == "5 min ago"
    assert ago(hours=2, minutes=15) == "2 h ago"
    assert ago(hours=23, minutes=59) == "23 h ago"
    assert ago(days=1, hours=3) == "1 d ago"
    assert ago(days=59) == "59 d ago"
    assert ago(days=95) == "3 mo ago"
    assert ago(days=800) == "2 y ago"


def test_time_ago_counts_from_the_end_of_a_pinned_as_of() -> None:
    now = dt.datetime(2025, 10, 22, 15, 0, tzinfo=dt.UTC)

    assert reference_time(AS_OF, now) == now
    assert reference_time(dt.date(2025, 10, 1), now) == dt.datetime(2025, 10, 2, tzinfo=dt.UTC)


def test_json_money_is_text_with_two_decimals_and_times_are_utc() -> None:
    assert iso_utc(None) is None
    zone = dt.timezone(dt.timedelta(hours=-7))
    assert iso_utc(dt.datetime(2025, 10, 22, 7, 3, 7, 999, tzinfo=zone)) == "2025-10-22T14:03:07Z"
