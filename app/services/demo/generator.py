"""``generate``: fill an empty, migrated database with a demo office."""

from __future__ import annotations

import datetime as dt
import gc
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from sqlalchemy.exc import DBAPIError

from app.domain.errors import DatabaseProblem, PerfDeskError
from app.services.database import Database
from app.services.dberrors import explain
from app.services.demo.bulk import Writer, open_target
from app.services.demo.clock import Clock
from app.services.demo.context import Context
from app.services.demo.goals import generate_goals
from app.services.demo.kpis import generate_kpis
from app.services.demo.people import generate_people
from app.services.demo.pipeline import generate_pipeline
from app.services.demo.postclose import generate_postclose
from app.services.demo.records import generate_records
from app.services.demo.scales import Scale, get_scale
from app.services.demo.settings import generate_settings

DEFAULT_SEED = 7
#: The parts of the office, in the order they are written (each refers only to earlier ones).
STEPS: tuple[Callable[[Context], object], ...] = (
    generate_people,
    generate_records,
    generate_pipeline,
    generate_kpis,
    generate_goals,
    generate_postclose,
    generate_settings,
)


@dataclass(frozen=True)
class DemoSummary:
    """What was written: rows per table, and how long it took."""

    scale: str
    seed: int
    as_of: dt.date
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        """One line for the command line: the main counts and the time taken."""
        main = ("users", "leads", "appointments", "clients", "listings", "escrows", "deals",
                "commission_records", "performance_periods")  # fmt: skip
        parts = [f"{self.rows[t]:,} {t.replace('_', ' ')}" for t in main if self.rows.get(t)]
        return (
            f"{', '.join(parts)} ({self.total_rows:,} rows in all, as of {self.as_of}) "
            f"in {self.seconds:.1f} s"
        )


def _load(
    db: Database,
    spec: Scale,
    seed: int,
    day: dt.date,
    progress: Callable[[int, int, str], None] | None,
    cancelled: Callable[[], bool] | None,
) -> dict[str, int]:
    fairy = db.engine.raw_connection()
    try:
        target = open_target(fairy.driver_connection, db.engine.dialect)
        try:
            try:
                people = target.execute("SELECT 1 FROM users LIMIT 1")
            except (sqlite3.Error, psycopg.Error) as exc:
                raise DatabaseProblem(
                    f"{db.describe()} has no PerfDesk schema yet (run migrate first); "
                    "nothing was changed."
                ) from exc
            if people:
                raise PerfDeskError(
                    f"{db.describe()} already has people in it; demo data goes only into an "
                    "empty database. Nothing was changed."
                )
        except BaseException:
            target.abort()
            raise
        writer = Writer(
            target,
            chunk_rows=spec.chunk_rows,
            progress=progress,
            cancelled=cancelled,
            total_hint=spec.planned_rows(),
        )
        try:
            ctx = Context(scale=spec, seed=seed, clock=Clock(day), writer=writer)
            for step in STEPS:
                step(ctx)
            return writer.finish()
        except BaseException:
            writer.abort()
            raise
    finally:
        fairy.close()


def generate(
    db: Database,
    scale: str = "brokerage",
    seed: int | None = 7,
    progress: Callable[[int, int, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    as_of: dt.date | None = None,
) -> DemoSummary:
    """Fill ``db`` (migrated, with nobody in it) with the demo office at ``scale``.

    Deterministic for a given (scale, seed, as_of). Everything is written in one
    transaction: on error or cancel (``DemoCancelled``) nothing is left behind.
    """
    spec = get_scale(scale)
    seed = DEFAULT_SEED if seed is None else seed
    day = as_of or dt.date.today()
    started = time.perf_counter()
    # Millions of short-lived tuples make the cyclic garbage collector rescan everything
    # still buffered, over and over (a sixth of the time at the large scale); nothing here
    # makes cycles, so it is paused for the load and put back as it was.
    collecting = gc.isenabled()
    gc.disable()
    try:
        rows = _load(db, spec, seed, day, progress, cancelled)
    except (sqlite3.Error, psycopg.Error, DBAPIError) as exc:
        raise DatabaseProblem(f"Demo data was not written: {explain(exc, db.describe())}") from exc
    finally:
        if collecting:
            gc.enable()
    return DemoSummary(
        scale=spec.name,
        seed=seed,
        as_of=day,
        rows={k: v for k, v in rows.items() if v},
        seconds=round(time.perf_counter() - started, 3),
    )
