"""What an audit entry on a deal's chain says in the timeline, when it is not a stage event
matched to its entry: its kind, a one-line summary and a note (an edit's changes, a reason)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.enums import ContactRole
from app.domain.money import format_money
from app.services.audit import AuditEntryRow
from app.services.pipeline import detail_events as ev
from app.services.pipeline.detail_fields import (
    CONTACT_FIELDS,
    CONTACT_ROLE_LABELS,
    DEAL_FIELDS,
    field_label,
)
from app.services.pipeline.detail_rows import TimelineKind

#: Per commission id: its type and its agent's name.
Commissions = Mapping[int, tuple[str, str]]


def _words(value: object) -> str:
    return str(value).replace("_", " ")


def _optional(value: object) -> str | None:
    return str(value) if value else None


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


def _commission_label(payload: Mapping[str, Any], commissions: Commissions) -> str:
    cid = payload.get("commission_id")
    known = commissions.get(cid) if isinstance(cid, int) else None
    if known is None:
        ctype = payload.get("commission_type")
        return f"{_words(ctype).capitalize()} commission" if ctype else f"Commission {cid}"
    ctype, agent = known
    return f"{_words(ctype).capitalize()} commission ({agent})"


def describe(
    entry: AuditEntryRow, commissions: Commissions, currency: str
) -> tuple[TimelineKind, str, str | None]:
    """What an audit entry that is not a stage event says: kind, summary, note."""
    p = entry.payload
    t = entry.event_type
    if t == ev.COMMISSION_CREATED:
        rate = _decimal(p.get("commission_rate"))
        shown_rate = f"{rate * 100:.2f}%" if rate is not None else "?"
        summary = (
            f"{_commission_label(p, commissions)} created: "
            f"{_money(p.get('commission_amount'), currency)} "
            f"({shown_rate} of {_money(p.get('basis_amount'), currency)}), "
            f"{_words(p.get('status') or 'pending')}"
        )
        return TimelineKind.COMMISSION, summary, None
    if t == ev.COMMISSION_STATUS_CHANGED:
        summary = (
            f"{_commission_label(p, commissions)}: "
            f"{_words(p.get('from_status'))} → {_words(p.get('to_status'))}"
        )
        return TimelineKind.COMMISSION, summary, _optional(p.get("reason"))
    if t == ev.COMMISSION_ADJUSTED:
        summary = (
            f"{_commission_label(p, commissions)}: {_words(p.get('adjustment_type'))} "
            f"{_money(p.get('amount'), currency)}"
        )
        return TimelineKind.COMMISSION, summary, _optional(p.get("note"))
    if t == ev.DEAL_UPDATED:
        changes = p.get("changes")
        fields = [
            field_label(n) for n in DEAL_FIELDS if isinstance(changes, Mapping) and n in changes
        ]
        summary = "Details changed" + (f": {', '.join(fields)}" if fields else "")
        return TimelineKind.EDIT, summary, _changes(p, DEAL_FIELDS, currency) or None
    if t in (ev.CONTACT_ADDED, ev.CONTACT_REMOVED):
        verb = "added" if t == ev.CONTACT_ADDED else "removed"
        role = _shown("role", p.get("role"), currency)
        return TimelineKind.EDIT, f"Contact {verb}: {p.get('name')} ({role})", None
    if t == ev.CONTACT_UPDATED:
        return (
            TimelineKind.EDIT,
            f"Contact changed: {p.get('name')}",
            _changes(p, CONTACT_FIELDS, currency) or None,
        )
    if t in (ev.DOCUMENT_ADDED, ev.DOCUMENT_REMOVED):
        verb = "added" if t == ev.DOCUMENT_ADDED else "removed"
        summary = f"Document {verb}: {p.get('title')} ({p.get('doc_type')})"
        return TimelineKind.EDIT, summary, _optional(p.get("uri"))
    if t == ev.STAGE_TRANSITION:  # a second entry for one stage event, or one without its event
        summary = f"{_words(p.get('from_stage'))} → {_words(p.get('to_stage'))}".capitalize()
        return TimelineKind.STAGE, summary, _optional(p.get("note"))
    return TimelineKind.OTHER, _words(t).capitalize(), None
