"""The ``goals`` and ``achievements`` jobs (SPEC §8, §12).

``goals``: every open goal's progress computed again from the office's records; a goal whose
period ended before the run's day is finalised (achieved or missed), even if nobody opens
the app; reaching a goal notifies the person and their manager. Rows affected: the goals
whose value or status changed, plus those finalised.

``achievements``: every active badge rule looked at for the current period of its type and
the one before; badges earned are awarded and their people told. Rows affected: the badges
awarded.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.services.jobs.runner import Job, JobContext, register
from app.services.kpis.achievements import award_due
from app.services.kpis.goals import refresh_goals


def _goals(s: Session, ctx: JobContext) -> int:
    result = refresh_goals(s, ctx.as_of)
    return result.updated + result.finalized


def _achievements(s: Session, ctx: JobContext) -> int:
    return award_due(s, ctx.as_of)


GOALS = register(
    Job(
        name="goals",
        description="recompute open goals from the records; finalise those whose period ended",
        run=_goals,
    )
)
ACHIEVEMENTS = register(
    Job(
        name="achievements",
        description="award the badges earned this period and the last",
        run=_achievements,
    )
)
