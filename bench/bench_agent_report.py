"""The broker dashboard's agent cards on the ``large`` demo: ``agent_report()`` against the
fastest single hand-written SQL statement that yields the same numbers, in the same run.

Budget (issue 3): all cards ≤ 1 s on each backend, ≤ 1.5 × the fastest hand-written SQL,
peak resident memory ≤ 400 MB. Medians of ``--runs`` (5) after one warm-up; the report and
each SQL variant take turns, so a noisy neighbour slows them alike. The report is run as
the demo's broker (``--as``), i.e. every agent of the brokerage, counts only.

Each backend is measured in a fresh process (its peak memory is the report's own, not the
data load's). The data is loaded by ``app.services.demo.generate`` in another process first;
``--sqlite-file`` / ``--pg-database`` keep it for the next run (loading ``large`` takes minutes)
and reuse it when it is already there. One JSON line per backend:

    {"backend": "sqlite", "agents": 500, "leads": 2000000, "proposed_indexes": true,
     "report_s": 0.557, "sql_s": 0.528, "sql_variant": "grouped", "ratio": 1.06,
     "peak_rss_mb": 61, "same_numbers": true, "within_budget": true, …}

    .venv/bin/python bench/bench_agent_report.py [--backend sqlite|postgresql|both]
        [--scale large] [--runs 5] [--as EMAIL] [--indexes] [--variants a,b]
        [--sqlite-file PATH] [--pg-database NAME]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

``--indexes`` adds ``PROPOSED_INDEXES`` to the data first (and a run without it drops them),
to show what the migrated schema alone gives and what the proposed indexes add.
Exit status 1 when a backend is over budget or the numbers differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGET_SECONDS = 1.0
BUDGET_RATIO = 1.5
BUDGET_RSS_MB = 400.0
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# ---------------------------------------------------------------------------- hand-written SQL
# Both return one row per person of the brokerage (the broker :b and everyone whose broker
# is :b): id, card?, the SPEC §2 numbers, last activity; totals are summed by the caller.
# ``is_private = false`` and ``count(*) FILTER`` read the same on SQLite and PostgreSQL.

_PEOPLE = "SELECT id FROM users WHERE id = :b OR broker_id = :b"

_GROUPED = f"""
WITH l AS (
  SELECT owner_id AS uid, count(*) AS total,
         count(*) FILTER (WHERE created_at >= :start) AS new,
         count(*) FILTER (WHERE status = 'converted') AS conv, max(created_at) AS last
  FROM leads WHERE is_private = false AND created_at < :end AND owner_id IN ({_PEOPLE})
  GROUP BY owner_id),
a AS (
  SELECT agent_id AS uid,
         count(*) FILTER (WHERE start_time >= :start AND start_time < :end
                          AND status <> 'cancelled') AS sched,
         count(*) FILTER (WHERE start_time >= :start AND start_time < :end
                          AND status = 'completed') AS done,
         count(*) FILTER (WHERE start_time >= :start AND start_time < :end
                          AND status = 'no_show') AS noshow,
         max(created_at) AS last
  FROM appointments WHERE is_private = false AND created_at < :end AND agent_id IN ({_PEOPLE})
  GROUP BY agent_id),
e AS (
  SELECT agent_id AS uid,
         count(*) FILTER (WHERE created_at >= :ytd
                          AND escrow_status IN ('Active', 'Pending', 'Closed')) AS n,
         sum(purchase_price) FILTER (WHERE created_at >= :ytd
                          AND escrow_status IN ('Active', 'Pending', 'Closed')) AS volume,
         sum(my_commission) FILTER (WHERE created_at >= :ytd
                          AND escrow_status IN ('Active', 'Pending', 'Closed')) AS commission,
         max(created_at) AS last
  FROM escrows WHERE created_at < :end AND agent_id IN ({_PEOPLE}) GROUP BY agent_id),
c AS (SELECT agent_id AS uid, count(*) AS n FROM clients
      WHERE status = 'active' AND created_at < :end AND agent_id IN ({_PEOPLE}) GROUP BY agent_id),
