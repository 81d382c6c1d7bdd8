"""Saving a deal's own fields from its panel (never its stage: a stage changes only by a move,
``moves.py``). A form that changes nothing writes nothing (no new version, no audit entry);
otherwise the deal and a ``deal_updated`` entry with each changed field's old and new value."""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from app.services.database import Database
from app.services.pipeline.detail_events import DEAL_UPDATED
from app.services.pipeline.detail_fields import DEAL_FIELDS, DealFields, valid_deal
from app.services.pipeline.detail_rows import DealInfo, deal_info
from app.services.pipeline.detail_write import apply_changes, check_version, editing, stale
from app.services.records import Acting


def update_deal(
    db: Database,
    deal_id: int,
    fields: DealFields,
    expected_version: int,
    acting: Acting = None,
) -> DealInfo:
    """Save the deal's fields (not its stage). DealEditError lists every problem by field;
    ConflictError when the deal has moved on from ``expected_version``. Nothing written
    either way. A form that changes nothing writes nothing."""
    values = valid_deal(fields)
    with editing(db, deal_id, acting, "The deal") as edit:
        deal = edit.deal
        title = deal.title
        check_version(deal.version, expected_version, f"The deal {title!r}")
        changes = apply_changes(deal, DEAL_FIELDS, values)
        if not changes:
            return deal_info(edit.s, deal)
        deal.updated_at = edit.at
        try:
            edit.s.flush()
        except StaleDataError:
            raise stale(f"The deal {title!r}") from None
        edit.record(DEAL_UPDATED, "deal", deal_id, {"deal_id": deal_id, "changes": changes})
        edit.s.expire(deal)
        return deal_info(edit.s, deal)
