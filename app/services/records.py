"""Leads, appointments, clients, listings and escrows: list, read, create and update them as
SPEC §1 lets the acting person, returning frozen dataclasses (never ORM objects).

Who is acting (``current_person``):
- local mode (SQLite) with no ``acting`` person given: the one person at this computer, who
  holds every role and sees and edits everything;
- shared mode (PostgreSQL): the person whose login is ``current_user`` (``users.db_role``). An
  ``acting`` person given as well must be that person; only a login that is no person at all
  (the server's owner, as used by set-up scripts and ``--as``) may name someone to act as;
- ``acting`` given in local mode (``--as``): that person, with their rules.

What a person sees (and may write), SPEC §1:
- leads and appointments: only their own, whatever their role (a broker, manager or admin
  gets counts from the dashboard report, never these rows);
- clients, listings and escrows: their own, those of the agents whose broker they are
  (``users.broker_id``), those of the members of teams they manage (``teams.manager_id``),
  and everyone's for an admin.
A record may be created for, or moved to, anyone whose records of that kind the acting person
sees; so leads and appointments are always the acting person's own (outside local mode).

Rules where SPEC.md is silent (also in docs/rules.md):
- ``created_at`` is stamped with the current UTC time unless given; a date or time without a
  time zone is taken as UTC (as in CSV imports);
- a lead's or appointment's ``is_private`` left unset is true for a broker's own records and
  false otherwise (SPEC §1), as in CSV imports; on update, unset keeps the stored value;
- an appointment may not end before it starts (ending when it starts is allowed);
- escrows keep the import rules: Closed needs ``closed_at``; Active and Pending have none;
  ``closed_at`` is not before ``created_at``; ``my_commission`` is not more than the price;
- prices and commissions are zero or more and fit NUMERIC(16,2);
- a record's owner must be an active person; a record already owned by someone since
  deactivated can still be edited without changing its owner;
- an update names the ``version`` it was read at; if the stored record has moved on, nothing
  is written and ``ConflictError`` says so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.db.models.people import Team, User
from app.db.models.records import Appointment, Client, Escrow, Lead, Listing
from app.domain.enums import (
    AppointmentStatus,
    ClientStatus,
    EscrowStatus,
    LeadStatus,
    ListingStatus,
    NotificationType,
    Role,
)
from app.domain.errors import ConflictError, PermissionDenied, ValidationError
from app.services import notifications
from app.services.database import Database

#: At most this many rows (the newest) are returned by a list; ``RecordList.total`` has all.
MAX_ROWS = 5000
#: NUMERIC(16,2): fourteen digits before the point.
MONEY_LIMIT = Decimal(10) ** 14

_EMAIL = re.compile(r"^[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\"]+\.[^@\s,;<>()\[\]\".]{2,}$")


class RecordKind(StrEnum):
    LEADS = "leads"
    APPOINTMENTS = "appointments"
    CLIENTS = "clients"
    LISTINGS = "listings"
    ESCROWS = "escrows"


#: Kinds whose rows only their owner ever sees (SPEC §1: others get counts at most).
OWNER_ONLY_KINDS = frozenset({RecordKind.LEADS, RecordKind.APPOINTMENTS})

NOUNS: Mapping[RecordKind, str] = {
    RecordKind.LEADS: "lead",
    RecordKind.APPOINTMENTS: "appointment",
    RecordKind.CLIENTS: "client",
    RecordKind.LISTINGS: "listing",
    RecordKind.ESCROWS: "escrow",
}

# Field names as used in ``RecordError.errors``; labels as a person reads them.
OWNER = "owner"
FIELD_LABELS: Mapping[str, str] = {
    OWNER: "Agent",
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "source": "Source",
    "status": "Status",
    "is_private": "Private",
    "created_at": "Created",
    "title": "Title",
    "start_time": "Start",
    "end_time": "End",
    "location": "Location",
    "notes": "Notes",
    "address": "Address",
    "list_price": "List price",
    "property_address": "Property address",
    "purchase_price": "Purchase price",
    "my_commission": "My commission",
    "escrow_status": "Status",
    "closed_at": "Closed",
}
_LEAD_LABELS = {**FIELD_LABELS, OWNER: "Owner"}
_ESCROW_LABELS = {**FIELD_LABELS, "created_at": "Opened"}


def field_label(kind: RecordKind, field: str) -> str:
    if kind is RecordKind.LEADS:
        return _LEAD_LABELS.get(field, field)
    if kind is RecordKind.ESCROWS:
        return _ESCROW_LABELS.get(field, field)
    return FIELD_LABELS.get(field, field)


class RecordError(ValidationError):
    """One or more fields break a rule; nothing was written.

    ``errors`` maps each field to what is wrong with it; the message names every field:
    "List price: must not be negative (got -5); Name: required".
    """

    def __init__(self, kind: RecordKind, errors: Mapping[str, str]) -> None:
        self.kind = kind
        self.errors = dict(errors)
        super().__init__(
            "; ".join(f"{field_label(kind, name)}: {reason}" for name, reason in errors.items())
        )


# -- who is acting ----------------------------------------------------------------------------


class HasEmail(Protocol):
    @property
    def email(self) -> str: ...


Acting = str | HasEmail | None


@dataclass(frozen=True)
class Actor:
    """The person whose rules apply."""

    id: int
    email: str
    first_name: str
    last_name: str
    role: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value


def _actor(user: User) -> Actor:
    return Actor(user.id, user.email, user.first_name, user.last_name, user.role)


def _acting_email(acting: Acting) -> str | None:
    if acting is None:
        return None
    email = acting if isinstance(acting, str) else acting.email
    return email.strip().lower()


def resolve_actor(s: Session, db: Database, acting: Acting) -> Actor | None:
    email = _acting_email(acting)
    named: User | None = None
    if email is not None:
        named = s.scalar(sa.select(User).where(User.email == email))
        if named is None:
            raise PermissionDenied(f"No one with the email {email} is in the office.")
    if db.is_local:
        login: User | None = None
    else:
        login = s.scalar(sa.select(User).where(User.db_role == sa.func.current_user()))
        if login is None and named is None:
            who = s.scalar(sa.select(sa.func.current_user()))
            raise PermissionDenied(
                f"The server login {who} is not a person of the office: sign in as "
                "yourself to work with the office's records, deals and commissions."
            )
        if login is not None and named is not None and login.id != named.id:
            raise PermissionDenied(
                f"You are signed in as {login.email}; you cannot act as {named.email}."
            )
    person = login or named
    if person is None:
        return None
    if not person.is_active:
        raise PermissionDenied(f"{person.email} has been deactivated.")
    return _actor(person)


def resolve_viewer(s: Session, db: Database, acting: Acting) -> Actor | None:
    """``resolve_actor`` for reports that only read: with nobody named, the office's own
    server login (nobody's) reads as the whole office, as the agent report does, instead of
    being refused; row-level security still applies to every person's login."""
    if _acting_email(acting) is None and not db.is_local:
        login = s.scalar(sa.select(User.id).where(User.db_role == sa.func.current_user()))
        if login is None:
            return None
    return resolve_actor(s, db, acting)


def current_person(db: Database, acting: Acting = None) -> Actor | None:
    """The acting person; None in local mode when nobody is named (the one local person)."""
    with db.read() as s:
        return resolve_actor(s, db, acting)


# -- what each person sees --------------------------------------------------------------------


def owner_scope(kind: RecordKind, actor: Actor | None) -> sa.ColumnElement[bool] | None:
    """A condition on the owner (``User``) of a record of ``kind``; None = no limit."""
    if actor is None:
        return None
    if kind in OWNER_ONLY_KINDS:
        return User.id == actor.id
    if actor.is_admin:
        return None
    managed = sa.select(Team.id).where(Team.manager_id == actor.id)
    return sa.or_(User.id == actor.id, User.broker_id == actor.id, User.team_id.in_(managed))


def _only_own(s: Session, kind: RecordKind, actor: Actor | None) -> bool:
    """True when nobody but the acting person can own a record they see."""
    scope = owner_scope(kind, actor)
    if actor is None or scope is None:
        return False
    others = s.scalar(
        sa.select(sa.func.count()).select_from(User).where(scope, User.id != actor.id)
    )
    return not others


@dataclass(frozen=True)
class Owner:
    """A person a new record may belong to."""

    id: int
    email: str
    full_name: str
    role: str


@dataclass(frozen=True)
class OwnerChoices:
    owners: tuple[Owner, ...]
    default_email: str | None  # the acting person, or the only person there is


def owner_choices(db: Database, kind: RecordKind, acting: Acting = None) -> OwnerChoices:
    """The active people the acting person may create a record of ``kind`` for, by name."""
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        stmt = sa.select(User).where(User.is_active.is_(True))
        scope = owner_scope(kind, actor)
        if scope is not None:
            stmt = stmt.where(scope)
        users = s.scalars(stmt.order_by(User.first_name, User.last_name, User.email)).all()
    owners = tuple(Owner(u.id, u.email, u.full_name, u.role) for u in users)
    if actor is not None:
        default: str | None = actor.email
    else:
        default = owners[0].email if len(owners) == 1 else None
    return OwnerChoices(owners, default)


# -- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RecordRow:
    id: int
    version: int
    owner_id: int
    owner_email: str
    owner_name: str
    created_at: dt.datetime
    updated_at: dt.datetime | None


@dataclass(frozen=True, kw_only=True)
class LeadRow(RecordRow):
    name: str
    email: str | None
    phone: str | None
    source: str | None
    status: str
    is_private: bool


@dataclass(frozen=True, kw_only=True)
class AppointmentRow(RecordRow):
    title: str
    start_time: dt.datetime
    end_time: dt.datetime | None
    status: str
    location: str | None
    notes: str | None
    is_private: bool


@dataclass(frozen=True, kw_only=True)
class ClientRow(RecordRow):
    name: str
    email: str | None
    phone: str | None
    source: str | None
    status: str


@dataclass(frozen=True, kw_only=True)
class ListingRow(RecordRow):
    address: str
    list_price: Decimal
    status: str


@dataclass(frozen=True, kw_only=True)
class EscrowRow(RecordRow):
    property_address: str
    purchase_price: Decimal
    my_commission: Decimal | None
    escrow_status: str
    closed_at: dt.datetime | None
    client_name: str | None


R = TypeVar("R", bound=RecordRow)


@dataclass(frozen=True)
class RecordList(Generic[R]):
    """The newest rows the acting person may see (at most the limit asked for)."""

    rows: tuple[R, ...]
    total: int  # every row the person may see
    only_own: bool  # nobody else's records can appear (the window hides the owner column)

    @property
    def capped(self) -> bool:
        return self.total > len(self.rows)


def _base(record: Any, owner: User) -> dict[str, Any]:
    return {
        "id": record.id,
        "version": record.version,
        "owner_id": owner.id,
        "owner_email": owner.email,
        "owner_name": owner.full_name,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _row(kind: RecordKind, record: Any, owner: User, extra: Any = None) -> RecordRow:
    base = _base(record, owner)
    if kind is RecordKind.LEADS:
        return LeadRow(
            **base,
            name=record.name,
            email=record.email,
            phone=record.phone,
            source=record.source,
            status=str(record.status),
            is_private=record.is_private,
        )
    if kind is RecordKind.APPOINTMENTS:
        return AppointmentRow(
            **base,
            title=record.title,
            start_time=record.start_time,
            end_time=record.end_time,
            status=str(record.status),
            location=record.location,
            notes=record.notes,
            is_private=record.is_private,
        )
    if kind is RecordKind.CLIENTS:
        return ClientRow(
            **base,
            name=record.name,
            email=record.email,
            phone=record.phone,
            source=record.source,
            status=str(record.status),
        )
    if kind is RecordKind.LISTINGS:
        return ListingRow(
            **base, address=record.address, list_price=record.list_price, status=str(record.status)
        )
    return EscrowRow(
        **base,
        property_address=record.property_address,
        purchase_price=record.purchase_price,
        my_commission=record.my_commission,
        escrow_status=str(record.escrow_status),
        closed_at=record.closed_at,
        client_name=extra,
    )


def _model(kind: RecordKind) -> Any:
    return {
        RecordKind.LEADS: Lead,
        RecordKind.APPOINTMENTS: Appointment,
        RecordKind.CLIENTS: Client,
        RecordKind.LISTINGS: Listing,
        RecordKind.ESCROWS: Escrow,
    }[kind]


def _owner_column(kind: RecordKind) -> Any:
    model = _model(kind)
    return model.owner_id if kind is RecordKind.LEADS else model.agent_id


def _select(kind: RecordKind, actor: Actor | None) -> sa.Select[Any]:
    model = _model(kind)
    if kind is RecordKind.ESCROWS:
        stmt = (
            sa.select(model, User, Client.name)
            .join(User, User.id == _owner_column(kind))
            .outerjoin(Client, Client.id == model.client_id)
        )
    else:
        stmt = sa.select(model, User, sa.null()).join(User, User.id == _owner_column(kind))
    scope = owner_scope(kind, actor)
    return stmt if scope is None else stmt.where(scope)


def _list(db: Database, kind: RecordKind, acting: Acting, limit: int | None) -> RecordList[Any]:
    """The newest ``limit`` (default ``MAX_ROWS``) records, newest first, and how many in all."""
    limit = MAX_ROWS if limit is None else max(limit, 0)
    model = _model(kind)
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        stmt = _select(kind, actor).order_by(model.created_at.desc(), model.id.desc())
        rows = tuple(_row(kind, r, u, x) for r, u, x in s.execute(stmt.limit(limit)))
        count = (
            sa.select(sa.func.count()).select_from(model).join(User, User.id == _owner_column(kind))
        )
        scope = owner_scope(kind, actor)
        if scope is not None:
            count = count.where(scope)
        total = len(rows) if len(rows) < limit else int(s.scalar(count) or 0)
        return RecordList(rows, total, _only_own(s, kind, actor))


def _get(s: Session, kind: RecordKind, actor: Actor | None, record_id: int) -> Any:
    model = _model(kind)
    found = s.execute(_select(kind, actor).where(model.id == record_id)).first()
    if found is None:
        raise ConflictError(
            f"This {NOUNS[kind]} no longer exists or is no longer yours to see "
            "(changed on another workstation?); reload the list."
        )
    return found


def list_leads(
    db: Database, acting: Acting = None, limit: int | None = None
) -> RecordList[LeadRow]:
    return _list(db, RecordKind.LEADS, acting, limit)


def list_appointments(
    db: Database, acting: Acting = None, limit: int | None = None
) -> RecordList[AppointmentRow]:
    return _list(db, RecordKind.APPOINTMENTS, acting, limit)


def list_clients(
    db: Database, acting: Acting = None, limit: int | None = None
) -> RecordList[ClientRow]:
    return _list(db, RecordKind.CLIENTS, acting, limit)


def list_listings(
    db: Database, acting: Acting = None, limit: int | None = None
) -> RecordList[ListingRow]:
    return _list(db, RecordKind.LISTINGS, acting, limit)


def list_escrows(
    db: Database, acting: Acting = None, limit: int | None = None
) -> RecordList[EscrowRow]:
    return _list(db, RecordKind.ESCROWS, acting, limit)


def list_records(
    db: Database, kind: RecordKind, acting: Acting = None, limit: int | None = None
) -> RecordList[RecordRow]:
    return _list(db, kind, acting, limit)


def get_record(db: Database, kind: RecordKind, record_id: int, acting: Acting = None) -> RecordRow:
    """One record as stored now; ConflictError if it is gone or no longer visible."""
    with db.read() as s:
        actor = resolve_actor(s, db, acting)
        record, owner, extra = _get(s, kind, actor, record_id)
        return _row(kind, record, owner, extra)


# -- what a form sends ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LeadFields:
    name: str
    status: str = LeadStatus.NEW.value
    owner_email: str | None = None  # None: the acting person (or, on update, unchanged)
    email: str | None = None
    phone: str | None = None
    source: str | None = None
    is_private: bool | None = None  # None: a broker's own are private; on update, unchanged
    created_at: dt.datetime | None = None  # None: now (on update, unchanged)


@dataclass(frozen=True, kw_only=True)
class AppointmentFields:
    title: str
    start_time: dt.datetime
    end_time: dt.datetime | None = None
    status: str = AppointmentStatus.SCHEDULED.value
    owner_email: str | None = None
    location: str | None = None
    notes: str | None = None
    is_private: bool | None = None
    created_at: dt.datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ClientFields:
    name: str
    status: str = ClientStatus.ACTIVE.value
    owner_email: str | None = None
    email: str | None = None
    phone: str | None = None
    source: str | None = None
    created_at: dt.datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ListingFields:
    address: str
    list_price: Decimal
    status: str = ListingStatus.ACTIVE.value
    owner_email: str | None = None
    created_at: dt.datetime | None = None


@dataclass(frozen=True, kw_only=True)
class EscrowFields:
    property_address: str
    purchase_price: Decimal
    escrow_status: str = EscrowStatus.ACTIVE.value
    my_commission: Decimal | None = None
    closed_at: dt.datetime | None = None
    owner_email: str | None = None
    created_at: dt.datetime | None = None


Fields = LeadFields | AppointmentFields | ClientFields | ListingFields | EscrowFields

_KIND_OF: Mapping[type[Any], RecordKind] = {
    LeadFields: RecordKind.LEADS,
    AppointmentFields: RecordKind.APPOINTMENTS,
    ClientFields: RecordKind.CLIENTS,
    ListingFields: RecordKind.LISTINGS,
    EscrowFields: RecordKind.ESCROWS,
}


def kind_of(fields: Fields) -> RecordKind:
    return _KIND_OF[type(fields)]


class _Checker:
    """Collects cleaned values and the first problem of each field."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}

    def fail(self, field: str, reason: str) -> None:
        self.errors.setdefault(field, reason)

    def text(self, field: str, value: str | None, max_length: int, *, required: bool) -> None:
        cleaned = (value or "").strip()
        if not cleaned:
            if required:
                self.fail(field, "required")
            self.values[field] = None
        elif len(cleaned) > max_length:
            self.fail(field, f"{len(cleaned)} characters long; at most {max_length} fit")
        else:
            self.values[field] = cleaned

    def email(self, field: str, value: str | None) -> None:
        cleaned = (value or "").strip()
        if cleaned and (len(cleaned) > 254 or not _EMAIL.match(cleaned)):
            self.fail(field, f"{cleaned!r} is not an email address")
        self.values[field] = cleaned.lower() or None

    def choice(self, field: str, value: str, enum_cls: type[StrEnum]) -> None:
        by_folded = {m.value.casefold(): m.value for m in enum_cls}
        found = by_folded.get((value or "").strip().casefold())
        if found is None:
            allowed = ", ".join(m.value for m in enum_cls)
            self.fail(field, f"{value!r} is not one of {allowed}")
        self.values[field] = found

    def money(self, field: str, value: Decimal | None, *, required: bool) -> None:
        self.values[field] = value
        if value is None:
            if required:
                self.fail(field, "required")
        elif not value.is_finite():
            self.fail(field, f"{value} is not a number")
        elif value < 0:
            self.fail(field, f"must not be negative (got {value})")
        elif value >= MONEY_LIMIT:
            self.fail(field, "too large (at most 99,999,999,999,999.99)")

    def when(self, field: str, value: dt.datetime | None) -> None:
        # A time without a zone is taken as UTC, as in CSV imports (docs/rules.md).
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        self.values[field] = value.astimezone(dt.UTC) if value is not None else None


def _shown(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _check(fields: Fields, created_at: dt.datetime | None) -> _Checker:
    """The rules a record's own values must keep; ``created_at`` is the one it will have."""
    c = _Checker()
    c.when("created_at", fields.created_at)
    if isinstance(fields, LeadFields):
        c.text("name", fields.name, 160, required=True)
        c.email("email", fields.email)
        c.text("phone", fields.phone, 40, required=False)
        c.text("source", fields.source, 80, required=False)
        c.choice("status", fields.status, LeadStatus)
        c.values["is_private"] = fields.is_private
    elif isinstance(fields, AppointmentFields):
        c.text("title", fields.title, 200, required=True)
        c.when("start_time", fields.start_time)
        c.when("end_time", fields.end_time)
        start, end = c.values["start_time"], c.values["end_time"]
        if start is None:
            c.fail("start_time", "required")
        elif end is not None and end < start:
            c.fail("end_time", f"{_shown(end)} is before the start, {_shown(start)}")
        c.choice("status", fields.status, AppointmentStatus)
        c.text("location", fields.location, 200, required=False)
        c.text("notes", fields.notes, 10_000, required=False)
        c.values["is_private"] = fields.is_private
    elif isinstance(fields, ClientFields):
        c.text("name", fields.name, 160, required=True)
        c.email("email", fields.email)
        c.text("phone", fields.phone, 40, required=False)
        c.text("source", fields.source, 80, required=False)
        c.choice("status", fields.status, ClientStatus)
    elif isinstance(fields, ListingFields):
        c.text("address", fields.address, 240, required=True)
        c.money("list_price", fields.list_price, required=True)
        c.choice("status", fields.status, ListingStatus)
    else:
        _check_escrow(c, fields, created_at)
    return c


def _check_escrow(c: _Checker, fields: EscrowFields, created_at: dt.datetime | None) -> None:
    c.text("property_address", fields.property_address, 240, required=True)
    c.money("purchase_price", fields.purchase_price, required=True)
    c.money("my_commission", fields.my_commission, required=False)
    price, commission = c.values["purchase_price"], c.values["my_commission"]
    if (
        "purchase_price" not in c.errors
        and "my_commission" not in c.errors
        and commission is not None
        and commission > price
    ):
        c.fail("my_commission", f"{commission} is more than the purchase price, {price}")
    c.choice("escrow_status", fields.escrow_status, EscrowStatus)
    status = c.values["escrow_status"]
    c.when("closed_at", fields.closed_at)
    closed = c.values["closed_at"]
    opened = c.values["created_at"] or created_at
    if opened is not None and opened.tzinfo is None:
        opened = opened.replace(tzinfo=dt.UTC)
    if closed is None:
        if status == EscrowStatus.CLOSED:
            c.fail("closed_at", "required when the escrow is Closed")
    elif status in (EscrowStatus.ACTIVE, EscrowStatus.PENDING):
        c.fail("closed_at", f"must be empty while the escrow is {status}")
    elif opened is not None and closed < opened:
        c.fail("closed_at", f"{_shown(closed)} is before it was opened, {_shown(opened)}")


def check_fields(fields: Fields, created_at: dt.datetime | None = None) -> dict[str, str]:
    """What is wrong with a form's values, by field, before any database is asked.

    ``created_at`` is the stored creation time when ``fields.created_at`` is None (an update);
    a new record without one is created now.
    """
    return _check(fields, created_at or dt.datetime.now(dt.UTC)).errors


# -- writing ----------------------------------------------------------------------------------


def _owner_for(
    s: Session,
    kind: RecordKind,
    actor: Actor | None,
    email: str | None,
    current: int | None,
    errors: dict[str, str],
) -> int | None:
    """The id of the record's owner; records a problem in ``errors`` or raises PermissionDenied."""
    wanted = (email or "").strip().lower()
    if not wanted:
        if current is not None:
            return current
        if actor is not None:
            return actor.id
        only = s.scalars(sa.select(User.id).where(User.is_active.is_(True)).limit(2)).all()
        if len(only) == 1:
            return only[0]
        errors[OWNER] = f"choose who the {NOUNS[kind]} belongs to"
        return None
    user = s.scalar(sa.select(User).where(User.email == wanted))
    if user is None:
        errors[OWNER] = f"no one with the email {wanted} is in the office"
        return None
    if user.id == current:
        return user.id
    if not user.is_active:
        errors[OWNER] = f"{user.email} has been deactivated"
        return None
    scope = owner_scope(kind, actor)
    if scope is not None:
        allowed = s.scalar(sa.select(User.id).where(User.id == user.id, scope))
        if allowed is None:
            what = f"{NOUNS[kind]}s" if kind in OWNER_ONLY_KINDS else f"this {NOUNS[kind]}"
            reason = "you may only add your own" if kind in OWNER_ONLY_KINDS else "you may not give"
            raise PermissionDenied(
                f"{field_label(kind, OWNER)}: {reason} {what} "
                f"({user.email} is not one of the people whose {NOUNS[kind]}s you see)."
            )
    return user.id


def _stale(kind: RecordKind, label: str) -> ConflictError:
    return ConflictError(
        f"The {NOUNS[kind]} {label!r} was changed on another workstation; reload it. "
        "Nothing was saved."
    )


def _label(kind: RecordKind, values: Mapping[str, Any], record: Any = None) -> str:
    name = {
        RecordKind.LEADS: "name",
        RecordKind.APPOINTMENTS: "title",
        RecordKind.CLIENTS: "name",
        RecordKind.LISTINGS: "address",
        RecordKind.ESCROWS: "property_address",
    }[kind]
    if record is not None:
        return str(getattr(record, name))
    return str(values.get(name) or "")


def _owner_attr(kind: RecordKind) -> str:
    return "owner_id" if kind is RecordKind.LEADS else "agent_id"


#: What creating a record of each kind notifies the owner's broker of (SPEC §3).
_CREATED_TYPES: Mapping[RecordKind, NotificationType] = {
    RecordKind.ESCROWS: NotificationType.ESCROW_CREATED,
    RecordKind.CLIENTS: NotificationType.CLIENT_CREATED,
    RecordKind.LISTINGS: NotificationType.LISTING_CREATED,
}


def _save(
    db: Database,
    fields: Fields,
    acting: Acting,
    record_id: int | None = None,
    version: int | None = None,
) -> RecordRow:
    kind = kind_of(fields)
    try:
        with db.session() as s:
            return _save_in(s, db, kind, fields, acting, record_id, version)
    except sa.exc.OperationalError as exc:
        # SQLite: another connection wrote between this one's read and its write (WAL
        # snapshot), or held the write lock past the busy timeout. Nothing was written.
        if db.is_local and "locked" in str(exc.orig).lower():
            raise ConflictError(
                f"The {NOUNS[kind]} could not be saved: another workstation was changing the "
                "database at the same moment; reload it. Nothing was saved."
            ) from None
        raise


def _save_in(
    s: Session,
    db: Database,
    kind: RecordKind,
    fields: Fields,
    acting: Acting,
    record_id: int | None,
    version: int | None,
) -> RecordRow:
    model = _model(kind)
    actor = resolve_actor(s, db, acting)
    record: Any = None
    if record_id is not None:
        record = _get(s, kind, actor, record_id)[0]
        if record.version != version:
            raise _stale(kind, _label(kind, {}, record))
    created = record.created_at if record is not None else dt.datetime.now(dt.UTC)
    checked = _check(fields, created)
    errors = dict(checked.errors)
    current_owner = getattr(record, _owner_attr(kind)) if record is not None else None
    owner_id = _owner_for(s, kind, actor, fields.owner_email, current_owner, errors)
    if errors:
        raise RecordError(kind, errors)
    values = dict(checked.values)
    values[_owner_attr(kind)] = owner_id
    if values["created_at"] is None:
        values["created_at"] = created
    if "is_private" in values and values["is_private"] is None:
        if record is not None:
            values["is_private"] = record.is_private
        else:
            owner_role = s.scalar(sa.select(User.role).where(User.id == owner_id))
            values["is_private"] = owner_role == Role.BROKER.value
    label = _label(kind, values)
    was_closed = (
        record is not None
        and kind is RecordKind.ESCROWS
        and (record.escrow_status == EscrowStatus.CLOSED)
    )
    raises = _CREATED_TYPES.get(kind) if record is None else None
    if record is None:
        record = model(**values)
        s.add(record)
    else:
        for name, value in values.items():
            setattr(record, name, value)
    try:
        s.flush()
    except StaleDataError:
        raise _stale(kind, label) from None
    closing = kind is RecordKind.ESCROWS and values["escrow_status"] == EscrowStatus.CLOSED
    if raises is None and closing and not was_closed:
        raises = NotificationType.ESCROW_CLOSED
    if raises is not None:  # SPEC §3, in the same transaction as the write
        notifications.raise_for_record(s, db, raises, record.id)
    s.expire(record)  # read back what was stored (money rounded, version bumped)
    found = _get(s, kind, None, record.id)
    return _row(kind, found[0], found[1], found[2])


Row = TypeVar("Row", bound=RecordRow)


def _typed(row_type: type[Row], row: RecordRow) -> Row:
    assert isinstance(row, row_type)
    return row


def create_lead(db: Database, fields: LeadFields, acting: Acting = None) -> LeadRow:
    return _typed(LeadRow, _save(db, fields, acting))


def update_lead(
    db: Database, lead_id: int, version: int, fields: LeadFields, acting: Acting = None
) -> LeadRow:
    return _typed(LeadRow, _save(db, fields, acting, lead_id, version))


def create_appointment(
    db: Database, fields: AppointmentFields, acting: Acting = None
) -> AppointmentRow:
    return _typed(AppointmentRow, _save(db, fields, acting))


def update_appointment(
    db: Database,
    appointment_id: int,
    version: int,
    fields: AppointmentFields,
    acting: Acting = None,
) -> AppointmentRow:
    return _typed(AppointmentRow, _save(db, fields, acting, appointment_id, version))


def create_client(db: Database, fields: ClientFields, acting: Acting = None) -> ClientRow:
    return _typed(ClientRow, _save(db, fields, acting))


def update_client(
    db: Database, client_id: int, version: int, fields: ClientFields, acting: Acting = None
) -> ClientRow:
    return _typed(ClientRow, _save(db, fields, acting, client_id, version))


def create_listing(db: Database, fields: ListingFields, acting: Acting = None) -> ListingRow:
    return _typed(ListingRow, _save(db, fields, acting))


def update_listing(
    db: Database, listing_id: int, version: int, fields: ListingFields, acting: Acting = None
) -> ListingRow:
    return _typed(ListingRow, _save(db, fields, acting, listing_id, version))


def create_escrow(db: Database, fields: EscrowFields, acting: Acting = None) -> EscrowRow:
    return _typed(EscrowRow, _save(db, fields, acting))


def update_escrow(
    db: Database, escrow_id: int, version: int, fields: EscrowFields, acting: Acting = None
) -> EscrowRow:
    return _typed(EscrowRow, _save(db, fields, acting, escrow_id, version))


def save_record(
    db: Database,
    fields: Fields,
    record_id: int | None = None,
    version: int | None = None,
    acting: Acting = None,
) -> RecordRow:
    """Create (no ``record_id``) or update the record of ``fields``' kind."""
    if record_id is not None and version is None:
        raise ValueError("an update needs the version the record was read at")
    return _save(db, fields, acting, record_id, version)
