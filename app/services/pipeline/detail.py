"""One deal as its panel shows it: its fields, contacts, documents and timeline; and the edits
made there (the deal's own fields, contacts, documents). The stage is never edited here: a
stage changes only by a move (``moves.py``).

This module is the panel's one door to the service; the work is done in small modules:

- ``detail_read``: the detail as the panel shows it, and the values its drop-downs offer;
- ``detail_rows``: the plain rows it returns (deal, contact, document, timeline item);
- ``timeline`` / ``timeline_text``: stage events merged with the deal's audit chain, each
  item verified (SPEC §5), and what an audit entry says;
- ``detail_fields``: what a form sends and the rules its values keep (all of a form's
  problems at once, ``DealEditError.errors``, by field, nothing written);
- ``deal_edit``, ``contacts``, ``documents``: the edits, each one transaction with its audit
  entry, refused as stale when the row has moved on (``detail_write`` holds what they share);
- ``detail_events``: the event types on the deal's chain.
"""

from __future__ import annotations

from app.services.pipeline.contacts import add_contact, delete_contact, update_contact
from app.services.pipeline.deal_edit import update_deal
from app.services.pipeline.detail_events import (
    COMMISSION_ADJUSTED,
    COMMISSION_CREATED,
    COMMISSION_STATUS_CHANGED,
    CONTACT_ADDED,
    CONTACT_REMOVED,
    CONTACT_UPDATED,
    DEAL_CREATED,
    DEAL_UPDATED,
    DOCUMENT_ADDED,
    DOCUMENT_REMOVED,
    STAGE_TRANSITION,
)
from app.services.pipeline.detail_fields import (
    CONTACT_FIELDS,
    CONTACT_ROLE_LABELS,
    DEAL_FIELDS,
    DOCUMENT_FIELDS,
    FIELD_LABELS,
    ContactFields,
    DealEditError,
    DealFields,
    DocumentFields,
    check_contact_fields,
    check_deal_fields,
    check_document_fields,
    field_label,
)
from app.services.pipeline.detail_read import EditChoices, deal_detail, edit_choices
from app.services.pipeline.detail_rows import (
    ContactRow,
    DealDetail,
    DealInfo,
    DocumentRow,
    Integrity,
    TimelineItem,
    TimelineKind,
)
from app.services.pipeline.documents import add_document, delete_document
from app.services.pipeline.timeline import BROKEN_HASH, MISMATCH, MISSING_ENTRY, NO_ENTRY

__all__ = [
    "BROKEN_HASH",
    "COMMISSION_ADJUSTED",
    "COMMISSION_CREATED",
    "COMMISSION_STATUS_CHANGED",
    "CONTACT_ADDED",
    "CONTACT_FIELDS",
    "CONTACT_REMOVED",
    "CONTACT_ROLE_LABELS",
    "CONTACT_UPDATED",
    "DEAL_CREATED",
    "DEAL_FIELDS",
    "DEAL_UPDATED",
    "DOCUMENT_ADDED",
    "DOCUMENT_FIELDS",
    "DOCUMENT_REMOVED",
    "FIELD_LABELS",
    "MISMATCH",
    "MISSING_ENTRY",
    "NO_ENTRY",
    "STAGE_TRANSITION",
    "ContactFields",
    "ContactRow",
    "DealDetail",
    "DealEditError",
    "DealFields",
    "DealInfo",
    "DocumentFields",
    "DocumentRow",
    "EditChoices",
    "Integrity",
    "TimelineItem",
    "TimelineKind",
    "add_contact",
    "add_document",
    "check_contact_fields",
    "check_deal_fields",
    "check_document_fields",
    "deal_detail",
    "delete_contact",
    "delete_document",
    "edit_choices",
    "field_label",
    "update_contact",
    "update_deal",
]
