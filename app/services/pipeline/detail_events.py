"""The event types on a deal's audit chain (SPEC §5) that the deal panel writes or shows."""

from __future__ import annotations

from app.services.pipeline.moves import EVENT_TYPE as STAGE_TRANSITION

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

__all__ = [
    "COMMISSION_ADJUSTED",
    "COMMISSION_CREATED",
    "COMMISSION_STATUS_CHANGED",
    "CONTACT_ADDED",
    "CONTACT_REMOVED",
    "CONTACT_UPDATED",
    "DEAL_CREATED",
    "DEAL_UPDATED",
    "DOCUMENT_ADDED",
    "DOCUMENT_REMOVED",
    "STAGE_TRANSITION",
]
