"""Loading the ``large`` demo office on SQLite and on PostgreSQL: wall time and peak memory.

Budget: ``generate(scale="large")`` under 180 s and at most 1 GB peak resident memory, on
each backend, on the project's 2-core machine. Each backend runs in a fresh process (so
its peak memory is its own) on a freshly migrated database: a temporary SQLite file, or a
scratch PostgreSQL database created here and dropped afterwards. One JSON line per backend:

    {"backend": "sqlite", "scale": "large", "seconds": 97.1, "rows": 5151934,
     "rows_per_s": 53057, "peak_rss_mb": 431, "within_budget": true, ...}

    .venv/bin/python bench/bench_demo.py [--scale large] [--backend sqlite|postgresql|both]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--seed 7]

Exit status 1 when a backend is over budget.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 180.0
BUDGET_RSS_MB = 1024.0
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _child(backend: str, url: str, scale: str, seed: int, as_of: str | None) -> None:
    """Runs in the measured process: migrate, generate, print one JSON line."""
    import datetime as dt
    import resource

    sys.path.insert(0, str(ROOT))
    from app.services.database import open_database
    from app.services.demo import generate
    from app.services.schema import prepare

    db = open_database(url)
    started = time.perf_counter()
    prepare(db)
    schema_seconds = time.perf_counter() - started
    day = dt.date.fromisoformat(as_of) if as_of else None
    summary = generate(db, scale=scale, seed=seed, as_of=day)
    db.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    rows = summary.total_rows
    result = {
        "backend": backend,
        "scale": scale,
        "seed": seed,
        "as_of": summary.as_of.isoformat(),
        "seconds": round(summary.seconds, 1),
        "rows": rows,
        "rows_per_s": round(rows / summary.seconds) if summary.seconds else None,
        "peak_rss_mb": round(peak_mb),
        "schema_seconds": round(schema_seconds, 2),
        "within_budget": summary.seconds < BUDGET_SECONDS and peak_mb <= BUDGET_RSS_MB,
        "tables": summary.rows,
    }
    print(json.dumps(result), flush=True)


def _run(backend: str, url: str, args: argparse.Namespace) -> dict[str, object]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        backend,
        "--url",
        url,
        "--scale",
        args.scale,
        "--seed",
        str(args.seed),
    ]
    if args.as_of:
        cmd += ["--as-of", args.as_of]
    started = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    line = out.stdout.strip().splitlines()[-1]
    result: dict[str, object] = json.loads(line)
    # The whole process: interpreter start, imports, migration, load, exit.
    result["process_seconds"] = round(time.perf_counter() - started, 1)
    return result


def _sqlite(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="perfdesk-bench-") as tmp:
        return _run("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args)


def _postgresql(args: argparse.Namespace) -> dict[str, object]:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    admin_url = make_url(args.pg_url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"perfdesk_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        return _run("postgresql", url, args)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large", choices=("small", "brokerage", "large"))
    parser.add_argument("--backend", default="both", choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default=None, help="YYYY-MM-DD (default: today)")
    parser.add_argument(
        "--pg-url", default=os.environ.get("PERFDESK_TEST_PG_URL", DEFAULT_PG), help="admin URL"
    )
    parser.add_argument("--tables", action="store_true", help="include rows per table")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.url, args.scale, args.seed, args.as_of)
        return 0
    ok = True
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        result = _sqlite(args) if backend == "sqlite" else _postgresql(args)
        if not args.tables:
            result.pop("tables", None)
        print(json.dumps(result), flush=True)
        ok = ok and bool(result["within_budget"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
