"""Lead-source spend (app/services/analytics/lead_costs.py, issue 7) on SQLite and PostgreSQL:
reading a month, saving additions, changes and deletions all or nothing, every problem named
with its row and field, the same source twice refused (ignoring case), a stale version refused,
who may read and write office-wide and a person's spend, and the dialog's suggestions; on
PostgreSQL also through people's own logins, where migration 0012's row-level security holds.

The office is test_roi.py's: broker Bo (agents Ann, Ben of team North managed by Mia, and
Cat), broker Rex (agent Rae, manages South: Cat), admin Ada.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.db.models import Deal, LeadSourceCost, User
from app.domain.errors import ConflictError, PermissionDenied
from app.services.analytics.lead_costs import (
    CostChange,
    CostErrors,
    CostRow,
    SaveResult,
    known_sources,
    month_costs,
    save_month_costs,
    spend_access,
)
from app.services.database import Database
from tests.services.analytics.test_roi import NOV, OCT, Office, _login, build_office

D = Decimal


@pytest.fixture
def office(db: Database) -> Office:
    return build_office(db)


def stored(db: Database) -> set[tuple[str, dt.date, int | None, Decimal]]:
    with db.read() as s:
        return {
            (src, month, agent, cost)
            for src, month, agent, cost in s.execute(
                sa.select(
                    LeadSourceCost.source,
                    LeadSourceCost.month,
                    LeadSourceCost.agent_id,
                    LeadSourceCost.cost,
                )
            )
        }


def shown(rows: list[CostRow]) -> list[tuple[str, str, Decimal]]:
    return [(r.source, r.who, r.cost) for r in rows]


# -- reading ------------------------------------------------------------------------------------


def test_a_month_lists_office_wide_spend_first_then_each_persons(office: Office) -> None:
    rows = month_costs(office.db, dt.date(2026, 11, 17))  # any day names its month
    assert shown(rows) == [("Website", "Whole office", D(300)), ("zillow ", "Rae Test", D(90))]
    assert all(r.version == 1 for r in rows)
    assert month_costs(office.db, dt.date(2027, 3, 3)) == []


def test_people_read_office_wide_spend_and_the_spend_of_those_they_see(office: Office) -> None:
    def sources(who: str, month: dt.date = OCT) -> list[tuple[str, str, Decimal]]:
        return shown(month_costs(office.db, month, acting=office.email(who)))

    ann_spend = ("Zillow", "Ann Test", D(620))
    assert sources("ann") == [("Website", "Whole office", D(310)), ann_spend]
    assert sources("ben") == [("Website", "Whole office", D(310))]
    assert sources("bo") == [("Website", "Whole office", D(310)), ann_spend]
    assert sources("mia") == [("Website", "Whole office", D(310)), ann_spend]
    assert sources("rex", NOV) == [
        ("Website", "Whole office", D(300)),
        ("zillow ", "Rae Test", D(90)),
    ]
    assert sources("ada", NOV) == sources("rex", NOV)


def test_known_sources_come_from_spend_and_deals_one_spelling_each(office: Office) -> None:
    office.deal("ben", "Open House", closed=None, status="open")
    office.deal("ben", " open house", closed=None, status="open")
    office.deal("ben", "open house", closed=None, status="open")
    assert known_sources(office.db) == ["open house", "Website", "Zillow"]


def test_what_each_person_may_enter(office: Office) -> None:
    everyone = spend_access(office.db)
    assert everyone.may_write_office and not everyone.read_only
    assert [p.name for p in everyone.people][:3] == ["Ada Test", "Ann Test", "Ben Test"]
    bo = spend_access(office.db, office.email("bo"))
    assert bo.may_write_office
    assert {p.email.split("@")[0] for p in bo.people} == {"bo", "mia", "ann", "ben", "cat"}
    mia = spend_access(office.db, office.email("mia"))
    assert not mia.may_write_office and {p.name for p in mia.people} == {
        "Mia Test", "Ann Test", "Ben Test",
    }  # fmt: skip
    ann = spend_access(office.db, office.email("ann"))
    assert ann.read_only and ann.people == ()
    assert spend_access(office.db, office.email("ada")).people == everyone.people


# -- saving -------------------------------------------------------------------------------------


def test_a_month_saves_additions_changes_and_deletions_together(office: Office) -> None:
    website, zillow = month_costs(office.db, OCT)
    result = save_month_costs(
        office.db,
        dt.date(2026, 10, 20),
        [
            CostChange(1, "Website", None, "$1,250.50", id=website.id, version=1),
            CostChange(2, id=zillow.id, version=1, delete=True),
            CostChange(3, " Facebook Ads ", None, "800"),
            CostChange(4, "Zillow", office.ids["ben"], "400.1"),
        ],
    )
    assert result == SaveResult(added=2, updated=1, deleted=1)
    assert str(result) == "2 added, 1 changed, 1 deleted"
    rows = month_costs(office.db, OCT)
    assert shown(rows) == [
        ("Facebook Ads", "Whole office", D(800)),
        ("Website", "Whole office", D("1250.50")),
        ("Zillow", "Ben Test", D("400.10")),
    ]
    assert rows[1].version == 2 and rows[0].version == 1


def test_every_problem_is_named_with_its_row_and_field_and_nothing_is_written(
    office: Office,
) -> None:
    before = stored(office.db)
    website, _zillow = month_costs(office.db, OCT)
    with pytest.raises(CostErrors) as refused:
        save_month_costs(
            office.db,
            OCT,
            [
                CostChange(1, "Website", None, "-5", id=website.id, version=1),
                CostChange(2, "", None, "abc"),
                CostChange(3, "x" * 81, office.ids["ann"], "10.005"),
                CostChange(4, "Flyers", 99999, "10"),
                CostChange(5, "Flyers", None, "12"),  # fine: would be written
            ],
        )
    problems = [(p.row, p.field, p.reason) for p in refused.value.problems]
    assert problems == [
        (1, "cost", "must not be negative (got -5)"),
        (2, "source", "required"),
        (2, "cost", "'abc' is not a number"),
        (3, "source", "at most 80 characters (got 81)"),
        (3, "cost", "at most 2 decimals (got 10.005)"),
        (4, "agent", "unknown person"),
    ]
    message = str(refused.value)
    assert message.startswith("October 2026: 4 rows to correct; nothing was saved.")
    assert "Row 1, Cost: must not be negative (got -5)" in message
    assert "Row 4, For: unknown person" in message
    assert refused.value.by_row()[2] == {"source": "required", "cost": "'abc' is not a number"}
    assert stored(office.db) == before


def test_the_same_source_twice_for_one_person_or_the_office_is_refused(office: Office) -> None:
    before = stored(office.db)
    with pytest.raises(CostErrors) as refused:
        save_month_costs(
            office.db,
            OCT,
            [
                CostChange(1, "website ", None, "10"),  # Website is stored for the office
                CostChange(2, "Flyers", None, "10"),
                CostChange(3, "FLYERS", None, "20"),
                CostChange(4, "Flyers", office.ids["ann"], "5"),  # for Ann: another row
            ],
        )
    assert [(p.row, p.reason) for p in refused.value.problems] == [
        (1, "entered already for the whole office this month"),
        (2, "given twice for the whole office this month (also row 3)"),
        (3, "given twice for the whole office this month (also row 2)"),
    ]
    assert stored(office.db) == before
    # Renaming the stored row and adding its old name again in one save is fine.
    website, _zillow = month_costs(office.db, OCT)
    save_month_costs(
        office.db,
        OCT,
        [
            CostChange(1, "Website (old)", None, "310", id=website.id, version=website.version),
            CostChange(3, "Website", None, "20"),
        ],
    )
    assert [r.source for r in month_costs(office.db, OCT)][:2] == ["Website", "Website (old)"]


def test_a_stale_version_is_refused_and_nothing_is_written(office: Office) -> None:
    website, zillow = month_costs(office.db, OCT)
    save_month_costs(office.db, OCT, [CostChange(1, "Website", None, "333", id=website.id,
                                                 version=1)])  # fmt: skip
    before = stored(office.db)
    with pytest.raises(ConflictError) as refused:
        save_month_costs(
            office.db,
            OCT,
            [
                CostChange(1, "Flyers", None, "50"),
                CostChange(2, "Website", None, "444", id=website.id, version=1),
            ],
        )
    assert str(refused.value) == (
        "Row 2 (Website, the whole office) was changed on another workstation; reload the "
        "month. Nothing was saved."
    )
    assert stored(office.db) == before
    save_month_costs(office.db, OCT, [CostChange(1, id=zillow.id, version=1, delete=True)])
    with pytest.raises(ConflictError, match="deleted on another workstation"):
        save_month_costs(office.db, OCT, [CostChange(2, "Zillow", office.ids["ann"], "1",
                                                     id=zillow.id, version=1)])  # fmt: skip


def test_a_deactivated_person_keeps_their_rows_but_gets_no_new_ones(office: Office) -> None:
    _website, zillow = month_costs(office.db, OCT)
    with office.db.session() as s:
        s.get_one(User, office.ids["ann"]).is_active = False
    save_month_costs(office.db, OCT, [CostChange(1, "Zillow", office.ids["ann"], "700",
                                                 id=zillow.id, version=1)])  # fmt: skip
    with pytest.raises(CostErrors, match="Row 1, For: Ann Test has been deactivated"):
        save_month_costs(office.db, NOV, [CostChange(1, "Zillow", office.ids["ann"], "700")])


# -- who may write ------------------------------------------------------------------------------


def test_office_wide_spend_is_entered_by_brokers_and_admins(office: Office) -> None:
    for who in ("bo", "ada"):
        save_month_costs(office.db, NOV, [CostChange(1, f"Flyers {who}", None, "10")],
                         acting=office.email(who))  # fmt: skip
    for who in ("mia", "ann"):
        with pytest.raises(PermissionDenied) as refused:
            save_month_costs(office.db, NOV, [CostChange(1, "Flyers", None, "10")],
                             acting=office.email(who))  # fmt: skip
        assert "Only brokers and admins enter office-wide spend" in str(refused.value)
    assert {s for s, m, _a, _c in stored(office.db) if m == NOV} == {
        "Website", "zillow ", "Flyers bo", "Flyers ada",
    }  # fmt: skip


def test_a_persons_spend_is_entered_by_their_broker_team_manager_or_an_admin(
    office: Office,
) -> None:
    ids = office.ids

    def enter(who: str, source: str, agent: str) -> SaveResult:
        return save_month_costs(office.db, NOV, [CostChange(1, source, ids[agent], "25")],
                                acting=office.email(who))  # fmt: skip

    enter("bo", "Zillow", "ann")  # her broker
    enter("bo", "Zillow", "bo")  # his own
    enter("mia", "Zillow", "ben")  # her team's
    enter("ada", "Zillow", "cat")
    enter("rex", "Website", "cat")  # he manages her team
    for who, agent in (("mia", "cat"), ("bo", "rae"), ("ann", "ann"), ("rex", "ben")):
        with pytest.raises(PermissionDenied, match="Nothing was saved"):
            enter(who, "Flyers", agent)
    # A row may not be moved away from, or deleted for, someone one may not write for.
    rae = next(r for r in month_costs(office.db, NOV) if r.agent_id == ids["rae"])
    with pytest.raises(PermissionDenied, match=r"Row 1 \(zillow, Rae Test\)"):
        save_month_costs(office.db, NOV, [CostChange(1, id=rae.id, version=1, delete=True)],
                         acting=office.email("bo"))  # fmt: skip
    assert len([1 for _s, m, _a, _c in stored(office.db) if m == NOV]) == 7


# -- on a server, through people's own logins ---------------------------------------------------


@pytest.fixture
def server_office(pg_db: Database) -> Iterator[tuple[Office, dict[str, Database]]]:
    office = build_office(pg_db, logins=True)
    held: dict[str, Database] = {}
    yield office, held
    for db in held.values():
        db.dispose()


@pytest.mark.pg
def test_logins_read_and_write_what_row_level_security_allows(
    server_office: tuple[Office, dict[str, Database]],
) -> None:
    office, held = server_office

    def login(who: str) -> Database:
        if who not in held:
            held[who] = _login(office.db, office.email(who))
        return held[who]

    assert shown(month_costs(login("ben"), OCT)) == [("Website", "Whole office", D(310))]
    assert shown(month_costs(login("mia"), OCT))[1] == ("Zillow", "Ann Test", D(620))
    assert shown(month_costs(login("rex"), NOV))[1] == ("zillow ", "Rae Test", D(90))

    # The manager enters her team's spend; the service refuses office-wide spend, and so does
    # the server when asked directly.
    save_month_costs(login("mia"), NOV, [CostChange(1, "Zillow", office.ids["ben"], "75")])
    with pytest.raises(PermissionDenied):
        save_month_costs(login("mia"), NOV, [CostChange(1, "Flyers", None, "1")])
    with pytest.raises(sa.exc.ProgrammingError), login("mia").session() as s:
        s.add(LeadSourceCost(source="Flyers", month=NOV, agent_id=None, cost=D(1)))
    with pytest.raises(sa.exc.ProgrammingError), login("ann").session() as s:
        s.add(LeadSourceCost(source="Flyers", month=NOV, agent_id=office.ids["ann"], cost=D(1)))
    # The broker changes and deletes in one save.
    website, ann = month_costs(login("bo"), OCT)
    save_month_costs(
        login("bo"),
        OCT,
        [
            CostChange(1, "Website", None, "320", id=website.id, version=website.version),
            CostChange(2, id=ann.id, version=ann.version, delete=True),
        ],
    )
    assert shown(month_costs(office.db, OCT)) == [("Website", "Whole office", D(320))]
    assert ("Zillow", NOV, office.ids["ben"], D(75)) in stored(office.db)
    with login("ben").read() as s:  # known sources read only the deals the login sees
        assert s.scalar(sa.select(sa.func.count()).select_from(Deal)) == 2
    # his own Zillow spend (entered by Mia), the office's Website spend and deals
    assert known_sources(login("ben")) == ["Website", "Zillow"]
