"""What the deal panel's forms send and the rules their values keep, checked before any
database is asked: the deal's own fields, a contact's and a document's.

Rules where SPEC.md is silent:
- title required, at most 200 characters; asset and deal type required, at most 40; lead
  source at most 80; the estimated value is zero or more and fits NUMERIC(16,2); the currency
  is a three-letter ISO 4217 code; confidence is 0–1 with at most 4 decimals;
- a contact needs a name (at most 160) and a role; its email, if any, looks like one;
- a document needs a title (at most 200), a type (at most 40) and a location (URI, at most
  2,000 characters); PerfDesk keeps the reference, never the file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.domain.enums import ContactRole
from app.domain.errors import ValidationError
from app.domain.pipeline import PipelineError, check_amount, check_confidence
from app.services.office import normalize_currency

_EMAIL = re.compile(r"^[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\"]+\.[^@\s,;<>()\[\]\".]{2,}$")

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

    def domain(
        self, name: str, check: Callable[[Decimal, str], Decimal], value: Decimal | None
    ) -> None:
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


def _check_document(fields: DocumentFields) -> _Checker:
    c = _Checker()
    c.text("title", fields.title, 200, required=True)
    c.text("doc_type", fields.doc_type, 40, required=True)
    c.text("uri", fields.uri, 2000, required=True)
    uri = c.values["uri"]
    if uri is not None and any(ch in uri for ch in "\r\n\t"):
        c.fail("uri", "must be one line (no line breaks or tabs)")
    return c


def check_deal_fields(fields: DealFields) -> dict[str, str]:
    """What is wrong with a deal form's values, by field, before any database is asked."""
    return _check_deal(fields).errors


def check_contact_fields(fields: ContactFields) -> dict[str, str]:
    return _check_contact(fields).errors


def check_document_fields(fields: DocumentFields) -> dict[str, str]:
    return _check_document(fields).errors


def _valid(checked: _Checker) -> dict[str, Any]:
    if checked.errors:
        raise DealEditError(checked.errors)
    return checked.values


def valid_deal(fields: DealFields) -> dict[str, Any]:
    """The cleaned values to store, by field; DealEditError lists every problem."""
    return _valid(_check_deal(fields))


def valid_contact(fields: ContactFields) -> dict[str, Any]:
    return _valid(_check_contact(fields))


def valid_document(fields: DocumentFields) -> dict[str, Any]:
    return _valid(_check_document(fields))
