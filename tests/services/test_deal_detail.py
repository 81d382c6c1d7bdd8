"""The deal panel's service on SQLite and PostgreSQL: the detail (fields, contacts, documents,
a timeline with SPEC §4 durations and SPEC §5 verification), edits validated per field with
nothing written, stale versions refused, and an audit entry for every edit."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.models import (
    AuditEntry,
    CommissionRecord,
    Deal,
    DealContact,
    DealDocument,
    DealStageEvent,
    User,
)
from app.domain.audit import deal_chain_key
from app.domain.enums import ContactRole, DealStage, DealStatus
from app.domain.errors import ConflictError, ValidationError
from app.services.audit import append_entry, chain_entries, verify_all
from app.services.database import Database, open_database
from app.services.pipeline.common import DealNotFound
from app.services.pipeline.detail import (
    ContactFields,
    DealEditError,
    DealFields,
    DocumentFields,
    Integrity,
    TimelineKind,
    add_contact,
    add_document,
    check_deal_fields,
    deal_detail,
    delete_contact,
    delete_document,
    edit_choices,
    update_contact,
    update_deal,
)
from app.services.pipeline.moves import move_deal
from app.services.users import add_user
from tests.conftest import PgDatabases

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
BROKER = "bob@office.example"
ANN = "ann@office.example"
DEE = "dee@office.example"
_serial = itertools.count()


@dataclass(frozen=True)
class Seeded:
    db: Database
    deal_id: int
    bob_id: int
    ann_id: int


def _deal(agent_id: int, **extra: object) -> Deal:
    values: dict[str, object] = {
        "ref": "DL-1",
        "agent_id": agent_id,
        "title": "Oak duplex",
        "asset_type": "residential",
        "deal_type": "buy_side",
        "pipeline_stage": DealStage.LEAD_CAPTURED,
        "status": DealStatus.OPEN,
        "lead_source": "Zillow",
        "estimated_value_amount": Decimal("450000.00"),
        "estimated_value_currency": "USD",
        "confidence": Decimal("0.4"),
        "created_at": T0,
    }
    values.update(extra)
    return Deal(**values)


@pytest.fixture
def seeded(db: Database) -> Seeded:
    """Bob (broker) of Ann (agent); Dee (agent of nobody); Ann's deal, created at T0 then
    moved twice: lead_captured → qualification (T0 + 1d) → proposal (T0 + 3d 4h)."""
    with db.session() as s:
        bob = User(email=BROKER, first_name="Bob", last_name="Stone", role="broker")
        s.add(bob)
        s.flush()
        ann = User(email=ANN, first_name="Ann", last_name="Lee", role="agent", broker_id=bob.id)
        dee = User(email=DEE, first_name="Dee", last_name="Park", role="agent")
        s.add_all([ann, dee])
        s.flush()
        deal = _deal(ann.id)
        s.add(deal)
        s.flush()
        s.add(
            DealStageEvent(
                deal_id=deal.id,
                from_stage=None,
                to_stage=DealStage.LEAD_CAPTURED,
                changed_by_id=ann.id,
                recorded_at=T0,
            )
        )
        ids = (deal.id, bob.id, ann.id)
    deal_id, bob_id, ann_id = ids
    move_deal(db, deal_id, DealStage.QUALIFICATION, acting=ANN, now=T0 + dt.timedelta(days=1))
    move_deal(
        db,
        deal_id,
        DealStage.PROPOSAL,
        note="Sent the offer",
        acting=BROKER,
        now=T0 + dt.timedelta(days=3, hours=4),
    )
    return Seeded(db, deal_id, bob_id, ann_id)


def fields_of(db: Database, deal_id: int) -> DealFields:
    d = deal_detail(db, deal_id, acting=BROKER).deal
    return DealFields(
        title=d.title,
        asset_type=d.asset_type,
        deal_type=d.deal_type,
        lead_source=d.lead_source,
        estimated_value_amount=d.estimated_value_amount,
        estimated_value_currency=d.estimated_value_currency,
        expected_close_date=d.expected_close_date,
        confidence=d.confidence,
    )


def audit_count(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0)


def stored_deal(db: Database, deal_id: int) -> Deal:
    with db.read() as s:
        deal = s.get(Deal, deal_id)
        assert deal is not None
        return deal


def drop_append_only(db: Database, table: str) -> None:
    """What someone editing the database directly would do first (migration 0002's names)."""
    with db.session() as s:
        if db.is_local:
            s.execute(sa.text(f"DROP TRIGGER trg_{table}_no_update"))
        else:
            s.execute(sa.text(f"DROP TRIGGER trg_{table}_append_only ON {table}"))


# -- reading ----------------------------------------------------------------------------------


def test_detail_has_the_deals_fields_agent_and_weighted_value(seeded: Seeded) -> None:
    detail = deal_detail(seeded.db, seeded.deal_id, acting=BROKER)
    d = detail.deal
    assert (d.id, d.ref, d.title) == (seeded.deal_id, "DL-1", "Oak duplex")
    assert (d.stage, d.status) == (DealStage.PROPOSAL, DealStatus.OPEN)
    assert d.version == 3  # created at 1, two moves
    assert (d.agent_name, d.agent_email, d.agent_id) == ("Ann Lee", ANN, seeded.ann_id)
    assert d.estimated_value_amount == Decimal("450000.00")
    assert d.weighted_value == Decimal("180000")
    assert detail.contacts == () and detail.documents == ()


def test_timeline_durations_run_until_the_next_stage_event_or_now(seeded: Seeded) -> None:
    now = T0 + dt.timedelta(days=5)
    timeline = deal_detail(seeded.db, seeded.deal_id, acting=BROKER, now=now).timeline

    assert [i.kind for i in timeline] == [
        TimelineKind.CREATED,
        TimelineKind.STAGE,
        TimelineKind.STAGE,
    ]
    assert [i.duration_seconds for i in timeline] == [
        86400,
        2 * 86400 + 4 * 3600,
        86400 + 20 * 3600,
    ]
    created, first, second = timeline
    assert (created.from_stage, created.to_stage) == (None, DealStage.LEAD_CAPTURED)
    assert (first.from_stage, first.to_stage) == (DealStage.LEAD_CAPTURED, DealStage.QUALIFICATION)
    assert first.who == "Ann Lee" and second.who == "Bob Stone"
    assert second.note == "Sent the offer"
    assert second.recorded_at == T0 + dt.timedelta(days=3, hours=4)
    assert second.summary == "Qualification → Proposal"


def test_moves_verify_and_the_creation_event_has_no_audit_entry(seeded: Seeded) -> None:
    timeline = deal_detail(seeded.db, seeded.deal_id, acting=BROKER).timeline
    created, *moves = timeline

    assert created.integrity is Integrity.NO_ENTRY
    assert created.verified is False and created.audit_entry_id is None
    assert created.problem == "no audit entry"
    assert all(m.verified and m.integrity is Integrity.VERIFIED for m in moves)
    assert [m.audit_seq for m in moves] == [1, 2]


def test_a_tampered_audit_entry_does_not_verify(seeded: Seeded) -> None:
    db = seeded.db
    drop_append_only(db, "audit_entries")
    chain = deal_chain_key(seeded.deal_id)
    with db.session() as s:
        entry = s.scalars(
            sa.select(AuditEntry).where(AuditEntry.chain_key == chain, AuditEntry.seq == 2)
        ).one()
        entry.payload = {**entry.payload, "note": "Nothing was sent"}

    timeline = deal_detail(db, seeded.deal_id, acting=BROKER).timeline

    created, first, second = timeline
    assert first.verified and first.integrity is Integrity.VERIFIED
    assert not second.verified
    assert second.integrity is Integrity.BROKEN
    assert second.problem == "hash does not verify"
    assert created.integrity is Integrity.NO_ENTRY
    assert verify_all(db).fault is not None


def test_a_stage_event_changed_behind_the_chain_does_not_verify(seeded: Seeded) -> None:
    db = seeded.db
    drop_append_only(db, "deal_stage_events")
    with db.session() as s:
        s.execute(
            sa.update(DealStageEvent)
            .where(DealStageEvent.note == "Sent the offer")
            .values(note="Rewritten")
        )

    second = deal_detail(db, seeded.deal_id, acting=BROKER).timeline[-1]

    assert second.note == "Rewritten"
    assert second.integrity is Integrity.BROKEN and not second.verified
    assert second.problem == "the stage event differs from its audit entry"
    assert verify_all(db).intact  # the chain itself is whole: the event was changed


def test_a_move_inserted_without_its_audit_entry_does_not_verify(seeded: Seeded) -> None:
    """Append-only triggers refuse updates and deletes, not inserts: a stage event added
    directly has no entry on the chain, and says so."""
    db = seeded.db
    with db.session() as s:
        s.add(
            DealStageEvent(
                deal_id=seeded.deal_id,
                from_stage=DealStage.PROPOSAL,
                to_stage=DealStage.CLOSED_WON,
                changed_by_id=seeded.ann_id,
                recorded_at=T0 + dt.timedelta(days=4),
            )
        )

    forged = deal_detail(db, seeded.deal_id, acting=BROKER).timeline[-1]

    assert forged.to_stage is DealStage.CLOSED_WON
    assert forged.integrity is Integrity.BROKEN and not forged.verified
    assert forged.problem == "this move has no audit entry"
    assert forged.audit_entry_id is None


def test_commission_entries_of_the_chain_join_the_timeline(seeded: Seeded) -> None:
    db = seeded.db
    at = T0 + dt.timedelta(days=4)
    with db.session() as s:
        record = CommissionRecord(
            deal_id=seeded.deal_id,
            agent_id=seeded.ann_id,
            commission_type="exclusive",
            basis_amount=Decimal("450000"),
            commission_rate=Decimal("0.025"),
            commission_amount=Decimal("11250"),
            status="pending",
        )
        s.add(record)
        s.flush()
        cid = record.id
        chain = deal_chain_key(seeded.deal_id)
        append_entry(
            s, chain, "commission_created", "commission", cid, seeded.bob_id,
            {"commission_id": cid, "deal_id": seeded.deal_id, "agent_id": seeded.ann_id,
             "commission_type": "exclusive", "basis_amount": Decimal("450000"),
             "commission_rate": Decimal("0.0250"), "commission_amount": Decimal("11250.00"),
             "status": "pending"},
            at,
        )  # fmt: skip
        append_entry(
            s, chain, "commission_status_changed", "commission", cid, seeded.bob_id,
            {"commission_id": cid, "from_status": "pending", "to_status": "disputed",
             "reason": "Split unclear"},
            at + dt.timedelta(hours=1),
        )  # fmt: skip
        append_entry(
            s, chain, "commission_adjusted", "commission", cid, seeded.bob_id,
            {"commission_id": cid, "adjustment_id": 1, "adjustment_type": "clawback",
             "amount": Decimal("-500.00"), "note": "Fee refund"},
            at + dt.timedelta(hours=2),
        )  # fmt: skip

    timeline = deal_detail(db, seeded.deal_id, acting=BROKER).timeline
    commission = [i for i in timeline if i.kind is TimelineKind.COMMISSION]

    assert [i.event_type for i in commission] == [
        "commission_created",
        "commission_status_changed",
        "commission_adjusted",
    ]
    created, disputed, adjusted = commission
    assert created.summary == (
        "Exclusive commission (Ann Lee) created: $11,250.00 (2.50% of $450,000.00), pending"
    )
    assert disputed.summary == "Exclusive commission (Ann Lee): pending → disputed"
    assert disputed.note == "Split unclear"
    assert adjusted.summary == "Exclusive commission (Ann Lee): clawback -$500.00"
    assert adjusted.note == "Fee refund"
    assert all(i.verified and i.duration_seconds is None for i in commission)
    assert all(i.who == "Bob Stone" for i in commission)
    assert timeline[-1] is adjusted  # merged in time order, after the moves


def test_a_deal_one_may_not_see_is_not_found(seeded: Seeded) -> None:
    with pytest.raises(DealNotFound):
        deal_detail(seeded.db, seeded.deal_id, acting=DEE)
    with pytest.raises(DealNotFound):
        update_deal(seeded.db, seeded.deal_id, fields_of(seeded.db, seeded.deal_id), 3, DEE)
    with pytest.raises(DealNotFound):
        add_contact(seeded.db, seeded.deal_id, ContactFields(name="Jo"), acting=DEE)
    assert deal_detail(seeded.db, seeded.deal_id, acting=ANN).deal.title == "Oak duplex"


# -- editing the deal -------------------------------------------------------------------------

BAD_VALUES: list[tuple[str, object, str]] = [
    ("title", "  ", "required"),
    ("title", "x" * 201, "201 characters long; at most 200 fit"),
    ("asset_type", "", "required"),
    ("deal_type", "y" * 41, "41 characters long; at most 40 fit"),
    ("lead_source", "z" * 81, "81 characters long; at most 80 fit"),
    ("estimated_value_amount", Decimal("-1"), "must not be negative (got -1)"),
    ("estimated_value_amount", None, "required"),
    ("estimated_value_currency", "US", "A currency is a three-letter ISO 4217 code"),
    ("estimated_value_currency", "", "required"),
    ("confidence", Decimal("1.5"), "must be between 0 and 1 (got 1.5)"),
    ("confidence", Decimal("0.12345"), "at most 4 decimals (got 0.12345)"),
    ("confidence", None, "required"),
]


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    BAD_VALUES,
    ids=[f"{n}-{i}" for i, (n, _v, _r) in enumerate(BAD_VALUES)],
)
def test_each_field_is_checked_and_nothing_is_written(
    seeded: Seeded, name: str, value: object, reason: str
) -> None:
    db = seeded.db
    good = fields_of(db, seeded.deal_id)
    bad = replace(good, **{name: value})
    before = audit_count(db)

    with pytest.raises(DealEditError) as info:
        update_deal(db, seeded.deal_id, bad, 3, acting=BROKER)

    assert isinstance(info.value, ValidationError)
    assert list(info.value.errors) == [name]
    assert info.value.errors[name].startswith(reason)
    assert check_deal_fields(bad) == info.value.errors
    deal = stored_deal(db, seeded.deal_id)
    assert deal.version == 3 and deal.title == "Oak duplex"
    assert audit_count(db) == before


