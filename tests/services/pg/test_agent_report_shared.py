"""The agent report in shared mode (SPEC §1-2): a person's login cannot read other people's
leads and appointments (row-level security), so the report counts them through the server's
SECURITY DEFINER functions, and gets the very numbers the database owner computes for that
person."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db import security
from app.domain.agent_kpis import AgentReport
from app.services.database import Database, open_database
from app.services.reports import agent_report
from app.services.users import add_user
from tests.services.test_agent_report import AS_OF, Office, day

pytestmark = pytest.mark.pg
_serial = itertools.count()


@dataclass
class SharedOffice:
    db: Database  # the database owner's connection (no policy applies)
    emails: dict[str, str]
    ids: dict[str, int]
    _logins: dict[str, Database]

    def login(self, who: str) -> Database:
        """A connection as that person's own PostgreSQL role."""
        if who not in self._logins:
            url = make_url(self.db.url).set(username=self.emails[who], password=None)
            self._logins[who] = open_database(url.render_as_string(hide_password=False))
        return self._logins[who]


@pytest.fixture
def shared(pg_db: Database) -> Iterator[SharedOffice]:
    tag = f"{os.getpid()}n{next(_serial)}"
    emails = {
        key: f"{key}.{tag}@example.com"
        for key in ("broker", "manager", "ann", "ben", "cat", "admin", "broker2", "rival")
    }
    people = {
        "broker": ("broker", None, None),
        "broker2": ("broker", None, None),
        "manager": ("manager", "Central", "broker"),
        "ann": ("agent", "Central", "broker"),
        "ben": ("agent", "South", "broker"),
        "cat": ("agent", None, "broker"),
        "admin": ("admin", None, "broker"),
        "rival": ("agent", None, "broker2"),
    }
    ids = {}
    for key, (role, team, broker) in people.items():
        ids[key] = add_user(
            pg_db,
            emails[key],
            role,
            first_name=key.capitalize(),
            last_name="Shared",
            team=team,
            broker_email=emails[broker] if broker else None,
        ).id
    with pg_db.session() as s:
        s.execute(
            sa.text("UPDATE teams SET manager_id = :m WHERE name = 'Central'"),
            {"m": ids["manager"]},
        )
    office = Office(pg_db)
    for key in ("ann", "ben", "cat", "rival", "broker", "manager"):
        who = ids[key]
        office.lead(who, day("2025-10-01"))
        office.lead(who, day("2025-10-02"), "converted")
        office.lead(who, day("2025-10-20"), "converted", private=True)  # counts nowhere
        office.lead(who, day("2025-06-01"))  # before the period: total, not new
        office.appointment(who, day("2025-10-05"), "completed")
        office.appointment(who, day("2025-10-06"), "no_show")
        office.appointment(who, day("2025-10-07"), "cancelled")
        office.appointment(who, day("2025-10-21"), "completed", private=True)
        office.escrow(who, day("2025-03-01"), "Closed", "250000", "7500")
        office.client(who)
        office.listing(who)
    office.lead(ids["broker"], day("2025-10-22", 20), private=True)  # the broker's own
    result = SharedOffice(pg_db, emails, ids, {})
    yield result
    for login in result._logins.values():
        login.dispose()


@pytest.mark.parametrize("who", ["broker", "manager", "admin", "ann"])
def test_a_login_gets_the_numbers_the_owner_computes_for_them(
    shared: SharedOffice, who: str
) -> None:
    as_login = agent_report(shared.login(who), AS_OF)
    as_owner = agent_report(shared.db, AS_OF, acting_email=shared.emails[who])

    assert as_login == as_owner
    assert as_login.agents  # not an empty report that would match anything


def test_the_broker_sees_counts_of_leads_they_cannot_read(shared: SharedOffice) -> None:
    broker = shared.login("broker")
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(broker.engine, "before_cursor_execute", record)
    try:
        rep = agent_report(broker, AS_OF, period_days=7)
    finally:
        sa.event.remove(broker.engine, "before_cursor_execute", record)
    with broker.engine.connect() as conn:
        readable = conn.execute(sa.text("SELECT owner_id FROM leads")).scalars().all()
        appointments = conn.execute(sa.text("SELECT agent_id FROM appointments")).scalars().all()

    assert set(readable) == {shared.ids["broker"]}  # only their own rows
    assert set(appointments) == {shared.ids["broker"]}
    assert any("perfdesk_lead_counts" in s for s in statements)
    assert any("perfdesk_appointment_counts" in s for s in statements)
    ann = next(a for a in rep.agents if a.email == shared.emails["ann"])
    # Three non-private leads up to as_of, none of them in the last 7 days (the private one
    # of 20 October is not counted); her appointments of 5-7 October are outside them too.
    assert (ann.total_leads, ann.new_leads, ann.converted_leads) == (3, 0, 1)
    assert (ann.appointments_scheduled, ann.no_shows) == (0, 0)
    assert [a.email for a in rep.agents] == sorted(
        (shared.emails[k] for k in ("ann", "ben", "cat")), key=lambda e: e.casefold()
    )
    assert rep == agent_report(
        shared.db, AS_OF, period_days=7, acting_email=shared.emails["broker"]
    )


def test_an_admin_login_acting_as_the_broker_gets_the_broker_s_report(
    shared: SharedOffice,
) -> None:
    as_admin: AgentReport = agent_report(
        shared.login("admin"), AS_OF, acting_email=shared.emails["broker"]
    )

    assert as_admin == agent_report(shared.db, AS_OF, acting_email=shared.emails["broker"])
    assert shared.emails["rival"] not in [a.email for a in as_admin.agents]


def test_the_manager_counts_only_their_team(shared: SharedOffice) -> None:
    rep = agent_report(shared.login("manager"), AS_OF)

    assert [a.email for a in rep.agents] == [shared.emails["ann"]]
    ann = rep.agents[0]
    assert (ann.total_leads, ann.new_leads, ann.converted_leads) == (3, 2, 1)
    assert (ann.appointments_scheduled, ann.appointments_completed, ann.no_shows) == (2, 1, 1)


def test_a_large_brokerage_gets_the_same_numbers(shared: SharedOffice) -> None:
    # Past security.FEW_OWNERS counted people the functions aggregate every owner and keep
    # those counted: the other brokerage's agents must still be left out.
    office = Office(shared.db)
    for n in range(security.FEW_OWNERS + 5):
        for broker in ("broker", "broker2"):
            agent = office.person(f"Many{n} {broker}", broker=shared.ids[broker])
            office.lead(agent, day("2025-10-01"), "converted")
            office.lead(agent, day("2025-10-03"), private=True)
            office.appointment(agent, day("2025-10-04"), "no_show")
            office.appointment(agent, day("2025-10-05"), "completed", private=True)

    for who in ("broker", "admin"):
        as_login = agent_report(shared.login(who), AS_OF)
        assert as_login == agent_report(shared.db, AS_OF, acting_email=shared.emails[who])
    rep = agent_report(shared.login("broker"), AS_OF)
    many = [a for a in rep.agents if a.email.startswith("many")]
    assert len(many) == security.FEW_OWNERS + 5  # not the other brokerage's
    numbers = {
        (a.total_leads, a.converted_leads, a.no_shows, a.appointments_completed) for a in many
    }
    assert numbers == {(1, 1, 1, 0)}  # the private lead and appointment count nowhere
