"""Records service (leads, appointments, clients, listings, escrows) on SQLite and PostgreSQL:
create, update, validation, optimistic concurrency and SPEC §1 visibility."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.models import Escrow, Lead, Team, User
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.services import records
from app.services.database import Database, open_database
from app.services.records import (
    AppointmentFields,
    ClientFields,
    EscrowFields,
    LeadFields,
    ListingFields,
    RecordError,
    RecordKind,
)
from app.services.users import add_user

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def mail(name: str) -> str:
    """Emails are PostgreSQL login roles (cluster-wide): unique per test process."""
    return f"{name}.{os.getpid()}@office.example"


@dataclass(frozen=True)
class Office:
    db: Database
    bob: str  # broker of ann, cal, mia
    zoe: str  # another broker, of dee
    mia: str  # manager of team North (ann)
    ann: str  # agent, North
    cal: str  # agent, South
    dee: str  # agent of zoe
    adm: str  # admin
    tia: str  # dialer


@pytest.fixture
def office(db: Database) -> Office:
    o = Office(
        db,
        bob=mail("bob"),
        zoe=mail("zoe"),
        mia=mail("mia"),
        ann=mail("ann"),
        cal=mail("cal"),
        dee=mail("dee"),
        adm=mail("adm"),
        tia=mail("tia"),
    )
    add_user(db, o.bob, "broker", "Bob", "Broker")
    add_user(db, o.zoe, "broker", "Zoe", "Other")
    add_user(db, o.mia, "manager", "Mia", "Manager", team="North", broker_email=o.bob)
    add_user(db, o.ann, "agent", "Ann", "Lee", team="North", broker_email=o.bob)
    add_user(db, o.cal, "agent", "Cal", "Ray", team="South", broker_email=o.bob)
    add_user(db, o.dee, "agent", "Dee", "Ng", broker_email=o.zoe)
    add_user(db, o.adm, "admin", "Ada", "Admin", broker_email=o.bob)
    add_user(db, o.tia, "dialer", "Tia", "Dial", broker_email=o.bob)
    with db.session() as s:
        mia_id = s.scalar(sa.select(User.id).where(User.email == o.mia))
        s.execute(sa.update(Team).where(Team.name == "North").values(manager_id=mia_id))
    return o


def lead(owner: str, name: str = "Laura Parker", **kw: object) -> LeadFields:
    return LeadFields(name=name, owner_email=owner, **kw)  # type: ignore[arg-type]


def escrow(owner: str, price: str = "450000", **kw: object) -> EscrowFields:
    return EscrowFields(
        property_address="12 Oak St",
        purchase_price=Decimal(price),
        owner_email=owner,
        **kw,  # type: ignore[arg-type]
    )


def count(db: Database, model: type) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


# -- create -----------------------------------------------------------------------------------


def test_create_stamps_created_at_in_utc_and_returns_a_frozen_row(office: Office) -> None:
    before = dt.datetime.now(UTC)
    row = records.create_lead(office.db, lead(office.ann, source="Zillow"), office.ann)
    after = dt.datetime.now(UTC)
    assert isinstance(row, records.LeadRow) and dataclasses.is_dataclass(row)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.name = "x"  # type: ignore[misc]
    assert before <= row.created_at <= after and row.created_at.tzinfo is not None
    assert (row.name, row.status, row.source, row.owner_email) == (
        "Laura Parker",
        "new",
        "Zillow",
        office.ann,
    )
    assert row.owner_name == "Ann Lee" and row.version == 1 and row.is_private is False


def test_create_keeps_a_given_created_at(office: Office) -> None:
    row = records.create_client(
        office.db, ClientFields(name="Jo", owner_email=office.cal, created_at=T0), office.cal
    )
    assert row.created_at == T0 and row.status == "active"


def test_a_naive_time_is_taken_as_utc(office: Office) -> None:
    row = records.create_client(
        office.db,
        ClientFields(name="Jo", owner_email=office.cal, created_at=T0.replace(tzinfo=None)),
        office.cal,
    )
    assert row.created_at == T0


def test_a_brokers_own_leads_and_appointments_are_private_by_default(office: Office) -> None:
    db = office.db
    bob = office.bob
    assert records.create_lead(db, lead(bob), bob).is_private is True
    assert records.create_lead(db, lead(bob, is_private=False), bob).is_private is False
    assert records.create_lead(db, lead(office.ann), office.ann).is_private is False
    appt = records.create_appointment(
        db, AppointmentFields(title="Showing", start_time=T0, owner_email=bob), bob
    )
    assert appt.is_private is True and appt.status == "scheduled"


def test_every_kind_round_trips(office: Office) -> None:
    db = office.db
    appt = records.create_appointment(
        db,
        AppointmentFields(
            title=" Showing ",
            start_time=T0,
            end_time=T0 + dt.timedelta(hours=1),
            status="completed",
            location="12 Oak St",
            notes="Bring keys",
            owner_email=office.ann,
        ),
        office.ann,
    )
    assert (appt.title, appt.end_time, appt.status, appt.notes) == (
        "Showing",
        T0 + dt.timedelta(hours=1),
        "completed",
        "Bring keys",
    )
    listing = records.create_listing(
        db,
        ListingFields(address="9 Elm", list_price=Decimal("399999.995"), owner_email=office.ann),
        office.ann,
    )
    assert listing.list_price == Decimal("400000.00")  # rounded half-up when stored
    closed = records.create_escrow(
        db,
        escrow(
            office.ann,
            "500000.10",
            my_commission=Decimal("12500"),
            escrow_status="closed",  # any case, stored as SPEC spells it
            created_at=T0,
            closed_at=T0 + dt.timedelta(days=30),
        ),
        office.ann,
    )
    assert (closed.escrow_status, closed.purchase_price, closed.my_commission) == (
        "Closed",
        Decimal("500000.10"),
        Decimal("12500.00"),
    )
    assert closed.closed_at == T0 + dt.timedelta(days=30) and closed.client_name is None


# -- update and conflicts ---------------------------------------------------------------------


def test_update_changes_the_record_and_its_version(office: Office) -> None:
    db = office.db
    ann = office.ann
    row = records.create_lead(db, lead(ann), ann)
    updated = records.update_lead(
        db, row.id, row.version, lead(ann, "Laura P. Parker", status="contacted"), ann
    )
    assert (updated.name, updated.status, updated.version) == ("Laura P. Parker", "contacted", 2)
    assert updated.created_at == row.created_at  # kept when not given
    assert updated.updated_at is not None


def test_a_stale_update_is_refused_and_nothing_is_overwritten(office: Office) -> None:
    db = office.db
    ann = office.ann
    row = records.create_listing(
        db, ListingFields(address="9 Elm", list_price=Decimal(100), owner_email=ann), ann
    )
    fields = ListingFields(address="9 Elm", list_price=Decimal(200), owner_email=ann)
    first = records.update_listing(db, row.id, row.version, fields, ann)  # another workstation
    stale = ListingFields(address="9 Elm", list_price=Decimal(300), owner_email=ann)
    with pytest.raises(ConflictError, match="was changed on another workstation; reload it"):
        records.update_listing(db, row.id, row.version, stale, ann)
    now = records.get_record(db, RecordKind.LISTINGS, row.id, ann)
    assert isinstance(now, records.ListingRow)
    assert (now.list_price, now.version) == (Decimal(200), first.version)


def test_a_write_racing_another_is_refused_by_the_version_column(office: Office) -> None:
    """Between reading a record and writing it, another workstation saves: the UPDATE's
    version check (not only the comparison before it) refuses the write."""
    db = office.db
    row = records.create_client(db, ClientFields(name="Jo", owner_email=office.ann), office.ann)
    real_get = records._get
    raced = False

    def get_then_race(s, kind, actor, record_id):  # type: ignore[no-untyped-def]
        nonlocal raced
        found = real_get(s, kind, actor, record_id)
        if not raced:
            raced = True
            with db.engine.begin() as other:
                other.execute(
                    sa.text(
                        "UPDATE clients SET name = 'Other', version = version + 1 WHERE id = :i"
                    ),
                    {"i": record_id},
                )
        return found

    mp = pytest.MonkeyPatch()
    mp.setattr(records, "_get", get_then_race)
    try:
        with pytest.raises(ConflictError, match="another workstation"):
            records.update_client(db, row.id, row.version, ClientFields(name="Mine"), office.ann)
    finally:
        mp.undo()
    now = records.get_record(db, RecordKind.CLIENTS, row.id, office.ann)
    assert isinstance(now, records.ClientRow) and now.name == "Other"


def test_update_keeps_private_and_owner_when_not_given(office: Office) -> None:
    db = office.db
    row = records.create_lead(db, lead(office.bob), office.bob)  # private by default
    updated = records.update_lead(db, row.id, row.version, LeadFields(name="Renamed"), office.bob)
    assert (updated.is_private, updated.owner_email) == (True, office.bob)


def test_a_deactivated_owner_keeps_their_records_editable(office: Office) -> None:
    db = office.db
    bob, cal = office.bob, office.cal  # cal's broker works on cal's clients
    row = records.create_client(db, ClientFields(name="Jo", owner_email=cal), bob)
    with db.session() as s:
        s.execute(sa.update(User).where(User.email == cal).values(is_active=False))
    same = records.update_client(
        db, row.id, row.version, ClientFields(name="Jo B", owner_email=cal), bob
    )
    assert (same.name, same.owner_email) == ("Jo B", cal)
    with pytest.raises(RecordError, match="has been deactivated") as info:
        records.create_client(db, ClientFields(name="New", owner_email=cal), bob)
    assert set(info.value.errors) == {"owner"}
    assert cal not in {o.email for o in records.owner_choices(db, RecordKind.CLIENTS, bob).owners}
    with pytest.raises(PermissionDenied, match="has been deactivated"):
        records.list_clients(db, cal)  # a deactivated person acts no more


# -- validation -------------------------------------------------------------------------------

BAD = [
    pytest.param(lambda o: LeadFields(name="  ", owner_email=o.ann), "name", "Name: required"),
    pytest.param(
        lambda o: ClientFields(name="", owner_email=o.ann), "name", "Name: required", id="client"
    ),
    pytest.param(
        lambda o: LeadFields(name="A" * 161, owner_email=o.ann),
        "name",
        "Name: 161 characters long; at most 160 fit",
        id="long-name",
    ),
    pytest.param(
        lambda o: LeadFields(name="Jo", email="not-mail", owner_email=o.ann),
        "email",
        "Email: 'not-mail' is not an email address",
        id="email",
    ),
    pytest.param(
        lambda o: LeadFields(name="Jo", status="hot", owner_email=o.ann),
        "status",
        "Status: 'hot' is not one of new, contacted, qualified, converted, lost",
        id="status",
    ),
    pytest.param(
        lambda o: ListingFields(address="9 Elm", list_price=Decimal(-1), owner_email=o.ann),
        "list_price",
        "List price: must not be negative",
        id="negative-list-price",
    ),
    pytest.param(
        lambda o: escrow(o.ann, "-5"),
        "purchase_price",
        "Purchase price: must not be negative",
        id="negative-purchase-price",
    ),
    pytest.param(
        lambda o: escrow(o.ann, "100000000000000"),
        "purchase_price",
        "Purchase price: too large",
        id="too-large",
    ),
    pytest.param(
        lambda o: escrow(o.ann, "100", my_commission=Decimal(101)),
        "my_commission",
        "My commission: 101 is more than the purchase price, 100",
        id="commission-above-price",
    ),
    pytest.param(
        lambda o: AppointmentFields(
            title="Showing",
            start_time=T0,
            end_time=T0 - dt.timedelta(minutes=1),
            owner_email=o.ann,
        ),
        "end_time",
        "End: 2026-03-02 09:29 UTC is before the start, 2026-03-02 09:30 UTC",
        id="ends-before-start",
    ),
    pytest.param(
        lambda o: LeadFields(name="Jo", owner_email="nobody@office.example"),
        "owner",
        "Owner: no one with the email nobody@office.example is in the office",
        id="unknown-owner",
    ),
    pytest.param(
        lambda o: escrow("nobody@office.example"),
        "owner",
        "Agent: no one with the email nobody@office.example is in the office",
        id="unknown-agent",
    ),
    pytest.param(
        lambda o: escrow(o.ann, escrow_status="Done"),
        "escrow_status",
        "Status: 'Done' is not one of Active, Pending, Closed, Cancelled",
        id="escrow-status",
    ),
    pytest.param(
        lambda o: escrow(o.ann, escrow_status="Closed"),
        "closed_at",
        "Closed: required when the escrow is Closed",
        id="closed-needs-closed-at",
    ),
    pytest.param(
        lambda o: escrow(
            o.ann, escrow_status="Closed", created_at=T0, closed_at=T0 - dt.timedelta(days=1)
        ),
        "closed_at",
        "Closed: 2026-03-01 09:30 UTC is before it was opened, 2026-03-02 09:30 UTC",
        id="closed-before-opened",
    ),
    pytest.param(
        lambda o: escrow(o.ann, escrow_status="Pending", closed_at=T0),
        "closed_at",
        "Closed: must be empty while the escrow is Pending",
        id="pending-has-no-closed-at",
    ),
]


@pytest.mark.parametrize(("make", "field", "message"), BAD)
def test_bad_values_are_refused_naming_the_field(
    office: Office, make, field: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    fields = make(office)
    kind = records.kind_of(fields)
    before = records.list_records(office.db, kind, office.ann).total
    with pytest.raises(ValidationError) as info:
        records.save_record(office.db, fields, acting=office.ann)
    assert isinstance(info.value, RecordError)
    assert field in info.value.errors
    assert message in str(info.value)
    assert records.list_records(office.db, kind, office.ann).total == before  # nothing saved
    if field != "owner":  # the same rules answer before any database is asked
        assert field in records.check_fields(fields)


def test_every_problem_of_a_form_is_named_at_once(office: Office) -> None:
    fields = EscrowFields(
        property_address="",
        purchase_price=Decimal(-1),
        escrow_status="Closed",
        owner_email="x@y.example",
    )
    with pytest.raises(RecordError) as info:
        records.create_escrow(office.db, fields, office.ann)
    assert set(info.value.errors) == {"property_address", "purchase_price", "closed_at", "owner"}
    assert count(office.db, Escrow) == 0


def test_an_update_is_checked_against_the_stored_created_at(office: Office) -> None:
    db = office.db
    ann = office.ann
    row = records.create_escrow(db, escrow(ann), ann)
    with db.session() as s:  # opened on T0
        s.execute(sa.update(Escrow).where(Escrow.id == row.id).values(created_at=T0))
    early = escrow(ann, escrow_status="Closed", closed_at=T0 - dt.timedelta(hours=1))
    with pytest.raises(RecordError, match="before it was opened"):
        records.update_escrow(db, row.id, row.version, early, ann)
    assert "closed_at" in records.check_fields(early, created_at=T0)
    good = escrow(office.ann, escrow_status="Closed", closed_at=T0 + dt.timedelta(days=3))
    closed = records.update_escrow(db, row.id, row.version, good, ann)
    assert (closed.escrow_status, closed.created_at) == ("Closed", T0)


def test_an_owner_must_be_chosen_when_several_people_could_own_it(office: Office) -> None:
    if not office.db.is_local:
        pytest.skip("local mode: on a server the login owns what it creates")
    with pytest.raises(RecordError, match="Owner: choose who the lead belongs to"):
        records.create_lead(office.db, LeadFields(name="Jo"))
    assert count(office.db, Lead) == 0


def test_the_only_person_of_a_local_office_owns_new_records(sqlite_db: Database) -> None:
    add_user(sqlite_db, "solo@office.example", "broker", "Solo", "Broker")
    row = records.create_lead(sqlite_db, LeadFields(name="Jo"))
    assert (row.owner_email, row.is_private) == ("solo@office.example", True)
    choices = records.owner_choices(sqlite_db, RecordKind.LEADS)
    assert choices.default_email == "solo@office.example"


# -- visibility (SPEC §1) ---------------------------------------------------------------------


@pytest.fixture
def filled(office: Office) -> Office:
    db = office.db
    for who in (office.bob, office.zoe, office.mia, office.ann, office.cal, office.dee, office.adm):
        records.create_lead(db, lead(who, f"Lead of {who}"), who)
        records.create_appointment(
            db, AppointmentFields(title=f"Appt of {who}", start_time=T0, owner_email=who), who
        )
        records.create_client(db, ClientFields(name=f"Client of {who}", owner_email=who), who)
        records.create_listing(
            db,
            ListingFields(address=f"Listing of {who}", list_price=Decimal(1), owner_email=who),
            who,
        )
        records.create_escrow(db, escrow(who), who)
    return office


def owners(db: Database, kind: RecordKind, acting: str | None) -> set[str]:
    return {r.owner_email for r in records.list_records(db, kind, acting).rows}


def test_leads_and_appointments_are_seen_by_their_owner_only(filled: Office) -> None:
    o = filled
    for kind in (RecordKind.LEADS, RecordKind.APPOINTMENTS):
        for who in (o.ann, o.bob, o.mia, o.adm, o.tia):
            expected = {who} if who != o.tia else set()
            assert owners(o.db, kind, who) == expected, (kind, who)
        listed = records.list_records(o.db, kind, o.bob)
        assert listed.only_own and listed.total == 1


def test_escrows_clients_and_listings_follow_the_owner_broker_manager_admin_rule(
    filled: Office,
) -> None:
    o = filled
    everyone = {o.bob, o.zoe, o.mia, o.ann, o.cal, o.dee, o.adm}
    expected = {
        o.ann: {o.ann},
        o.cal: {o.cal},
        o.bob: {o.bob, o.mia, o.ann, o.cal, o.adm},  # his agents (broker_id), not zoe's
        o.zoe: {o.zoe, o.dee},
        o.mia: {o.mia, o.ann},  # the team she manages, not South
        o.adm: everyone,
        o.tia: set(),
    }
    for kind in (RecordKind.CLIENTS, RecordKind.LISTINGS, RecordKind.ESCROWS):
        for who, seen in expected.items():
            assert owners(o.db, kind, who) == seen, (kind, who)
    assert records.list_escrows(o.db, o.ann).only_own
    assert not records.list_escrows(o.db, o.bob).only_own


def test_locally_with_nobody_named_the_one_person_sees_everything(filled: Office) -> None:
    if not filled.db.is_local:
        pytest.skip("local mode only")
    for kind in RecordKind:
        listed = records.list_records(filled.db, kind)
        assert listed.total == 7 and not listed.only_own


def test_nobody_reads_or_writes_what_they_may_not_see(filled: Office) -> None:
    o, db = filled, filled.db
    ann_lead = records.list_leads(db, o.ann).rows[0]
    with pytest.raises(ConflictError, match="no longer yours to see"):
        records.get_record(db, RecordKind.LEADS, ann_lead.id, acting=o.bob)
    with pytest.raises(ConflictError):
        records.update_lead(db, ann_lead.id, ann_lead.version, lead(o.ann, "Hijack"), acting=o.bob)
    with pytest.raises(PermissionDenied, match="Owner: you may only add your own leads"):
        records.create_lead(db, lead(o.ann, "For Ann"), acting=o.bob)
    with pytest.raises(PermissionDenied, match="Agent: you may not give this escrow"):
        records.create_escrow(db, escrow(o.cal), acting=o.mia)  # cal is not in her team
    dee_escrow = records.list_escrows(db, o.dee).rows[0]
    with pytest.raises(ConflictError):
        records.update_escrow(db, dee_escrow.id, dee_escrow.version, escrow(o.dee), acting=o.bob)
    assert records.get_record(db, RecordKind.LEADS, ann_lead.id, acting=o.ann).name == (
        f"Lead of {o.ann}"
    )


def test_a_broker_works_on_their_agents_escrows(filled: Office) -> None:
    o, db = filled, filled.db
    made = records.create_escrow(db, escrow(o.ann, "1000"), acting=o.bob)
    assert made.owner_email == o.ann
    moved = records.update_escrow(db, made.id, made.version, escrow(o.cal, "1000"), acting=o.bob)
    assert moved.owner_email == o.cal
    assert made.id in {r.id for r in records.list_escrows(db, o.cal).rows}
    assert made.id not in {r.id for r in records.list_escrows(db, o.ann).rows}


def test_an_acting_person_creates_their_own_records_by_default(filled: Office) -> None:
    row = records.create_lead(filled.db, LeadFields(name="Mine"), acting=filled.cal)
    assert row.owner_email == filled.cal


def test_owner_choices_follow_the_same_rule(filled: Office) -> None:
    o, db = filled, filled.db
    leads_for_bob = records.owner_choices(db, RecordKind.LEADS, o.bob)
    assert [p.email for p in leads_for_bob.owners] == [o.bob]
    assert leads_for_bob.default_email == o.bob
    escrows_for_mia = records.owner_choices(db, RecordKind.ESCROWS, o.mia)
    assert {p.email for p in escrows_for_mia.owners} == {o.mia, o.ann}
    if db.is_local:
        local = records.owner_choices(db, RecordKind.ESCROWS)
        assert len(local.owners) == 8 and local.default_email is None


def test_an_unknown_acting_person_is_refused(office: Office) -> None:
    with pytest.raises(PermissionDenied, match=r"No one with the email ghost@office\.example"):
        records.list_leads(office.db, "ghost@office.example")


# -- the newest rows, and how many there are --------------------------------------------------


def test_lists_are_newest_first_and_capped_with_the_total(office: Office) -> None:
    db = office.db
    for day in range(5):
        fields = lead(office.ann, f"L{day}", created_at=T0 + dt.timedelta(days=day))
        records.create_lead(db, fields, office.ann)
    capped = records.list_leads(db, office.ann, limit=3)
    assert [r.name for r in capped.rows] == ["L4", "L3", "L2"]
    assert (capped.total, capped.capped) == (5, True)
    whole = records.list_leads(db, office.ann)
    assert (len(whole.rows), whole.total, whole.capped) == (5, 5, False)
    assert records.MAX_ROWS == 5000


# -- shared mode: the login is the acting person ----------------------------------------------


def _as_login(db: Database, email: str) -> Database:
    return open_database(make_url(db.url).set(username=email).render_as_string(False))


@pytest.mark.pg
def test_on_a_server_the_login_is_the_acting_person(pg_db: Database) -> None:
    bob, ann = mail("sbob"), mail("sann")
    add_user(pg_db, bob, "broker", "Bob", "Broker", password="pw-bob-123")
    add_user(pg_db, ann, "agent", "Ann", "Lee", broker_email=bob, password="pw-ann-123")
    as_ann, as_bob = _as_login(pg_db, ann), _as_login(pg_db, bob)
    try:
        actor = records.current_person(as_ann)
        assert actor is not None and actor.email == ann
        mine = records.create_lead(as_ann, LeadFields(name="Ann's lead"))
        assert (mine.owner_email, mine.is_private) == (ann, False)
        records.create_escrow(as_ann, escrow(ann))
        bobs = records.create_lead(as_bob, LeadFields(name="Bob's lead"))
        assert bobs.is_private is True
        assert [r.name for r in records.list_leads(as_ann).rows] == ["Ann's lead"]
        assert [r.name for r in records.list_leads(as_bob).rows] == ["Bob's lead"]
        assert records.list_escrows(as_bob).total == 1  # his agent's escrow
        with pytest.raises(PermissionDenied, match="you cannot act as"):
            records.list_escrows(as_ann, acting=bob)
        assert records.list_leads(as_ann, acting=ann).total == 1  # naming oneself is fine
    finally:
        as_ann.dispose()
        as_bob.dispose()


@pytest.mark.pg
def test_a_server_login_that_is_nobody_must_name_a_person(pg_db: Database) -> None:
    ann = mail("nann")
    add_user(pg_db, ann, "agent", "Ann", "Lee", password="pw-ann-123")
    with pytest.raises(PermissionDenied, match="is not a person of the office"):
        records.list_leads(pg_db)
    with pytest.raises(PermissionDenied, match="is not a person of the office"):
        records.create_lead(pg_db, LeadFields(name="Jo", owner_email=ann))
    assert records.list_leads(pg_db, acting=ann).total == 0
