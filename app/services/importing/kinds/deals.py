"""Deals: ref*, agent_email*, title*, asset_type*, deal_type*, pipeline_stage*, lead_source,
estimated_value_amount*, estimated_value_currency, expected_close_date, confidence*,
created_at* (SPEC §11).

Rules (where SPEC.md is silent, chosen here):
- ``ref`` names the deal for later files (commissions, deal performance) and for
  ``deal move``; the same ref twice in the file, or a ref already in the database, is an
  error (imports add, they never overwrite). Refs are compared exactly, as ``deal move``
  finds them;
- ``pipeline_stage`` is a stage's stored value (``closed_won``) or its label ("Closed won"),
  regardless of case; the status follows the stage (SPEC §4): a closed stage closes the deal
  on the day it was created (its UTC date), an open stage leaves it open;
- ``confidence`` is 0–1 with at most 4 decimals; ``estimated_value_amount`` is zero or more;
- ``estimated_value_currency`` is a three-letter ISO 4217 code; empty means the office's
  currency (Settings);
- each deal gets its creation event: a stage event from nowhere (``from_stage`` NULL) into
  its stage, recorded at ``created_at`` and made by its agent. Creation has no audit entry
  (as for every deal: the chain starts with the first move).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.db.models.deals import Deal, DealStageEvent
from app.db.models.people import AppSetting
from app.domain import csvrules as cr
from app.domain.enums import DealStage
from app.domain.errors import ValidationError
from app.domain.money import parse_decimal
from app.domain.pipeline import (
    CLOSED_STAGES,
    PipelineError,
    check_amount,
    check_confidence,
    parse_stage,
    status_for,
)
from app.services.importing.spec import CHUNK, Column, Identity, ImportContext, ImportKind, Row
from app.services.office import CURRENCY_KEY, DEFAULT_CURRENCY, normalize_currency


def _without_field(exc: PipelineError, name: str) -> str:
    text = str(exc)
    prefix = f"{name}: "
    return (text[len(prefix) :] if text.startswith(prefix) else text).rstrip(".")


def _stage(value: str) -> DealStage:
    try:
        return parse_stage(value, "pipeline_stage")
    except PipelineError as exc:
        raise ValueError(_without_field(exc, "pipeline_stage")) from None


def _confidence(value: str) -> Decimal:
    try:
        number = parse_decimal(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    try:
        return check_confidence(number, "confidence")
    except PipelineError as exc:
        raise ValueError(_without_field(exc, "confidence")) from None


def _amount(value: str) -> Decimal:
    number = cr.money(value)
    try:
        return check_amount(number, "estimated_value_amount")
    except PipelineError as exc:
        raise ValueError(_without_field(exc, "estimated_value_amount")) from None


def _currency(value: str) -> str:
    try:
        return normalize_currency(value)
    except ValidationError as exc:
        raise ValueError(str(exc).rstrip(".")) from None


class DealsImport(ImportKind):
    REF = Column("ref", cr.text(64), required=True)
    AGENT_EMAIL = Column("agent_email", cr.email, required=True, person=True)
    TITLE = Column("title", cr.text(200), required=True)
    ASSET_TYPE = Column("asset_type", cr.text(40), required=True)
    DEAL_TYPE = Column("deal_type", cr.text(40), required=True)
    STAGE = Column("pipeline_stage", _stage, required=True)
    LEAD_SOURCE = Column("lead_source", cr.text(80))
    AMOUNT = Column("estimated_value_amount", _amount, required=True)
    CURRENCY = Column("estimated_value_currency", _currency)
    EXPECTED_CLOSE = Column("expected_close_date", cr.iso_date)
    CONFIDENCE = Column("confidence", _confidence, required=True)
    CREATED_AT = Column("created_at", cr.iso_datetime, required=True)

    name = "deals"
    noun = "deal"
    columns = (
        REF,
        AGENT_EMAIL,
        TITLE,
        ASSET_TYPE,
        DEAL_TYPE,
        STAGE,
        LEAD_SOURCE,
        AMOUNT,
        CURRENCY,
        EXPECTED_CLOSE,
        CONFIDENCE,
        CREATED_AT,
    )

    def __init__(self) -> None:
        self.currency = DEFAULT_CURRENCY

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        setting = ctx.session.get(AppSetting, CURRENCY_KEY)
        if setting is not None:
            self.currency = setting.value

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        person = ctx.person(row, self.AGENT_EMAIL)
        if person is None or person.user_id is None or ctx.is_bad(row):
            return
        stage = row[self.STAGE]
        created = row[self.CREATED_AT]
        row.data = {
            "ref": row[self.REF],
            "agent_id": person.user_id,
            "title": row[self.TITLE],
            "asset_type": row[self.ASSET_TYPE],
            "deal_type": row[self.DEAL_TYPE],
            "pipeline_stage": stage,
            "status": status_for(stage),
            "lead_source": row.get(self.LEAD_SOURCE),
            "estimated_value_amount": row[self.AMOUNT],
            "estimated_value_currency": row.get(self.CURRENCY) or self.currency,
            "expected_close_date": row.get(self.EXPECTED_CLOSE),
            "actual_close_date": created.date() if stage in CLOSED_STAGES else None,
            "confidence": row[self.CONFIDENCE],
            "created_at": created,
            "stage_changed_at": created,
            "version": 1,
        }

    def identity(self, row: Row) -> Identity | None:
        ref = row.get(self.REF)
        if ref is None:
            return None
        return Identity(ref, self.REF.name, f"ref {ref}")

    def check_existing(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        by_ref = {row.data["ref"]: row for row in rows if row.data}
        refs = sorted(by_ref)
        for start in range(0, len(refs), CHUNK):
            found = ctx.session.scalars(
                sa.select(Deal.ref).where(Deal.ref.in_(refs[start : start + CHUNK]))
            )
            for ref in found:
                ctx.error(
                    by_ref[ref],
                    self.REF,
                    f"a deal with ref {ref} is already in the database "
                    "(imports add, they never overwrite)",
                )

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        if not rows:
            return 0
        s = ctx.session
        s.execute(sa.insert(Deal), [row.data for row in rows])
        refs = [row.data["ref"] for row in rows]
        ids: dict[str, int] = {}
        for start in range(0, len(refs), CHUNK):
            stmt = sa.select(Deal.ref, Deal.id).where(Deal.ref.in_(refs[start : start + CHUNK]))
            ids.update({str(ref): int(deal_id) for ref, deal_id in s.execute(stmt)})
        events: list[dict[str, Any]] = [
            {
                "deal_id": ids[row.data["ref"]],
                "from_stage": None,
                "to_stage": row.data["pipeline_stage"],
                "changed_by_id": row.data["agent_id"],
                "note": None,
                "recorded_at": row.data["created_at"],
            }
            for row in rows
        ]
        s.execute(sa.insert(DealStageEvent), events)
        return len(rows)
