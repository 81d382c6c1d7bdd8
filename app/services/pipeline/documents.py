"""A deal's documents, added and removed from its panel: PerfDesk keeps the reference (a
title, a type and a location), never the file. Each is one transaction with its audit entry
on the deal's chain (``deal_document_added`` / ``_removed``)."""

from __future__ import annotations

from app.db.models import DealDocument
from app.services.database import Database
from app.services.pipeline.detail_events import DOCUMENT_ADDED, DOCUMENT_REMOVED
from app.services.pipeline.detail_fields import DOCUMENT_FIELDS, DocumentFields, valid_document
from app.services.pipeline.detail_rows import DocumentRow, document_row, user_names
from app.services.pipeline.detail_write import DealPart, editing
from app.services.records import Acting

DOCUMENTS = DealPart(DealDocument, "document", DOCUMENT_FIELDS, named_by="title")


def add_document(
    db: Database, deal_id: int, fields: DocumentFields, acting: Acting = None
) -> DocumentRow:
    values = valid_document(fields)
    with editing(db, deal_id, acting, DOCUMENTS.what) as edit:
        uid = edit.uid
        document = DealDocument(deal_id=deal_id, added_by_id=uid, created_at=edit.at, **values)
        DOCUMENTS.insert(edit, document, DOCUMENT_ADDED, values)
        return document_row(document, user_names(edit.s, {uid}))


def delete_document(
    db: Database,
    deal_id: int,
    document_id: int,
    expected_version: int | None = None,
    acting: Acting = None,
) -> None:
    """Remove a document's reference (the file itself, kept elsewhere, is not touched)."""
    DOCUMENTS.delete(db, deal_id, document_id, expected_version, acting, DOCUMENT_REMOVED)