def test_every_problem_is_reported_at_once(seeded: Seeded) -> None:
    good = fields_of(seeded.db, seeded.deal_id)
    bad = replace(good, title="", confidence=Decimal("2"), estimated_value_amount=Decimal("-5"))
    with pytest.raises(DealEditError) as info:
        update_deal(seeded.db, seeded.deal_id, bad, 3, acting=BROKER)
    assert set(info.value.errors) == {"title", "confidence", "estimated_value_amount"}
    assert "Title: required" in str(info.value)


def test_a_save_writes_the_fields_a_new_version_and_an_audit_entry(seeded: Seeded) -> None:
    db = seeded.db
    changed = replace(
        fields_of(db, seeded.deal_id),
        title="  Oak duplex (two units) ",
        estimated_value_amount=Decimal("475000.005"),
        estimated_value_currency="usd",
        expected_close_date=dt.date(2026, 6, 30),
        confidence=Decimal("0.55"),
    )

    info = update_deal(db, seeded.deal_id, changed, 3, acting=BROKER)

    assert info.version == 4
    assert info.title == "Oak duplex (two units)"
    assert info.estimated_value_amount == Decimal("475000.01")  # half-up to cents
    assert info.estimated_value_currency == "USD"
    assert info.stage is DealStage.PROPOSAL  # a save never moves the deal
    entries = chain_entries(db, deal_chain_key(seeded.deal_id))
    last, ok = entries[-1]
    assert ok and last.event_type == "deal_updated" and last.actor_id == seeded.bob_id
    assert last.payload["changes"] == {
        "title": {"old": "Oak duplex", "new": "Oak duplex (two units)"},
        "estimated_value_amount": {"old": "450000.00", "new": "475000.01"},
        "expected_close_date": {"old": None, "new": "2026-06-30"},
        "confidence": {"old": "0.4000", "new": "0.55"},
    }
    assert verify_all(db).intact
    item = deal_detail(db, seeded.deal_id, acting=BROKER).timeline[-1]
    assert item.kind is TimelineKind.EDIT and item.verified
    assert item.summary == "Details changed: Title, Estimated value, Expected close, Confidence"
    assert item.note is not None and "Title: Oak duplex → Oak duplex (two units)" in item.note


