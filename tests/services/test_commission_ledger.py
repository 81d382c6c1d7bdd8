"""The commission ledger (SPEC §6) on SQLite and PostgreSQL: creating, every transition allowed
and refused with its stamps, disputes, adjustments and the net, totals summed by the
database, pages, filters, SPEC §1 visibility, stale versions, and the audit chain."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.db.models import AuditEntry, CommissionAdjustment, CommissionRecord, Deal, Team, User
from app.domain.commissions import CommissionError
from app.domain.enums import AdjustmentType, CommissionStatus, DealStage, DealStatus
from app.domain.errors import ConflictError, PermissionDenied
from app.services import commissions as cm
from app.services.audit import chain_entries, verify_all
from app.services.commissions import CommissionFields, LedgerFilters, LedgerSort
from app.services.database import Database
from app.services.users import add_user

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
S = CommissionStatus
_refs = itertools.count(1)


def mail(name: str) -> str:
    """Emails are PostgreSQL login roles (cluster-wide): unique per test process."""
    return f"{name}.{os.getpid()}@office.example"


@dataclass(frozen=True)
class Office:
    db: Database
    bob: str  # broker of ann, cal, mia, adm
    zoe: str  # another broker, of dee
    mia: str  # manager of team North (ann)
    ann: str  # agent, North
    cal: str  # agent, South
    dee: str  # agent of zoe
    adm: str  # admin
    ids: dict[str, int]

    @property
    def me(self) -> str | None:
        """Who acts when a test names nobody: in local mode nobody (the one local person,
        who sees everything); on a server, whose test login is no person, the admin."""
        return None if self.db.is_local else self.adm

    @property
    def actor(self) -> str:
        """Who changes are recorded as when a test names nobody."""
        return "bob" if self.db.is_local else "adm"

    @property
    def cm(self) -> Bound:
        return Bound(self.db, self.me)


class Bound:
    """``app.services.commissions`` on one database, acting as ``me`` unless told otherwise."""

    def __init__(self, db: Database, me: str | None) -> None:
        self.db, self.me = db, me

    def __getattr__(self, name: str) -> Any:
        function = getattr(cm, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("acting", self.me)
            return function(self.db, *args, **kwargs)

        return call


@pytest.fixture
def office(db: Database) -> Office:
    names = {
        "bob": ("broker", "Bob", "Broker", None, None),
        "zoe": ("broker", "Zoe", "Other", None, None),
        "mia": ("manager", "Mia", "Manager", "North", "bob"),
        "ann": ("agent", "Ann", "Lee", "North", "bob"),
        "cal": ("agent", "Cal", "Ray", "South", "bob"),
        "dee": ("agent", "Dee", "Ng", None, "zoe"),
        "adm": ("admin", "Ada", "Admin", None, "bob"),
    }
    for key, (role, first, last, team, broker) in names.items():
        add_user(
            db, mail(key), role, first, last, team=team,
            broker_email=mail(broker) if broker else None,
        )  # fmt: skip
    with db.session() as s:
        ids = {k: int(s.scalar(sa.select(User.id).where(User.email == mail(k)))) for k in names}
        s.execute(sa.update(Team).where(Team.name == "North").values(manager_id=ids["mia"]))
    return Office(db, **{k: mail(k) for k in names}, ids=ids)  # type: ignore[arg-type]


def add_deal(db: Database, agent_id: int, title: str = "12 Oak St", currency: str = "USD") -> int:
    with db.session() as s:
        deal = Deal(
            ref=f"DL-{os.getpid()}-{next(_refs)}",
            agent_id=agent_id,
            title=title,
            asset_type="single_family",
            deal_type="acquisition",
            pipeline_stage=DealStage.PROPOSAL,
            status=DealStatus.OPEN,
            estimated_value_amount=Decimal("450000"),
            estimated_value_currency=currency,
            confidence=Decimal("0.4"),
            created_at=T0,
        )
        s.add(deal)
        s.flush()
        return deal.id


def new(
    o: Office,
    deal_id: int,
    agent: str | None = None,
    ctype: str = "exclusive",
    basis: str = "450000",
    rate: str = "0.025",
    acting: str | None = None,
    at: dt.datetime = T0,
) -> cm.CommissionRow:
    fields = CommissionFields(
        deal_id=deal_id,
        agent_email=agent or o.ann,
        commission_type=ctype,
        basis_amount=Decimal(basis),
        commission_rate=Decimal(rate),
    )
    return o.cm.create_commission(fields, acting=acting or o.me, now=at)


def count(db: Database, model: type) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def audit(db: Database, deal_id: int) -> list[tuple[str, dict[str, object]]]:
    return [(e.event_type, e.payload) for e, _ok in chain_entries(db, f"deal:{deal_id}")]


def stored(db: Database, commission_id: int) -> CommissionRecord:
    with db.read() as s:
        record = s.get(CommissionRecord, commission_id)
        assert record is not None
        s.expunge(record)
        return record


# -- creating ---------------------------------------------------------------------------------


def test_a_new_commission_is_basis_times_rate_pending_and_audited(office: Office) -> None:
    deal = add_deal(office.db, office.ids["ann"])
    row = new(office, deal, basis="333333.33", rate="0.0275")
    assert dataclasses.is_dataclass(row)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.status = S.PAID  # type: ignore[misc]
    # 333333.33 × 0.0275 = 9166.6665750 → 9166.67 (half-up, when stored)
    assert row.commission_amount == Decimal("9166.67")
    assert (row.status, row.version, row.net_amount, row.adjustments_total) == (
        S.PENDING, 1, Decimal("9166.67"), Decimal("0.00"),
    )  # fmt: skip
    assert row.created_at == T0 and row.agent_email == office.ann and row.writable
    assert row.currency == "USD" and row.deal_title == "12 Oak St"
    assert audit(office.db, deal) == [
        (
            "commission_created",
            {
                "commission_id": row.id,
                "deal_id": deal,
                "agent_id": office.ids["ann"],
                "commission_type": "exclusive",
                "basis_amount": "333333.33",
                "commission_rate": "0.0275",
                "commission_amount": "9166.67",
                "status": "pending",
            },
        )
    ]
    with office.db.read() as s:
        entry = s.scalars(sa.select(AuditEntry).where(AuditEntry.chain_key == f"deal:{deal}")).one()
        assert (entry.entity_type, entry.entity_id) == ("commission", str(row.id))
        assert entry.actor_id == office.ids[office.actor]  # local: the office's broker


def test_one_commission_per_deal_agent_and_type(office: Office) -> None:
    deal = add_deal(office.db, office.ids["ann"])
    new(office, deal, ctype="exclusive")
    new(office, deal, ctype="bonus")  # another type: fine
    new(office, deal, agent=office.cal, ctype="exclusive")  # another person: fine
    with pytest.raises(CommissionError) as refused:
        new(office, deal, ctype="exclusive", rate="0.03")
    assert refused.value.field == "commission_type"
    assert "Ann Lee already has an exclusive commission" in str(refused.value)
    assert "one per deal, person and type" in str(refused.value)
    assert count(office.db, CommissionRecord) == 3
    assert len(audit(office.db, deal)) == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"commission_rate": Decimal("1.5")}, "commission_rate"),
        ({"commission_rate": Decimal("0.02555")}, "commission_rate"),
        ({"basis_amount": Decimal("-1")}, "basis_amount"),
        ({"basis_amount": Decimal("10.001")}, "basis_amount"),
        ({"commission_type": "finder"}, "commission_type"),
        ({"agent_email": "nobody@office.example"}, "agent"),
        ({"deal_id": 999_999}, "deal"),
    ],
)
def test_bad_values_name_their_field_and_write_nothing(
    office: Office, change: dict[str, object], field: str
) -> None:
    deal = add_deal(office.db, office.ids["ann"])
    base = CommissionFields(
        deal_id=deal, agent_email=office.ann, commission_type="exclusive",
        basis_amount=Decimal(1000), commission_rate=Decimal("0.03"),
    )  # fmt: skip
    with pytest.raises(CommissionError) as refused:
        office.cm.create_commission(dataclasses.replace(base, **change))  # type: ignore[arg-type]
    assert refused.value.field == field
    assert count(office.db, CommissionRecord) == 0 and count(office.db, AuditEntry) == 0


# -- transitions (SPEC §6) --------------------------------------------------------------------

#: How to bring a new (pending) record into each status.
PATHS: dict[CommissionStatus, list[CommissionStatus]] = {
    S.PENDING: [],
    S.CONFIRMED: [S.CONFIRMED],
    S.INVOICED: [S.CONFIRMED, S.INVOICED],
    S.PAID: [S.CONFIRMED, S.INVOICED, S.PAID],
    S.DISPUTED: [S.CONFIRMED, S.DISPUTED],  # disputed from confirmed
    S.WRITTEN_OFF: [S.DISPUTED, S.WRITTEN_OFF],
}
#: SPEC §6, written out: every transition allowed (anything else is refused).
ALLOWED: set[tuple[CommissionStatus, CommissionStatus]] = {
    (S.PENDING, S.CONFIRMED),
    (S.CONFIRMED, S.INVOICED),
    (S.INVOICED, S.PAID),
    (S.PENDING, S.DISPUTED),
    (S.CONFIRMED, S.DISPUTED),
    (S.INVOICED, S.DISPUTED),
    (S.DISPUTED, S.CONFIRMED),  # resolved: back where it came from (PATHS: from confirmed)
    (S.DISPUTED, S.WRITTEN_OFF),
}
STAMP = {
    S.CONFIRMED: "confirmed_at",
    S.INVOICED: "invoiced_at",
    S.PAID: "paid_at",
    S.DISPUTED: "disputed_at",
    S.WRITTEN_OFF: "written_off_at",
}


def walk(o: Office, commission_id: int, path: list[CommissionStatus]) -> cm.CommissionRow:
    row = o.cm.get_commission(commission_id)
    for i, to in enumerate(path, start=1):
        row = o.cm.change_status(commission_id, to, expected_version=row.version,
            reason="Rate differs from the agreement." if to is S.DISPUTED else None,
            now=T0 + dt.timedelta(days=i),
        )  # fmt: skip
    return row


@pytest.mark.parametrize(
    ("start", "to"), [(a, b) for a in CommissionStatus for b in CommissionStatus]
)
def test_every_transition_is_allowed_or_refused_as_spec_6_says(
    office: Office, start: CommissionStatus, to: CommissionStatus
) -> None:
    deal = add_deal(office.db, office.ids["ann"])
    row = walk(office, new(office, deal).id, PATHS[start])
    assert row.status is start
    entries = len(audit(office.db, deal))
    at = T0 + dt.timedelta(days=30)
    reason = "Amount under review." if to is S.DISPUTED else None
    if (start, to) in ALLOWED:
        after = office.cm.change_status(
            row.id, to, expected_version=row.version, reason=reason, now=at
        )
        assert after.status is to and after.version == row.version + 1
        resolving = start is S.DISPUTED and to is not S.WRITTEN_OFF
        if to in STAMP and not resolving:
            assert getattr(after, STAMP[to]) == at
        if resolving:  # only resolved_at: the origin keeps the time it was first reached
            assert getattr(after, STAMP[to]) == getattr(row, STAMP[to]) != at
        assert (after.resolved_at == at) == (start is S.DISPUTED)
        kind, payload = audit(office.db, deal)[-1]
        expected = {"commission_id": row.id, "from_status": start.value, "to_status": to.value}
        if to is S.DISPUTED:
            expected["reason"] = reason
        assert (kind, payload) == ("commission_status_changed", expected)
    else:
        with pytest.raises(CommissionError):
            office.cm.change_status(row.id, to, expected_version=row.version, reason=reason, now=at)
        assert office.cm.get_commission(row.id) == row  # nothing written
        assert len(audit(office.db, deal)) == entries


def test_the_forward_path_stamps_each_time_and_paid_is_final(office: Office) -> None:
    deal = add_deal(office.db, office.ids["ann"])
    row = walk(office, new(office, deal).id, PATHS[S.PAID])
    assert (row.confirmed_at, row.invoiced_at, row.paid_at) == (
        T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=3),
    )  # fmt: skip
    assert row.disputed_at is None and row.resolved_at is None and row.written_off_at is None
    assert row.status_changed_at == row.paid_at and row.version == 4
    assert row.allowed_targets() == []
    with pytest.raises(CommissionError, match="final"):
        office.cm.dispute(row.id, "Late payment")


def test_a_dispute_needs_a_reason_and_nothing_is_written_without_one(office: Office) -> None:
    deal = add_deal(office.db, office.ids["ann"])
    row = new(office, deal)
    for blank in ("", "   ", None):
        with pytest.raises(CommissionError) as refused:
            office.cm.change_status(row.id, S.DISPUTED, reason=blank, expected_version=1)
        assert refused.value.field == "dispute_reason"
    assert office.cm.get_commission(row.id) == row
    assert stored(office.db, row.id).dispute_reason is None
    assert len(audit(office.db, deal)) == 1


def test_a_dispute_keeps_reason_and_document_and_resolving_returns_where_it_came_from(
    office: Office,
) -> None:
    deal = add_deal(office.db, office.ids["ann"])
    row = walk(office, new(office, deal).id, [S.CONFIRMED, S.INVOICED])
    at = T0 + dt.timedelta(days=10)
    disputed = office.cm.dispute(row.id, "  Split differs from the agreement.  ",
        document_uri="https://docs.example/agreement.pdf", expected_version=row.version, now=at,
    )  # fmt: skip
    assert disputed.status is S.DISPUTED and disputed.disputed_from is S.INVOICED
    assert disputed.dispute_reason == "Split differs from the agreement."
    assert disputed.dispute_document_uri == "https://docs.example/agreement.pdf"
    assert disputed.disputed_at == at and disputed.resolved_at is None
    assert disputed.allowed_targets() == [S.INVOICED, S.WRITTEN_OFF]
    later = at + dt.timedelta(days=3)
    resolved = office.cm.resolve(row.id, expected_version=disputed.version, now=later)
    assert resolved.status is S.INVOICED and resolved.resolved_at == later
    assert resolved.disputed_from is None
    assert resolved.dispute_reason == "Split differs from the agreement."  # kept as history
    assert audit(office.db, deal)[-2:] == [
        ("commission_status_changed", {
            "commission_id": row.id, "from_status": "invoiced", "to_status": "disputed",
            "reason": "Split differs from the agreement.",
        }),
        ("commission_status_changed", {
            "commission_id": row.id, "from_status": "disputed", "to_status": "invoiced",
        }),
    ]  # fmt: skip
    with pytest.raises(CommissionError, match="only a disputed commission"):
        office.cm.resolve(row.id)


def test_writing_off_a_dispute_stamps_written_off_and_resolved(office: Office) -> None:
    deal = add_deal(office.db, office.ids["ann"])
    row = new(office, deal)
    disputed = office.cm.dispute(row.id, "Deal lost.", now=T0 + dt.timedelta(days=1))
    at = T0 + dt.timedelta(days=5)
    gone = office.cm.write_off(row.id, expected_version=disputed.version, now=at)
    assert (gone.status, gone.written_off_at, gone.resolved_at) == (S.WRITTEN_OFF, at, at)
    assert gone.allowed_targets() == [] and gone.disputed_from is None
    with pytest.raises(CommissionError, match="final"):
        office.cm.change_status(row.id, S.PENDING)


def test_a_pending_record_cannot_be_written_off_without_a_dispute(office: Office) -> None:
    row = new(office, add_deal(office.db, office.ids["ann"]))
    with pytest.raises(CommissionError):
        office.cm.write_off(row.id)


# -- adjustments and the net ------------------------------------------------------------------


def test_adjustment_signs_notes_and_the_net(office: Office) -> None:
    deal = add_deal(office.db, office.ids["ann"])
    row = new(office, deal, basis="400000", rate="0.025")  # 10,000.00
    refused = [
        (AdjustmentType.CLAWBACK, "250", "Cancelled", "amount"),
        (AdjustmentType.BONUS, "-50", "Bonus", "amount"),
        (AdjustmentType.CORRECTION, "0", "Nothing", "amount"),
        (AdjustmentType.CORRECTION, "10", "   ", "note"),
        (AdjustmentType.BONUS, "10.005", "Too precise", "amount"),
    ]
    for kind, amount, note, field in refused:
        with pytest.raises(CommissionError) as error:
            office.cm.add_adjustment(row.id, kind, Decimal(amount), note)
        assert error.value.field == field
    assert count(office.db, CommissionAdjustment) == 0
    version = row.version
    for i, (kind, amount) in enumerate(
        [("clawback", "-2500.50"), ("bonus", "500"), ("correction", "-0.25"), ("correction", "1")]
    ):
        row = office.cm.add_adjustment(
            row.id, kind, Decimal(amount), f"Note {i}", expected_version=version,
            now=T0 + dt.timedelta(hours=i + 1),
        )  # fmt: skip
        assert row.version == version + 1
        version = row.version
    assert row.adjustments_total == Decimal("-1999.75")
    assert row.net_amount == Decimal("8000.25")  # 10,000.00 − 2,500.50 + 500 − 0.25 + 1
    assert row.commission_amount == Decimal("10000.00") and row.status is S.PENDING
    adjustments = office.cm.list_adjustments(row.id)
    assert [(a.adjustment_type, a.amount, a.note) for a in adjustments] == [
        (AdjustmentType.CLAWBACK, Decimal("-2500.50"), "Note 0"),
        (AdjustmentType.BONUS, Decimal("500.00"), "Note 1"),
        (AdjustmentType.CORRECTION, Decimal("-0.25"), "Note 2"),
        (AdjustmentType.CORRECTION, Decimal("1.00"), "Note 3"),
    ]
    assert adjustments[0].created_by_name == ("Bob Broker" if office.db.is_local else "Ada Admin")
    kind, payload = audit(office.db, deal)[1]
    assert (kind, payload) == (
        "commission_adjusted",
        {
            "commission_id": row.id, "adjustment_id": adjustments[0].id,
            "adjustment_type": "clawback", "amount": "-2500.50", "note": "Note 0",
        },
    )  # fmt: skip


def test_a_paid_commission_can_still_be_clawed_back(office: Office) -> None:
    row = walk(office, new(office, add_deal(office.db, office.ids["ann"])).id, PATHS[S.PAID])
    after = office.cm.add_adjustment(row.id, "clawback", Decimal("-100"), "Buyer cancelled")
    assert after.status is S.PAID and after.net_amount == row.commission_amount - 100


# -- totals, pages and filters ----------------------------------------------------------------


def test_totals_by_status_are_summed_exactly_by_the_database(office: Office) -> None:
    deal = add_deal(office.db, office.ids["ann"])
    sgd_deal = add_deal(office.db, office.ids["ann"], "Orchard Rd", currency="SGD")
    a = new(office, deal, ctype="exclusive", basis="1000", rate="0.1")  # 100.00
    b = new(office, deal, ctype="referral", basis="1000", rate="0.0001")  # 0.10
    c = new(office, deal, ctype="bonus", basis="1000", rate="0.0001")  # 0.10
    new(office, sgd_deal, basis="2000", rate="0.5")  # SGD 1,000.00: never added to USD
    walk(office, a.id, [S.CONFIRMED])
    for _ in range(10):
        office.cm.add_adjustment(b.id, "bonus", Decimal("0.10"), "Dime")
    office.cm.add_adjustment(c.id, "clawback", Decimal("-0.05"), "Nickel")
    totals = office.cm.ledger_totals()
    assert totals.currency == "USD"
    pending, confirmed = totals.by_status[S.PENDING], totals.by_status[S.CONFIRMED]
    assert (pending.count, pending.amount, pending.adjustments, pending.net) == (
        2, Decimal("0.20"), Decimal("0.95"), Decimal("1.15"),
    )  # fmt: skip
    assert (confirmed.count, confirmed.amount, confirmed.net) == (1, Decimal("100.00"), 100)
    assert totals.by_status[S.PAID] == cm.StatusTotal()
    assert list(totals.by_status) == list(cm.STATUS_ORDER)
    assert totals.other["SGD"][S.PENDING] == cm.StatusTotal(1, Decimal("1000.00"), Decimal(0))
    assert totals.count == 4 and totals.status_count(S.PENDING) == 3
    only_b = office.cm.ledger_totals(LedgerFilters(status=S.PENDING, agent_id=None))
    assert only_b.by_status[S.CONFIRMED].count == 0
    # The same as the rows' own net, summed in Python.
    page = office.cm.list_page(LedgerFilters())
    usd = [r for r in page.rows if r.currency == "USD"]
    assert sum(r.net_amount for r in usd) == totals.total.net == Decimal("101.15")


def _bulk(o: Office, n: int) -> list[int]:
    """``n`` records on n/3 deals of ann's and cal's, created a minute apart."""
    ids: list[int] = []
    with o.db.session() as s:
        deals = []
        for i in range(n // 3 + 1):
            deal = Deal(
                ref=f"BULK-{os.getpid()}-{i}", agent_id=o.ids["ann" if i % 2 else "cal"],
                title=f"{i} Elm St", asset_type="condo", deal_type="acquisition",
                pipeline_stage=DealStage.PROPOSAL, status=DealStatus.OPEN,
                estimated_value_amount=Decimal(100000 + i), estimated_value_currency="USD",
                confidence=Decimal("0.4"), created_at=T0,
            )  # fmt: skip
            s.add(deal)
            deals.append(deal)
        s.flush()
        types = ["exclusive", "referral", "bonus"]
        for k in range(n):
            deal = deals[k // 3]
            record = CommissionRecord(
                deal_id=deal.id, agent_id=deal.agent_id, commission_type=types[k % 3],
                basis_amount=Decimal(1000 + k), commission_rate=Decimal("0.01"),
                commission_amount=Decimal(1000 + k) / 100, status=S.PENDING,
                created_at=T0 + dt.timedelta(minutes=k),
            )  # fmt: skip
            s.add(record)
            s.flush()
            ids.append(record.id)
    return ids


def test_pages_of_the_whole_filtered_set_in_order(office: Office) -> None:
    ids = _bulk(office, 450)
    first = office.cm.list_page()
    assert len(first.rows) == cm.PAGE_SIZE == 200 and first.has_more and first.offset == 0
    assert [r.id for r in first.rows] == ids[::-1][:200]  # newest first
    second = office.cm.list_page(offset=200)
    third = office.cm.list_page(offset=400)
    assert len(second.rows) == 200 and second.has_more
    assert len(third.rows) == 50 and not third.has_more
    assert [r.id for r in first.rows + second.rows + third.rows] == ids[::-1]
    by_amount = office.cm.list_page(sort=LedgerSort.AMOUNT, descending=False, limit=3)
    assert [r.commission_amount for r in by_amount.rows] == [
        Decimal("10.00"), Decimal("10.01"), Decimal("10.02"),
    ]  # fmt: skip
    assert office.cm.ledger_totals().count == 450


def test_sorting_by_net_uses_the_adjustments(office: Office) -> None:
    ids = _bulk(office, 6)
    office.cm.add_adjustment(ids[0], "bonus", Decimal(1000), "Big bonus")
    top = office.cm.list_page(sort=LedgerSort.NET, limit=1).rows[0]
    assert top.id == ids[0] and top.net_amount == Decimal("1010.00")
    last = office.cm.list_page(sort=LedgerSort.ADJUSTMENTS, descending=False).rows[-1]
    assert last.id == ids[0]


def test_filters_by_agent_status_deal_text_and_created_range(office: Office) -> None:
    ids = _bulk(office, 30)
    walk(office, ids[4], [S.CONFIRMED])
    ann = LedgerFilters(agent_id=office.ids["ann"])
    assert {r.agent_email for r in office.cm.list_page(ann).rows} == {office.ann}
    assert office.cm.ledger_totals(ann).count == 15
    confirmed = office.cm.list_page(LedgerFilters(status=S.CONFIRMED))
    assert [r.id for r in confirmed.rows] == [ids[4]]
    elm = office.cm.list_page(LedgerFilters(deal_text="7 ELM"))
    assert {r.deal_title for r in elm.rows} == {"7 Elm St"} and len(elm.rows) == 3
    by_ref = office.cm.list_page(LedgerFilters(deal_text=f"bulk-{os.getpid()}-1"))
    assert {r.deal_ref for r in by_ref.rows} == {f"BULK-{os.getpid()}-1"}
    assert office.cm.list_page(LedgerFilters(deal_text="50%")).rows == ()
    window = LedgerFilters(
        created_from=T0 + dt.timedelta(minutes=10), created_before=T0 + dt.timedelta(minutes=20)
    )
    rows = office.cm.list_page(window).rows
    assert sorted(r.id for r in rows) == ids[10:20]
    assert office.cm.ledger_totals(window).count == 10
    deal_id = rows[0].deal_id
    assert {r.deal_id for r in office.cm.list_page(LedgerFilters(deal_id=deal_id)).rows} == {
        deal_id
    }


# -- who sees and changes what (SPEC §1) ------------------------------------------------------


def test_visibility_follows_the_deal_and_the_commissions_own_agent(office: Office) -> None:
    o = office
    ann_deal = add_deal(o.db, o.ids["ann"], "Ann's deal")
    cal_deal = add_deal(o.db, o.ids["cal"], "Cal's deal")
    dee_deal = add_deal(o.db, o.ids["dee"], "Dee's deal")
    on_ann = new(o, ann_deal)
    on_cal = new(o, cal_deal, agent=o.cal)
    on_dee = new(o, dee_deal, agent=o.dee)
    referral = new(o, dee_deal, agent=o.ann, ctype="referral")  # ann earns on dee's deal

    def seen(acting: str | None) -> set[int]:
        return {r.id for r in o.cm.list_page(acting=acting).rows}

    assert seen(o.me) == {on_ann.id, on_cal.id, on_dee.id, referral.id}  # local: everything
    assert seen(o.adm) == {on_ann.id, on_cal.id, on_dee.id, referral.id}
    assert seen(o.bob) == {on_ann.id, on_cal.id, referral.id}  # his agents' deals and earnings
    assert seen(o.zoe) == {on_dee.id, referral.id}  # her agent's deal, whoever earns on it
    assert seen(o.mia) == {on_ann.id, referral.id}  # team North only
    assert seen(o.ann) == {on_ann.id, referral.id}
    assert seen(o.cal) == {on_cal.id}
    assert seen(o.dee) == {on_dee.id, referral.id}
    assert o.cm.ledger_totals(acting=o.cal).count == 1
    assert o.cm.ledger_totals(acting=o.ann).count == 2

    # Ann reads her referral on Dee's deal but may not change it; Zoe (Dee's broker) may.
    mine = o.cm.get_commission(referral.id, acting=o.ann)
    assert not mine.writable and mine.allowed_targets() == []
    with pytest.raises(PermissionDenied, match="whoever sees the deal"):
        o.cm.change_status(referral.id, S.CONFIRMED, acting=o.ann)
    with pytest.raises(PermissionDenied):
        o.cm.add_adjustment(referral.id, "bonus", Decimal(5), "Thanks", acting=o.ann)
    assert o.cm.get_commission(referral.id, acting=o.zoe).writable
    o.cm.change_status(referral.id, S.CONFIRMED, acting=o.zoe)

    # Cal sees nothing of Ann's: it is as if it did not exist.
    with pytest.raises(ConflictError, match="no longer exists or is no longer yours to see"):
        o.cm.change_status(on_ann.id, S.CONFIRMED, acting=o.cal)
    with pytest.raises(ConflictError):
        o.cm.get_commission(on_ann.id, acting=o.cal)
    # Nobody books a commission on a deal they do not see.
    with pytest.raises(CommissionError) as refused:
        new(o, ann_deal, agent=o.cal, ctype="co_broke", acting=o.cal)
    assert refused.value.field == "deal"
    assert {d.id for d in o.cm.find_deals(acting=o.cal)} == {cal_deal}
    assert {d.id for d in o.cm.find_deals("deal", acting=o.zoe)} == {dee_deal}
    agents = {a.email for a in o.cm.ledger_choices(acting=o.zoe).agents}
    assert agents == {o.dee, o.ann}
    assert stored(o.db, on_ann.id).status is S.PENDING


# -- stale versions ---------------------------------------------------------------------------


def test_a_stale_version_is_a_conflict_and_nothing_is_written(office: Office) -> None:
    deal = add_deal(office.db, office.ids["ann"])
    row = new(office, deal)
    office.cm.change_status(row.id, S.CONFIRMED, expected_version=1)  # elsewhere
    entries = len(audit(office.db, deal))
    actions = [
        lambda: office.cm.change_status(row.id, S.DISPUTED, reason="x", expected_version=1),
        lambda: office.cm.dispute(row.id, "Wrong split", expected_version=1),
        lambda: office.cm.add_adjustment(row.id, "bonus", Decimal(10), "Bonus", expected_version=1),
        lambda: office.cm.write_off(row.id, expected_version=1),
        lambda: office.cm.resolve(row.id, expected_version=1),
    ]
    for action in actions:
        with pytest.raises(ConflictError, match="changed on another workstation"):
            action()
    after = office.cm.get_commission(row.id)
    assert (after.status, after.version) == (S.CONFIRMED, 2)
    assert len(audit(office.db, deal)) == entries
    assert count(office.db, CommissionAdjustment) == 0


def test_a_write_racing_a_read_version_is_refused_by_the_update(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the read of the record and its update another workstation moves it on: the
    update's version condition refuses (SQLite: the stale snapshot cannot write), and the audit
    entry is not kept either."""
    from app.services.commissions import actions

    deal = add_deal(office.db, office.ids["ann"])
    row = new(office, deal)
    real = actions._load
    if office.db.is_local:
        pytest.skip("SQLite: a change takes the write lock first, so the other write waits")

    def load_then_someone_else_writes(*args: object) -> object:
        found = real(*args)  # type: ignore[arg-type]
        with office.db.engine.begin() as other:
            other.execute(
                sa.update(CommissionRecord.__table__)  # type: ignore[arg-type]
                .where(CommissionRecord.__table__.c.id == row.id)
                .values(version=CommissionRecord.__table__.c.version + 1)
            )
        return found

    monkeypatch.setattr(actions, "_load", load_then_someone_else_writes)
    with pytest.raises(ConflictError):
        office.cm.change_status(row.id, S.CONFIRMED, expected_version=1)
    assert stored(office.db, row.id).status is S.PENDING
    assert len(audit(office.db, deal)) == 1


