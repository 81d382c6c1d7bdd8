"""Deal performance records: ref*, deal_ref, buyer*, buy_box_ref, strategy*, market_key*,
closed_date*, purchase_price*, rehab_cost_actual, loan_type, interest_rate, ltv,
amortization_years, projected_rent*, projected_noi*, projected_monthly_cash_flow*,
projected_dscr*, assumptions (SPEC §11).

Each record is created as the form creates one (``postclose.records``): its cells are read by
the form's parsers and its rules (``domain.rentroll``: record_rules), and its pro forma is
locked at creation — ``locked_at`` the time of the import, ``locked_by`` the person the import
is recorded as — and can never change afterwards (SPEC §9; the database refuses it).

Rules (where SPEC.md is silent, chosen here or taken from the form):
- ``ref`` names the record for later files (``rent_roll.performance_ref``); it is required in
  the file (SPEC), compared exactly, and the same ref twice in the file, or a ref already in
  the database, is an error (imports add, they never overwrite);
- ``buyer`` is a buyer's name, matched regardless of case (as the buyer form does); a name
  not in the database is a new buyer, created with the spelling of its first row (SPEC §11:
  "a buyer is referred to by name and created on first mention"; there is no buyers file);
- ``deal_ref`` (optional) names a deal already in the database that has closed won and has no
  performance record yet, and no two rows may name the same deal;
- ``buy_box_ref`` (optional) names a buy box already in the database (imported earlier with
  its ``ref``), matched regardless of case as buy-box refs are unique that way;
- ``closed_date`` is not after today (``--as-of``); a cash purchase gives no interest rate,
  LTV or amortisation; a projected DSCR of 0 is refused with a loan; interest rate and LTV are
  a fraction ("0.065") or a percentage ("6.5%" or "6.5"); ``assumptions`` are separated by ";";
- the import is recorded in the name of the office's first broker (else admin, else manager),
  the window's local person; an office with none of them cannot import records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from app.db.models import BuyBox, Buyer, Deal, DealPerformance
from app.domain import csvrules as cr
from app.domain import rentroll as rr
from app.domain.enums import DealStage
from app.domain.errors import PermissionDenied
from app.services.database import Database
from app.services.importing.spec import CHUNK, Column, Identity, ImportContext, ImportKind, Row
from app.services.pipeline.common import acting_user_id
from app.services.postclose.catalog import BUYER_NAME_MAX
from app.services.postclose.records import CREATORS, allowed

R = DealPerformance
WRITE_BLOCK = 5000
_RECORD_COLUMNS = (
    "strategy", "market_key", "closed_date", "purchase_price", "rehab_cost_actual", "loan_type",
    "interest_rate", "ltv", "amortization_years", "projected_rent", "projected_noi",
    "projected_monthly_cash_flow", "projected_dscr", "assumptions",
)  # fmt: skip


def _record_column(name: str) -> Column[Any]:
    """A column read by the record form's parser of the same name."""
    return Column(name, rr.RECORD_PARSERS[name], required=name in rr.RECORD_REQUIRED)