def test_a_save_that_changes_nothing_writes_nothing(seeded: Seeded) -> None:
    before = audit_count(seeded.db)
    info = update_deal(seeded.db, seeded.deal_id, fields_of(seeded.db, seeded.deal_id), 3, BROKER)
    assert info.version == 3
    assert audit_count(seeded.db) == before


def test_a_stale_version_is_refused_and_nothing_is_written(seeded: Seeded) -> None:
    db = seeded.db
    seen = fields_of(db, seeded.deal_id)
    move_deal(db, seeded.deal_id, DealStage.NEGOTIATION, acting=ANN)  # another workstation
    before = audit_count(db)

    with pytest.raises(ConflictError, match="changed on another workstation"):
        update_deal(db, seeded.deal_id, replace(seen, title="Mine"), 3, acting=BROKER)

    deal = stored_deal(db, seeded.deal_id)
    assert deal.title == "Oak duplex" and deal.version == 4
    assert audit_count(db) == before


# -- contacts and documents -------------------------------------------------------------------


def test_contacts_are_added_changed_and_removed_with_audit_entries(seeded: Seeded) -> None:
    db, deal_id = seeded.db, seeded.deal_id
    added = add_contact(
        db,
        deal_id,
        ContactFields(name=" Jo Ruiz ", role="legal", email="Jo@Law.example", company="Ruiz LLP"),
        acting=BROKER,
    )
    assert (added.name, added.role, added.email) == ("Jo Ruiz", ContactRole.LEGAL, "jo@law.example")

    changed = update_contact(
        db, deal_id, added.id,
        ContactFields(name="Jo Ruiz", role="finance", email="jo@law.example", phone="555-0101",
                      company="Ruiz LLP"),
        added.version, acting=BROKER,
    )  # fmt: skip
    assert changed.role is ContactRole.FINANCE and changed.version == added.version + 1
    assert deal_detail(db, deal_id, acting=BROKER).contacts == (changed,)

    with pytest.raises(ConflictError):
        update_contact(db, deal_id, added.id, ContactFields(name="Old"), added.version, BROKER)

    delete_contact(db, deal_id, added.id, changed.version, acting=BROKER)
    assert deal_detail(db, deal_id, acting=BROKER).contacts == ()

    entries = chain_entries(db, deal_chain_key(deal_id))
    kinds = [e.event_type for e, _ok in entries]
    assert kinds[-3:] == ["deal_contact_added", "deal_contact_updated", "deal_contact_removed"]
    assert entries[-2][0].payload["changes"] == {
        "role": {"old": "legal", "new": "finance"},
        "phone": {"old": None, "new": "555-0101"},
    }
    assert all(ok for _e, ok in entries)
    assert verify_all(db).intact
    summaries = [i.summary for i in deal_detail(db, deal_id, acting=BROKER).timeline[-3:]]
    assert summaries == [
        "Contact added: Jo Ruiz (Legal)",
        "Contact changed: Jo Ruiz",
        "Contact removed: Jo Ruiz (Finance)",
    ]


