"""Buyers and their buy boxes (SPEC §9): list them, read a buyer's past deals and grades, and
create or change them from the raw text of a form.

Who may change them: closers, brokers, managers and admins (a closer checks a buyer before
sending them a deal, and sets up the buyer's buy boxes); agents and dialers read only. In local
mode with nobody named, the one person at this computer may do everything. Everyone reads.

Rules where SPEC.md is silent (also in docs/rules.md):
- a buyer's name is required and unique regardless of case ("Acme" and "ACME" are one buyer);
  a buy box's reference is optional and unique regardless of case;
- emails are checked and stored in lower case as everywhere else (CSV imports, records);
- a buy box's minimum DSCR is a number from 0 to 99.99 with at most two decimals (it is stored
  with two; a third would be rounded silently, moving the line that grades a property);
- the engagement score, the performance rate and the warning level are computed from the
  grades (``feedback``), never typed in;
- an update names the ``version`` it was read at; if the stored buyer or buy box has moved on,
  nothing is written and ``ConflictError`` says so; a value left out of an update keeps what
  is stored (a form sends every field, so a cleared field is "" and clears it).

Changing a buy box's minimum DSCR changes the required DSCR of its records' grades (SPEC §9):
``save_buy_box`` returns ``BuyBoxSaved.min_dscr_changed`` so that the caller can have the
records regraded (``feedback``) once that is wired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.db.models import BuyBox, Buyer, DealPerformance
from app.domain import csvrules
from app.domain.enums import Grade, Role, Strategy
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.domain.money import parse_decimal
from app.services.database import Database
from app.services.postclose.records import WRITERS, writing
from app.services.postclose.regrade import regrade_records
from app.services.records import Acting, Actor, resolve_actor

#: The roles that may create and change buyers and buy boxes.
EDITOR_ROLES = frozenset({Role.CLOSER, Role.BROKER, Role.MANAGER, Role.ADMIN})
BUYER_NAME_MAX = 160
PHONE_MAX = 40
REF_MAX = 64
BOX_NAME_MAX = 160
MARKET_MAX = 60
MIN_DSCR_MAX = Decimal("99.99")

BUYER_FIELDS = ("name", "email", "phone")
BUY_BOX_FIELDS = ("ref", "name", "market_key", "strategy", "min_dscr", "buyer_id")

FIELD_LABELS: Mapping[str, str] = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "ref": "Reference",
    "market_key": "Market",
    "strategy": "Strategy",
    "min_dscr": "Minimum DSCR",
    "buyer_id": "Buyer",
}

STRATEGY_LABELS: Mapping[str, str] = {
    Strategy.BUY_HOLD.value: "Buy & hold",
    Strategy.COMMERCIAL.value: "Commercial",
}

#: A strategy as typed: its value ("buy_hold") or its label ("Buy & hold"), any case.
_STRATEGIES: Mapping[str, str] = {
    **{label.casefold(): value for value, label in STRATEGY_LABELS.items()},
    **{s.value.casefold(): s.value for s in Strategy},
}

GRADES: tuple[str, ...] = tuple(g.value for g in Grade)


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


class CatalogError(ValidationError):
    """One or more fields of a buyer or buy box break a rule; nothing was written.

    ``errors`` maps each field to what is wrong with it; the message names every field:
    "Name: required; Minimum DSCR: 'abc' is not a number".
    """

    def __init__(self, noun: str, errors: Mapping[str, str]) -> None:
        self.noun = noun
        self.errors = dict(errors)
        super().__init__(
            "; ".join(f"{field_label(name)}: {reason}" for name, reason in errors.items())
        )


# -- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuyerRow:
    id: int
    name: str
    email: str | None
    phone: str | None
    engagement_score: Decimal | None  # None until one of their properties has a grade
    records: int  # their post-close performance records
    version: int


@dataclass(frozen=True)
class PastDeal:
    """One of a buyer's properties, as a closer checks it before sending them another."""

    id: int
    ref: str | None
    market_key: str
    strategy: str
    closed_date: dt.date
    current_grade: str | None  # None: no month entered yet
    buy_box_name: str | None


