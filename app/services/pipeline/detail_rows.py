"""What the deal panel shows, as plain rows: the deal, its contacts, its documents and its
timeline items; and how a stored row (read in an open session) becomes one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import Deal, DealContact, DealDocument, User
from app.domain.enums import ContactRole, DealStage, DealStatus
from app.domain.pipeline import weighted_value


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


def deal_info(s: Session, deal: Deal) -> DealInfo:
    agent = s.get(User, deal.agent_id)
    agent_email = agent.email if agent is not None else ""
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
        agent_name=(agent.full_name.strip() if agent is not None else "") or agent_email,
        agent_email=agent_email,
    )


def contact_row(c: DealContact) -> ContactRow:
    return ContactRow(
        c.id, c.version, ContactRole(c.role), c.name, c.email, c.phone, c.company, c.notes,
        c.created_at,
    )  # fmt: skip


def document_row(d: DealDocument, names: Mapping[int, str]) -> DocumentRow:
    added_by = names.get(d.added_by_id) if d.added_by_id is not None else None
    return DocumentRow(d.id, d.version, d.title, d.doc_type, d.uri, added_by, d.created_at)


def name_of(first: str, last: str, email: str) -> str:
    """A person as shown: their full name, else their email."""
    return f"{first} {last}".strip() or email


def user_names(s: Session, ids: set[int]) -> dict[int, str]:
    """The names of these people, by id."""
    rows = s.execute(
        sa.select(User.id, User.first_name, User.last_name, User.email).where(
            User.id.in_(sorted(ids))
        )
    )
    return {uid: name_of(first, last, email) for uid, first, last, email in rows}