def test_contact_fields_are_checked_and_nothing_is_written(seeded: Seeded) -> None:
    before = audit_count(seeded.db)
    with pytest.raises(DealEditError) as info:
        add_contact(
            seeded.db,
            seeded.deal_id,
            ContactFields(name="", role="boss", email="not-an-email"),
            acting=BROKER,
        )
    assert set(info.value.errors) == {"name", "role", "email"}
    assert info.value.errors["name"] == "required"
    assert "is not an email address" in info.value.errors["email"]
    with seeded.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(DealContact)) == 0
    assert audit_count(seeded.db) == before


def test_documents_are_added_and_removed_with_audit_entries(seeded: Seeded) -> None:
    db, deal_id = seeded.db, seeded.deal_id
    uri = "https://docs.example/deals/DL-1/loi.pdf"
    doc = add_document(
        db, deal_id, DocumentFields(title="Letter of intent", doc_type="loi", uri=uri), BROKER
    )
    assert (doc.title, doc.doc_type, doc.uri, doc.added_by_name) == (
        "Letter of intent",
        "loi",
        uri,
        "Bob Stone",
    )
    assert deal_detail(db, deal_id, acting=BROKER).documents == (doc,)
    assert edit_choices(db).doc_types == ("loi",)

    delete_document(db, deal_id, doc.id, doc.version, acting=BROKER)

    assert deal_detail(db, deal_id, acting=BROKER).documents == ()
    with pytest.raises(ConflictError):
        delete_document(db, deal_id, doc.id, acting=BROKER)
    entries = chain_entries(db, deal_chain_key(deal_id))
    assert [e.event_type for e, _ok in entries[-2:]] == [
        "deal_document_added",
        "deal_document_removed",
    ]
    assert entries[-1][0].payload["uri"] == uri
    assert verify_all(db).intact


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (DocumentFields(title="", doc_type="", uri=""), {"title", "doc_type", "uri"}),
        (DocumentFields(title="Plan", doc_type="plan", uri="x" * 2001), {"uri"}),
        (DocumentFields(title="Plan", doc_type="plan", uri="a\nb"), {"uri"}),
    ],
)
def test_document_fields_are_checked_and_nothing_is_written(
    seeded: Seeded, fields: DocumentFields, errors: set[str]
) -> None:
    before = audit_count(seeded.db)
    with pytest.raises(DealEditError) as info:
        add_document(seeded.db, seeded.deal_id, fields, acting=BROKER)
    assert set(info.value.errors) == errors
    with seeded.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(DealDocument)) == 0
    assert audit_count(seeded.db) == before


