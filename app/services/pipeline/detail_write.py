"""What the deal panel's edits share: one write transaction each, the version check, the
field-by-field changes, and the audit entry on the deal's chain (SPEC §5).

Every edit is one transaction: the row, and an audit entry on the deal's chain. An edit
names the version it was read at; a stale one is a ConflictError and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.db.models import Deal, DealContact, DealDocument
from app.domain.audit import deal_chain_key
from app.domain.errors import ConflictError
from app.services.audit import append_entry
from app.services.database import Database
from app.services.pipeline.common import acting_user_id, load_deal
from app.services.records import Acting, Actor

_Row = TypeVar("_Row", DealContact, DealDocument)

#: Per field changed: {"old": ..., "new": ...}, as stored in the audit entry.
Changes = dict[str, dict[str, object]]


def stale(what: str) -> ConflictError:
    return ConflictError(
        f"{what} was changed on another workstation; reload it. Nothing was saved."
    )


def check_version(version: int, expected: int | None, what: str) -> None:
    """ConflictError when the row has moved on from ``expected`` (None: not checked)."""
    if expected is not None and version != expected:
        raise stale(what)


@contextmanager
def _writing(db: Database, what: str) -> Iterator[Session]:
    """A write transaction; SQLite's "locked" (another writer held on) is a ConflictError.

    On SQLite the write lock is taken first, before anything is read: a read that another
    writer overtakes could not become a write.
    """
    try:
        with db.session() as s:
            if db.is_local:
                s.execute(sa.text("UPDATE deals SET version = version WHERE 0"))
            yield s
    except StaleDataError:
        raise stale(what) from None
    except sa.exc.OperationalError as exc:
        if db.is_local and "locked" in str(exc.orig).lower():
            raise ConflictError(
                f"{what} could not be saved: another workstation was changing the database at "
                "the same moment; reload it. Nothing was saved."
            ) from None
        raise


@dataclass
class DealEdit:
    """One edit of a deal, inside its transaction: the deal (seen by the acting person), the
    time of the change, and the audit entry that records it."""

    s: Session
    deal_id: int
    deal: Deal
    actor: Actor | None
    at: dt.datetime
    _uid: int | None = field(default=None, init=False)

    @property
    def uid(self) -> int:
        """Who the change is recorded as."""
        if self._uid is None:
            self._uid = acting_user_id(self.s, self.actor)
        return self._uid

    def record(
        self, event_type: str, entity_type: str, entity_id: int, payload: Mapping[str, Any]
    ) -> None:
        """Append the change's entry to the deal's audit chain."""
        append_entry(
            self.s,
            deal_chain_key(self.deal_id),
            event_type,
            entity_type,
            entity_id,
            self.uid,
            payload,
            self.at,
        )


@contextmanager
def editing(db: Database, deal_id: int, acting: Acting, what: str) -> Iterator[DealEdit]:
    """The transaction of one edit of a deal; DealNotFound when the deal is not seen.

    The time of the change is taken once the deal is read (on SQLite, after the write lock),
    so that entries on a chain are timed in the order they are appended.
    """
    with _writing(db, what) as s:
        deal, actor = load_deal(s, db, acting, deal_id)
        yield DealEdit(s, deal_id, deal, actor, dt.datetime.now(dt.UTC))


def plain(value: object) -> object:
    """A value as an audit payload keeps it (an enumeration by its value)."""
    if isinstance(value, StrEnum):
        return value.value
    return value


def apply_changes(row: object, names: Iterable[str], values: Mapping[str, Any]) -> Changes:
    """Set each of the row's fields whose value differs; what changed (empty: nothing)."""
    changes: Changes = {}
    for name in names:
        old, new = getattr(row, name), values[name]
        if old != new:
            changes[name] = {"old": plain(old), "new": plain(new)}
    for name in changes:
        setattr(row, name, values[name])
    return changes


@dataclass(frozen=True)
class DealPart(Generic[_Row]):
    """A kind of row a deal has (its contacts, its documents), as its edits name it."""

    model: type[_Row]
    noun: str  # "contact": the audit entity "deal_contact", its id "contact_id"
    fields: tuple[str, ...]  # the fields an added or removed row's audit entry keeps
    named_by: str  # the field that names one row in a message

    @property
    def what(self) -> str:
        return f"The {self.noun}"

    @property
    def entity_type(self) -> str:
        return f"deal_{self.noun}"

    @property
    def id_key(self) -> str:
        return f"{self.noun}_id"

    def find(self, edit: DealEdit, row_id: int, expected_version: int | None) -> _Row:
        """The deal's row; ConflictError when it is gone or has moved on from the version."""
        row = edit.s.get(self.model, row_id)
        if row is None or row.deal_id != edit.deal_id:
            raise ConflictError(
                f"This {self.noun} no longer exists (removed on another workstation?); "
                "reload the deal."
            )
        check_version(row.version, expected_version, f"{self.what} {getattr(row, self.named_by)!r}")
        return row

    def payload(self, edit: DealEdit, row_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
        """An audit payload: the deal's id, the row's, then each of its fields."""
        payload: dict[str, Any] = {"deal_id": edit.deal_id, self.id_key: row_id}
        payload.update({n: plain(values[n]) for n in self.fields})
        return payload

    def insert(self, edit: DealEdit, row: _Row, event_type: str, values: Mapping[str, Any]) -> None:
        """Add the row and its audit entry."""
        edit.s.add(row)
        edit.s.flush()
        edit.record(event_type, self.entity_type, row.id, self.payload(edit, row.id, values))

    def delete(
        self,
        db: Database,
        deal_id: int,
        row_id: int,
        expected_version: int | None,
        acting: Acting,
        event_type: str,
    ) -> None:
        """Remove the row, one transaction with its audit entry (keeping its fields)."""
        with editing(db, deal_id, acting, self.what) as edit:
            row = self.find(edit, row_id, expected_version)
            values = {n: getattr(row, n) for n in self.fields}
            edit.s.delete(row)
            edit.s.flush()
            edit.record(event_type, self.entity_type, row_id, self.payload(edit, row_id, values))