li AS (SELECT agent_id AS uid, count(*) AS n FROM listings
      WHERE status = 'active' AND created_at < :end AND agent_id IN ({_PEOPLE}) GROUP BY agent_id)
SELECT u.id, u.role = 'agent' AND u.is_active AND u.broker_id = :b AS card,
       coalesce(l.total, 0), coalesce(l.new, 0), coalesce(l.conv, 0),
       coalesce(a.sched, 0), coalesce(a.done, 0), coalesce(a.noshow, 0),
       coalesce(e.n, 0), coalesce(e.volume, 0), coalesce(e.commission, 0),
       coalesce(c.n, 0), coalesce(li.n, 0),
       CASE WHEN u.last_login < :end THEN u.last_login END, l.last, a.last, e.last
FROM users u
LEFT JOIN l ON l.uid = u.id LEFT JOIN a ON a.uid = u.id LEFT JOIN e ON e.uid = u.id
LEFT JOIN c ON c.uid = u.id LEFT JOIN li ON li.uid = u.id
WHERE u.id = :b OR u.broker_id = :b
"""

# The grouped statement without the owner filter: every owner is aggregated and the join
# keeps the brokerage's (the same numbers in a one-broker office, less work per row).
_GROUPED_ALL = _GROUPED.replace(f"AND owner_id IN ({_PEOPLE})", "").replace(
    f"AND agent_id IN ({_PEOPLE})", ""
)

# The seeds' shape: one correlated subquery per number and person (indexes on owner, time).
_CORRELATED = """
SELECT u.id, u.role = 'agent' AND u.is_active AND u.broker_id = :b AS card,
  (SELECT count(*) FROM leads x WHERE x.owner_id = u.id AND x.is_private = false
     AND x.created_at < :end),
  (SELECT count(*) FROM leads x WHERE x.owner_id = u.id AND x.is_private = false
     AND x.created_at >= :start AND x.created_at < :end),
  (SELECT count(*) FROM leads x WHERE x.owner_id = u.id AND x.is_private = false
     AND x.created_at < :end AND x.status = 'converted'),
  (SELECT count(*) FROM appointments x WHERE x.agent_id = u.id AND x.is_private = false
     AND x.created_at < :end AND x.start_time >= :start AND x.start_time < :end
     AND x.status <> 'cancelled'),
  (SELECT count(*) FROM appointments x WHERE x.agent_id = u.id AND x.is_private = false
     AND x.created_at < :end AND x.start_time >= :start AND x.start_time < :end
     AND x.status = 'completed'),
  (SELECT count(*) FROM appointments x WHERE x.agent_id = u.id AND x.is_private = false
     AND x.created_at < :end AND x.start_time >= :start AND x.start_time < :end
     AND x.status = 'no_show'),
  (SELECT count(*) FROM escrows x WHERE x.agent_id = u.id AND x.created_at >= :ytd
     AND x.created_at < :end AND x.escrow_status IN ('Active', 'Pending', 'Closed')),
  (SELECT coalesce(sum(purchase_price), 0) FROM escrows x WHERE x.agent_id = u.id
     AND x.created_at >= :ytd AND x.created_at < :end
     AND x.escrow_status IN ('Active', 'Pending', 'Closed')),
  (SELECT coalesce(sum(my_commission), 0) FROM escrows x WHERE x.agent_id = u.id
     AND x.created_at >= :ytd AND x.created_at < :end
     AND x.escrow_status IN ('Active', 'Pending', 'Closed')),
  (SELECT count(*) FROM clients x WHERE x.agent_id = u.id AND x.status = 'active'
     AND x.created_at < :end),
  (SELECT count(*) FROM listings x WHERE x.agent_id = u.id AND x.status = 'active'
     AND x.created_at < :end),
  CASE WHEN u.last_login < :end THEN u.last_login END,
  (SELECT max(created_at) FROM leads x WHERE x.owner_id = u.id AND x.is_private = false
     AND x.created_at < :end),
  (SELECT max(created_at) FROM appointments x WHERE x.agent_id = u.id AND x.is_private = false
     AND x.created_at < :end),
  (SELECT max(created_at) FROM escrows x WHERE x.agent_id = u.id AND x.created_at < :end)
