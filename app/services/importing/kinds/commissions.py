"""Commissions: deal_ref*, agent_email*, commission_type*, basis_amount*, commission_rate*,
status (default pending), introduced_at (SPEC §11).

Rules (where SPEC.md is silent, chosen here):
- ``deal_ref`` names a deal already in the database (imported earlier with its ``ref``);
  ``agent_email`` an active person of the office (any role: a manager may earn a bonus);
- ``commission_amount`` = basis × rate, rounded half-up to cents (SPEC §6); the basis has at
  most 2 decimals and the rate is 0–1 with at most 4;
- one commission per (deal, agent, type): the same three twice in the file, or a commission
  already in the database, is an error (imports add, they never overwrite);
- ``status`` is any status but ``disputed``: a dispute needs its reason and the status it
  came from, which the file has no columns for (import the record as it stood before the
  dispute and dispute it in PerfDesk). The status's own ``*_at`` times are not invented:
  they stay empty; ``created_at`` is the time of the import;
- each commission gets its ``commission_created`` audit entry on its deal's chain, recorded
  in the name of the office's first broker (else admin), as the window's local person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa

from app.db.models.commissions import CommissionRecord
from app.db.models.deals import Deal
from app.db.models.people import User
from app.domain import csvrules as cr
from app.domain.audit import deal_chain_key
from app.domain.commissions import CommissionError, check_money, check_rate, commission_amount
from app.domain.enums import CommissionStatus, CommissionType
from app.domain.errors import PermissionDenied
from app.domain.money import parse_decimal, quantize
from app.services.audit import append_entry
from app.services.importing.spec import CHUNK, Column, Identity, ImportContext, ImportKind, Row
from app.services.pipeline.common import acting_user_id

CREATED = "commission_created"


def _reason(exc: CommissionError) -> str:
    text = str(exc)
    prefix = f"{exc.field}: "
    return (text[len(prefix) :] if text.startswith(prefix) else text).rstrip(".")


def _basis(value: str) -> Decimal:
    number = cr.money(value)
    try:
        return quantize(check_money(number, "basis_amount"))
    except CommissionError as exc:
        raise ValueError(_reason(exc)) from None


def _rate(value: str) -> Decimal:
    try:
        number = parse_decimal(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    try:
        return quantize(check_rate(number), 4)
    except CommissionError as exc:
        raise ValueError(_reason(exc)) from None


def _status(value: str) -> str:
    status = cr.one_of(CommissionStatus)(value.replace(" ", "_"))
    if status == CommissionStatus.DISPUTED:
        raise ValueError(
            "disputed cannot be imported (a dispute needs its reason and the status it came "
            "from): import the status before the dispute, then dispute it in PerfDesk"
        )
    return status


class CommissionsImport(ImportKind):
    DEAL_REF = Column("deal_ref", cr.text(64), required=True)
    AGENT_EMAIL = Column("agent_email", cr.email, required=True, person=True)
    COMMISSION_TYPE = Column("commission_type", cr.one_of(CommissionType), required=True)
    BASIS_AMOUNT = Column("basis_amount", _basis, required=True)
    COMMISSION_RATE = Column("commission_rate", _rate, required=True)
    STATUS = Column("status", _status, default=CommissionStatus.PENDING.value)
    INTRODUCED_AT = Column("introduced_at", cr.iso_datetime)

    name = "commissions"
    noun = "commission"
    columns = (
        DEAL_REF, AGENT_EMAIL, COMMISSION_TYPE, BASIS_AMOUNT, COMMISSION_RATE, STATUS,
        INTRODUCED_AT,
    )  # fmt: skip

    def __init__(self) -> None:
        self._deals: dict[str, int] = {}
        self._inactive: set[str] = set()

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        refs = sorted({ref for row in rows if (ref := row.get(self.DEAL_REF)) is not None})
        for start in range(0, len(refs), CHUNK):
            chunk = refs[start : start + CHUNK]
            for deal_id, ref in ctx.session.execute(
                sa.select(Deal.id, Deal.ref).where(Deal.ref.in_(chunk))
            ):
                if ref is not None:
                    self._deals[ref] = int(deal_id)
        emails = sorted({e for row in rows if (e := row.get(self.AGENT_EMAIL)) is not None})
        for start in range(0, len(emails), CHUNK):
            chunk = emails[start : start + CHUNK]
            self._inactive.update(
                e.lower()
                for e in ctx.session.scalars(
                    sa.select(User.email).where(
                        sa.func.lower(User.email).in_(chunk), User.is_active.is_(False)
                    )
                )
            )

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        ref = row.get(self.DEAL_REF)
        deal_id = self._deals.get(ref) if ref is not None else None
        if ref is not None and deal_id is None:
            ctx.error(row, self.DEAL_REF, f"no deal with ref {ref!r}")
        person = ctx.person(row, self.AGENT_EMAIL)
        email = row.get(self.AGENT_EMAIL)
        if person is not None and email is not None and email.lower() in self._inactive:
            ctx.error(row, self.AGENT_EMAIL, f"{email} has been deactivated")
            return
        if person is None or person.user_id is None or deal_id is None or ctx.is_bad(row):
            return
        basis, rate = row[self.BASIS_AMOUNT], row[self.COMMISSION_RATE]
        row.data = {
            "deal_id": deal_id,
            "agent_id": person.user_id,
            "commission_type": row[self.COMMISSION_TYPE],
            "basis_amount": basis,
            "commission_rate": rate,
            "commission_amount": commission_amount(basis, rate),
            "status": row[self.STATUS],
            "introduced_at": row.get(self.INTRODUCED_AT),
        }

    def identity(self, row: Row) -> Identity | None:
        if not row.data:
            return None
        key = (row.data["deal_id"], row.data["agent_id"], row.data["commission_type"])
        return Identity(key)

    def check_existing(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        wanted: dict[tuple[int, int, str], Row] = {
            (r.data["deal_id"], r.data["agent_id"], r.data["commission_type"]): r for r in rows
        }
        deal_ids = sorted({key[0] for key in wanted})
        C = CommissionRecord
        for start in range(0, len(deal_ids), CHUNK):
            found = ctx.session.execute(
                sa.select(C.deal_id, C.agent_id, C.commission_type).where(
                    C.deal_id.in_(deal_ids[start : start + CHUNK])
                )
            )
            for deal_id, agent_id, ctype in found:
                row = wanted.get((deal_id, agent_id, str(ctype)))
                if row is not None:
                    ctx.error(
                        row,
                        None,
                        f"{row.text(self.AGENT_EMAIL)} already has {cr_article(str(ctype))} "
                        f"commission on deal {row.text(self.DEAL_REF)} (one per deal, agent and "
                        "type; imports add, they never overwrite)",
                    )

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        s = ctx.session
        try:
            actor: int | None = acting_user_id(s, None)
        except PermissionDenied:
            actor = None
        at = dt.datetime.now(dt.UTC)
        for row in rows:
            record = CommissionRecord(**row.data, created_at=at)
            s.add(record)
            s.flush()
            data = row.data
            append_entry(
                s, deal_chain_key(data["deal_id"]), CREATED, "commission", record.id, actor,
                {
                    "commission_id": record.id,
                    "deal_id": data["deal_id"],
                    "agent_id": data["agent_id"],
                    "commission_type": data["commission_type"],
                    "basis_amount": data["basis_amount"],
                    "commission_rate": data["commission_rate"],
                    "commission_amount": data["commission_amount"],
                    "status": data["status"],
                },
                at,
            )  # fmt: skip
        return len(rows)


def cr_article(word: str) -> str:
    shown = word.replace("_", "-")
    return f"{'an' if shown[:1] in 'aeiou' else 'a'} {shown}"
