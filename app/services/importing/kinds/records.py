"""Leads, appointments, clients, listings and escrows: records that belong to one person.

Each row names its owner by email (a user already in the database). Rules where SPEC.md is
silent:
- a row identical to an earlier row of the file is an error, and so is a row identical to a
  record already in the database (same owner and the same value in every imported column):
  imports add, they never overwrite, and importing the same file twice is refused;
- ``is_private`` left empty on a lead or an appointment means false, except for a broker's own
  records, which are private by default (SPEC §1: "a broker's own leads and appointments are
  private to them by default");
- escrows: see ``EscrowsImport``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa

from app.db.base import Base
from app.db.models.records import Appointment, Client, Escrow, Lead, Listing
from app.db.types import ScaledDecimal
from app.domain import csvrules as cr
from app.domain.enums import (
    AppointmentStatus,
    ClientStatus,
    EscrowStatus,
    LeadStatus,
    ListingStatus,
    Role,
)
from app.domain.money import quantize
from app.services.importing.spec import CHUNK, Column, Identity, ImportContext, ImportKind, Row

CREATED_AT = Column("created_at", cr.iso_datetime, required=True)
AGENT_EMAIL = Column("agent_email", cr.email, required=True, person=True)
IS_PRIVATE = Column("is_private", cr.boolean)

RecordKey = tuple[tuple[str, object], ...]


class RecordImport(ImportKind):
    """A record owned by the user its ``owner`` column names, inserted as one row of ``model``.

    Columns other than the owner are stored in the model attribute of the same name.
    """

    model: ClassVar[type[Base]]
    owner: ClassVar[Column[str]] = AGENT_EMAIL
    owner_attr: ClassVar[str] = "agent_id"
    private: ClassVar[Column[bool] | None] = None

    def check_values(self, row: Row, ctx: ImportContext) -> None:
        """Rules across the columns of one row (none by default)."""

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        person = ctx.person(row, self.owner)
        self.check_values(row, ctx)
        if person is None or person.user_id is None or ctx.is_bad(row):
            return
        data: dict[str, Any] = {self.owner_attr: person.user_id}
        for column in self.columns:
            if column is not self.owner:
                data[column.name] = row.get(column)
        if self.private is not None and data[self.private.name] is None:
            data[self.private.name] = person.role == Role.BROKER
        row.data = data

    def _key(self, data: dict[str, Any]) -> RecordKey:
        mapper = sa.inspect(self.model)
        items: list[tuple[str, object]] = []
        for name in sorted(data):
            value = data[name]
            column_type = mapper.columns[name].type
            if isinstance(value, Decimal) and isinstance(column_type, ScaledDecimal):
                value = quantize(value, column_type.scale)
            items.append((name, value))
        return tuple(items)

    def identity(self, row: Row) -> Identity | None:
        return Identity(self._key(row.data)) if row.data else None

    def check_existing(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        wanted: dict[RecordKey, list[Row]] = {}
        for row in rows:
            wanted.setdefault(self._key(row.data), []).append(row)
        names = sorted(rows[0].data)
        owner_ids = sorted({row.data[self.owner_attr] for row in rows})
        created = sorted({row.data[CREATED_AT.name] for row in rows})
        owner_col = getattr(self.model, self.owner_attr)
        created_col = getattr(self.model, CREATED_AT.name)
        selected = [getattr(self.model, name) for name in names]
        for o in range(0, len(owner_ids), CHUNK):
            for c in range(0, len(created), CHUNK):
                stmt = sa.select(*selected).where(
                    owner_col.in_(owner_ids[o : o + CHUNK]),
                    created_col.in_(created[c : c + CHUNK]),
                )
                for found in ctx.session.execute(stmt):
                    key = self._key(dict(zip(names, found, strict=True)))
                    for row in wanted.pop(key, []):
                        ctx.error(
                            row,
                            None,
                            f"the same {self.noun} is already in the database "
                            "(imports add, they never overwrite)",
                        )

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        if rows:
            ctx.session.execute(sa.insert(self.model), [row.data for row in rows])
        return len(rows)


class LeadsImport(RecordImport):
    OWNER_EMAIL = Column("owner_email", cr.email, required=True, person=True)
    STATUS = Column("status", cr.one_of(LeadStatus), required=True)

    name = "leads"
    noun = "lead"
    model = Lead
    owner = OWNER_EMAIL
    owner_attr = "owner_id"
    private = IS_PRIVATE
    columns = (
        OWNER_EMAIL,
        Column("name", cr.text(160), required=True),
        Column("email", cr.email),
        Column("phone", cr.text(40)),
        Column("source", cr.text(80)),
        STATUS,
        IS_PRIVATE,
        CREATED_AT,
    )


class AppointmentsImport(RecordImport):
    name = "appointments"
    noun = "appointment"
    model = Appointment
    private = IS_PRIVATE
    columns = (
        AGENT_EMAIL,
        Column("title", cr.text(200), required=True),
        Column("start_time", cr.iso_datetime, required=True),
        Column("status", cr.one_of(AppointmentStatus), required=True),
        Column("location", cr.text(200)),
        IS_PRIVATE,
        CREATED_AT,
    )


class ClientsImport(RecordImport):
    name = "clients"
    noun = "client"
    model = Client
    columns = (
        AGENT_EMAIL,
        Column("name", cr.text(160), required=True),
        Column("source", cr.text(80)),
        Column("status", cr.one_of(ClientStatus), required=True),
        CREATED_AT,
    )


class ListingsImport(RecordImport):
    name = "listings"
    noun = "listing"
    model = Listing
    columns = (
        AGENT_EMAIL,
        Column("address", cr.text(240), required=True),
        Column("list_price", cr.money, required=True),
        Column("status", cr.one_of(ListingStatus), required=True),
        CREATED_AT,
    )


class EscrowsImport(RecordImport):
    """Escrows. ``closed_at`` rules (SPEC is silent):

    - an escrow whose status is Closed must give ``closed_at`` (it is not defaulted: the
      close date decides which period the sale counts in, so it is never invented);
    - Active and Pending escrows have no ``closed_at``; a Cancelled one may give it (the day
      it fell through);
    - ``closed_at`` is not before ``created_at``;
    - ``my_commission`` is not more than ``purchase_price``.
    """

    PURCHASE_PRICE = Column("purchase_price", cr.money, required=True)
    MY_COMMISSION = Column("my_commission", cr.money)
    ESCROW_STATUS = Column("escrow_status", cr.one_of(EscrowStatus), required=True)
    CLOSED_AT = Column("closed_at", cr.iso_datetime)

    name = "escrows"
    noun = "escrow"
    model = Escrow
    columns = (
        AGENT_EMAIL,
        Column("property_address", cr.text(240), required=True),
        PURCHASE_PRICE,
        MY_COMMISSION,
        ESCROW_STATUS,
        CREATED_AT,
        CLOSED_AT,
    )

    def check_values(self, row: Row, ctx: ImportContext) -> None:
        status = row.get(self.ESCROW_STATUS)
        created = row.get(CREATED_AT)
        closed = row.get(self.CLOSED_AT)
        if closed is None:
            if status == EscrowStatus.CLOSED and row.ok(self.CLOSED_AT):
                ctx.error(row, self.CLOSED_AT, "is required when escrow_status is Closed")
        elif status in (EscrowStatus.ACTIVE, EscrowStatus.PENDING):
            ctx.error(row, self.CLOSED_AT, f"must be empty while escrow_status is {status}")
        elif created is not None and closed < created:
            ctx.error(
                row,
                self.CLOSED_AT,
                f"{row.text(self.CLOSED_AT)} is before created_at {row.text(CREATED_AT)}",
            )
        price = row.get(self.PURCHASE_PRICE)
        commission = row.get(self.MY_COMMISSION)
        if price is not None and commission is not None and commission > price:
            ctx.error(
                row,
                self.MY_COMMISSION,
                f"{row.text(self.MY_COMMISSION)} is more than purchase_price "
                f"{row.text(self.PURCHASE_PRICE)}",
            )