@dataclass(frozen=True)
class BuyerDetail:
    buyer: BuyerRow
    deals: tuple[PastDeal, ...]  # newest close first
    grade_counts: Mapping[str, int]  # "A".."D", each present (0 when none)
    ungraded: int  # records with no month entered yet

    @property
    def graded(self) -> int:
        return sum(self.grade_counts.values())


@dataclass(frozen=True)
class BuyBoxRow:
    id: int
    ref: str | None
    name: str
    market_key: str
    strategy: str
    min_dscr: Decimal
    buyer_id: int | None
    buyer_name: str | None
    performance_rate: Decimal | None
    warning_level: str | None  # "WARNING", "CRITICAL" or None
    records: int
    version: int


@dataclass(frozen=True)
class BuyBoxSaved:
    """What ``save_buy_box`` stored.

    ``min_dscr_changed``: the hook for the regrade. The box's minimum DSCR is its records'
    required DSCR (SPEC §9); when it changed, their grades must be computed again
    (``feedback``), which this function does not do yet.
    """

    id: int
    created: bool
    min_dscr_changed: bool


# -- reading ----------------------------------------------------------------------------------


def _record_counts(column: Any) -> Any:
    return (
        sa.select(column.label("key"), sa.func.count().label("n"))
        .where(column.is_not(None))
        .group_by(column)
        .subquery()
    )


def _buyer_select() -> sa.Select[Any]:
    counts = _record_counts(DealPerformance.buyer_id)
    return sa.select(Buyer, sa.func.coalesce(counts.c.n, 0)).outerjoin(
        counts, counts.c.key == Buyer.id
    )


def _buyer_row(buyer: Buyer, records: int) -> BuyerRow:
    return BuyerRow(
        id=buyer.id,
        name=buyer.name,
        email=buyer.email,
        phone=buyer.phone,
        engagement_score=buyer.engagement_score,
        records=int(records),
        version=buyer.version,
    )


def list_buyers(db: Database, search: str = "") -> list[BuyerRow]:
    """Every buyer (those whose name, email or phone contain ``search``), by name."""
    stmt = _buyer_select()
    term = search.strip().lower()
    if term:
        stmt = stmt.where(
            sa.or_(
                *(
                    sa.func.lower(sa.func.coalesce(col, "")).contains(term, autoescape=True)
                    for col in (Buyer.name, Buyer.email, Buyer.phone)
                )
            )
        )
    with db.read() as s:
        rows = s.execute(stmt.order_by(sa.func.lower(Buyer.name), Buyer.id)).all()
        return [_buyer_row(b, n) for b, n in rows]


def get_buyer(db: Database, buyer_id: int) -> BuyerRow:
    """The buyer as stored now (a form reloads it after a conflict)."""
    with db.read() as s:
        found = s.execute(_buyer_select().where(Buyer.id == buyer_id)).first()
    if found is None:
        raise _gone("buyer")
    return _buyer_row(found[0], found[1])


def buyer_detail(db: Database, buyer_id: int) -> BuyerDetail:
    """The buyer with their past deals (newest close first) and how many have each grade."""
    with db.read() as s:
        found = s.execute(_buyer_select().where(Buyer.id == buyer_id)).first()
        if found is None:
            raise _gone("buyer")
        row = _buyer_row(found[0], found[1])
        R = DealPerformance
        stmt = (
            sa.select(
                R.id, R.ref, R.market_key, R.strategy, R.closed_date, R.current_grade, BuyBox.name
            )
            .outerjoin(BuyBox, BuyBox.id == R.buy_box_id)
            .where(R.buyer_id == buyer_id)
            .order_by(R.closed_date.desc(), R.id.desc())
        )
        deals = tuple(
            PastDeal(i, ref, market, str(strategy), closed, grade, box)
            for i, ref, market, strategy, closed, grade, box in s.execute(stmt)
        )
    counts = dict.fromkeys(GRADES, 0)
    ungraded = 0
    for deal in deals:
        if deal.current_grade in counts:
            counts[deal.current_grade] += 1
        else:
            ungraded += 1
    return BuyerDetail(row, deals, counts, ungraded)


