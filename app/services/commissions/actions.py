"""Changing the ledger (SPEC §6): a new commission, a status transition, an adjustment.

Each is one transaction that checks the record against the version the person saw (a stale
one is a ConflictError and nothing is written), writes the record and appends its audit
entry to the deal's chain (SPEC §5), so the record and its history never disagree. Only
whoever sees the deal may change its commissions (SPEC §1); in shared mode the server's
row-level security says the same, and its trigger tells every other workstation (NOTIFY
``commissions``).

Audit entries (entity ``commission``, entity id the record's id, chain ``deal:<id>``):
- ``commission_created``: commission_id, deal_id, agent_id, commission_type, basis_amount,
  commission_rate, commission_amount, status;
- ``commission_status_changed``: commission_id, from_status, to_status, and reason when
  disputing;
- ``commission_adjusted``: commission_id, adjustment_id, adjustment_type, amount, note.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from app.db.models import CommissionAdjustment, CommissionRecord, Deal, User
from app.domain.audit import deal_chain_key
from app.domain.commissions import (
    STATUS_LABELS,
    CommissionError,
    check_adjustment,
    check_money,
    check_rate,
    commission_amount,
    parse_status,
    plan_transition,
)
from app.domain.enums import AdjustmentType, CommissionStatus, CommissionType
from app.domain.errors import ConflictError, PermissionDenied
from app.domain.money import quantize
from app.services.audit import append_entry
from app.services.commissions.ledger import fetch_row, gone
from app.services.commissions.rows import CommissionFields, CommissionRow
from app.services.database import Database
from app.services.pipeline.common import acting_user_id, deal_scope, visible_deals
from app.services.records import Acting, Actor, resolve_actor

C = CommissionRecord

CREATED = "commission_created"
STATUS_CHANGED = "commission_status_changed"
ADJUSTED = "commission_adjusted"
ENTITY = "commission"

TYPE_LABELS: dict[CommissionType, str] = {
    CommissionType.INTRODUCER: "introducer",
    CommissionType.EXCLUSIVE: "exclusive",
    CommissionType.CO_BROKE: "co-broke",
    CommissionType.REFERRAL: "referral",
    CommissionType.BONUS: "bonus",
}


def _now(now: dt.datetime | None) -> dt.datetime:
    at = now or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return at.astimezone(dt.UTC)


@contextmanager
def _writing(db: Database) -> Iterator[Session]:
    """A write transaction. On SQLite it takes the database's write lock before reading (a
    read that another writer overtakes could not become a write), so writers queue and the
    version check decides; a lock still held past the busy timeout is a conflict."""
    try:
        with db.session() as s:
            if db.is_local:
                s.execute(sa.text("UPDATE commission_records SET version = version WHERE 0"))
            yield s
    except sa.exc.OperationalError as exc:
        if db.is_local and "locked" in str(exc.orig).lower():
            raise ConflictError(
                "Another workstation was changing the database at the same moment; the "
                "ledger has been read again. Nothing was changed."
            ) from None
        raise


def _stale(row: CommissionRow) -> ConflictError:
    return ConflictError(
        f"The {TYPE_LABELS[row.commission_type]} commission of {row.agent_name} on "
        f"{row.deal_label} was changed on another workstation; it has been read again. "
        "Nothing was changed."
    )


def _load(
    s: Session, db: Database, acting: Acting, commission_id: int, expected_version: int | None
) -> tuple[CommissionRow, Actor | None]:
    """The record as stored, checked: visible, changeable by the actor, not stale."""
    actor = resolve_actor(s, db, acting)
    row = fetch_row(s, actor, commission_id)
    if row is None:
        raise gone(commission_id)
    if not row.writable:
        raise PermissionDenied(
            f"You see the commission of {row.agent_name} on {row.deal_label}, but only "
            "whoever sees the deal may change it."
        )
    if expected_version is not None and row.version != expected_version:
        raise _stale(row)
    return row, actor


def _bump(s: Session, row: CommissionRow, at: dt.datetime, **values: Any) -> None:
    """Write ``values`` on the record if it is still at the version read; else stale."""
    changed = s.execute(
        sa.update(C)
        .where(C.id == row.id, C.version == row.version)
        .values(version=row.version + 1, updated_at=at, **values)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], changed).rowcount != 1:
        raise _stale(row)


def _reread(s: Session, actor: Actor | None, commission_id: int) -> CommissionRow:
    row = fetch_row(s, actor, commission_id)
    if row is None:  # pragma: no cover - written in this transaction a moment ago
        raise gone(commission_id)
    return row


# -- a new commission ---------------------------------------------------------------------


def _parse_type(text: str) -> CommissionType:
    cleaned = (text or "").strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return CommissionType(cleaned)
    except ValueError:
        known = ", ".join(t.value for t in CommissionType)
        raise CommissionError(
            "commission_type", f"commission_type: choose one of {known}."
        ) from None


def create_commission(
    db: Database,
    fields: CommissionFields,
    acting: Acting = None,
    *,
    now: dt.datetime | None = None,
) -> CommissionRow:
    """A pending commission of ``basis × rate`` on a deal the acting person sees; one per
    (deal, agent, type)."""
    at = _now(now)
    ctype = _parse_type(fields.commission_type)
    basis = quantize(check_money(fields.basis_amount, "basis_amount"))
    rate = quantize(check_rate(fields.commission_rate), 4)
    amount = commission_amount(basis, rate)
    introduced = fields.introduced_at
    if introduced is not None:
        if introduced.tzinfo is None:
            introduced = introduced.replace(tzinfo=dt.UTC)
        introduced = introduced.astimezone(dt.UTC)
    try:
        with _writing(db) as s:
            actor = resolve_actor(s, db, acting)
            deal = _deal_for_writing(s, actor, fields.deal_id)
            agent = _agent(s, fields.agent_email)
            if _exists(s, deal.id, agent.id, ctype):
                raise _duplicate(agent, ctype, deal)
            record = C(
                deal_id=deal.id,
                agent_id=agent.id,
                commission_type=ctype,
                basis_amount=basis,
                commission_rate=rate,
                commission_amount=amount,
                status=CommissionStatus.PENDING,
                introduced_at=introduced,
                created_at=at,
            )
            s.add(record)
            s.flush()
            append_entry(
                s, deal_chain_key(deal.id), CREATED, ENTITY, record.id,
                acting_user_id(s, actor),
                {
                    "commission_id": record.id,
                    "deal_id": deal.id,
                    "agent_id": agent.id,
                    "commission_type": ctype,
                    "basis_amount": basis,
                    "commission_rate": rate,
                    "commission_amount": amount,
                    "status": CommissionStatus.PENDING,
                },
                at,
            )  # fmt: skip
            return _reread(s, actor, record.id)
    except sa.exc.IntegrityError as exc:
        # Another workstation booked the same (deal, agent, type) a moment before.
        if "commission_records" in str(exc.orig) or "unique" in str(exc.orig).lower():
            raise CommissionError(
                "commission_type",
                "commission_type: this person already has a commission of this type on this "
                "deal (one per deal, person and type). Nothing was added.",
            ) from None
        raise


def _deal_for_writing(s: Session, actor: Actor | None, deal_id: int) -> Deal:
    stmt = sa.select(Deal).where(Deal.id == deal_id)
    if deal_scope(actor) is not None:
        stmt = stmt.where(Deal.id.in_(visible_deals(actor)))
    deal = s.scalar(stmt)
    if deal is None:
        raise CommissionError("deal", f"deal: there is no deal {deal_id} among the deals you see.")
    return deal


def _agent(s: Session, email: str) -> User:
    wanted = (email or "").strip().lower()
    if not wanted:
        raise CommissionError("agent", "agent: choose who earns the commission.")
    user = s.scalar(sa.select(User).where(sa.func.lower(User.email) == wanted))
    if user is None:
        raise CommissionError("agent", f"agent: no one with the email {wanted} is in the office.")
    if not user.is_active:
        raise CommissionError("agent", f"agent: {user.email} has been deactivated.")
    return user


def _exists(s: Session, deal_id: int, agent_id: int, ctype: CommissionType) -> bool:
    found = s.scalar(
        sa.select(C.id).where(
            C.deal_id == deal_id, C.agent_id == agent_id, C.commission_type == ctype
        )
    )
    return found is not None


def _duplicate(agent: User, ctype: CommissionType, deal: Deal) -> CommissionError:
    label = f"{deal.ref} · {deal.title}" if deal.ref else deal.title
    return CommissionError(
        "commission_type",
        f"commission_type: {agent.full_name} already has {_an(TYPE_LABELS[ctype])} commission "
        f"on {label} (one per deal, person and type). Nothing was added.",
    )


def _an(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


# -- transitions ---------------------------------------------------------------------------


def change_status(
    db: Database,
    commission_id: int,
    to_status: CommissionStatus | str,
    *,
    expected_version: int | None = None,
    reason: str | None = None,
    document_uri: str | None = None,
    acting: Acting = None,
    now: dt.datetime | None = None,
) -> CommissionRow:
    """Move the record to ``to_status`` as SPEC §6 allows, stamping its time(s).

    Disputing needs ``reason`` (and may name a document); resolving is the move back to the
    status the dispute came from. ``expected_version`` is the version the person saw (None:
    the current one).
    """
    to = to_status if isinstance(to_status, CommissionStatus) else parse_status(to_status)
    return _transition(
        db, commission_id, lambda _row: to, expected_version, reason, document_uri, acting, now
    )


def _transition(
    db: Database,
    commission_id: int,
    target: Callable[[CommissionRow], CommissionStatus],
    expected_version: int | None,
    reason: str | None,
    document_uri: str | None,
    acting: Acting,
    now: dt.datetime | None,
) -> CommissionRow:
    at = _now(now)
    with _writing(db) as s:
        row, actor = _load(s, db, acting, commission_id, expected_version)
        plan = plan_transition(
            row.status, target(row), at, disputed_from=row.disputed_from, reason=reason,
            document_uri=document_uri,
        )  # fmt: skip
        values: dict[str, Any] = {"status": plan.to_status, **plan.stamps}
        if plan.to_status is CommissionStatus.DISPUTED:
            values["disputed_from_status"] = plan.disputed_from
            values["dispute_reason"] = plan.dispute_reason
            values["dispute_document_uri"] = plan.dispute_document_uri
        else:
            # Leaving a dispute: the reason and document stay with the record (and the reason
            # in the audit chain); only the status it came from is forgotten.
            values["disputed_from_status"] = None
        _bump(s, row, at, **values)
        payload: dict[str, Any] = {
            "commission_id": row.id,
            "from_status": plan.from_status,
            "to_status": plan.to_status,
        }
        if plan.to_status is CommissionStatus.DISPUTED:
            payload["reason"] = plan.dispute_reason
        append_entry(
            s, deal_chain_key(row.deal_id), STATUS_CHANGED, ENTITY, row.id,
            acting_user_id(s, actor), payload, at,
        )  # fmt: skip
        return _reread(s, actor, row.id)


def dispute(
    db: Database,
    commission_id: int,
    reason: str,
    *,
    document_uri: str | None = None,
    expected_version: int | None = None,
    acting: Acting = None,
    now: dt.datetime | None = None,
) -> CommissionRow:
    return change_status(
        db, commission_id, CommissionStatus.DISPUTED, expected_version=expected_version,
        reason=reason, document_uri=document_uri, acting=acting, now=now,
    )  # fmt: skip


def resolve(
    db: Database,
    commission_id: int,
    *,
    expected_version: int | None = None,
    acting: Acting = None,
    now: dt.datetime | None = None,
) -> CommissionRow:
    """Back to the status the dispute came from (stamps ``resolved_at``)."""

    def target(row: CommissionRow) -> CommissionStatus:
        if row.status is not CommissionStatus.DISPUTED or row.disputed_from is None:
            raise CommissionError(
                "status",
                "status: only a disputed commission can be resolved; this one is "
                f"{STATUS_LABELS[row.status].lower()}.",
            )
        return row.disputed_from

    return _transition(db, commission_id, target, expected_version, None, None, acting, now)


def write_off(
    db: Database,
    commission_id: int,
    *,
    expected_version: int | None = None,
    acting: Acting = None,
    now: dt.datetime | None = None,
) -> CommissionRow:
    return change_status(
        db, commission_id, CommissionStatus.WRITTEN_OFF, expected_version=expected_version,
        acting=acting, now=now,
    )  # fmt: skip


# -- adjustments ---------------------------------------------------------------------------


def add_adjustment(
    db: Database,
    commission_id: int,
    adjustment_type: AdjustmentType | str,
    amount: Decimal,
    note: str | None,
    *,
    expected_version: int | None = None,
    acting: Acting = None,
    now: dt.datetime | None = None,
) -> CommissionRow:
    """A clawback (negative), bonus (positive) or correction (either sign) with its note;
    the record's version moves on (its net has changed)."""
    at = _now(now)
    kind = _parse_adjustment_type(adjustment_type)
    value, cleaned = check_adjustment(kind, amount, note)
    with _writing(db) as s:
        row, actor = _load(s, db, acting, commission_id, expected_version)
        _bump(s, row, at)
        uid = acting_user_id(s, actor)
        adjustment = CommissionAdjustment(
            commission_id=row.id,
            adjustment_type=kind,
            amount=value,
            note=cleaned,
            created_by_id=uid,
            created_at=at,
        )
        s.add(adjustment)
        s.flush()
        append_entry(
            s, deal_chain_key(row.deal_id), ADJUSTED, ENTITY, row.id, uid,
            {
                "commission_id": row.id,
                "adjustment_id": adjustment.id,
                "adjustment_type": kind,
                "amount": value,
                "note": cleaned,
            },
            at,
        )  # fmt: skip
        return _reread(s, actor, row.id)


def _parse_adjustment_type(value: AdjustmentType | str) -> AdjustmentType:
    if isinstance(value, AdjustmentType):
        return value
    try:
        return AdjustmentType(value.strip().lower())
    except ValueError:
        known = ", ".join(t.value for t in AdjustmentType)
        raise CommissionError(
            "adjustment_type", f"adjustment_type: choose one of {known}."
        ) from None
