"""The managers hear of post-close trouble (SPEC §9): a buy box that enters WARNING or
CRITICAL, a buyer whose engagement score drops by 10 points or more (the ``Alert``s that
``feedback.refresh_after_periods`` / ``refresh_everything`` return).

Rules:
- every active manager (role ``manager``) gets one in-app notification per alert, with no
  agent, about the buy box (``buy_box``) or the buyer (``buyer``); no manager, nobody;
- email "where set": the same rules as every notification (``delivery_channels``): the
  office has set email up and the manager has an address; a manager with no settings row
  gets in-app and email; a settings row is honoured (in-app off: nothing; email off: no
  email; SMS on: SMS as well). The alert types have no switch of their own: wanted;
- raised in the caller's transaction, so the period and its alerts are written together or
  not at all. Local mode and a login that is no person (the server's owner) insert the rows
  and queue the deliveries here; a person's PostgreSQL login may not insert someone else's
  notification (row-level security) and calls the SECURITY DEFINER ``notify_managers``
  (migration 0009), which checks the caller may enter rent-roll months, decides the same
  recipients and queues the same deliveries.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models.notifications import Notification, NotificationSetting
from app.db.models.people import User
from app.domain.enums import NotificationType, Role
from app.services.database import Database
from app.services.delivery.run import notification_wanted, queue_deliveries
from app.services.postclose.feedback import Alert

#: An alert's kind → (notification type, entity type).
KINDS: dict[str, tuple[NotificationType, str]] = {
    "buy_box.warning": (NotificationType.BUY_BOX_WARNING, "buy_box"),
    "buyer.score_drop": (NotificationType.BUYER_SCORE_DROP, "buyer"),
}
TITLE_MAX = 200
#: The body kept (the server's function keeps as much).
BODY_MAX = 2000


def _person_login(s: Session, db: Database | None) -> bool:
    """The session is a person's own PostgreSQL login (not local mode, not the owner)."""
    local = db.is_local if db is not None else s.get_bind().dialect.name == "sqlite"
    if local:
        return False
    found = s.scalar(sa.select(User.id).where(User.db_role == sa.func.current_user()))
    return found is not None


def _managers(s: Session) -> list[User]:
    return list(
        s.scalars(
            sa.select(User)
            .where(User.role == Role.MANAGER.value, User.is_active.is_(True))
            .order_by(User.id)
        )
    )


def notify_managers(s: Session, db: Database | None, alerts: Sequence[Alert]) -> int:
    """Notify every active manager of each alert, in ``s``'s transaction; how many
    notifications were raised. ``db`` None: local mode is told from the session."""
    if not alerts:
        return 0
    if _person_login(s, db):
        raised = 0
        for alert in alerts:
            kind, entity = KINDS[alert.kind]
            count = s.scalar(
                sa.text("SELECT public.notify_managers(:kind, :entity, :entity_id, :title, :body)"),
                {
                    "kind": kind.value,
                    "entity": entity,
                    "entity_id": alert.subject_id,
                    "title": alert.title[:TITLE_MAX],
                    "body": alert.body[:BODY_MAX],
                },
            )
            raised += int(count or 0)
        return raised
    managers = _managers(s)
    settings = {
        row.broker_id: row
        for row in s.scalars(
            sa.select(NotificationSetting).where(
                NotificationSetting.broker_id.in_([m.id for m in managers])
            )
        )
    }
    raised = 0
    for alert in alerts:
        kind, entity = KINDS[alert.kind]
        for manager in managers:
            if not notification_wanted(settings.get(manager.id), kind, None):
                continue
            note = Notification(
                recipient_id=manager.id,
                type=kind,
                agent_id=None,
                entity_type=entity,
                entity_id=alert.subject_id,
                title=alert.title[:TITLE_MAX],
                body=alert.body[:BODY_MAX],
                price=None,
            )
            s.add(note)
            s.flush()
            queue_deliveries(s, note.id)
            raised += 1
    return raised
