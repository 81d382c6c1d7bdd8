"""Broker notifications (SPEC §3) on both backends, and through a person's login on PostgreSQL."""

from __future__ import annotations

import os
from dataclasses import replace
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.models import User
from app.domain.errors import ConflictError, ValidationError
from app.services import notifications as notes
from app.services import records
from app.services.database import Database, open_database
from app.services.records import (
    AppointmentFields,
    ClientFields,
    EscrowFields,
    LeadFields,
    ListingFields,
)
from app.services.users import add_user


def mail(name: str) -> str:
    return f"{name}.n{os.getpid()}@office.example"


BOB, ANN, SOLO = mail("bob"), mail("ann"), mail("solo")


@pytest.fixture
def office(db: Database) -> Database:
    add_user(db, BOB, "broker", "Bob", "Broker")
    add_user(db, ANN, "agent", "Ann", "Lee", broker_email=BOB)
    add_user(db, SOLO, "agent", "Sol", "Alone")
    return db


def _id(db: Database, email: str) -> int:
    with db.read() as s:
        found = s.scalar(sa.select(User.id).where(User.email == email))
    assert found is not None
    return found


def _escrow(owner: str, price: str = "450000") -> EscrowFields:
    return EscrowFields(
        property_address="123 Main St, Bakersfield CA",
        purchase_price=Decimal(price),
        owner_email=owner,
    )


def test_escrow_created_notifies_the_agents_broker_naming_agent_property_price_and_link(
    office: Database,
) -> None:
    e = records.create_escrow(office, _escrow(ANN), acting=ANN)
    got = notes.list_notifications(office, acting=BOB)
    assert got.unread == 1
    (n,) = got.rows
    assert (n.type, n.entity_type, n.entity_id, n.page) == (
        "escrow.created",
        "escrow",
        e.id,
        "escrows",
    )
    assert n.agent_name == "Ann Lee" and n.price == Decimal("450000.00")
    assert "123 Main St, Bakersfield CA" in n.title and "$450,000.00" in n.body
    assert n.recipient_id == _id(office, BOB)
    assert notes.list_notifications(office, acting=ANN).rows == ()


def test_escrow_closed_when_an_update_closes_it(office: Database) -> None:
    e = records.create_escrow(office, _escrow(ANN), acting=ANN)
    moved = records.update_escrow(
        office, e.id, e.version, replace(_escrow(ANN), escrow_status="Pending"), ANN
    )
    closed = records.update_escrow(
        office,
        e.id,
        moved.version,
        replace(_escrow(ANN), escrow_status="Closed", closed_at=e.created_at),
        ANN,
    )
    records.update_escrow(
        office,
        e.id,
        closed.version,
        replace(_escrow(ANN, "460000"), escrow_status="Closed", closed_at=e.created_at),
        ANN,
    )
    types = [n.type for n in notes.list_notifications(office, acting=BOB).rows]
    assert sorted(types) == ["escrow.closed", "escrow.created"]  # closing again: nothing


def test_client_created_and_listing_created(office: Database) -> None:
    c = records.create_client(
        office, ClientFields(name="Sarah Johnson", source="Referral", owner_email=ANN), ANN
    )
    li = records.create_listing(
        office,
        ListingFields(address="456 Oak Ave", list_price=Decimal("575000"), owner_email=ANN),
        ANN,
    )
    rows = {n.type: n for n in notes.list_notifications(office, acting=BOB).rows}
    assert rows["client.created"].entity_id == c.id and rows["client.created"].price is None
    assert "Sarah Johnson" in rows["client.created"].title
    assert rows["listing.created"].entity_id == li.id
    assert rows["listing.created"].price == Decimal("575000.00")


def test_never_for_leads_or_appointments(office: Database) -> None:
    import datetime as dt

    records.create_lead(office, LeadFields(name="L", owner_email=ANN), ANN)
    records.create_appointment(
        office,
        AppointmentFields(
            title="A", start_time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), owner_email=ANN
        ),
        ANN,
    )
    assert notes.unread_count(office) == 0


def test_no_broker_notifies_nobody_and_a_brokers_own_records_notify_nobody(
    office: Database,
) -> None:
    records.create_escrow(office, _escrow(SOLO), acting=SOLO)
    records.create_escrow(office, _escrow(BOB), acting=BOB)
    assert notes.unread_count(office) == 0


def test_settings_switch_per_type_and_in_app_channel(office: Database) -> None:
    bob = _id(office, BOB)
    start = notes.get_settings(office, bob)
    assert start.version == 0 and start.escrow_created and start.in_app
    saved = notes.save_settings(office, replace(start, client_created=False))
    records.create_client(office, ClientFields(name="Quiet", owner_email=ANN), ANN)
    records.create_escrow(office, _escrow(ANN), acting=ANN)
    assert [n.type for n in notes.list_notifications(office, acting=BOB).rows] == ["escrow.created"]
    notes.save_settings(office, replace(saved, in_app=False))
    records.create_escrow(office, _escrow(ANN), acting=ANN)
    assert notes.unread_count(office, acting=BOB) == 1