def test_edit_choices_offer_the_values_in_use(seeded: Seeded) -> None:
    choices = edit_choices(seeded.db)
    assert choices.asset_types == ("residential",)
    assert choices.deal_types == ("buy_side",)
    assert choices.lead_sources == ("Zillow",)


# -- shared mode: each person's own login, row-level security ----------------------------------


@dataclass(frozen=True)
class Shared:
    owner: Database  # the server's owner (set-up, verification)
    broker: Database  # each person's own login
    agent: Database
    rival: Database
    deal_id: int  # the agent's


@pytest.fixture
def shared(pg_databases: PgDatabases) -> Iterator[Shared]:
    """A migrated server database; an agent, their broker and a rival as their own logins."""
    name = pg_databases.create(template=pg_databases.migrated_template())
    owner = open_database(pg_databases.url_for(name))
    tag = f"dd{os.getpid()}n{next(_serial)}"
    emails = {k: f"{k}.{tag}@example.com" for k in ("broker", "agent", "rival")}
    add_user(owner, emails["broker"], "broker", first_name="Bea", last_name="Broker")
    agent = add_user(
        owner, emails["agent"], "agent", first_name="Al", last_name="Agent",
        broker_email=emails["broker"],
    )  # fmt: skip
    add_user(owner, emails["rival"], "agent", first_name="Rae", last_name="Rival")
    with owner.session() as s:
        deal = _deal(agent.id, ref=f"DL-{tag}")
        s.add(deal)
        s.flush()
        s.add(
            DealStageEvent(deal_id=deal.id, from_stage=None, to_stage=DealStage.LEAD_CAPTURED,
                           changed_by_id=agent.id, recorded_at=T0)
        )  # fmt: skip
        deal_id = deal.id
    logins = {
        key: open_database(
            make_url(owner.url)
            .set(username=email, password=None)
            .render_as_string(hide_password=False)
        )
        for key, email in emails.items()
    }
    try:
        yield Shared(owner, logins["broker"], logins["agent"], logins["rival"], deal_id)
    finally:
        for db in (*logins.values(), owner):
            db.dispose()
        pg_databases.drop(name)


