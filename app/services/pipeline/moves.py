"""Moving a deal between stages (SPEC §4): the same move from a drag, a key or the command line.

One transaction writes the deal (checked against the version the mover saw), the stage event
and the ``deal_stage_transition`` audit entry; in shared mode the server's trigger then tells
every other workstation (NOTIFY ``deals``). A stale version is a ConflictError and nothing is
written; undo is a move back, appended like any other (history is never rewritten).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult

from app.db.models import Deal, DealStageEvent
from app.domain.audit import deal_chain_key
from app.domain.enums import DealStage, DealStatus
from app.domain.errors import ConflictError
from app.domain.pipeline import STAGE_LABELS, parse_stage, plan_move
from app.services.audit import append_entry
from app.services.database import Database
from app.services.pipeline.common import (
    DealNotFound,
    acting_user_id,
    deal_id_for_ref,
    load_deal,
)
from app.services.records import Acting

EVENT_TYPE = "deal_stage_transition"


@dataclass(frozen=True)
class MoveResult:
    deal_id: int
    ref: str | None
    title: str
    from_stage: DealStage
    to_stage: DealStage
    status: DealStatus
    version: int
    stage_event_id: int
    audit_entry_id: int
    recorded_at: dt.datetime

    def describe(self) -> str:
        return (
            f"moved {self.ref or self.deal_id} {self.title!r} from "
            f"{STAGE_LABELS[self.from_stage]} to {STAGE_LABELS[self.to_stage]}"
        )


def _stale(title: str) -> ConflictError:
    return ConflictError(
        f"The deal {title!r} was changed on another workstation; its card has been refreshed. "
        "Nothing was moved."
    )


def move_deal(
    db: Database,
    deal_id: int,
    to_stage: DealStage,
    *,
    expected_version: int | None = None,
    note: str | None = None,
    acting: Acting = None,
    now: dt.datetime | None = None,
) -> MoveResult:
    """Move the deal; ``expected_version`` is the version the mover saw (None: the current)."""
    if now is not None and now.tzinfo is None:
        raise ValueError("the time of a move must be timezone-aware")
    with db.session() as s:
        if s.get_bind().dialect.name == "sqlite":
            # Take the database's write lock before reading the deal: a read that another
            # writer overtakes could not become a write ("database is locked", not a conflict).
            s.execute(sa.text("UPDATE deals SET version = version WHERE 0"))
        deal, actor = load_deal(s, db, acting, deal_id)
        # Taken after the deal is read: a move another workstation committed before that read
        # is then always timed before this one (the timeline orders events by recorded_at).
        at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        version = deal.version
        if expected_version is not None and version != expected_version:
            raise _stale(deal.title)
        plan = plan_move(
            deal.pipeline_stage, to_stage, deal.status, deal.actual_close_date, at.date(), note
        )
        changed = s.execute(
            sa.update(Deal)
            .where(Deal.id == deal_id, Deal.version == version)
            .values(
                pipeline_stage=plan.to_stage,
                status=plan.status,
                actual_close_date=plan.actual_close_date,
                version=version + 1,
                updated_at=at,
                stage_changed_at=at,
            )
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], changed).rowcount != 1:
            raise _stale(deal.title)
        uid = acting_user_id(s, actor)
        event = DealStageEvent(
            deal_id=deal_id,
            from_stage=plan.from_stage,
            to_stage=plan.to_stage,
            changed_by_id=uid,
            note=plan.note,
            recorded_at=at,
        )
        s.add(event)
        s.flush()
        entry = append_entry(
            s,
            deal_chain_key(deal_id),
            EVENT_TYPE,
            "deal",
            deal_id,
            uid,
            {
                "deal_id": deal_id,
                "stage_event_id": event.id,
                "from_stage": plan.from_stage,
                "to_stage": plan.to_stage,
                "note": plan.note,
            },
            at,
        )
        return MoveResult(
            deal_id, deal.ref, deal.title, plan.from_stage, plan.to_stage, plan.status,
            version + 1, event.id, entry.id, at,
        )  # fmt: skip


def move_deal_by_ref(
    db: Database,
    ref: str,
    stage: str,
    *,
    note: str | None = None,
    acting: Acting = None,
    now: dt.datetime | None = None,
) -> MoveResult:
    """``deal move REF STAGE [--note TEXT]``."""
    to_stage = parse_stage(stage, "STAGE")
    with db.read() as s:
        deal_id = deal_id_for_ref(s, ref)
    try:
        return move_deal(db, deal_id, to_stage, note=note, acting=acting, now=now)
    except DealNotFound:
        # A deal the person may not see reads as an unknown ref (its id is not given away).
        raise DealNotFound(f"There is no deal with the ref {ref.strip()!r}.") from None
