"""Who may see and change what of the KPIs (SPEC §1), as the services apply it on both backends
(PostgreSQL's row-level security says the same: ``perfdesk_kpi_people_of``, app/db/security.py).

- definitions: everyone reads; admins create, edit and deactivate;
- assignments and measurements: read — one's own, a broker's agents', the members of the
  teams one manages, everyone's for an admin; write (assign, enter values) — the members of
  the teams one manages, everyone's for an admin;
- local mode with nobody named: the one person at this computer does everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import Team, User
from app.domain.enums import Role
from app.domain.errors import PermissionDenied
from app.services.records import Actor


@dataclass(frozen=True)
class KpiScope:
    """The people whose KPIs an actor reads and writes (None: everyone)."""

    actor: Actor | None
    readable: frozenset[int] | None
    writable: frozenset[int] | None

    def may_read(self, user_id: int) -> bool:
        return self.readable is None or user_id in self.readable

    def may_write(self, user_id: int) -> bool:
        return self.writable is None or user_id in self.writable

    @property
    def may_assign(self) -> bool:
        return self.writable is None or bool(self.writable)

    @property
    def may_define(self) -> bool:
        return self.actor is None or self.actor.role == Role.ADMIN.value

    def check_write(self, user_id: int, email: str) -> None:
        if not self.may_write(user_id):
            raise PermissionDenied(
                f"You may not assign KPIs to or enter values for {email}: only the manager "
                "of their team or an admin may."
            )

    def check_define(self) -> None:
        if not self.may_define:
            raise PermissionDenied("Only an admin may create or change KPI definitions.")


def kpi_scope(s: Session, actor: Actor | None) -> KpiScope:
    if actor is None or actor.role == Role.ADMIN.value:
        return KpiScope(actor, None, None)
    managed = sa.select(Team.id).where(Team.manager_id == actor.id)
    writable = frozenset(
        s.scalars(sa.select(User.id).where(User.team_id.in_(managed), User.is_active))
    )
    theirs = frozenset(
        s.scalars(sa.select(User.id).where(sa.or_(User.id == actor.id, User.broker_id == actor.id)))
    )
    return KpiScope(actor, writable | theirs, writable)
