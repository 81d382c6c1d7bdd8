"""What the pipeline services share: who acts, which deals they see, the change kinds."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import Deal, User
from app.domain.enums import Role
from app.domain.errors import PerfDeskError, PermissionDenied
from app.services.database import Database
from app.services.records import Acting, Actor, RecordKind, owner_scope, resolve_actor

#: The data_changed kinds (app/gui/events.py) the pipeline's changes raise.
DEALS_KIND = "deals"
COMMISSIONS_KIND = "commissions"


class DealNotFound(PerfDeskError):
    """No deal with that id or ref, or one the acting person may not see."""


def deal_scope(actor: Actor | None) -> sa.ColumnElement[bool] | None:
    """Deals follow the rule of escrows, clients and listings (SPEC §1): the owner, their
    broker, their team's manager, admins. A condition on ``User`` (the deal's agent)."""
    return owner_scope(RecordKind.ESCROWS, actor)


def visible_deals(actor: Actor | None) -> sa.Select[Any]:
    """The ids of the deals ``actor`` sees (every deal when None)."""
    stmt = sa.select(Deal.id).join(User, User.id == Deal.agent_id)
    scope = deal_scope(actor)
    return stmt if scope is None else stmt.where(scope)


def acting_user_id(s: Session, actor: Actor | None) -> int:
    """Who a change is recorded as. In local mode with nobody named, the one local person is
    the office's first broker (else its first admin): the person who holds every role."""
    if actor is not None:
        return actor.id
    for role in (Role.BROKER, Role.ADMIN, Role.MANAGER):
        uid = s.scalar(
            sa.select(User.id)
            .where(User.role == role.value, User.is_active.is_(True))
            .order_by(User.id)
            .limit(1)
        )
        if uid is not None:
            return int(uid)
    raise PermissionDenied("Add a broker or an admin first: changes are recorded in their name.")


def load_deal(s: Session, db: Database, acting: Acting, deal_id: int) -> tuple[Deal, Actor | None]:
    """The deal and the acting person, if the person sees it. Nothing is locked here: the
    caller's update checks the version (``UPDATE … WHERE version = ?``)."""
    actor = resolve_actor(s, db, acting)
    # The one deal joined to its agent, not ``id IN (every visible deal)``: SQLite built that
    # whole set (50,000 deals: 37 ms) for each move.
    stmt = sa.select(Deal).join(User, User.id == Deal.agent_id).where(Deal.id == deal_id)
    scope = deal_scope(actor)
    if scope is not None:
        stmt = stmt.where(scope)
    deal = s.scalar(stmt)
    if deal is None:
        raise DealNotFound(f"There is no deal {deal_id} among the deals you see.")
    return deal, actor


def deal_id_for_ref(s: Session, ref: str) -> int:
    found = s.scalar(sa.select(Deal.id).where(Deal.ref == ref.strip()))
    if found is None:
        raise DealNotFound(f"There is no deal with the ref {ref.strip()!r}.")
    return int(found)
