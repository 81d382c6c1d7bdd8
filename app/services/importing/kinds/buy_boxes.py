"""Buy boxes: ref*, name*, market_key*, strategy*, min_dscr* (SPEC §11).

A buy box is checked by the same rules as the buy-box form (``postclose.catalog``), so the
file and the form accept and refuse the same things. Rules (where SPEC.md is silent, chosen
here or taken from the form):
- ``ref`` names the buy box for later files (``deal_performance.buy_box_ref``); it is unique
  regardless of case ("bb-1" and "BB-1" are one buy box), as in the form: the same ref twice
  in the file, or a ref already in the database, is an error (imports add, never overwrite);
- ``strategy`` is buy_hold or commercial (or the form's labels "Buy & hold", "Commercial"),
  any case;
- ``min_dscr`` is 0–99.99 with at most two decimals (a third would be rounded silently when
  stored, moving the line that grades a property);
- the buy box belongs to no buyer (SPEC's file has no buyer column; link it in PerfDesk); its
  performance rate stays empty until one of its records has a month entered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from app.db.models import BuyBox
from app.domain import csvrules as cr
from app.services.importing.spec import CHUNK, Column, Identity, ImportContext, ImportKind, Row
from app.services.postclose import catalog
from app.services.postclose.records import CREATORS, allowed


def _form_field(name: str) -> Callable[[str], Any]:
    """A cell read by the buy-box form's own rule for ``name`` (``catalog``)."""

    def parse(text: str) -> Any:
        form = catalog._Form({name: text}, catalog.BUY_BOX_FIELDS, full=False)
        getattr(form, name)(name)
        if name in form.errors:
            raise ValueError(form.errors[name])
        return form.values[name]

    return parse


class BuyBoxesImport(ImportKind):
    REF = Column("ref", cr.text(catalog.REF_MAX), required=True)
    NAME = Column("name", cr.text(catalog.BOX_NAME_MAX), required=True)
    MARKET_KEY = Column("market_key", cr.text(catalog.MARKET_MAX), required=True)
    STRATEGY = Column("strategy", _form_field("strategy"), required=True)
    MIN_DSCR = Column("min_dscr", _form_field("min_dscr"), required=True)

    name = "buy_boxes"
    noun = "buy box"
    columns = (REF, NAME, MARKET_KEY, STRATEGY, MIN_DSCR)

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        if ctx.is_bad(row):
            return
        row.data = {
            "ref": row[self.REF],
            "name": row[self.NAME],
            "market_key": row[self.MARKET_KEY],
            "strategy": row[self.STRATEGY],
            "min_dscr": row[self.MIN_DSCR],
        }

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        allowed(ctx.actor, CREATORS, "import buy boxes")

    def identity(self, row: Row) -> Identity | None:
        ref = row.get(self.REF)
        if ref is None:
            return None
        return Identity(ref.lower(), self.REF.name, f"ref {ref}")

    def check_existing(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        by_ref = {row.data["ref"].lower(): row for row in rows if row.data}
        refs = sorted(by_ref)
        for start in range(0, len(refs), CHUNK):
            found = ctx.session.scalars(
                sa.select(BuyBox.ref).where(
                    sa.func.lower(BuyBox.ref).in_(refs[start : start + CHUNK])
                )
            )
            for ref in found:
                if ref is None:
                    continue
                row = by_ref[ref.lower()]
                ctx.error(
                    row,
                    self.REF,
                    f"a buy box with ref {ref} is already in the database "
                    "(imports add, they never overwrite)",
                )

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        if not rows:
            return 0
        now = dt.datetime.now(dt.UTC)
        batch = [{**row.data, "created_at": now, "version": 1} for row in rows]
        table: sa.Table = BuyBox.__table__  # type: ignore[assignment]
        ctx.session.connection().execute(table.insert(), batch)
        return len(rows)