def _box_select() -> sa.Select[Any]:
    counts = _record_counts(DealPerformance.buy_box_id)
    return (
        sa.select(BuyBox, Buyer.name, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(Buyer, Buyer.id == BuyBox.buyer_id)
        .outerjoin(counts, counts.c.key == BuyBox.id)
    )


def _box_row(box: BuyBox, buyer_name: str | None, records: int) -> BuyBoxRow:
    return BuyBoxRow(
        id=box.id,
        ref=box.ref,
        name=box.name,
        market_key=box.market_key,
        strategy=str(box.strategy),
        min_dscr=box.min_dscr,
        buyer_id=box.buyer_id,
        buyer_name=buyer_name,
        performance_rate=box.performance_rate,
        warning_level=box.warning_level,
        records=int(records),
        version=box.version,
    )


def list_buy_boxes(db: Database) -> list[BuyBoxRow]:
    """Every buy box, by name, with its buyer and how many records it holds."""
    stmt = _box_select().order_by(sa.func.lower(BuyBox.name), BuyBox.id)
    with db.read() as s:
        return [_box_row(box, buyer, n) for box, buyer, n in s.execute(stmt)]


def get_buy_box(db: Database, box_id: int) -> BuyBoxRow:
    """The buy box as stored now (a form reloads it after a conflict)."""
    with db.read() as s:
        found = s.execute(_box_select().where(BuyBox.id == box_id)).first()
    if found is None:
        raise _gone("buy box")
    return _box_row(found[0], found[1], found[2])


def market_keys(db: Database) -> list[str]:
    """The markets already named by a buy box or a record, for a form to offer."""
    with db.read() as s:
        keys = set(s.scalars(sa.select(BuyBox.market_key).distinct()))
        keys.update(s.scalars(sa.select(DealPerformance.market_key).distinct()))
    return sorted(keys, key=str.casefold)


def may_edit(db: Database, acting: Acting = None) -> bool:
    """Whether the acting person may create and change buyers and buy boxes."""
    try:
        with db.read() as s:
            return _allowed(resolve_actor(s, db, acting))
    except PermissionDenied:
        return False


# -- who may write ----------------------------------------------------------------------------


def _allowed(actor: Actor | None) -> bool:
    return actor is None or actor.role in EDITOR_ROLES


def _check_editor(s: Session, db: Database, acting: Acting, what: str) -> Actor | None:
    actor = resolve_actor(s, db, acting)
    if not _allowed(actor):
        assert actor is not None
        raise PermissionDenied(
            f"Only closers, brokers, managers and admins may add or change {what}; "
            f"you are signed in as {_an(actor.role)}."
        )
    return actor


def _an(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


# -- checking a form --------------------------------------------------------------------------


class _Form:
    """The raw text of a form, cleaned field by field; the first problem of each is kept."""

    def __init__(self, values: Mapping[str, str], known: tuple[str, ...], full: bool) -> None:
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(unknown)}")
        self.raw = values
        self.full = full  # a new record: a field left out is empty
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}

    def given(self, name: str) -> bool:
        return self.full or name in self.raw

    def _text(self, name: str) -> str:
        return (self.raw.get(name) or "").strip()

    def fail(self, name: str, reason: str) -> None:
        self.errors.setdefault(name, reason)

    def text(self, name: str, max_length: int, *, required: bool) -> None:
        if not self.given(name):
            return
        cleaned = self._text(name)
        if not cleaned:
            if required:
                self.fail(name, "required")
            self.values[name] = None
            return
        try:
            self.values[name] = csvrules.text(max_length)(cleaned)
        except ValueError as exc:
            self.fail(name, str(exc).removeprefix("is "))

    def email(self, name: str) -> None:
        if not self.given(name):
            return
        cleaned = self._text(name)
        try:
            self.values[name] = csvrules.email(cleaned) if cleaned else None
        except ValueError as exc:
            self.fail(name, str(exc))

    def strategy(self, name: str) -> None:
        if not self.given(name):
            return
        cleaned = self._text(name)
        if not cleaned:
            self.fail(name, "required")
            return
        found = _STRATEGIES.get(cleaned.casefold())
        if found is None:
            allowed = " or ".join(STRATEGY_LABELS.values())
            self.fail(name, f"{cleaned!r} is not a strategy (choose {allowed})")
        else:
            self.values[name] = found

    def min_dscr(self, name: str) -> None:
        if not self.given(name):
            return
        cleaned = self._text(name)
        if not cleaned:
            self.fail(name, "required (the DSCR a property must reach, e.g. 1.25)")
            return
        try:
            value = parse_decimal(cleaned)
        except ValueError as exc:
            self.fail(name, str(exc))
            return
        if value < 0:
            self.fail(name, f"must not be negative (got {cleaned})")
        elif value > MIN_DSCR_MAX:
            self.fail(name, f"at most {MIN_DSCR_MAX} (got {cleaned})")
        elif value != value.quantize(Decimal("0.01")):
            self.fail(name, f"at most two decimals (got {cleaned})")
        else:
            self.values[name] = value.quantize(Decimal("0.01"))

    def buyer_id(self, s: Session, name: str) -> None:
        if not self.given(name):
            return
        cleaned = self._text(name)
        if not cleaned:
            self.values[name] = None
            return
        try:
            wanted = int(cleaned)
        except ValueError:
            self.fail(name, f"{cleaned!r} is not a buyer")
            return
        if s.get(Buyer, wanted) is None:
            self.fail(name, "that buyer is no longer in the database; choose another")
        else:
            self.values[name] = wanted


