"""Post-close performance (issue 5) on the ``large`` demo (5,000 properties × 60 months).

- ``recalc``: "Recalculate all" as the window runs it (the background-operation helper, with
  progress), wall time, and the longest the GUI thread was blocked meanwhile (a 5 ms timer's
  longest gap). Budget: ≤ 5 s, stall ≤ 50 ms.
- ``grid``: saving a 60-row month-end grid (``save_month``: every row changed, graded, the
  records, buy boxes and buyers refreshed, in one transaction). Budget ≤ 200 ms.
- ``portfolio``: what the portfolio page reads on a refresh (report, monthly cash flow, DSCR
  distribution), unfiltered and filtered; ``page``: the page itself in an offscreen window,
  from ``reload()`` to the data applied. Budget ≤ 300 ms.

Each prints one JSON line. The database is used as it is: ``grid`` writes one month of 60
properties (alternating the figures, so each run really changes them); ``recalc`` changes
nothing on a consistent database (it reads and grades every period, and writes those that
differ).

    .venv/bin/python bench/bench_postclose.py --db sqlite:////work/benchdata/large.sqlite3
    .venv/bin/python bench/bench_postclose.py \
        --db postgresql+psycopg://postgres@127.0.0.1:5432/perfdesk_bench_large
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RECALC_BUDGET_S = 5.0
STALL_BUDGET_MS = 50.0
GRID_BUDGET_MS = 200.0
PORTFOLIO_BUDGET_MS = 300.0


def emit(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)


def backend(url: str) -> str:
    return "SQLite" if url.startswith("sqlite") else "PostgreSQL"


def bench_recalc(url: str, runs: int) -> None:
    from PySide6.QtWidgets import QApplication

    from app.gui.operations import Operations
    from app.services.database import open_database

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    ops = Operations(app)
    db = open_database(url)
    for run in range(runs):
        wall, stall, reports, result = _recalc_once(app, ops, db)
        emit(
            {
                "bench": "recalculate_all", "backend": backend(url), "run": run + 1,
                "seconds": round(wall, 2), "event_loop_stall_max_ms": round(stall, 1),
                "progress_reports": reports, "periods_changed": result.periods,
                "within_budget": wall <= RECALC_BUDGET_S and stall <= STALL_BUDGET_MS,
            }
        )  # fmt: skip
    db.dispose()


def _recalc_once(app: Any, ops: Any, db: Any) -> tuple[float, float, int, Any]:
    """One "Recalculate all" through the background-operation helper while the GUI thread
    waits in its event loop: (seconds, longest gap of a 5 ms timer in ms, progress reports,
    the result)."""
    from PySide6.QtCore import QEventLoop, QTimer

    from app.services.postclose.regrade import recalculate_all

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    done: list[Any] = []
    progress: list[int] = []
    loop = QEventLoop()
    start = time.perf_counter()
    timer.start()
    ops.run(
        lambda p, c: recalculate_all(db, lambda d, t: p(d, t, ""), c),
        on_success=done.append,
        on_error=done.append,
        on_progress=lambda d, _t, _s: progress.append(d),
        on_finished=loop.quit,
    )
    if not done:
        loop.exec()  # the GUI thread waits in its event loop, as in the window
    wall = time.perf_counter() - start
    tick()
    timer.stop()
    if isinstance(done[0], BaseException):
        raise done[0]
    return wall, max(gaps) * 1000, len(progress), done[0]


def _median_ms(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def bench_grid(url: str, runs: int) -> None:
    from decimal import Decimal

    from app.services.database import open_database
    from app.services.postclose import periods as pp

    db = open_database(url)
    acting = None
    if not db.is_local:
        acting = _a_manager(db)
    sheet = pp.month_sheet(db, 2026, 11)
    entered = [r for r in sheet if r.period_id is not None][:60]
    times = []
    for run in range(runs):
        sheet = {r.performance_id: r for r in pp.month_sheet(db, 2026, 11)}
        rows = []
        for r in entered:
            now = sheet[r.performance_id]
            rent = Decimal(now.texts["actual_rent_collected"])
            texts = {**now.texts, "actual_rent_collected": str(rent + (1 if run % 2 else -1))}
            rows.append(pp.GridRow(r.performance_id, texts, now.period_id, now.version))
        start = time.perf_counter()
        saved = pp.save_month(db, 2026, 11, rows, acting=acting)
        times.append((time.perf_counter() - start) * 1000)
        assert saved.updated == len(rows)
    median = statistics.median(times)
    emit(
        {
            "bench": "save_month_grid", "backend": backend(url), "rows": len(entered),
            "median_ms": round(median, 1), "max_ms": round(max(times), 1), "runs": runs,
            "within_budget": median <= GRID_BUDGET_MS,
        }
    )  # fmt: skip
    db.dispose()


def _a_manager(db: Any) -> str:
    import sqlalchemy as sa

    from app.db.models import User

    with db.read() as s:
        email = s.scalar(sa.select(User.email).where(User.role == "manager").limit(1))
    assert email is not None
    return str(email)


def bench_portfolio(url: str, runs: int) -> None:
    from app.services.database import open_database
    from app.services.postclose import portfolio as pf

    db = open_database(url)
    cases = {
        "all": pf.PortfolioFilters(),
        "one market": pf.PortfolioFilters(market=_a_market(db)),
    }
    for name, filters in cases.items():
        median, worst = _median_ms(lambda f=filters: _page_read(pf, db, f), runs)
        emit(
            {
                "bench": "portfolio_refresh", "backend": backend(url), "filter": name,
                "median_ms": round(median, 1), "max_ms": round(worst, 1), "runs": runs,
                "within_budget": median <= PORTFOLIO_BUDGET_MS,
            }
        )  # fmt: skip
    db.dispose()


def bench_page(url: str, runs: int) -> None:
    """The Portfolio page in an offscreen window: ``reload()`` → the data applied."""
    import tempfile

    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    from app.gui.app_settings import AppSettings
    from app.gui.context import AppContext
    from app.gui.database_holder import DbState
    from app.gui.main_window import MainWindow
    from app.gui.postclose.portfolio_page import PortfolioPage
    from app.gui.targets import ExplicitUrl

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(f"{tmp}/bench.ini", QSettings.Format.IniFormat)
        settings.setValue("window/lastPage", "people")
        ctx = AppContext.create(AppSettings(settings))
        window = MainWindow(ctx)
        window.resize(1500, 950)
        window.show()
        window.open_database(ExplicitUrl(url))
        deadline = time.monotonic() + 120
        while ctx.database.state is not DbState.OPEN or ctx.ops.active():
            if time.monotonic() > deadline:
                raise SystemExit(f"the database did not open: {ctx.database.state}")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        window.show_page("portfolio")
        page = window.page_widget("portfolio")
        assert isinstance(page, PortfolioPage)
        times: list[float] = []
        for run in range(runs + 1):
            loop = QEventLoop()
            page.refreshed.connect(loop.quit)
            page.reload()
            loop.exec()
            page.refreshed.disconnect(loop.quit)
            if run:  # the first also reads the filter choices and builds the charts
                times.append(page.last_refresh_ms)
        window.close()
    median = statistics.median(times)
    emit(
        {
            "bench": "portfolio_page", "backend": backend(url), "median_ms": round(median, 1),
            "max_ms": round(max(times), 1), "runs": runs,
            "within_budget": median <= PORTFOLIO_BUDGET_MS,
        }
    )  # fmt: skip


def _page_read(pf: Any, db: Any, filters: Any) -> None:
    """What the portfolio page reads on a refresh, in its one background task."""
    report = pf.portfolio_report(db, filters)
    pf.monthly_cash_flow(db, filters)
    pf.report_dscr_values(report)


def _a_market(db: Any) -> str:
    import sqlalchemy as sa

    from app.db.models import DealPerformance

    with db.read() as s:
        return str(s.scalar(sa.select(DealPerformance.market_key).limit(1)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the large demo database's URL")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=("recalc", "grid", "portfolio", "page"))
    args = parser.parse_args()
    if args.only in (None, "portfolio"):
        bench_portfolio(args.db, args.runs)
    if args.only in (None, "page"):
        bench_page(args.db, args.runs)
    if args.only in (None, "grid"):
        bench_grid(args.db, args.runs)
    if args.only in (None, "recalc"):
        bench_recalc(args.db, max(1, min(args.runs, 3)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