FROM users u WHERE u.id = :b OR u.broker_id = :b
"""

# What the report asks on SQLite, by hand: leads by correlated range counts per person (the
# covering index answers each by range), the period's appointments grouped with the period
# in WHERE, newest lead and appointment as correlated max, the rest grouped.
_RANGES = """
WITH a AS (
  SELECT agent_id AS uid, count(*) FILTER (WHERE status <> 'cancelled') AS sched,
         count(*) FILTER (WHERE status = 'completed') AS done,
         count(*) FILTER (WHERE status = 'no_show') AS noshow
  FROM appointments WHERE is_private = false AND created_at < :end
    AND start_time >= :start AND start_time < :end GROUP BY agent_id),
e AS (
  SELECT agent_id AS uid,
         count(*) FILTER (WHERE created_at >= :ytd
                          AND escrow_status IN ('Active', 'Pending', 'Closed')) AS n,
         sum(purchase_price) FILTER (WHERE created_at >= :ytd
                          AND escrow_status IN ('Active', 'Pending', 'Closed')) AS volume,
         sum(my_commission) FILTER (WHERE created_at >= :ytd
                          AND escrow_status IN ('Active', 'Pending', 'Closed')) AS commission,
         max(created_at) AS last
  FROM escrows WHERE created_at < :end GROUP BY agent_id),
c AS (SELECT agent_id AS uid, count(*) AS n FROM clients
      WHERE status = 'active' AND created_at < :end GROUP BY agent_id),
li AS (SELECT agent_id AS uid, count(*) AS n FROM listings
      WHERE status = 'active' AND created_at < :end GROUP BY agent_id)
SELECT u.id, u.role = 'agent' AND u.is_active AND u.broker_id = :b AS card,
  (SELECT count(*) FROM leads x WHERE x.owner_id = u.id AND x.is_private = false
     AND x.created_at < :end),
  (SELECT count(*) FROM leads x WHERE x.owner_id = u.id AND x.is_private = false
     AND x.created_at >= :start AND x.created_at < :end),
  (SELECT count(*) FROM leads x WHERE x.owner_id = u.id AND x.is_private = false
     AND x.created_at < :end AND x.status = 'converted'),
  coalesce(a.sched, 0), coalesce(a.done, 0), coalesce(a.noshow, 0),
  coalesce(e.n, 0), coalesce(e.volume, 0), coalesce(e.commission, 0),
  coalesce(c.n, 0), coalesce(li.n, 0),
  CASE WHEN u.last_login < :end THEN u.last_login END,
  (SELECT max(created_at) FROM leads x WHERE x.owner_id = u.id AND x.is_private = false
     AND x.created_at < :end),
  (SELECT max(created_at) FROM appointments x WHERE x.agent_id = u.id AND x.is_private = false
     AND x.created_at < :end),
  e.last
