"""One deal as its panel shows it: its fields, contacts, documents and timeline; and the edits
made there (the deal's own fields, contacts, documents). The stage is never edited here: a
stage changes only by a move (``moves.py``).

The timeline merges the deal's stage events with every entry of its audit chain (SPEC §5):
a stage event is matched to its ``deal_stage_transition`` entry by ``stage_event_id``; the
other entries (commissions created, moved between statuses, adjusted; this panel's edits)
are items of their own. Each item says whether its entry verifies: its hash and link are
recomputed (``audit.chain_entries``) and, for a stage event, the event must also say what
its entry says (from, to, who, note, when) — a stage event changed behind the chain's back
does not verify either. The deal's creation event (the first, ``from_stage`` NULL) has no
audit entry by design; it is shown as such, not as a fault.

Every edit is one transaction: the row, and an audit entry on the deal's chain
(``deal_updated`` with each changed field's old and new value, ``deal_contact_added`` /
``_updated`` / ``_removed``, ``deal_document_added`` / ``_removed``). An edit names the
version it was read at; a stale one is a ConflictError and nothing is written. All of a
form's problems are reported at once (``DealEditError.errors``, by field), nothing written.

Rules where SPEC.md is silent:
- title required, at most 200 characters; asset and deal type required, at most 40; lead
  source at most 80; the estimated value is zero or more and fits NUMERIC(16,2); the currency
  is a three-letter ISO 4217 code; confidence is 0–1 with at most 4 decimals;
- saving a form that changes nothing writes nothing (no new version, no audit entry);
- a contact needs a name (at most 160) and a role; its email, if any, looks like one;
- a document needs a title (at most 200), a type (at most 40) and a location (URI, at most
  2,000 characters); PerfDesk keeps the reference, never the file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.db.models import CommissionRecord, Deal, DealContact, DealDocument, DealStageEvent, User
from app.domain.audit import deal_chain_key
from app.domain.enums import ContactRole, DealStage, DealStatus
from app.domain.errors import ConflictError, ValidationError
from app.domain.money import format_money
from app.domain.pipeline import (
    STAGE_LABELS,
    PipelineError,
    check_amount,
    check_confidence,
    durations,
    weighted_value,
)
from app.services.audit import AuditEntryRow, append_entry, chain_entries
from app.services.database import Database
from app.services.office import normalize_currency
from app.services.pipeline.common import acting_user_id, load_deal
from app.services.pipeline.moves import EVENT_TYPE as STAGE_TRANSITION
from app.services.records import Acting

_EMAIL = re.compile(r"^[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\"]+\.[^@\s,;<>()\[\]\".]{2,}$")

DEAL_UPDATED = "deal_updated"
CONTACT_ADDED = "deal_contact_added"
CONTACT_UPDATED = "deal_contact_updated"
CONTACT_REMOVED = "deal_contact_removed"
DOCUMENT_ADDED = "deal_document_added"
DOCUMENT_REMOVED = "deal_document_removed"
COMMISSION_CREATED = "commission_created"
COMMISSION_STATUS_CHANGED = "commission_status_changed"
COMMISSION_ADJUSTED = "commission_adjusted"
#: The event type of the creation item (a deal's first stage event has no audit entry).
DEAL_CREATED = "deal_created"

#: The deal's editable fields, in the form's order.
DEAL_FIELDS = (
    "title",
    "asset_type",
    "deal_type",
    "lead_source",
    "estimated_value_amount",
    "estimated_value_currency",
    "expected_close_date",
    "confidence",
)
CONTACT_FIELDS = ("role", "name", "email", "phone", "company", "notes")
DOCUMENT_FIELDS = ("title", "doc_type", "uri")

FIELD_LABELS: Mapping[str, str] = {
    "title": "Title",
    "asset_type": "Asset type",
    "deal_type": "Deal type",
    "lead_source": "Lead source",
    "estimated_value_amount": "Estimated value",
    "estimated_value_currency": "Currency",
    "expected_close_date": "Expected close",
    "confidence": "Confidence",
    "role": "Role",
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "notes": "Notes",
    "doc_type": "Type",
    "uri": "Location",
}

CONTACT_ROLE_LABELS: Mapping[ContactRole, str] = {
    ContactRole.PRINCIPAL: "Principal",
    ContactRole.CO_BROKE: "Co-broke",
    ContactRole.LEGAL: "Legal",
    ContactRole.FINANCE: "Finance",
    ContactRole.OTHER: "Other",
}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


class DealEditError(ValidationError):
    """One or more fields of a deal, contact or document break a rule; nothing was written.

    ``errors`` maps each field to what is wrong with it (without the field's name).
    """

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(
            "; ".join(f"{field_label(name)}: {reason}" for name, reason in self.errors.items())
        )


# -- what the panel shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class DealInfo:
    id: int
    ref: str | None
    title: str
    asset_type: str
    deal_type: str
    stage: DealStage
    status: DealStatus
    lead_source: str | None
    estimated_value_amount: Decimal
    estimated_value_currency: str
    expected_close_date: dt.date | None
    actual_close_date: dt.date | None
    confidence: Decimal
    weighted_value: Decimal  # estimated value × confidence, unrounded
    created_at: dt.datetime
    updated_at: dt.datetime | None
    version: int
    agent_id: int
    agent_name: str
    agent_email: str


@dataclass(frozen=True)
class ContactRow:
    id: int
    version: int
    role: ContactRole
    name: str
    email: str | None
    phone: str | None
    company: str | None
    notes: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class DocumentRow:
    id: int
    version: int
    title: str
    doc_type: str
    uri: str
    added_by_name: str | None
    created_at: dt.datetime


class TimelineKind(StrEnum):
    CREATED = "created"
    STAGE = "stage"
    COMMISSION = "commission"
    EDIT = "edit"
    OTHER = "other"


class Integrity(StrEnum):
    VERIFIED = "verified"  # the audit entry's hash and link verify (and match the event)
    BROKEN = "broken"  # they do not: the history was changed outside PerfDesk
    NO_ENTRY = "no_entry"  # there is no audit entry (a deal's creation has none)


@dataclass(frozen=True)
class TimelineItem:
    kind: TimelineKind
    event_type: str
    recorded_at: dt.datetime
    who: str | None
    summary: str
    #: The move's note, a dispute's reason, an adjustment's note, or an edit's changes.
    note: str | None
    from_stage: DealStage | None
    to_stage: DealStage | None
    #: Stage events: seconds until the deal's next stage event, or until ``now`` (SPEC §4).
    duration_seconds: int | None
    stage_event_id: int | None
    audit_entry_id: int | None
    audit_seq: int | None
    verified: bool
    integrity: Integrity
    #: Why it does not verify, in plain words; None when it does.
    problem: str | None = None


@dataclass(frozen=True)
class DealDetail:
    deal: DealInfo
    contacts: tuple[ContactRow, ...]
    documents: tuple[DocumentRow, ...]
    timeline: tuple[TimelineItem, ...]  # oldest first
    as_of: dt.datetime  # the "now" the last stage's duration runs until

    @property
    def broken(self) -> tuple[TimelineItem, ...]:
        return tuple(i for i in self.timeline if i.integrity is Integrity.BROKEN)


# -- reading ----------------------------------------------------------------------------------


def _name(user: User | None) -> str:
    return user.full_name.strip() if user is not None else ""


def _info(s: Session, deal: Deal) -> DealInfo:
    agent = s.get(User, deal.agent_id)
    return DealInfo(
        id=deal.id,
        ref=deal.ref,
        title=deal.title,
        asset_type=deal.asset_type,
        deal_type=deal.deal_type,
        stage=DealStage(deal.pipeline_stage),
        status=DealStatus(deal.status),
        lead_source=deal.lead_source,
        estimated_value_amount=deal.estimated_value_amount,
        estimated_value_currency=deal.estimated_value_currency,
        expected_close_date=deal.expected_close_date,
        actual_close_date=deal.actual_close_date,
        confidence=deal.confidence,
        weighted_value=weighted_value(deal.estimated_value_amount, deal.confidence),
        created_at=deal.created_at,
        updated_at=deal.updated_at,
        version=deal.version,
        agent_id=deal.agent_id,
        agent_name=_name(agent) or (agent.email if agent is not None else ""),
        agent_email=agent.email if agent is not None else "",
    )


def _contact(c: DealContact) -> ContactRow:
    return ContactRow(
        c.id, c.version, ContactRole(c.role), c.name, c.email, c.phone, c.company, c.notes,
        c.created_at,
    )  # fmt: skip


def _document(d: DealDocument, names: Mapping[int, str]) -> DocumentRow:
    added_by = names.get(d.added_by_id) if d.added_by_id is not None else None
    return DocumentRow(d.id, d.version, d.title, d.doc_type, d.uri, added_by, d.created_at)


@dataclass(frozen=True)
class _Event:
    id: int
    from_stage: DealStage | None
    to_stage: DealStage
    changed_by_id: int
    note: str | None
    recorded_at: dt.datetime


def deal_detail(
    db: Database, deal_id: int, acting: Acting = None, now: dt.datetime | None = None
) -> DealDetail:
    """The deal as its panel shows it; DealNotFound when it is not among the deals one sees."""
    at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    with db.read() as s:
        deal, _actor = load_deal(s, db, acting, deal_id)
        info = _info(s, deal)
        contacts = s.scalars(
            sa.select(DealContact)
            .where(DealContact.deal_id == deal_id)
            .order_by(DealContact.created_at, DealContact.id)
        ).all()
        documents = s.scalars(
            sa.select(DealDocument)
            .where(DealDocument.deal_id == deal_id)
            .order_by(DealDocument.created_at, DealDocument.id)
        ).all()
        events = [
            _Event(e.id, e.from_stage, e.to_stage, e.changed_by_id, e.note, e.recorded_at)
            for e in s.scalars(
                sa.select(DealStageEvent)
                .where(DealStageEvent.deal_id == deal_id)
                .order_by(DealStageEvent.recorded_at, DealStageEvent.id)
            )
        ]
        commissions = {
            cid: (str(ctype), _name_of(first, last, email))
            for cid, ctype, first, last, email in s.execute(
                sa.select(
                    CommissionRecord.id,
                    CommissionRecord.commission_type,
                    User.first_name,
                    User.last_name,
                    User.email,
                )
                .join(User, User.id == CommissionRecord.agent_id)
                .where(CommissionRecord.deal_id == deal_id)
            )
        }
        contact_rows = tuple(_contact(c) for c in contacts)
        doc_rows = [(_document(d, {}), d.added_by_id) for d in documents]
    # Read after the deal: a move committed in between adds an entry whose stage event was
    # not read; it is left out (the next read shows both).
    entries = chain_entries(db, deal_chain_key(deal_id))
    people = {e.changed_by_id for e in events}
    people.update(e.actor_id for e, _ok in entries if e.actor_id is not None)
    people.update(uid for _d, uid in doc_rows if uid is not None)
    names = _names(db, people)
    timeline = _timeline(events, entries, names, commissions, info.estimated_value_currency, at)
    docs = tuple(
        replace(d, added_by_name=names.get(uid)) if uid is not None else d for d, uid in doc_rows
    )
    return DealDetail(info, contact_rows, docs, timeline, at)


def _name_of(first: str, last: str, email: str) -> str:
    return f"{first} {last}".strip() or email


def _names(db: Database, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    with db.read() as s:
        return _names_in(s, ids)


def _stage_payload_matches(event: _Event, entry: AuditEntryRow) -> bool:
    p = entry.payload
    return bool(
        p.get("stage_event_id") == event.id
        and p.get("from_stage") == (event.from_stage.value if event.from_stage else None)
        and p.get("to_stage") == event.to_stage.value
        and (p.get("note") or None) == (event.note or None)
        and entry.actor_id == event.changed_by_id
        and entry.recorded_at == event.recorded_at
    )


BROKEN_HASH = "hash does not verify"
MISMATCH = "the stage event differs from its audit entry"
NO_ENTRY = "no audit entry"
MISSING_ENTRY = "this move has no audit entry"


def _timeline(
    events: list[_Event],
    entries: list[tuple[AuditEntryRow, bool]],
    names: Mapping[int, str],
    commissions: Mapping[int, tuple[str, str]],
    currency: str,
    at: dt.datetime,
) -> tuple[TimelineItem, ...]:
    by_event: dict[int, tuple[AuditEntryRow, bool]] = {}
    others: list[tuple[AuditEntryRow, bool]] = []
    newest_event = max((e.id for e in events), default=0)
    for entry, ok in entries:
        sid = entry.payload.get("stage_event_id")
        if entry.event_type == STAGE_TRANSITION and isinstance(sid, int):
            if sid > newest_event and ok:
                continue  # a move committed after the deal was read (shown next time)
            if sid not in by_event:
                by_event[sid] = (entry, ok)
                continue
        others.append((entry, ok))

    keyed: list[tuple[tuple[dt.datetime, int, int], TimelineItem]] = []
    spans = durations([e.recorded_at for e in events], at)
    for event, seconds in zip(events, spans, strict=True):
        found = by_event.get(event.id)
        who = names.get(event.changed_by_id)
        if event.from_stage is None:
            kind, event_type = TimelineKind.CREATED, DEAL_CREATED
            summary = f"Created in {STAGE_LABELS[event.to_stage]}"
        else:
            kind, event_type = TimelineKind.STAGE, STAGE_TRANSITION
            summary = f"{STAGE_LABELS[event.from_stage]} → {STAGE_LABELS[event.to_stage]}"
        if found is None:
            # A move and its entry are written in one transaction and the entries are read
            # after the events: a move without one was added behind PerfDesk's back.
            if event.from_stage is None:
                integrity, problem = Integrity.NO_ENTRY, NO_ENTRY
            else:
                integrity, problem = Integrity.BROKEN, MISSING_ENTRY
            entry_id = seq = None
        else:
            entry, ok = found
            entry_id, seq = entry.id, entry.seq
            if not ok:
                integrity, problem = Integrity.BROKEN, BROKEN_HASH
            elif not _stage_payload_matches(event, entry):
                integrity, problem = Integrity.BROKEN, MISMATCH
            else:
                integrity, problem = Integrity.VERIFIED, None
        item = TimelineItem(
            kind=kind,
            event_type=event_type,
            recorded_at=event.recorded_at,
            who=who,
            summary=summary,
            note=event.note,
            from_stage=event.from_stage,
            to_stage=event.to_stage,
            duration_seconds=seconds,
            stage_event_id=event.id,
            audit_entry_id=entry_id,
            audit_seq=seq,
            verified=integrity is Integrity.VERIFIED,
            integrity=integrity,
            problem=problem,
        )
        keyed.append(((event.recorded_at, 0, seq or 0), item))
    for entry, ok in others:
        kind, summary, note = _describe(entry, commissions, currency)
        item = TimelineItem(
            kind=kind,
            event_type=entry.event_type,
            recorded_at=entry.recorded_at,
            who=names.get(entry.actor_id) if entry.actor_id is not None else None,
            summary=summary,
            note=note,
            from_stage=None,
            to_stage=None,
            duration_seconds=None,
            stage_event_id=None,
            audit_entry_id=entry.id,
            audit_seq=entry.seq,
            verified=ok,
            integrity=Integrity.VERIFIED if ok else Integrity.BROKEN,
            problem=None if ok else BROKEN_HASH,
        )
        keyed.append(((entry.recorded_at, 1, entry.seq), item))
    keyed.sort(key=lambda pair: pair[0])
    return tuple(item for _key, item in keyed)


# -- describing audit entries -----------------------------------------------------------------


def _words(value: object) -> str:
    return str(value).replace("_", " ")


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _money(value: object, currency: str) -> str:
    amount = _decimal(value)
    return format_money(amount, currency) if amount is not None else str(value)


def _shown(name: str, value: object, currency: str) -> str:
    if value is None or value == "":
        return "—"
    if name == "estimated_value_amount":
        return _money(value, currency)
    if name == "role":
        try:
            return CONTACT_ROLE_LABELS[ContactRole(str(value))]
        except ValueError:
            return str(value)
    return str(value)


def _changes(payload: Mapping[str, Any], order: tuple[str, ...], currency: str) -> str:
    changes = payload.get("changes")
    if not isinstance(changes, Mapping):
        return ""
    names = [n for n in order if n in changes] + sorted(n for n in changes if n not in order)
    parts = []
    for name in names:
        change = changes[name]
        if isinstance(change, Mapping):
            old = _shown(name, change.get("old"), currency)
            new = _shown(name, change.get("new"), currency)
            parts.append(f"{field_label(name)}: {old} → {new}")
    return "; ".join(parts)


def _commission_label(
    payload: Mapping[str, Any], commissions: Mapping[int, tuple[str, str]]
) -> str:
    cid = payload.get("commission_id")
    known = commissions.get(cid) if isinstance(cid, int) else None
    if known is None:
        ctype = payload.get("commission_type")
        return f"{_words(ctype).capitalize()} commission" if ctype else f"Commission {cid}"
    ctype, agent = known
    return f"{_words(ctype).capitalize()} commission ({agent})"


def _describe(
    entry: AuditEntryRow, commissions: Mapping[int, tuple[str, str]], currency: str
) -> tuple[TimelineKind, str, str | None]:
    """What an audit entry that is not a stage event says: kind, summary, note."""
    p = entry.payload
    t = entry.event_type
    if t == COMMISSION_CREATED:
        rate = _decimal(p.get("commission_rate"))
        shown_rate = f"{rate * 100:.2f}%" if rate is not None else "?"
        summary = (
            f"{_commission_label(p, commissions)} created: "
            f"{_money(p.get('commission_amount'), currency)} "
            f"({shown_rate} of {_money(p.get('basis_amount'), currency)}), "
            f"{_words(p.get('status') or 'pending')}"
        )
        return TimelineKind.COMMISSION, summary, None
    if t == COMMISSION_STATUS_CHANGED:
        summary = (
            f"{_commission_label(p, commissions)}: "
            f"{_words(p.get('from_status'))} → {_words(p.get('to_status'))}"
        )
        reason = p.get("reason")
        return TimelineKind.COMMISSION, summary, str(reason) if reason else None
    if t == COMMISSION_ADJUSTED:
        summary = (
            f"{_commission_label(p, commissions)}: {_words(p.get('adjustment_type'))} "
            f"{_money(p.get('amount'), currency)}"
        )
        note = p.get("note")
        return TimelineKind.COMMISSION, summary, str(note) if note else None
    if t == DEAL_UPDATED:
        changes = p.get("changes")
        fields = [
            field_label(n) for n in DEAL_FIELDS if isinstance(changes, Mapping) and n in changes
        ]
        summary = "Details changed" + (f": {', '.join(fields)}" if fields else "")
        return TimelineKind.EDIT, summary, _changes(p, DEAL_FIELDS, currency) or None
    if t in (CONTACT_ADDED, CONTACT_REMOVED):
        verb = "added" if t == CONTACT_ADDED else "removed"
        role = _shown("role", p.get("role"), currency)
        return TimelineKind.EDIT, f"Contact {verb}: {p.get('name')} ({role})", None
    if t == CONTACT_UPDATED:
        return (
            TimelineKind.EDIT,
            f"Contact changed: {p.get('name')}",
            _changes(p, CONTACT_FIELDS, currency) or None,
        )
    if t in (DOCUMENT_ADDED, DOCUMENT_REMOVED):
        verb = "added" if t == DOCUMENT_ADDED else "removed"
        summary = f"Document {verb}: {p.get('title')} ({p.get('doc_type')})"
        return TimelineKind.EDIT, summary, str(p.get("uri")) if p.get("uri") else None
    if t == STAGE_TRANSITION:  # a second entry for one stage event, or one without its event
        summary = f"{_words(p.get('from_stage'))} → {_words(p.get('to_stage'))}".capitalize()
        note = p.get("note")
        return TimelineKind.STAGE, summary, str(note) if note else None
    return TimelineKind.OTHER, _words(t).capitalize(), None


# -- checking what a form sends ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DealFields:
    """The deal's editable fields as a form sends them (the stage is not one of them)."""

    title: str
    asset_type: str
    deal_type: str
    estimated_value_amount: Decimal | None
    estimated_value_currency: str
    confidence: Decimal | None
    lead_source: str | None = None
    expected_close_date: dt.date | None = None


@dataclass(frozen=True, kw_only=True)
class ContactFields:
    name: str
    role: str = ContactRole.PRINCIPAL.value
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    notes: str | None = None


@dataclass(frozen=True, kw_only=True)
class DocumentFields:
    title: str
    doc_type: str
    uri: str


class _Checker:
    """Collects cleaned values and the first problem of each field."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}

    def fail(self, name: str, reason: str) -> None:
        self.errors.setdefault(name, reason)

    def text(self, name: str, value: str | None, max_length: int, *, required: bool) -> None:
        cleaned = (value or "").strip()
        self.values[name] = cleaned or None
        if not cleaned:
            if required:
                self.fail(name, "required")
        elif len(cleaned) > max_length:
            self.fail(name, f"{len(cleaned)} characters long; at most {max_length} fit")

    def email(self, name: str, value: str | None) -> None:
        cleaned = (value or "").strip()
        if cleaned and (len(cleaned) > 254 or not _EMAIL.match(cleaned)):
            self.fail(name, f"{cleaned!r} is not an email address")
        self.values[name] = cleaned.lower() or None

    def domain(self, name: str, check: Any, value: Decimal | None) -> None:
        """A value checked by a domain rule (check_amount, check_confidence)."""
        self.values[name] = value
        if value is None:
            self.fail(name, "required")
            return
        try:
            self.values[name] = check(value, name)
        except PipelineError as exc:
            self.fail(name, _reason(str(exc), name))


def _reason(message: str, name: str) -> str:
    """A domain message without its leading field name and final full stop."""
    prefix = f"{name}: "
    text = message[len(prefix) :] if message.startswith(prefix) else message
    return text.rstrip(".")


def _check_deal(fields: DealFields) -> _Checker:
    c = _Checker()
    c.text("title", fields.title, 200, required=True)
    c.text("asset_type", fields.asset_type, 40, required=True)
    c.text("deal_type", fields.deal_type, 40, required=True)
    c.text("lead_source", fields.lead_source, 80, required=False)
    c.domain("estimated_value_amount", check_amount, fields.estimated_value_amount)
    currency = (fields.estimated_value_currency or "").strip()
    if not currency:
        c.fail("estimated_value_currency", "required")
    else:
        try:
            c.values["estimated_value_currency"] = normalize_currency(currency)
        except ValidationError as exc:
            c.fail("estimated_value_currency", str(exc).rstrip("."))
    c.values["expected_close_date"] = fields.expected_close_date
    c.domain("confidence", check_confidence, fields.confidence)
    return c


def check_deal_fields(fields: DealFields) -> dict[str, str]:
    """What is wrong with a deal form's values, by field, before any database is asked."""
    return _check_deal(fields).errors


def _check_contact(fields: ContactFields) -> _Checker:
    c = _Checker()
    roles = {r.value: r for r in ContactRole}
    role = roles.get((fields.role or "").strip().lower())
    if role is None:
        c.fail("role", f"{fields.role!r} is not one of {', '.join(roles)}")
    c.values["role"] = role
    c.text("name", fields.name, 160, required=True)
    c.email("email", fields.email)
    c.text("phone", fields.phone, 40, required=False)
    c.text("company", fields.company, 160, required=False)
    c.text("notes", fields.notes, 10_000, required=False)
    return c


def check_contact_fields(fields: ContactFields) -> dict[str, str]:
    return _check_contact(fields).errors


def _check_document(fields: DocumentFields) -> _Checker:
    c = _Checker()
    c.text("title", fields.title, 200, required=True)
    c.text("doc_type", fields.doc_type, 40, required=True)
    c.text("uri", fields.uri, 2000, required=True)
    uri = c.values["uri"]
    if uri is not None and any(ch in uri for ch in "\r\n\t"):
        c.fail("uri", "must be one line (no line breaks or tabs)")
    return c


def check_document_fields(fields: DocumentFields) -> dict[str, str]:
    return _check_document(fields).errors


# -- writing ----------------------------------------------------------------------------------


def _stale(what: str) -> ConflictError:
    return ConflictError(
        f"{what} was changed on another workstation; reload it. Nothing was saved."
    )


@contextmanager
def _writing(db: Database, what: str) -> Iterator[Session]:
    """A write transaction; SQLite's "locked" (another writer held on) is a ConflictError.

    On SQLite the write lock is taken first, before anything is read: a read that another
    writer overtakes could not become a write. The time of the change is taken after that
    (``_now``), so that entries on a chain are timed in the order they are appended.
    """
    try:
        with db.session() as s:
            if db.is_local:
                s.execute(sa.text("UPDATE deals SET version = version WHERE 0"))
            yield s
    except StaleDataError:
        raise _stale(what) from None
    except sa.exc.OperationalError as exc:
        if db.is_local and "locked" in str(exc.orig).lower():
            raise ConflictError(
                f"{what} could not be saved: another workstation was changing the database at "
                "the same moment; reload it. Nothing was saved."
            ) from None
        raise


def _differs(old: object, new: object) -> bool:
    if isinstance(old, Decimal) and isinstance(new, Decimal):
        return old != new
    return bool(old != new)


def _plain(value: object) -> object:
    if isinstance(value, StrEnum):
        return value.value
    return value


def _audit(
    s: Session,
    deal_id: int,
    uid: int,
    event_type: str,
    entity_type: str,
    entity_id: int,
    payload: Mapping[str, Any],
    at: dt.datetime,
) -> None:
    append_entry(s, deal_chain_key(deal_id), event_type, entity_type, entity_id, uid, payload, at)


def update_deal(
    db: Database,
    deal_id: int,
    fields: DealFields,
    expected_version: int,
    acting: Acting = None,
) -> DealInfo:
    """Save the deal's fields (not its stage). DealEditError lists every problem by field;
    ConflictError when the deal has moved on from ``expected_version``. Nothing written
    either way. A form that changes nothing writes nothing."""
    checked = _check_deal(fields)
    if checked.errors:
        raise DealEditError(checked.errors)
    with _writing(db, "The deal") as s:
        deal, actor = load_deal(s, db, acting, deal_id)
        at = dt.datetime.now(dt.UTC)
        if deal.version != expected_version:
            raise _stale(f"The deal {deal.title!r}")
        changes: dict[str, dict[str, object]] = {}
        for name in DEAL_FIELDS:
            old, new = getattr(deal, name), checked.values[name]
            if _differs(old, new):
                changes[name] = {"old": _plain(old), "new": _plain(new)}
        if not changes:
            return _info(s, deal)
        title = deal.title
        for name in changes:
            setattr(deal, name, checked.values[name])
        deal.updated_at = at
        try:
            s.flush()
        except StaleDataError:
            raise _stale(f"The deal {title!r}") from None
        uid = acting_user_id(s, actor)
        _audit(
            s,
            deal_id,
            uid,
            DEAL_UPDATED,
            "deal",
            deal_id,
            {"deal_id": deal_id, "changes": changes},
            at,
        )
        s.expire(deal)
        return _info(s, deal)


def _find_contact(s: Session, deal_id: int, contact_id: int) -> DealContact:
    contact = s.get(DealContact, contact_id)
    if contact is None or contact.deal_id != deal_id:
        raise ConflictError(
            "This contact no longer exists (removed on another workstation?); reload the deal."
        )
    return contact


def _find_document(s: Session, deal_id: int, document_id: int) -> DealDocument:
    document = s.get(DealDocument, document_id)
    if document is None or document.deal_id != deal_id:
        raise ConflictError(
            "This document no longer exists (removed on another workstation?); reload the deal."
        )
    return document


def _contact_payload(deal_id: int, contact_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"deal_id": deal_id, "contact_id": contact_id}
    payload.update({n: _plain(values[n]) for n in CONTACT_FIELDS})
    return payload


def add_contact(
    db: Database, deal_id: int, fields: ContactFields, acting: Acting = None
) -> ContactRow:
    checked = _check_contact(fields)
    if checked.errors:
        raise DealEditError(checked.errors)
    with _writing(db, "The contact") as s:
        _deal, actor = load_deal(s, db, acting, deal_id)
        at = dt.datetime.now(dt.UTC)
        contact = DealContact(deal_id=deal_id, created_at=at, **checked.values)
        s.add(contact)
        s.flush()
        uid = acting_user_id(s, actor)
        _audit(
            s,
            deal_id,
            uid,
            CONTACT_ADDED,
            "deal_contact",
            contact.id,
            _contact_payload(deal_id, contact.id, checked.values),
            at,
        )
        return _contact(contact)


def update_contact(
    db: Database,
    deal_id: int,
    contact_id: int,
    fields: ContactFields,
    expected_version: int,
    acting: Acting = None,
) -> ContactRow:
    checked = _check_contact(fields)
    if checked.errors:
        raise DealEditError(checked.errors)
    with _writing(db, "The contact") as s:
        _deal, actor = load_deal(s, db, acting, deal_id)
        at = dt.datetime.now(dt.UTC)
        contact = _find_contact(s, deal_id, contact_id)
        if contact.version != expected_version:
            raise _stale(f"The contact {contact.name!r}")
        changes: dict[str, dict[str, object]] = {}
        for name in CONTACT_FIELDS:
            old, new = getattr(contact, name), checked.values[name]
            if _differs(old, new):
                changes[name] = {"old": _plain(old), "new": _plain(new)}
        if not changes:
            return _contact(contact)
        for name in changes:
            setattr(contact, name, checked.values[name])
        s.flush()
        uid = acting_user_id(s, actor)
        _audit(
            s,
            deal_id,
            uid,
            CONTACT_UPDATED,
            "deal_contact",
            contact_id,
            {
                "deal_id": deal_id,
                "contact_id": contact_id,
                "name": contact.name,
                "changes": changes,
            },
            at,
        )
        return _contact(contact)


def delete_contact(
    db: Database,
    deal_id: int,
    contact_id: int,
    expected_version: int | None = None,
    acting: Acting = None,
) -> None:
    """Remove a contact; ``expected_version`` (when given) is the version one saw."""
    with _writing(db, "The contact") as s:
        _deal, actor = load_deal(s, db, acting, deal_id)
        at = dt.datetime.now(dt.UTC)
        contact = _find_contact(s, deal_id, contact_id)
        if expected_version is not None and contact.version != expected_version:
            raise _stale(f"The contact {contact.name!r}")
        values = {n: getattr(contact, n) for n in CONTACT_FIELDS}
        s.delete(contact)
        s.flush()
        uid = acting_user_id(s, actor)
        _audit(
            s,
            deal_id,
            uid,
            CONTACT_REMOVED,
            "deal_contact",
            contact_id,
            _contact_payload(deal_id, contact_id, values),
            at,
        )


def add_document(
    db: Database, deal_id: int, fields: DocumentFields, acting: Acting = None
) -> DocumentRow:
    checked = _check_document(fields)
    if checked.errors:
        raise DealEditError(checked.errors)
    with _writing(db, "The document") as s:
        _deal, actor = load_deal(s, db, acting, deal_id)
        at = dt.datetime.now(dt.UTC)
        uid = acting_user_id(s, actor)
        document = DealDocument(deal_id=deal_id, added_by_id=uid, created_at=at, **checked.values)
        s.add(document)
        s.flush()
        payload = {"deal_id": deal_id, "document_id": document.id, **checked.values}
        _audit(s, deal_id, uid, DOCUMENT_ADDED, "deal_document", document.id, payload, at)
        names = _names_in(s, {uid})
        return _document(document, names)


def delete_document(
    db: Database,
    deal_id: int,
    document_id: int,
    expected_version: int | None = None,
    acting: Acting = None,
) -> None:
    """Remove a document's reference (the file itself, kept elsewhere, is not touched)."""
    with _writing(db, "The document") as s:
        _deal, actor = load_deal(s, db, acting, deal_id)
        at = dt.datetime.now(dt.UTC)
        document = _find_document(s, deal_id, document_id)
        if expected_version is not None and document.version != expected_version:
            raise _stale(f"The document {document.title!r}")
        payload = {"deal_id": deal_id, "document_id": document_id}
        payload.update({n: getattr(document, n) for n in DOCUMENT_FIELDS})
        s.delete(document)
        s.flush()
        uid = acting_user_id(s, actor)
        _audit(s, deal_id, uid, DOCUMENT_REMOVED, "deal_document", document_id, payload, at)


def _names_in(s: Session, ids: set[int]) -> dict[int, str]:
    rows = s.execute(
        sa.select(User.id, User.first_name, User.last_name, User.email).where(
            User.id.in_(sorted(ids))
        )
    )
    return {uid: _name_of(first, last, email) for uid, first, last, email in rows}


# -- what the form offers -----------------------------------------------------------------------


@dataclass(frozen=True)
class EditChoices:
    """Values already in use, offered in the form's drop-downs (any other may be typed)."""

    asset_types: tuple[str, ...]
    deal_types: tuple[str, ...]
    lead_sources: tuple[str, ...]
    doc_types: tuple[str, ...]


def edit_choices(db: Database) -> EditChoices:
    def distinct(s: Session, column: Any) -> tuple[str, ...]:
        values = s.scalars(sa.select(column).where(column.is_not(None)).distinct().limit(200))
        return tuple(sorted({str(v) for v in values if str(v).strip()}, key=str.casefold))

    with db.read() as s:
        return EditChoices(
            distinct(s, Deal.asset_type),
            distinct(s, Deal.deal_type),
            distinct(s, Deal.lead_source),
            distinct(s, DealDocument.doc_type),
        )