@pytest.mark.pg
def test_on_a_server_the_agents_own_login_edits_and_a_rival_sees_nothing(shared: Shared) -> None:
    agent, broker, rival, deal_id = shared.agent, shared.broker, shared.rival, shared.deal_id
    move_deal(agent, deal_id, DealStage.QUALIFICATION, now=T0 + dt.timedelta(days=1))
    seen = fields_of_as(agent, deal_id)

    info = update_deal(agent, deal_id, replace(seen, title="Renamed"), 2)
    add_contact(agent, deal_id, ContactFields(name="Jo Ruiz", role="legal"))
    doc = add_document(broker, deal_id, DocumentFields(title="LOI", doc_type="loi", uri="x:/a"))
    delete_document(broker, deal_id, doc.id, doc.version)

    assert info.title == "Renamed" and info.version == 3
    detail = deal_detail(broker, deal_id)
    assert [c.name for c in detail.contacts] == ["Jo Ruiz"]
    assert [i.event_type for i in detail.timeline][-4:] == [
        "deal_updated",
        "deal_contact_added",
        "deal_document_added",
        "deal_document_removed",
    ]
    assert all(i.verified for i in detail.timeline[1:])
    assert verify_all(shared.owner).intact
    with pytest.raises(DealNotFound):
        deal_detail(rival, deal_id)
    with pytest.raises(DealNotFound):
        add_contact(rival, deal_id, ContactFields(name="Spy"))


def fields_of_as(db: Database, deal_id: int) -> DealFields:
    d = deal_detail(db, deal_id).deal
    return DealFields(
        title=d.title,
        asset_type=d.asset_type,
        deal_type=d.deal_type,
        lead_source=d.lead_source,
        estimated_value_amount=d.estimated_value_amount,
        estimated_value_currency=d.estimated_value_currency,
        expected_close_date=d.expected_close_date,
        confidence=d.confidence,
    )
