"""The ``feedback`` job (SPEC §12): every rent-roll period graded again by SPEC §9, then
every record's current grade, buy box's performance rate and buyer's engagement score
refreshed — "Recalculate all" without the window. Rows affected: the periods whose grade,
flags or variances changed, plus the records, buy boxes and buyers that changed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.services.jobs.runner import Job, JobContext, register
from app.services.postclose.regrade import recalculate

NAME = "feedback"


def _run(s: Session, ctx: JobContext) -> int:
    result = recalculate(s)
    return result.periods + result.records


JOB = register(
    Job(
        name=NAME,
        description="grade every rent-roll month again; refresh buy-box rates and buyer scores",
        run=_run,
    )
)