class PerformanceImport(ImportKind):
    REF = Column("ref", rr.ref, required=True)
    DEAL_REF = Column("deal_ref", rr.ref)
    BUYER = Column("buyer", cr.text(BUYER_NAME_MAX), required=True)
    BUY_BOX_REF = Column("buy_box_ref", rr.ref)

    name = "deal_performance"
    noun = "performance record"
    columns = (
        REF,
        DEAL_REF,
        BUYER,
        BUY_BOX_REF,
        *(_record_column(n) for n in _RECORD_COLUMNS),
    )

    def __init__(self) -> None:
        # deal ref → its id, title, stage and whether it has a record already
        self._deals: dict[str, tuple[int, str, str, bool]] = {}
        self._deal_rows: dict[str, int] = {}  # deal ref → the row that names it first
        self._boxes: dict[str, int] = {}  # lower-case ref → id
        self._buyers: dict[str, int] = {}  # lower-case name → id
        self._new_buyers: dict[str, str] = {}  # lower-case name → spelling of its first row
        self._actor: int | None = None
        self._created: list[str] = []  # the buyers the import added

    # ------------------------------------------------------------------------- checking

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        allowed(ctx.actor, CREATORS, "import performance records")
        s = ctx.session
        try:
            self._actor = acting_user_id(s, ctx.actor)
        except PermissionDenied as exc:
            ctx.error(None, None, str(exc).rstrip("."))
        deal_refs = sorted({r for row in rows if (r := row.get(self.DEAL_REF)) is not None})
        for start in range(0, len(deal_refs), CHUNK):
            stmt = (
                sa.select(Deal.ref, Deal.id, Deal.title, Deal.pipeline_stage, R.id)
                .outerjoin(R, R.deal_id == Deal.id)
                .where(Deal.ref.in_(deal_refs[start : start + CHUNK]))
            )
            for ref, deal_id, title, stage, record_id in s.execute(stmt):
                self._deals[str(ref)] = (int(deal_id), title, str(stage), record_id is not None)
        box_refs = sorted(
            {r.lower() for row in rows if (r := row.get(self.BUY_BOX_REF)) is not None}
        )
        for start in range(0, len(box_refs), CHUNK):
            stmt2 = sa.select(BuyBox.ref, BuyBox.id).where(
                sa.func.lower(BuyBox.ref).in_(box_refs[start : start + CHUNK])
            )
            for ref, box_id in s.execute(stmt2):
                self._boxes[str(ref).lower()] = int(box_id)
        names = sorted({n.lower() for row in rows if (n := row.get(self.BUYER)) is not None})
        self._load_buyers(ctx, names)

    def _load_buyers(self, ctx: ImportContext, names: Sequence[str]) -> None:
        for start in range(0, len(names), CHUNK):
            stmt = sa.select(Buyer.name, Buyer.id).where(
                sa.func.lower(Buyer.name).in_(names[start : start + CHUNK])
            )
            for name, buyer_id in ctx.session.execute(stmt):
                self._buyers[str(name).lower()] = int(buyer_id)

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        values: dict[str, object] = {name: row.values.get(name) for name in rr.RECORD_PARSERS}
        errors: dict[str, str] = {name: "" for name in rr.RECORD_PARSERS if name in row.failed}
        rr.record_rules(values, errors, ctx.as_of)
        for name, reason in errors.items():
            if name not in row.failed:
                ctx.error(row, name, reason)
        deal_id = self._deal(row, ctx)
        box_id: int | None = None
        box_ref = row.get(self.BUY_BOX_REF)
        if box_ref is not None:
            box_id = self._boxes.get(box_ref.lower())
            if box_id is None:
                ctx.error(row, self.BUY_BOX_REF, f"no buy box with ref {box_ref!r}")
        buyer = row.get(self.BUYER)
        if buyer is not None:
            key = buyer.lower()
            if key not in self._buyers:
                self._new_buyers.setdefault(key, buyer)
        if ctx.is_bad(row) or buyer is None:
            return
        row.data = {
            **{name: values[name] for name in rr.RECORD_PARSERS},
            "deal_id": deal_id,
            "buy_box_id": box_id,
            "buyer_key": buyer.lower(),
        }

    def _deal(self, row: Row, ctx: ImportContext) -> int | None:
        ref = row.get(self.DEAL_REF)
        if ref is None:
            return None
        found = self._deals.get(ref)
        if found is None:
            ctx.error(row, self.DEAL_REF, f"no deal with ref {ref!r}")
            return None
        deal_id, title, stage, has_record = found
        if stage != DealStage.CLOSED_WON.value:
            ctx.error(
                row,
                self.DEAL_REF,
                f"deal {ref} ({title}) has not closed won (it is at {stage.replace('_', ' ')})",
            )
            return None
        if has_record:
            ctx.error(row, self.DEAL_REF, f"deal {ref} ({title}) already has a performance record")
            return None
        first = self._deal_rows.setdefault(ref, row.number)
        if first != row.number:
            ctx.error(row, self.DEAL_REF, f"deal {ref} is already given its record on row {first}")
            return None
        return deal_id

    def identity(self, row: Row) -> Identity | None:
        ref = row.get(self.REF)
        if ref is None:
            return None
        return Identity(ref, self.REF.name, f"ref {ref}")

    def check_existing(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        by_ref = {row.data["ref"]: row for row in rows if row.data}
        refs = sorted(by_ref)
        for start in range(0, len(refs), CHUNK):
            for ref in ctx.session.scalars(
                sa.select(R.ref).where(R.ref.in_(refs[start : start + CHUNK]))
            ):
                ctx.error(
                    by_ref[ref],
                    self.REF,
                    f"a performance record with ref {ref} is already in the database "
                    "(imports add, they never overwrite)",
                )

    # ------------------------------------------------------------------------- writing

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        if not rows:
            return 0
        if self._actor is None:  # prepare reported it; the runner never gets here
            raise PermissionDenied("nobody to record the import in the name of")
        s = ctx.session
        now = dt.datetime.now(dt.UTC)
        wanted = {row.data["buyer_key"] for row in rows}
        new: list[dict[str, Any]] = [
            {"name": name, "created_at": now, "version": 1}
            for key, name in self._new_buyers.items()
            if key in wanted and key not in self._buyers
        ]
        if new:
            for start in range(0, len(new), WRITE_BLOCK):
                s.execute(sa.insert(Buyer), new[start : start + WRITE_BLOCK])
            self._load_buyers(ctx, sorted(n["name"].lower() for n in new))
            self._created = [n["name"] for n in new]
        batch: list[dict[str, Any]] = []
        for row in rows:
            data = dict(row.data)
            data["buyer_id"] = self._buyers[data.pop("buyer_key")]
            data["assumptions"] = list(data["assumptions"] or [])
            data.update(
                locked_at=now, locked_by=self._actor, current_grade=None, current_flags=[],
                created_at=now, version=1,
            )  # fmt: skip
            batch.append(data)
        table: sa.Table = R.__table__  # type: ignore[assignment]
        for start in range(0, len(batch), WRITE_BLOCK):
            s.connection().execute(table.insert(), batch[start : start + WRITE_BLOCK])
        return len(rows)

    def after_commit(self, db: Database, rows: Sequence[Row]) -> list[str]:
        if not self._created:
            return []
        shown = ", ".join(self._created[:10])
        more = len(self._created) - 10
        if more > 0:
            shown += f" and {more} more"
        plural = "s" if len(self._created) != 1 else ""
        return [f"{len(self._created)} new buyer{plural} added: {shown}"]