# -- the audit chain --------------------------------------------------------------------------


def test_every_change_is_on_the_deals_chain_and_the_chains_verify(office: Office) -> None:
    deal = add_deal(office.db, office.ids["ann"])
    other = add_deal(office.db, office.ids["cal"])
    a = new(office, deal)
    b = new(office, other, agent=office.cal)
    walk(office, a.id, [S.CONFIRMED, S.DISPUTED])
    office.cm.resolve(a.id)
    office.cm.add_adjustment(a.id, "correction", Decimal("-12.34"), "Rounding")
    office.cm.dispute(b.id, "Lost", acting=office.bob)
    office.cm.write_off(b.id, acting=office.bob)
    kinds = [k for k, _ in audit(office.db, deal)]
    assert kinds == [
        "commission_created", "commission_status_changed", "commission_status_changed",
        "commission_status_changed", "commission_adjusted",
    ]  # fmt: skip
    assert [k for k, _ in audit(office.db, other)] == [
        "commission_created", "commission_status_changed", "commission_status_changed",
    ]  # fmt: skip
    with office.db.read() as s:
        seqs = s.scalars(
            sa.select(AuditEntry.seq).where(AuditEntry.chain_key == f"deal:{deal}")
        ).all()
    assert sorted(seqs) == [1, 2, 3, 4, 5]
    result = verify_all(office.db)
    assert result.intact and result.entries == 8 and result.chains == 2
