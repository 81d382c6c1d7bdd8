"""Analytics (issue 7) on the ``large`` demo: snapshots, the Analytics page, ROI by lead source.

Each prints one JSON line:
- ``snapshots_day``: every agent's snapshot for one day (``store_snapshots`` for ``--as-of``:
  501 agents and brokers, 50,000 deals, 199,400 commissions), stored; median of ``--runs``.
  Budget ≤ 2 s per day computed.
- ``snapshots_backfill``: the 90 days ending ``--as-of`` in one run (45,090 rows upserted).
  Budget ≤ 60 s.
- ``analytics``: ``analytics_overview`` for the whole office and for one team over the 30 days
  ending ``--as-of`` (needs the backfill's rows); ``analytics_page``: the Analytics page in an
  offscreen window, from ``reload()`` to the figures shown (local file only: the window on a
  server works under a person's login). Budget ≤ 200 ms.
- ``roi``: ``roi_report`` for the office over the month before ``--as-of`` (2 M leads grouped
  by source); ``roi_page``: the Lead sources page. Budget ≤ 200 ms.

    .venv/bin/python bench/bench_analytics.py --db sqlite:////work/benchdata/large.sqlite3
    .venv/bin/python bench/bench_analytics.py \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/perfdesk_bench_large
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_kpis import _median_ms, _spin, backend, emit

DAY_BUDGET_S = 2.0
BACKFILL_BUDGET_S = 60.0
PAGE_BUDGET_MS = 200.0
BACKFILL_DAYS = 90


def bench_snapshots(url: str, as_of: dt.date, runs: int) -> None:
    from app.services.analytics.snapshots import store_snapshots
    from app.services.database import open_database

    db = open_database(url)
    times = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        with db.session() as s:
            rows = store_snapshots(s, db.dialect, as_of, as_of).rows
        times.append(time.perf_counter() - started)
    med = statistics.median(times)
    emit({
        "bench": "snapshots_day", "backend": backend(url), "day": as_of.isoformat(),
        "rows": rows, "median_s": round(med, 2), "max_s": round(max(times), 2),
        "within_budget": med <= DAY_BUDGET_S,
    })  # fmt: skip
    first = as_of - dt.timedelta(days=BACKFILL_DAYS - 1)
    started = time.perf_counter()
    with db.session() as s:
        run = store_snapshots(s, db.dialect, first, as_of)
    seconds = time.perf_counter() - started
    emit({
        "bench": "snapshots_backfill", "backend": backend(url), "days": run.days,
        "rows": run.rows, "seconds": round(seconds, 1),
        "per_day_s": round(seconds / run.days, 3), "within_budget": seconds <= BACKFILL_BUDGET_S,
    })  # fmt: skip
    db.dispose()


def _big_team(db: Any) -> int:
    import sqlalchemy as sa

    from app.db.models import User

    with db.read() as s:
        return int(
            s.execute(
                sa.select(User.team_id)
                .where(User.team_id.is_not(None))
                .group_by(User.team_id)
                .order_by(sa.func.count().desc())
                .limit(1)
            ).scalar_one()
        )


def bench_services(url: str, as_of: dt.date, runs: int) -> None:
    from app.services.analytics.overview import AnalyticsScope, analytics_overview
    from app.services.analytics.roi import roi_report
    from app.services.database import open_database

    db = open_database(url)
    start = as_of - dt.timedelta(days=29)
    team = _big_team(db)
    for name, scope in (("everyone", AnalyticsScope()), ("team", AnalyticsScope(team_id=team))):
        med, worst = _median_ms(
            lambda scope=scope: analytics_overview(db, scope, start, as_of), runs
        )
        emit({
            "bench": "analytics", "backend": backend(url), "scope": name, "days": 30,
            "median_ms": round(med, 1), "max_ms": round(worst, 1),
            "within_budget": med <= PAGE_BUDGET_MS,
        })  # fmt: skip
    month_end = as_of.replace(day=1) - dt.timedelta(days=1)
    month_start = month_end.replace(day=1)
    med, worst = _median_ms(lambda: roi_report(db, month_start, month_end), runs)
    emit({
        "bench": "roi", "backend": backend(url), "range": f"{month_start}..{month_end}",
        "median_ms": round(med, 1), "max_ms": round(worst, 1),
        "within_budget": med <= PAGE_BUDGET_MS,
    })  # fmt: skip
    db.dispose()


def bench_pages(url: str, as_of: dt.date, runs: int) -> None:
    """The pages in an offscreen window: ``reload()`` → the figures read and painted."""
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.gui.app_settings import AppSettings
    from app.gui.context import AppContext
    from app.gui.database_holder import DbState
    from app.gui.main_window import MainWindow
    from app.gui.targets import ExplicitUrl

    app = QApplication.instance() or QApplication([])
    month_end = as_of.replace(day=1) - dt.timedelta(days=1)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(f"{tmp}/bench.ini", QSettings.Format.IniFormat)
        settings.setValue("window/lastPage", "people")
        ctx = AppContext.create(AppSettings(settings))
        window = MainWindow(ctx)
        window.resize(1400, 900)
        window.show()
        window.open_database(ExplicitUrl(url))
        _spin(app, lambda: ctx.database.state is DbState.OPEN and not ctx.ops.active(), 120)
        for key, name, span in (
            ("analytics", "analytics_page", (as_of - dt.timedelta(days=29), as_of)),
            ("roi", "roi_page", (month_end.replace(day=1), month_end)),
        ):
            window.show_page(key)
            page: Any = window.page_widget(key)
            page.set_dates(*span)
            _spin(app, lambda page=page: not page.is_loading() and not ctx.ops.active(), 120)
            times = []
            for _ in range(runs + 1):
                started = time.perf_counter()
                page.reload()
                _spin(app, lambda page=page: not page.is_loading(), 60)
                page.repaint()
                times.append((time.perf_counter() - started) * 1000)
            med = statistics.median(times[1:])
            emit({
                "bench": name, "backend": backend(url), "median_ms": round(med, 1),
                "max_ms": round(max(times[1:]), 1), "within_budget": med <= PAGE_BUDGET_MS,
            })  # fmt: skip
        window.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the large demo database's URL")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 12, 1))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=("snapshots", "analytics", "roi"))
    args = parser.parse_args()
    if args.only in (None, "snapshots"):
        bench_snapshots(args.db, args.as_of, args.runs)
    if args.only in (None, "analytics", "roi"):
        bench_services(args.db, args.as_of, args.runs)
        # The window on a server works under a person's own login (the owner login is
        # nobody's): the pages are measured on the local file.
        if args.db.startswith("sqlite"):
            bench_pages(args.db, args.as_of, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