def _taken(s: Session, column: Any, value: str, model: Any, own_id: int | None) -> bool:
    stmt = sa.select(model.id).where(sa.func.lower(column) == value.lower())
    if own_id is not None:
        stmt = stmt.where(model.id != own_id)
    return s.scalar(stmt.limit(1)) is not None


def _stale(noun: str, label: str) -> ConflictError:
    return ConflictError(
        f"The {noun} {label!r} was changed on another workstation; reload it. Nothing was saved."
    )


def _gone(noun: str) -> ConflictError:
    return ConflictError(
        f"This {noun} is no longer in the database (removed on another workstation)."
    )


def _load(s: Session, model: Any, noun: str, record_id: int, version: int | None) -> Any:
    if version is None:
        raise ValueError("an update needs the version the record was read at")
    record = s.get(model, record_id)
    if record is None:
        raise ConflictError(f"{_gone(noun)} Nothing was saved.")
    if record.version != version:
        raise _stale(noun, record.name)
    return record


def _store(s: Session, model: Any, record: Any, values: Mapping[str, Any], noun: str) -> Any:
    """Write ``values`` on ``record`` (None: a new one); a stale write is a conflict."""
    label = str(values.get("name") or (record.name if record is not None else ""))
    if record is None:
        record = model(**values)
        s.add(record)
    else:
        for name, value in values.items():
            setattr(record, name, value)
    try:
        s.flush()
    except StaleDataError:
        raise _stale(noun, label) from None
    return record


def _unique_violation(exc: sa.exc.IntegrityError) -> bool:
    text = str(exc.orig).lower()
    return "unique" in text or "duplicate" in text


# -- buyers -----------------------------------------------------------------------------------


