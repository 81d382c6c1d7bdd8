"""A deal's contacts, edited from its panel: each add, change and removal is one transaction
with its audit entry on the deal's chain (``deal_contact_added`` / ``_updated`` /
``_removed``). A change that changes nothing writes nothing."""

from __future__ import annotations

from app.db.models import DealContact
from app.services.database import Database
from app.services.pipeline.detail_events import CONTACT_ADDED, CONTACT_REMOVED, CONTACT_UPDATED
from app.services.pipeline.detail_fields import CONTACT_FIELDS, ContactFields, valid_contact
from app.services.pipeline.detail_rows import ContactRow, contact_row
from app.services.pipeline.detail_write import DealPart, apply_changes, editing
from app.services.records import Acting

CONTACTS = DealPart(DealContact, "contact", CONTACT_FIELDS, named_by="name")


def add_contact(
    db: Database, deal_id: int, fields: ContactFields, acting: Acting = None
) -> ContactRow:
    values = valid_contact(fields)
    with editing(db, deal_id, acting, CONTACTS.what) as edit:
        contact = DealContact(deal_id=deal_id, created_at=edit.at, **values)
        CONTACTS.insert(edit, contact, CONTACT_ADDED, values)
        return contact_row(contact)


def update_contact(
    db: Database,
    deal_id: int,
    contact_id: int,
    fields: ContactFields,
    expected_version: int,
    acting: Acting = None,
) -> ContactRow:
    values = valid_contact(fields)
    with editing(db, deal_id, acting, CONTACTS.what) as edit:
        contact = CONTACTS.find(edit, contact_id, expected_version)
        changes = apply_changes(contact, CONTACT_FIELDS, values)
        if not changes:
            return contact_row(contact)
        edit.s.flush()
        payload = {
            "deal_id": deal_id,
            CONTACTS.id_key: contact_id,
            "name": contact.name,
            "changes": changes,
        }
        edit.record(CONTACT_UPDATED, CONTACTS.entity_type, contact_id, payload)
        return contact_row(contact)


def delete_contact(
    db: Database,
    deal_id: int,
    contact_id: int,
    expected_version: int | None = None,
    acting: Acting = None,
) -> None:
    """Remove a contact; ``expected_version`` (when given) is the version one saw."""
    CONTACTS.delete(db, deal_id, contact_id, expected_version, acting, CONTACT_REMOVED)
