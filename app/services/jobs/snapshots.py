"""The ``snapshots`` job (SPEC §10, §12): every agent's performance snapshot for the day it
runs as of, and with ``days`` N the N days ending then (a backfill), stored by upsert, so a
second run the same day updates the rows and never adds any. Rows affected: the rows stored.

The scheduler runs it early each UTC morning with ``days=2``: yesterday's snapshot, final now
that the day is over, and today's so far (docs/rules.md, Snapshots).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.services.analytics.snapshots import last_days, store_snapshots
from app.services.jobs.runner import Job, JobContext, JobOutcome, register

NAME = "snapshots"


def _snapshots(s: Session, ctx: JobContext) -> JobOutcome:
    first, last = last_days(ctx.as_of, ctx.options.get("days", 1))
    run = store_snapshots(s, ctx.dialect, first, last, ctx.progress, ctx.cancelled)
    days = f"{first.isoformat()} to {last.isoformat()}" if run.days > 1 else last.isoformat()
    return JobOutcome(run.rows, f"{run.agents} agents, {days}")


SNAPSHOTS = register(
    Job(
        name=NAME,
        description="store every agent's daily performance snapshot (SPEC §10)",
        run=_snapshots,
    )
)
