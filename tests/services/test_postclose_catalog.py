"""Buyers and buy boxes (SPEC §9) on SQLite and PostgreSQL: listing, a buyer's past deals and
grades, validation by field, uniqueness, optimistic concurrency and who may change them."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.db.models import BuyBox, Buyer, DealPerformance, User
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.services.database import Database
from app.services.postclose import catalog
from app.services.postclose.catalog import CatalogError
from app.services.users import add_user

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def mail(name: str) -> str:
    """Emails are PostgreSQL login roles (cluster-wide): unique per test process."""
    return f"{name}.{os.getpid()}@office.example"


@dataclass(frozen=True)
class Office:
    db: Database
    bob: str  # broker
    mia: str  # manager
    adm: str  # admin
    cleo: str  # closer
    ann: str  # agent
    tia: str  # dialer


@pytest.fixture
def office(db: Database) -> Office:
    o = Office(
        db,
        bob=mail("bob"),
        mia=mail("mia"),
        adm=mail("adm"),
        cleo=mail("cleo"),
        ann=mail("ann"),
        tia=mail("tia"),
    )
    add_user(db, o.bob, "broker", "Bob", "Broker")
    add_user(db, o.mia, "manager", "Mia", "Manager", broker_email=o.bob)
    add_user(db, o.adm, "admin", "Ada", "Admin", broker_email=o.bob)
    add_user(db, o.cleo, "closer", "Cleo", "Closer", broker_email=o.bob)
    add_user(db, o.ann, "agent", "Ann", "Lee", broker_email=o.bob)
    add_user(db, o.tia, "dialer", "Tia", "Dial", broker_email=o.bob)
    return o


def buyer_form(name: str = "Acme Holdings", **kw: str) -> dict[str, str]:
    return {"name": name, "email": "", "phone": "", **kw}


def box_form(name: str = "Bakersfield SFR", **kw: str) -> dict[str, str]:
    values = {
        "ref": "",
        "name": name,
        "market_key": "CA-BAKERSFIELD",
        "strategy": "buy_hold",
        "min_dscr": "1.25",
        "buyer_id": "",
    }
    values.update(kw)
    return values


def count(db: Database, model: type) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def add_record(
    db: Database,
    buyer_id: int,
    ref: str,
    closed: dt.date,
    grade: str | None,
    box_id: int | None = None,
    strategy: str = "buy_hold",
) -> None:
    with db.session() as s:
        locker = s.scalar(sa.select(User.id).order_by(User.id).limit(1))
        assert locker is not None
        s.add(
            DealPerformance(
                ref=ref,
                buyer_id=buyer_id,
                buy_box_id=box_id,
                strategy=strategy,
                market_key="CA-BAKERSFIELD",
                closed_date=closed,
                purchase_price=Decimal("300000"),
                projected_rent=Decimal("2400"),
                projected_noi=Decimal("1700"),
                projected_monthly_cash_flow=Decimal("350"),
                projected_dscr=Decimal("1.30"),
                assumptions=[],
                locked_at=NOW,
                locked_by=locker,
                current_grade=grade,
            )
        )


# -- buyers: create, list, search ---------------------------------------------------------


def test_a_new_buyer_is_listed_with_its_cleaned_values(office: Office) -> None:
    new_id = catalog.save_buyer(
        office.db,
        buyer_form("  Acme Holdings ", email=" Deals@Acme.Example ", phone="(661) 555-0100"),
        acting=office.cleo,
    )
    rows = catalog.list_buyers(office.db)
    assert [(r.id, r.name, r.email, r.phone) for r in rows] == [
        (new_id, "Acme Holdings", "deals@acme.example", "(661) 555-0100")
    ]
    assert (rows[0].engagement_score, rows[0].records, rows[0].version) == (None, 0, 1)


def test_buyers_are_listed_by_name_and_searched_by_name_email_or_phone(office: Office) -> None:
    for name, email, phone in (
        ("zeta Capital", "z@zeta.example", ""),
        ("Acme Holdings", "deals@acme.example", "661-555-0100"),
        ("Birch 100% Fund", "", "805-555-0199"),
    ):
        catalog.save_buyer(office.db, buyer_form(name, email=email, phone=phone), acting=office.bob)
    names = [r.name for r in catalog.list_buyers(office.db)]
    assert names == ["Acme Holdings", "Birch 100% Fund", "zeta Capital"]  # regardless of case
    assert [r.name for r in catalog.list_buyers(office.db, "ZETA.ex")] == ["zeta Capital"]
    assert [r.name for r in catalog.list_buyers(office.db, "555-0199")] == ["Birch 100% Fund"]
    assert [r.name for r in catalog.list_buyers(office.db, "100%")] == ["Birch 100% Fund"]
    assert catalog.list_buyers(office.db, "_") == []  # a wildcard character is literal
    assert len(catalog.list_buyers(office.db, "  ")) == 3


# -- buyers: validation -------------------------------------------------------------------


def test_buyer_fields_are_checked_together_and_nothing_is_written(office: Office) -> None:
    with pytest.raises(CatalogError) as caught:
        catalog.save_buyer(
            office.db,
            {"name": " ", "email": "deals@acme", "phone": "5" * 41},
            acting=office.cleo,
        )
    assert caught.value.errors == {
        "name": "required",
        "email": "'deals@acme' is not an email address",
        "phone": "41 characters long; at most 40 fit",
    }
    assert isinstance(caught.value, ValidationError)
    assert str(caught.value) == (
        "Name: required; Email: 'deals@acme' is not an email address; "
        "Phone: 41 characters long; at most 40 fit"
    )
    assert count(office.db, Buyer) == 0


def test_a_buyer_name_fits_160_characters(office: Office) -> None:
    with pytest.raises(CatalogError) as caught:
        catalog.save_buyer(office.db, buyer_form("x" * 161), acting=office.cleo)
    assert caught.value.errors == {"name": "161 characters long; at most 160 fit"}
    catalog.save_buyer(office.db, buyer_form("x" * 160), acting=office.cleo)
    assert count(office.db, Buyer) == 1


def test_buyer_names_are_unique_regardless_of_case(office: Office) -> None:
    first = catalog.save_buyer(office.db, buyer_form("Acme Holdings"), acting=office.cleo)
    with pytest.raises(CatalogError) as caught:
        catalog.save_buyer(office.db, buyer_form("ACME holdings"), acting=office.cleo)
    assert caught.value.errors == {"name": "another buyer is already called 'ACME holdings'"}
    assert count(office.db, Buyer) == 1
    # Saving the buyer under its own name (or its own name recased) is no clash.
    catalog.save_buyer(
        office.db, buyer_form("ACME Holdings", phone="1"), first, 1, acting=office.cleo
    )
    other = catalog.save_buyer(office.db, buyer_form("Birch Fund"), acting=office.cleo)
    with pytest.raises(CatalogError, match="another buyer is already called 'acme holdings'"):
        catalog.save_buyer(office.db, buyer_form("acme holdings"), other, 1, acting=office.cleo)


def test_a_name_taken_between_the_check_and_the_write_is_refused_by_field(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog.save_buyer(office.db, buyer_form("Acme Holdings"), acting=office.cleo)
    monkeypatch.setattr(catalog, "_taken", lambda *_args: False)  # as if written meanwhile
    with pytest.raises(CatalogError) as caught:
        catalog.save_buyer(office.db, buyer_form("Acme Holdings"), acting=office.cleo)
    assert caught.value.errors == {"name": "another buyer is already called 'Acme Holdings'"}
    assert count(office.db, Buyer) == 1


def test_unknown_fields_are_a_programming_error(office: Office) -> None:
    with pytest.raises(ValueError, match="unknown fields: score"):
        catalog.save_buyer(office.db, {"name": "Acme", "score": "90"}, acting=office.cleo)


# -- buyers: updates and conflicts ---------------------------------------------------------


def test_an_update_bumps_the_version_and_keeps_fields_left_out(office: Office) -> None:
    bid = catalog.save_buyer(
        office.db, buyer_form("Acme", email="a@acme.example", phone="1"), acting=office.cleo
    )
    assert catalog.save_buyer(office.db, {"phone": "2"}, bid, 1, acting=office.bob) == bid
    (row,) = catalog.list_buyers(office.db)
    assert (row.name, row.email, row.phone, row.version) == ("Acme", "a@acme.example", "2", 2)
    catalog.save_buyer(office.db, buyer_form("Acme"), bid, 2, acting=office.bob)
    (row,) = catalog.list_buyers(office.db)
    assert (row.email, row.phone, row.version) == (None, None, 3)  # a cleared field clears


def test_a_stale_buyer_update_is_a_conflict_and_writes_nothing(office: Office) -> None:
    bid = catalog.save_buyer(office.db, buyer_form("Acme"), acting=office.cleo)
    catalog.save_buyer(office.db, buyer_form("Acme", phone="1"), bid, 1, acting=office.mia)
    with pytest.raises(ConflictError) as caught:
        catalog.save_buyer(office.db, buyer_form("Acme Two"), bid, 1, acting=office.cleo)
    assert str(caught.value) == (
        "The buyer 'Acme' was changed on another workstation; reload it. Nothing was saved."
    )
    (row,) = catalog.list_buyers(office.db)
    assert (row.name, row.phone, row.version) == ("Acme", "1", 2)


def test_a_stale_update_is_a_conflict_even_when_the_form_is_invalid(office: Office) -> None:
    bid = catalog.save_buyer(office.db, buyer_form("Acme"), acting=office.cleo)
    catalog.save_buyer(office.db, buyer_form("Acme", phone="1"), bid, 1, acting=office.cleo)
    with pytest.raises(ConflictError):
        catalog.save_buyer(office.db, buyer_form(""), bid, 1, acting=office.cleo)


def test_an_update_of_a_removed_buyer_is_a_conflict(office: Office) -> None:
    with pytest.raises(ConflictError, match="no longer in the database"):
        catalog.save_buyer(office.db, buyer_form("Acme"), 999, 1, acting=office.cleo)
    with pytest.raises(ValueError, match="needs the version"):
        catalog.save_buyer(office.db, buyer_form("Acme"), 999, None, acting=office.cleo)


# -- who may change them --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["cleo", "bob", "mia", "adm"])
def test_closers_brokers_managers_and_admins_may_add_buyers_and_boxes(
    office: Office, who: str
) -> None:
    acting = getattr(office, who)
    bid = catalog.save_buyer(office.db, buyer_form(f"Buyer of {who}"), acting=acting)
    saved = catalog.save_buy_box(office.db, box_form(buyer_id=str(bid)), acting=acting)
    assert saved.created and not saved.min_dscr_changed
    assert catalog.may_edit(office.db, acting)


@pytest.mark.parametrize(("who", "role"), [("ann", "an agent"), ("tia", "a dialer")])
def test_agents_and_dialers_may_not_change_buyers_or_boxes(
    office: Office, who: str, role: str
) -> None:
    acting = getattr(office, who)
    bid = catalog.save_buyer(office.db, buyer_form("Acme"), acting=office.cleo)
    box = catalog.save_buy_box(office.db, box_form(), acting=office.cleo)
    with pytest.raises(PermissionDenied) as caught:
        catalog.save_buyer(office.db, buyer_form("Birch"), acting=acting)
    assert str(caught.value) == (
        "Only closers, brokers, managers and admins may add or change buyers; "
        f"you are signed in as {role}."
    )
    with pytest.raises(PermissionDenied, match="may add or change buyers"):
        catalog.save_buyer(office.db, buyer_form("Acme 2"), bid, 1, acting=acting)
    with pytest.raises(PermissionDenied, match="may add or change buy boxes"):
        catalog.save_buy_box(office.db, box_form("Other"), acting=acting)
    with pytest.raises(PermissionDenied, match="may add or change buy boxes"):
        catalog.save_buy_box(office.db, box_form(min_dscr="2"), box.id, 1, acting=acting)
    assert [r.name for r in catalog.list_buyers(office.db)] == ["Acme"]
    assert [(b.name, b.min_dscr) for b in catalog.list_buy_boxes(office.db)] == [
        ("Bakersfield SFR", Decimal("1.25"))
    ]
    assert not catalog.may_edit(office.db, acting)
    # They still read everything.
    assert catalog.buyer_detail(office.db, bid).buyer.name == "Acme"


def test_locally_with_nobody_named_everything_is_allowed(sqlite_db: Database) -> None:
    add_user(sqlite_db, mail("ann"), "agent", "Ann", "Lee")
    assert catalog.may_edit(sqlite_db)
    bid = catalog.save_buyer(sqlite_db, buyer_form("Acme"))
    saved = catalog.save_buy_box(sqlite_db, box_form(buyer_id=str(bid)))
    assert [b.buyer_name for b in catalog.list_buy_boxes(sqlite_db)] == ["Acme"]
    assert saved.created


@pytest.mark.pg
def test_on_a_server_a_login_that_is_no_person_must_name_one(pg_db: Database) -> None:
    add_user(pg_db, mail("cleo"), "closer", "Cleo", "Closer")
    assert not catalog.may_edit(pg_db)
    with pytest.raises(PermissionDenied, match="is not a person of the office"):
        catalog.save_buyer(pg_db, buyer_form("Acme"))
    assert count(pg_db, Buyer) == 0
    assert catalog.save_buyer(pg_db, buyer_form("Acme"), acting=mail("cleo")) > 0


# -- buy boxes ----------------------------------------------------------------------------


def test_a_new_buy_box_is_listed_with_its_buyer_and_records(office: Office) -> None:
    bid = catalog.save_buyer(office.db, buyer_form("Acme"), acting=office.cleo)
    saved = catalog.save_buy_box(
        office.db,
        box_form(
            ref=" BB-1 ", strategy="Commercial", min_dscr="1.3", buyer_id=str(bid), name="NNN"
        ),
        acting=office.cleo,
    )
    add_record(office.db, bid, "PF-1", dt.date(2025, 1, 5), "A", saved.id)
    add_record(office.db, bid, "PF-2", dt.date(2025, 2, 5), None, saved.id)
    (row,) = catalog.list_buy_boxes(office.db)
    assert (row.id, row.ref, row.name, row.market_key, row.strategy, row.min_dscr) == (
        saved.id,
        "BB-1",
        "NNN",
        "CA-BAKERSFIELD",
        "commercial",
        Decimal("1.30"),
    )
    assert (row.buyer_id, row.buyer_name, row.records, row.version) == (bid, "Acme", 2, 1)
    assert (row.performance_rate, row.warning_level) == (None, None)
    assert catalog.list_buyers(office.db)[0].records == 2
    assert catalog.market_keys(office.db) == ["CA-BAKERSFIELD"]


def test_buy_boxes_are_listed_by_name_with_their_rate_and_level(office: Office) -> None:
    for name in ("zed", "Alpha", "mid"):
        catalog.save_buy_box(office.db, box_form(name), acting=office.cleo)
    with office.db.session() as s:
        s.execute(
            sa.update(BuyBox)
            .where(BuyBox.name == "mid")
            .values(performance_rate=Decimal("35.50"), warning_level="CRITICAL")
        )
    rows = catalog.list_buy_boxes(office.db)
    assert [r.name for r in rows] == ["Alpha", "mid", "zed"]
    assert (rows[1].performance_rate, rows[1].warning_level) == (Decimal("35.50"), "CRITICAL")
    assert (rows[1].buyer_id, rows[1].buyer_name, rows[1].records) == (None, None, 0)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "'abc' is not a number"),
        ("-0.5", "must not be negative (got -0.5)"),
        ("100", "at most 99.99 (got 100)"),
        ("1.255", "at most two decimals (got 1.255)"),
        ("", "required (the DSCR a property must reach, e.g. 1.25)"),
    ],
)
def test_the_minimum_dscr_must_be_a_number_from_0_to_99_99(
    office: Office, text: str, reason: str
) -> None:
    with pytest.raises(CatalogError) as caught:
        catalog.save_buy_box(office.db, box_form(min_dscr=text), acting=office.cleo)
    assert caught.value.errors == {"min_dscr": reason}
    assert str(caught.value) == f"Minimum DSCR: {reason}"
    assert count(office.db, BuyBox) == 0


@pytest.mark.parametrize(("text", "stored"), [("0", "0.00"), ("99.99", "99.99"), ("1.2", "1.20")])
def test_minimum_dscr_bounds_are_accepted(office: Office, text: str, stored: str) -> None:
    catalog.save_buy_box(office.db, box_form(min_dscr=text), acting=office.cleo)
    assert catalog.list_buy_boxes(office.db)[0].min_dscr == Decimal(stored)


def test_buy_box_fields_are_checked_together(office: Office) -> None:
    with pytest.raises(CatalogError) as caught:
        catalog.save_buy_box(
            office.db,
            {
                "ref": "R" * 65,
                "name": "",
                "market_key": "",
                "strategy": "flip",
                "min_dscr": "1.25",
                "buyer_id": "12345",
            },
            acting=office.cleo,
        )
    assert caught.value.errors == {
        "ref": "65 characters long; at most 64 fit",
        "name": "required",
        "market_key": "required",
        "strategy": "'flip' is not a strategy (choose Buy & hold or Commercial)",
        "buyer_id": "that buyer is no longer in the database; choose another",
    }
    with pytest.raises(CatalogError) as caught:
        catalog.save_buy_box(
            office.db, box_form(market_key="M" * 61, strategy="", buyer_id="x"), acting=office.bob
        )
    assert caught.value.errors == {
        "market_key": "61 characters long; at most 60 fit",
        "strategy": "required",
        "buyer_id": "'x' is not a buyer",
    }
    assert count(office.db, BuyBox) == 0


def test_a_strategy_may_be_typed_as_its_label_in_any_case(office: Office) -> None:
    catalog.save_buy_box(office.db, box_form(strategy="BUY & HOLD"), acting=office.cleo)
    catalog.save_buy_box(office.db, box_form("B", strategy="Buy_Hold"), acting=office.cleo)
    assert {r.strategy for r in catalog.list_buy_boxes(office.db)} == {"buy_hold"}


def test_buy_box_references_are_optional_and_unique(office: Office) -> None:
    catalog.save_buy_box(office.db, box_form("One"), acting=office.cleo)
    catalog.save_buy_box(office.db, box_form("Two"), acting=office.cleo)  # two without a ref
    first = catalog.save_buy_box(office.db, box_form("Three", ref="BB-7"), acting=office.cleo)
    with pytest.raises(CatalogError) as caught:
        catalog.save_buy_box(office.db, box_form("Four", ref="bb-7"), acting=office.cleo)
    assert caught.value.errors == {"ref": "another buy box already has the reference 'bb-7'"}
    catalog.save_buy_box(office.db, box_form("Three", ref="BB-7"), first.id, 1, acting=office.cleo)
    assert count(office.db, BuyBox) == 3


def test_a_stale_buy_box_update_is_a_conflict_and_writes_nothing(office: Office) -> None:
    box = catalog.save_buy_box(office.db, box_form("Central"), acting=office.cleo)
    catalog.save_buy_box(
        office.db, box_form("Central", min_dscr="1.4"), box.id, 1, acting=office.mia
    )
    with pytest.raises(ConflictError) as caught:
        catalog.save_buy_box(
            office.db, box_form("Mine", min_dscr="2"), box.id, 1, acting=office.cleo
        )
    assert str(caught.value) == (
        "The buy box 'Central' was changed on another workstation; reload it. Nothing was saved."
    )
    (row,) = catalog.list_buy_boxes(office.db)
    assert (row.name, row.min_dscr, row.version) == ("Central", Decimal("1.40"), 2)


def test_saving_says_whether_the_minimum_dscr_changed(office: Office) -> None:
    box = catalog.save_buy_box(office.db, box_form(min_dscr="1.25"), acting=office.cleo)
    assert (box.created, box.min_dscr_changed) == (True, False)
    same = catalog.save_buy_box(
        office.db, box_form("Renamed", min_dscr="1.250"), box.id, 1, acting=office.cleo
    )
    assert (same.id, same.created, same.min_dscr_changed) == (box.id, False, False)
    changed = catalog.save_buy_box(
        office.db, box_form(min_dscr="1.35"), box.id, 2, acting=office.mia
    )  # a closer may not change it (it grades the box's properties again)
    assert changed.min_dscr_changed
    untouched = catalog.save_buy_box(office.db, {"name": "Kept"}, box.id, 3, acting=office.cleo)
    assert not untouched.min_dscr_changed
    (row,) = catalog.list_buy_boxes(office.db)
    assert (row.name, row.min_dscr, row.version) == ("Kept", Decimal("1.35"), 4)


def test_a_box_can_be_given_to_another_buyer_or_to_none(office: Office) -> None:
    acme = catalog.save_buyer(office.db, buyer_form("Acme"), acting=office.cleo)
    birch = catalog.save_buyer(office.db, buyer_form("Birch"), acting=office.cleo)
    box = catalog.save_buy_box(office.db, box_form(buyer_id=str(acme)), acting=office.cleo)
    catalog.save_buy_box(office.db, box_form(buyer_id=str(birch)), box.id, 1, acting=office.cleo)
    assert catalog.list_buy_boxes(office.db)[0].buyer_name == "Birch"
    catalog.save_buy_box(office.db, box_form(buyer_id=""), box.id, 2, acting=office.cleo)
    assert catalog.list_buy_boxes(office.db)[0].buyer_id is None


# -- a buyer's past deals ---------------------------------------------------------------------


def test_buyer_detail_shows_past_deals_newest_first_with_grade_counts(office: Office) -> None:
    acme = catalog.save_buyer(office.db, buyer_form("Acme"), acting=office.cleo)
    other = catalog.save_buyer(office.db, buyer_form("Birch"), acting=office.cleo)
    box = catalog.save_buy_box(office.db, box_form("Central SFR"), acting=office.cleo)
    add_record(office.db, acme, "PF-1", dt.date(2024, 5, 1), "A", box.id)
    add_record(office.db, acme, "PF-2", dt.date(2025, 7, 1), "D", None, "commercial")
    add_record(office.db, acme, "PF-3", dt.date(2025, 1, 1), "A", box.id)
    add_record(office.db, acme, "PF-4", dt.date(2025, 9, 1), None, box.id)
    add_record(office.db, acme, "PF-5", dt.date(2023, 9, 1), "C", box.id)
    add_record(office.db, other, "PF-6", dt.date(2025, 9, 1), "B", box.id)
    with office.db.session() as s:
        s.execute(sa.update(Buyer).where(Buyer.id == acme).values(engagement_score=Decimal("47")))

    detail = catalog.buyer_detail(office.db, acme)
    assert (detail.buyer.name, detail.buyer.engagement_score, detail.buyer.records) == (
        "Acme",
        Decimal("47.00"),
        5,
    )
    assert [d.ref for d in detail.deals] == ["PF-4", "PF-2", "PF-3", "PF-1", "PF-5"]
    assert dict(detail.grade_counts) == {"A": 2, "B": 0, "C": 1, "D": 1}
    assert (detail.ungraded, detail.graded) == (1, 4)
    newest_graded = detail.deals[1]
    assert (
        newest_graded.market_key,
        newest_graded.strategy,
        newest_graded.closed_date,
        newest_graded.current_grade,
        newest_graded.buy_box_name,
    ) == ("CA-BAKERSFIELD", "commercial", dt.date(2025, 7, 1), "D", None)
    assert detail.deals[0].buy_box_name == "Central SFR"

    empty = catalog.buyer_detail(office.db, other)
    assert dict(empty.grade_counts) == {"A": 0, "B": 1, "C": 0, "D": 0}


def test_buyer_detail_of_a_removed_buyer_says_so(office: Office) -> None:
    with pytest.raises(ConflictError, match="no longer in the database"):
        catalog.buyer_detail(office.db, 12345)
    with pytest.raises(ConflictError, match="This buyer is no longer in the database"):
        catalog.get_buyer(office.db, 12345)
    with pytest.raises(ConflictError, match="This buy box is no longer in the database"):
        catalog.get_buy_box(office.db, 12345)


def test_one_buyer_or_box_is_read_as_stored_now(office: Office) -> None:
    bid = catalog.save_buyer(office.db, buyer_form("Acme"), acting=office.cleo)
    catalog.save_buyer(office.db, buyer_form("Acme", phone="7"), bid, 1, acting=office.bob)
    box = catalog.save_buy_box(office.db, box_form(buyer_id=str(bid)), acting=office.cleo)
    add_record(office.db, bid, "PF-1", dt.date(2025, 1, 5), "B", box.id)
    assert catalog.get_buyer(office.db, bid) == catalog.list_buyers(office.db)[0]
    assert catalog.get_buyer(office.db, bid).phone == "7"
    assert catalog.get_buy_box(office.db, box.id) == catalog.list_buy_boxes(office.db)[0]
    assert catalog.get_buy_box(office.db, box.id).records == 1