def save_buyer(
    db: Database,
    values: Mapping[str, str],
    buyer_id: int | None = None,
    version: int | None = None,
    acting: Acting = None,
) -> int:
    """Create (no ``buyer_id``) or change a buyer from a form's text; returns its id.

    ``values``: "name", "email", "phone". Raises ``CatalogError`` (by field),
    ``ConflictError`` (stale ``version``) or ``PermissionDenied``; nothing is written then.
    """
    try:
        with writing(db, "buyers") as s:
            _check_editor(s, db, acting, "buyers")
            record = None
            if buyer_id is not None:
                record = _load(s, Buyer, "buyer", buyer_id, version)
            form = _Form(values, BUYER_FIELDS, full=record is None)
            form.text("name", BUYER_NAME_MAX, required=True)
            form.email("email")
            form.text("phone", PHONE_MAX, required=False)
            name = form.values.get("name")
            if name and _taken(s, Buyer.name, name, Buyer, buyer_id):
                form.fail("name", f"another buyer is already called {name!r}")
            if form.errors:
                raise CatalogError("buyer", form.errors)
            stored = _store(s, Buyer, record, form.values, "buyer")
            return int(stored.id)
    except sa.exc.IntegrityError as exc:
        if _unique_violation(exc):  # another workstation took the name a moment before
            name = (values.get("name") or "").strip()
            raise CatalogError(
                "buyer", {"name": f"another buyer is already called {name!r}"}
            ) from None
        raise


# -- buy boxes --------------------------------------------------------------------------------


def save_buy_box(
    db: Database,
    values: Mapping[str, str],
    box_id: int | None = None,
    version: int | None = None,
    acting: Acting = None,
) -> BuyBoxSaved:
    """Create (no ``box_id``) or change a buy box from a form's text.

    ``values``: "ref", "name", "market_key", "strategy" (buy_hold or commercial, any case),
    "min_dscr" (e.g. "1.25"), "buyer_id" (a buyer's id, or "" for none). Raises
    ``CatalogError`` (by field), ``ConflictError`` (stale ``version``) or
    ``PermissionDenied``; nothing is written then.
    """
    try:
        with writing(db, "buy_boxes") as s:
            actor = _check_editor(s, db, acting, "buy boxes")
            record = None
            if box_id is not None:
                record = _load(s, BuyBox, "buy box", box_id, version)
            before = record.min_dscr if record is not None else None
            form = _Form(values, BUY_BOX_FIELDS, full=record is None)
            form.text("ref", REF_MAX, required=False)
            form.text("name", BOX_NAME_MAX, required=True)
            form.text("market_key", MARKET_MAX, required=True)
            form.strategy("strategy")
            form.min_dscr("min_dscr")
            form.buyer_id(s, "buyer_id")
            ref = form.values.get("ref")
            if ref and _taken(s, BuyBox.ref, ref, BuyBox, box_id):
                form.fail("ref", f"another buy box already has the reference {ref!r}")
            if form.errors:
                raise CatalogError("buy box", form.errors)
            after = form.values.get("min_dscr", before)
            changed = before is not None and after != before
            if changed and actor is not None and Role(actor.role) not in WRITERS:
                raise CatalogError(
                    "buy box",
                    {
                        "min_dscr": "only brokers, managers and admins may change it: "
                        "it grades the box's properties again"
                    },
                )
            stored = _store(s, BuyBox, record, form.values, "buy box")
            if changed:
                # The box's properties are graded against the new minimum, in this same
                # transaction: the box and its grades never disagree (SPEC §9).
                ids = list(
                    s.scalars(
                        sa.select(DealPerformance.id).where(DealPerformance.buy_box_id == stored.id)
                    )
                )
                regrade_records(s, ids)
            return BuyBoxSaved(int(stored.id), created=record is None, min_dscr_changed=changed)
    except sa.exc.IntegrityError as exc:
        if _unique_violation(exc):  # another workstation took the reference a moment before
            ref = (values.get("ref") or "").strip()
            raise CatalogError(
                "buy box", {"ref": f"another buy box already has the reference {ref!r}"}
            ) from None
        raise
