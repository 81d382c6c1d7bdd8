"""Benchmarks (SPEC §10): read them all for the lookup (``app.domain.benchmarks.applicable``),
list them for the Benchmarks page with which row of each series is in force, and delete them.

Rules where SPEC.md is silent (also in docs/rules.md):
- everyone reads benchmarks (reference figures, no row-level security); admins, brokers and
  managers import and delete them (on a server the grant of migration 0012 says the same, and
  a refusal by the server reads as the same sentence as the app's own);
- a series is (metric, asset type, deal type, cohort); its row in force on a day is the one
  with the newest effective date on or before it (then the highest id); its older rows are
  superseded, and rows effective after that day are future;
- a benchmark is never edited: a new figure is a new row (imported) that supersedes the old
  one; a wrong row is deleted. Deleting writes no audit entry (reference data, not a record
  of the office's business).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import Benchmark, User
from app.domain.benchmarks import COHORTS, BenchmarkRow, series_key
from app.domain.enums import Role
from app.domain.errors import PermissionDenied
from app.services.database import Database
from app.services.records import Acting, Actor, resolve_actor

#: Who imports and deletes benchmarks.
WRITERS: tuple[Role, ...] = (Role.BROKER, Role.MANAGER, Role.ADMIN)
_CHUNK = 500


def refusal(actor: Actor | None, doing: str) -> str | None:
    """Why ``actor`` may not ``doing`` (e.g. "import benchmarks"), or None when they may
    (local mode with nobody named may do everything)."""
    if actor is None or actor.role in {r.value for r in WRITERS}:
        return None
    return _refusal_text(actor.role, doing)


def _refusal_text(role: str | None, doing: str) -> str:
    text = f"Only a broker, manager or admin may {doing}"
    return f"{text}; you are signed in as {role}." if role else f"{text}."


def check_writer(actor: Actor | None, doing: str) -> None:
    """PermissionDenied unless ``actor`` may ``doing``."""
    problem = refusal(actor, doing)
    if problem is not None:
        raise PermissionDenied(problem)


def acting_person(s: Session, db: Database, acting: Acting) -> Actor | None:
    """The person named, else the person whose own server login this is; None for the office
    (a local file with nobody named, or the server's owner login), as imports do."""
    if acting is None and not db.is_local:
        login = s.scalar(sa.select(User.id).where(User.db_role == sa.func.current_user()))
        if login is None:
            return None
    return resolve_actor(s, db, acting)


def may_write_benchmarks(db: Database, acting: Acting = None) -> bool:
    """Whether the acting person may import and delete benchmarks."""
    with db.read() as s:
        return refusal(acting_person(s, db, acting), "change benchmarks") is None


def _row(b: Benchmark) -> BenchmarkRow:
    return BenchmarkRow(
        id=b.id,
        metric_key=b.metric_key,
        asset_type=b.asset_type,
        deal_type=b.deal_type,
        cohort=str(b.cohort),
        value_numeric=b.value_numeric,
        value_text=b.value_text,
        source=b.source,
        effective_date=b.effective_date,
    )


def load_benchmarks(s: Session) -> list[BenchmarkRow]:
    """Every benchmark, in one query (for ``applicable``)."""
    return [_row(b) for b in s.scalars(sa.select(Benchmark).order_by(Benchmark.id))]


@dataclass(frozen=True)
class BenchmarkItem:
    """A benchmark as the Benchmarks page lists it."""

    id: int
    metric_key: str
    asset_type: str | None
    deal_type: str | None
    cohort: str
    value_numeric: Decimal | None
    value_text: str | None
    source: str
    effective_date: dt.date
    #: The newest row effective on or before the day asked for, in its series.
    current: bool
    #: Effective after the day asked for.
    future: bool

    @property
    def superseded(self) -> bool:
        return not self.current and not self.future


def _cohort_order(cohort: str) -> int:
    return COHORTS.index(cohort) if cohort in COHORTS else len(COHORTS)


def list_benchmarks(db: Database, as_of: dt.date) -> list[BenchmarkItem]:
    """Every benchmark with its state on ``as_of``; sorted by metric, asset type, deal type
    ("any" first), cohort (industry, top quartile, internal), newest effective first."""
    with db.read() as s:
        rows = load_benchmarks(s)
    in_force: dict[tuple[str, str | None, str | None, str], BenchmarkRow] = {}
    for row in rows:
        if row.effective_date > as_of:
            continue
        key = series_key(row)
        held = in_force.get(key)
        if held is None or (row.effective_date, row.id) > (held.effective_date, held.id):
            in_force[key] = row
    current = {row.id for row in in_force.values()}
    items = [
        BenchmarkItem(
            id=r.id,
            metric_key=r.metric_key,
            asset_type=r.asset_type,
            deal_type=r.deal_type,
            cohort=r.cohort,
            value_numeric=r.value_numeric,
            value_text=r.value_text,
            source=r.source,
            effective_date=r.effective_date,
            current=r.id in current,
            future=r.effective_date > as_of,
        )
        for r in rows
    ]
    items.sort(
        key=lambda i: (
            i.metric_key.casefold(),
            (i.asset_type or "").casefold(),
            (i.deal_type or "").casefold(),
            _cohort_order(i.cohort),
            -i.effective_date.toordinal(),
            -i.id,
        )
    )
    return items


def delete_benchmarks(db: Database, ids: Sequence[int], acting: str | None = None) -> int:
    """Delete the benchmarks ``ids`` (admins, brokers, managers; with nobody named, the local
    person or the server's owner login); returns how many were deleted (ids no longer there
    are passed over)."""
    wanted = sorted({int(i) for i in ids})
    actor: Actor | None = None
    try:
        with db.session() as s:
            actor = acting_person(s, db, acting)
            check_writer(actor, "delete benchmarks")
            deleted = 0
            for start in range(0, len(wanted), _CHUNK):
                result = s.execute(
                    sa.delete(Benchmark).where(Benchmark.id.in_(wanted[start : start + _CHUNK]))
                )
                deleted += int(getattr(result, "rowcount", 0) or 0)
            return deleted
    except sa.exc.ProgrammingError as exc:
        if "permission denied" in str(exc).lower():
            role = actor.role if actor is not None else None
            raise PermissionDenied(_refusal_text(role, "delete benchmarks")) from None
        raise