FROM users u
LEFT JOIN a ON a.uid = u.id LEFT JOIN e ON e.uid = u.id
LEFT JOIN c ON c.uid = u.id LEFT JOIN li ON li.uid = u.id
WHERE u.id = :b OR u.broker_id = :b
"""

VARIANTS = {
    "grouped": _GROUPED,
    "grouped_all_owners": _GROUPED_ALL,
    "ranges": _RANGES,
    "correlated": _CORRELATED,
}
#: The correlated shape takes 4–10 s at ``large``; time it only when asked.
DEFAULT_VARIANTS = ["grouped", "grouped_all_owners", "ranges"]

#: Indexes the report would like beyond the migrated schema (``--indexes`` adds them to the
#: scratch data only; the schema itself is the migrations' business). Each makes its
#: table's aggregate an index-only scan, in owner order, of the columns it reads.
PROPOSED_INDEXES = {
    "ix_bench_leads_kpi": "leads (owner_id, is_private, created_at, status)",
    "ix_bench_appointments_kpi": (
        "appointments (agent_id, is_private, created_at, start_time, status)"
    ),
    "ix_bench_clients_kpi": "clients (agent_id, status, created_at)",
    "ix_bench_listings_kpi": "listings (agent_id, status, created_at)",
}


# ---------------------------------------------------------------------------- measured child


def _time(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _when(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _canonical_sql(
    rows: list[Any], sqlite: bool
) -> tuple[dict[int, tuple[Any, ...]], tuple[Any, ...]]:
    """Cards and totals from a hand-written statement's rows, in the report's terms."""

    def money(v: Any) -> Decimal:
        return Decimal(int(v)).scaleb(-2) if sqlite else Decimal(v).quantize(Decimal("0.01"))

    cards: dict[int, tuple[Any, ...]] = {}
    volume, escrows, clients, listings = Decimal(0), 0, 0, 0
    for row in rows:
        uid, card, *counts = row[:13]
        moments = [m for m in (_when(v) for v in row[13:]) if m is not None]
        volume += money(counts[7])
        escrows, clients, listings = escrows + counts[6], clients + counts[9], listings + counts[10]
        if card:
            numbers = (*counts[:6], counts[6], money(counts[7]), money(counts[8]), *counts[9:])
            cards[uid] = (*numbers, max(moments) if moments else None)
    return cards, (volume.quantize(Decimal("0.01")), escrows, clients, listings)


def _canonical_report(report: Any) -> tuple[dict[int, tuple[Any, ...]], tuple[Any, ...]]:
    cards = {
        a.user_id: (
            a.total_leads, a.new_leads, a.converted_leads, a.appointments_scheduled,
            a.appointments_completed, a.no_shows, a.escrows_ytd, a.volume_ytd,
            a.commission_ytd, a.active_clients, a.active_listings, a.last_activity,
        )
        for a in report.agents
    }  # fmt: skip
    b = report.brokerage
    return cards, (b.volume_ytd, b.escrows_ytd, b.active_clients, b.active_listings)


def _child(
    backend: str, url: str, runs: int, acting: str | None, variants: list[str], indexes: bool
) -> None:
    import resource

    import sqlalchemy as sa

    from app.domain.agent_kpis import report_period
    from app.services.database import open_database
    from app.services.reports import agent_report

    db = open_database(url)
    sqlite = db.dialect == "sqlite"
    with db.read() as s:
        newest = s.execute(sa.text("SELECT max(created_at) FROM leads")).scalar()
        as_of = (_when(newest) or dt.datetime.now(dt.UTC)).date()
        broker_id, email = s.execute(
            sa.text(
                "SELECT id, email FROM users WHERE role = 'broker' AND "
                + ("lower(email) = :e" if acting else "1 = 1")
                + " ORDER BY id LIMIT 1"
            ),
            {"e": (acting or "").lower()},
        ).one()
        sizes = {
            t: s.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("users", "leads", "appointments", "escrows", "clients", "listings")
        }
    period = report_period(as_of, 30)

    def bound(moment: dt.datetime) -> Any:
        # How UTCDateTime stores it: naive UTC text on SQLite, timestamptz on PostgreSQL.
        return moment.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else moment

    params = {
        "b": broker_id,
        "start": bound(period.start),
        "end": bound(period.end),
        "ytd": bound(period.ytd_start),
    }

    def run_report() -> Any:
        return agent_report(db, as_of, 30, acting_email=email)

    def run_sql(name: str) -> Callable[[], list[Any]]:
        statement = sa.text(VARIANTS[name])

        def go() -> list[Any]:
            with db.engine.connect() as conn:
                return list(conn.execute(statement, params).all())

        return go

    # Warm-up, and the check that every variant yields the report's numbers.
    expected = _canonical_report(run_report())
    mismatches = [v for v in variants if _canonical_sql(run_sql(v)(), sqlite) != expected]
    timings: dict[str, list[float]] = {"report": [], **{v: [] for v in variants}}
    for _ in range(runs):
        timings["report"].append(_time(run_report)[0])
        for v in variants:
            timings[v].append(_time(run_sql(v))[0])
    db.dispose()
    medians = {k: statistics.median(v) for k, v in timings.items()}
    fastest = min(variants, key=lambda v: medians[v])
    report_s, sql_s = medians["report"], medians[fastest]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    ratio = report_s / sql_s
    result = {
        "backend": backend,
        "as_of": as_of.isoformat(),
        "acting": email,
        "agents": len(expected[0]),
        **sizes,
        "proposed_indexes": indexes,
        "runs": runs,
        "report_s": round(report_s, 3),
        "sql_s": round(sql_s, 3),
        "sql_variant": fastest,
        "ratio": round(ratio, 2),
        "variants_s": {v: round(medians[v], 3) for v in variants},
        "report_runs_s": [round(t, 3) for t in timings["report"]],
        "peak_rss_mb": round(peak_mb),
        "same_numbers": not mismatches,
        "mismatched_variants": mismatches,
        "within_budget": report_s <= BUDGET_SECONDS
        and ratio <= BUDGET_RATIO
        and peak_mb <= BUDGET_RSS_MB
        and not mismatches,
    }
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------------------- data


def _load(url: str, scale: str, seed: int, indexes: bool) -> None:
    """Runs in its own process: migrate and load the demo office unless it is there already;
    add or drop the proposed indexes."""
    import sqlalchemy as sa

    from app.services.database import open_database
    from app.services.demo import generate
    from app.services.schema import prepare

    db = open_database(url)
    prepare(db)
    with db.read() as s:
        filled = s.execute(sa.text("SELECT count(*) FROM users")).scalar()
    if not filled:
        summary = generate(db, scale=scale, seed=seed)
        print(f"loaded {summary.summary()}", file=sys.stderr)
    with db.engine.begin() as conn:
        for name, target in PROPOSED_INDEXES.items():
            conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
            if indexes:
                conn.execute(sa.text(f"CREATE INDEX {name} ON {target}"))
    if db.dialect == "postgresql":
        # What autovacuum does shortly after a bulk load (index-only scans need it).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    # SQLite: no ANALYZE, as the app never runs one; the planner works without statistics.
    db.dispose()


def _spawn(*args: str) -> str:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def _measure(backend: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    _spawn("--load", url, "--scale", args.scale, "--seed", str(args.seed),
           *(["--indexes"] if args.indexes else []))  # fmt: skip
    line = _spawn(
        "--child", backend, "--url", url, "--runs", str(args.runs),
        "--variants", ",".join(args.variants), *(["--as", args.acting] if args.acting else []),
        *(["--indexes"] if args.indexes else []),
    )  # fmt: skip
    result: dict[str, Any] = json.loads(line)
    return result


def _sqlite(args: argparse.Namespace) -> dict[str, Any]:
    if args.sqlite_file:
        return _measure("sqlite", f"sqlite:///{Path(args.sqlite_file).resolve()}", args)
    with tempfile.TemporaryDirectory(prefix="perfdesk-bench-") as tmp:
        return _measure("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args)


def _postgresql(args: argparse.Namespace) -> dict[str, Any]:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    admin_url = make_url(args.pg_url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = args.pg_database or f"perfdesk_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.scalar() is None:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        return _measure("postgresql", admin_url.set(database=name).render_as_string(False), args)
    finally:
        if not args.pg_database:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large", choices=("small", "brokerage", "large"))
    parser.add_argument("--backend", default="both", choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--as", dest="acting", default=None, help="a broker (default: the first)")
    parser.add_argument("--sqlite-file", default=None, help="keep/reuse the SQLite data here")
    parser.add_argument("--pg-database", default=None, help="keep/reuse the PostgreSQL data here")
    parser.add_argument(
        "--pg-url", default=os.environ.get("PERFDESK_TEST_PG_URL", DEFAULT_PG), help="admin URL"
    )
    parser.add_argument(
        "--variants",
        type=lambda text: text.split(","),
        default=DEFAULT_VARIANTS,
        help=f"hand-written SQL to time, of {','.join(VARIANTS)} "
        f"(default: {','.join(DEFAULT_VARIANTS)})",
    )
    parser.add_argument(
        "--indexes", action="store_true", help="add the proposed indexes to the data first"
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--load", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        _load(args.load, args.scale, args.seed, args.indexes)
        return 0
    if args.child:
        _child(args.child, args.url, args.runs, args.acting, args.variants, args.indexes)
        return 0
    ok = True
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        result = _sqlite(args) if backend == "sqlite" else _postgresql(args)
        print(json.dumps(result), flush=True)
        ok = ok and bool(result["within_budget"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
