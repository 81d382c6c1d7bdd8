"""In-app alerts of the KPI and goal jobs (SPEC §7–§8), emailed where the office set email up.

- ``kpi.target_missed``: a person's KPI measured below target (achievement < 100) three
  periods running, the newest being the period just computed: the manager of their team hears
  of it (no team or no manager: nobody). Said once per assignment and period.
- ``goal.achieved``: a goal reaching 100 % (while open, or when finalised): the person and the
  manager of their team; a team goal: the team's manager and its active members.
- ``achievement.earned``: a badge awarded: the person.

Raised in the job's transaction by the office's login or in local mode, which may write
anyone's notification; deliveries are queued by the same rules as every notification
(``queue_deliveries``: a recipient's settings row is honoured; these types have no switch).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import Team, User
from app.db.models.notifications import Notification, NotificationSetting
from app.domain.enums import NotificationType
from app.services.delivery.run import notification_wanted, queue_deliveries
from app.services.notifications import ENTITY_OF

TITLE_MAX = 200
BODY_MAX = 2000


def team_manager(s: Session, user_id: int) -> int | None:
    """The id of the active manager of the person's team, if any."""
    manager: int | None = s.scalar(
        sa.select(Team.manager_id)
        .join(User, User.team_id == Team.id)
        .where(User.id == user_id, Team.manager_id.is_not(None))
    )
    if manager is None:
        return None
    active = s.scalar(sa.select(User.is_active).where(User.id == manager))
    return manager if active else None


def already_said(
    s: Session, kind: NotificationType, entity_id: int, recipient: int, title: str
) -> bool:
    found = s.scalar(
        sa.select(Notification.id).where(
            Notification.type == kind,
            Notification.entity_id == entity_id,
            Notification.recipient_id == recipient,
            Notification.title == title[:TITLE_MAX],
        )
    )
    return found is not None


def notify(
    s: Session,
    kind: NotificationType,
    entity_id: int,
    recipients: Iterable[int],
    title: str,
    body: str,
    agent_id: int | None = None,
) -> int:
    """One notification per recipient (once: the same title to the same person about the same
    record is not said again); how many were raised."""
    raised = 0
    for recipient in dict.fromkeys(recipients):
        if already_said(s, kind, entity_id, recipient, title):
            continue
        setting = s.scalar(
            sa.select(NotificationSetting).where(NotificationSetting.broker_id == recipient)
        )
        if not notification_wanted(setting, kind, None):
            continue
        note = Notification(
            recipient_id=recipient,
            type=kind,
            agent_id=agent_id,
            entity_type=ENTITY_OF[kind],
            entity_id=entity_id,
            title=title[:TITLE_MAX],
            body=body[:BODY_MAX],
            price=None,
        )
        s.add(note)
        s.flush()
        queue_deliveries(s, note.id)
        raised += 1
    return raised