def test_min_escrow_value_only_for_escrows(office: Database) -> None:
    bob = _id(office, BOB)
    notes.save_settings(
        office, replace(notes.get_settings(office, bob), min_escrow_value=Decimal("500000"))
    )
    records.create_escrow(office, _escrow(ANN, "499999.99"), acting=ANN)
    records.create_escrow(office, _escrow(ANN, "500000"), acting=ANN)
    records.create_listing(
        office, ListingFields(address="1 Cheap St", list_price=Decimal("1"), owner_email=ANN), ANN
    )
    rows = notes.list_notifications(office, acting=BOB).rows
    assert sorted((n.type, n.price) for n in rows) == [
        ("escrow.created", Decimal("500000.00")),
        ("listing.created", Decimal("1.00")),
    ]


def test_unread_count_mark_read_and_mark_all_read(office: Database) -> None:
    for price in ("1", "2", "3"):
        records.create_escrow(office, _escrow(ANN, price), acting=ANN)
    got = notes.list_notifications(office, acting=BOB)
    assert got.unread == 3 and [n.price for n in got.rows] == [
        Decimal("3.00"),
        Decimal("2.00"),
        Decimal("1.00"),
    ]
    assert notes.mark_read(office, got.rows[0].id, acting=BOB) == 1
    assert notes.mark_read(office, got.rows[0].id, acting=BOB) == 0
    assert notes.mark_read(office, got.rows[1].id, acting=ANN) == 0  # not hers
    assert notes.unread_count(office, acting=BOB) == 2
    assert notes.mark_all_read(office, acting=BOB) == 2
    assert notes.unread_count(office, acting=BOB) == 0
    assert all(n.is_read for n in notes.list_notifications(office, acting=BOB).rows)


def test_settings_version_conflict_and_validation(office: Database) -> None:
    bob = _id(office, BOB)
    start = notes.get_settings(office, bob)
    first = notes.save_settings(office, replace(start, sms=True))
    with pytest.raises(ConflictError):
        notes.save_settings(office, replace(start, sms=False))  # read before the first save
    second = notes.save_settings(office, replace(first, email=False))
    assert second.version == first.version + 1 and second.sms and not second.email
    with pytest.raises(ConflictError):
        notes.save_settings(office, replace(first, email=True))
    with pytest.raises(ValidationError, match="negative"):
        notes.save_settings(office, replace(second, min_escrow_value=Decimal("-1")))
    assert [b.email for b in notes.settings_brokers(office)] == [BOB]
    assert notes.settings_brokers(office, acting=ANN) == ()


@pytest.mark.pg
def test_an_agents_own_login_raises_the_brokers_notification_it_cannot_read(
    pg_db: Database,
) -> None:
    bob, ann = mail("sbob"), mail("sann")
    add_user(pg_db, bob, "broker", "Bob", "Broker", password="pw")
    add_user(pg_db, ann, "agent", "Ann", "Lee", broker_email=bob, password="pw")
    as_ann = open_database(make_url(pg_db.url).set(username=ann).render_as_string(False))
    as_bob = open_database(make_url(pg_db.url).set(username=bob).render_as_string(False))
    try:
        e = records.create_escrow(as_ann, _escrow(ann))
        records.create_client(as_ann, ClientFields(name="Sarah Johnson"))
        assert notes.list_notifications(as_ann).rows == ()
        with as_ann.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM notifications")).scalar() == 0
        got = notes.list_notifications(as_bob)
        assert got.unread == 2
        escrow_note = next(n for n in got.rows if n.type == "escrow.created")
        assert (escrow_note.entity_id, escrow_note.agent_name) == (e.id, "Ann Lee")
        assert notes.mark_all_read(as_bob) == 2
        # The definer half refuses a record the caller does not see, and another's login.
        other = mail("sdee")
        add_user(pg_db, other, "agent", "Dee", "Ng", broker_email=bob, password="pw")
        with as_ann.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError):
            conn.execute(
                sa.text("SELECT notify_broker_for(:who, 'escrow.created', :id, 't', 'b')"),
                {"who": other, "id": e.id},
            )
    finally:
        as_ann.dispose()
        as_bob.dispose()


@pytest.mark.pg
def test_the_notify_functions_are_declared_and_granted_as_intended(pg_db: Database) -> None:
    with pg_db.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT p.proname, p.prosecdef, p.proconfig, "
                "has_function_privilege('public', p.oid, 'EXECUTE'), "
                "has_function_privilege('perfdesk_user', p.oid, 'EXECUTE') "
                "FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace "
                "AND p.proname IN ('notify_broker', 'notify_broker_for')"
            )
        ).all()
    got = {r[0]: tuple(r[1:]) for r in rows}
    path = ["search_path=pg_catalog, public, pg_temp"]
    assert got == {
        "notify_broker": (False, path, False, True),
        "notify_broker_for": (True, path, False, True),
    }
