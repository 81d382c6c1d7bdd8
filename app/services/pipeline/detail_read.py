"""Reading one deal as its panel shows it (fields, contacts, documents, timeline), and the
values the panel's forms offer in their drop-downs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import CommissionRecord, Deal, DealContact, DealDocument, DealStageEvent, User
from app.domain.audit import deal_chain_key
from app.services.audit import chain_entries
from app.services.database import Database
from app.services.pipeline.common import load_deal
from app.services.pipeline.detail_rows import (
    DealDetail,
    contact_row,
    deal_info,
    document_row,
    name_of,
    user_names,
)
from app.services.pipeline.timeline import StageEvent, build_timeline
from app.services.records import Acting

_Row = TypeVar("_Row", DealContact, DealDocument, DealStageEvent)


def deal_detail(
    db: Database, deal_id: int, acting: Acting = None, now: dt.datetime | None = None
) -> DealDetail:
    """The deal as its panel shows it; DealNotFound when it is not among the deals one sees."""
    at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    with db.read() as s:
        deal, _actor = load_deal(s, db, acting, deal_id)
        info = deal_info(s, deal)
        contacts = _of_deal(s, DealContact, deal_id, DealContact.created_at)
        documents = _of_deal(s, DealDocument, deal_id, DealDocument.created_at)
        events = [
            StageEvent(e.id, e.from_stage, e.to_stage, e.changed_by_id, e.note, e.recorded_at)
            for e in _of_deal(s, DealStageEvent, deal_id, DealStageEvent.recorded_at)
        ]
        commissions = _commissions(s, deal_id)
        contact_rows = tuple(contact_row(c) for c in contacts)
        doc_rows = [(document_row(d, {}), d.added_by_id) for d in documents]
    # Read after the deal: a move committed in between adds an entry whose stage event was
    # not read; it is left out (the next read shows both).
    entries = chain_entries(db, deal_chain_key(deal_id))
    people = {e.changed_by_id for e in events}
    people.update(e.actor_id for e, _ok in entries if e.actor_id is not None)
    people.update(uid for _d, uid in doc_rows if uid is not None)
    names = _names(db, people)
    timeline = build_timeline(
        events, entries, names, commissions, info.estimated_value_currency, at
    )
    docs = tuple(
        replace(d, added_by_name=names.get(uid)) if uid is not None else d for d, uid in doc_rows
    )
    return DealDetail(info, contact_rows, docs, timeline, at)


def _of_deal(s: Session, model: type[_Row], deal_id: int, when: Any) -> list[_Row]:
    """A deal's contacts, documents or stage events, in the order of ``when`` (then id)."""
    stmt = sa.select(model).where(model.deal_id == deal_id).order_by(when, model.id)
    return list(s.scalars(stmt))


def _commissions(s: Session, deal_id: int) -> dict[int, tuple[str, str]]:
    """The deal's commissions: each one's type and its agent's name, by id."""
    rows = s.execute(
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
    return {
        cid: (str(ctype), name_of(first, last, email)) for cid, ctype, first, last, email in rows
    }


def _names(db: Database, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    with db.read() as s:
        return user_names(s, ids)


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
