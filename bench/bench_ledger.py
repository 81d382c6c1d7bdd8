"""The commission ledger at scale (issue 4), on a ``large`` demo database (~200,000 commission
records, ~20,000 adjustments), SQLite file or PostgreSQL URL. One JSON line per measurement.

- ``open``: what opening the ledger reads, as one call on one connection:
  ``app.services.commissions.open_ledger`` (the first page of 200 rows, newest first, with
  their adjustments and net summed in SQL, and the totals by status over the whole set).
  Median of ``--runs`` after a warm-up, with the page and the totals timed apart too.
  Budget: ≤ 300 ms.
- ``page``: the Commissions page (offscreen, 1500×800) from ``reload()`` to the first paint
  after both the first page and the totals are on screen (the page reads them side by side,
  on two workers). Median of ``--runs``. Budget: ≤ 300 ms.
- ``more``: the next page of 200 rows (offset 200, then 10,000), as scrolling asks for it.
- ``filtered``: the first page and totals with a status filter (disputed), a deal-title filter
  and a 30-day creation range (each a full pass over the records).

    .venv/bin/python bench/bench_ledger.py --db sqlite:////work/benchdata/large.sqlite3
    .venv/bin/python bench/bench_ledger.py \\
        --db postgresql+psycopg://postgres@127.0.0.1/perfdesk_bench_large \\
        --as pam.ochoa@rileyrealty.example
    .venv/bin/python bench/bench_ledger.py \\
        --db postgresql+psycopg://postgres@127.0.0.1/perfdesk_bench_large \\
        --login pam.ochoa@rileyrealty.example

On PostgreSQL the server's owner login is no person of the office: ``--as EMAIL`` names the
person to act as (no row-level security applies to the owner), ``--login EMAIL`` connects as
that person's own login, under row-level security, as a workstation does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OPEN_BUDGET_MS = 300.0
PAGE_BUDGET_MS = 300.0


def emit(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)


def backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    result = fn()  # warm-up: connection, statement cache, pages in the OS cache
    times: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times), result


def bench_open(url: str, acting: str | None, runs: int) -> None:
    from app.services import commissions as cm
    from app.services.database import open_database

    db = open_database(url)
    median, worst, ledger = timed(lambda: cm.open_ledger(db, acting=acting), runs)
    page_ms, _, _ = timed(lambda: cm.list_page(db, acting=acting), runs)
    totals_ms, _, _ = timed(lambda: cm.ledger_totals(db, acting=acting), runs)
    emit(
        {
            "bench": "open",
            "backend": backend(url),
            "records": ledger.totals.count,
            "rows": len(ledger.page.rows),
            "runs": runs,
            "median_ms": round(median, 1),
            "max_ms": round(worst, 1),
            "first_page_ms": round(page_ms, 1),
            "totals_ms": round(totals_ms, 1),
            "budget_ms": OPEN_BUDGET_MS,
            "within_budget": median <= OPEN_BUDGET_MS,
        }
    )
    db.dispose()


def bench_more(url: str, acting: str | None, runs: int) -> None:
    from app.services import commissions as cm
    from app.services.database import open_database

    db = open_database(url)
    for offset in (200, 10_000):
        median, worst, page = timed(
            lambda o=offset: cm.list_page(db, offset=o, acting=acting),  # type: ignore[misc]
            runs,
        )
        emit(
            {
                "bench": "more",
                "backend": backend(url),
                "offset": offset,
                "rows": len(page.rows),
                "median_ms": round(median, 1),
                "max_ms": round(worst, 1),
            }
        )
    db.dispose()


def bench_filtered(url: str, acting: str | None, runs: int) -> None:
    from app.domain.enums import CommissionStatus
    from app.services import commissions as cm
    from app.services.commissions import LedgerFilters
    from app.services.database import open_database

    db = open_database(url)
    now = dt.datetime.now(dt.UTC)
    cases = {
        "status=disputed": LedgerFilters(status=CommissionStatus.DISPUTED),
        "deal_text=oak": LedgerFilters(deal_text="oak"),
        "created last 30 days": LedgerFilters(created_from=now - dt.timedelta(days=30)),
    }
    for name, filters in cases.items():
        median, worst, ledger = timed(
            lambda f=filters: cm.open_ledger(db, f, acting=acting),  # type: ignore[misc]
            max(3, runs // 2),
        )
        emit(
            {
                "bench": "filtered",
                "backend": backend(url),
                "filter": name,
                "records": ledger.totals.count,
                "median_ms": round(median, 1),
                "max_ms": round(worst, 1),
            }
        )
    db.dispose()


def _wait(predicate: Callable[[], bool], timeout_s: float = 60.0) -> None:
    """Run the event loop until ``predicate()``; QTest.qWait would hold the GIL from the workers."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.perf_counter() + timeout_s
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the ledger did not load")
        loop = QEventLoop()
        QTimer.singleShot(1, loop.quit)
        loop.exec()


def _acting_as(real: Callable[..., Any], acting: str) -> Callable[..., Any]:
    @functools.wraps(real)  # the signature the background helper inspects stays the real one
    def call(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("acting", acting)
        return real(*args, **kwargs)

    return call


def bench_page(url: str, acting: str | None, runs: int) -> None:
    import tempfile

    from PySide6.QtCore import QEvent, QObject, QSettings
    from PySide6.QtWidgets import QApplication

    from app.gui.app_settings import AppSettings
    from app.gui.commissions.page import CommissionLedgerPage
    from app.gui.context import AppContext
    from app.services import commissions as cm
    from app.services.database import open_database

    app = QApplication.instance() or QApplication([])
    ini = Path(tempfile.mkdtemp()) / "bench.ini"
    ctx = AppContext.create(AppSettings(QSettings(str(ini), QSettings.Format.IniFormat)))
    if acting is not None:  # the page reads as the window's person; here, as the one named
        for name in ("list_page", "ledger_totals", "ledger_choices", "agent_choices"):
            setattr(cm, name, _acting_as(getattr(cm, name), acting))
    page = CommissionLedgerPage(ctx)
    page.resize(1500, 800)
    page.show()
    painted: list[float] = []
    rows_painted: list[float] = []

    def ready() -> bool:
        return page._page_loaded and page._totals is not None

    class PaintWatch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                if not rows_painted and page._page_loaded:
                    rows_painted.append(time.perf_counter())
                if not painted and ready():
                    painted.append(time.perf_counter())
            return False

    watch = PaintWatch()  # any paint of the page's widgets once both have been applied
    app.installEventFilter(watch)
    db = open_database(url)
    page._on_opened(db, None)  # type: ignore[arg-type]
    _wait(lambda: ready() and not ctx.ops.active())
    results: list[float] = []
    rows_first: list[float] = []
    for _ in range(runs):
        page._page_loaded = False
        page._totals = None
        painted.clear()
        rows_painted.clear()
        t0 = time.perf_counter()
        page.reload()
        _wait(lambda: bool(painted))
        results.append((painted[0] - t0) * 1000)
        rows_first.append((rows_painted[0] - t0) * 1000)
        _wait(lambda: not ctx.ops.active())
    median = statistics.median(results)
    emit(
        {
            "bench": "page_first_paint",
            "backend": backend(url),
            "rows_shown": page.model.rowCount(),
            "records": page._totals.count if page._totals is not None else None,
            "runs": runs,
            "median_ms": round(median, 1),
            "max_ms": round(max(results), 1),
            "rows_first_paint_ms": round(statistics.median(rows_first), 1),
            "budget_ms": PAGE_BUDGET_MS,
            "within_budget": median <= PAGE_BUDGET_MS,
        }
    )
    app.removeEventFilter(watch)
    ctx.ops.wait_for_done(10000)
    db.dispose()


def as_login(url: str, email: str | None) -> str:
    """On PostgreSQL, the URL of ``email``'s own login (created when missing)."""
    if email is None or backend(url) != "postgresql":
        return url
    from sqlalchemy.engine import make_url

    from app.services.database import open_database
    from app.services.users import ensure_db_roles

    owner = open_database(url)
    try:
        ensure_db_roles(owner, [email])
    finally:
        owner.dispose()
    return make_url(url).set(username=email, password=None).render_as_string(hide_password=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", required=True, help="database URL holding the large demo")
    choices = ["open", "page", "more", "filtered"]
    parser.add_argument("--only", nargs="*", default=choices, choices=choices)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--as", dest="acting", default=None, help="act as this person")
    parser.add_argument(
        "--login", default=None, help="PostgreSQL: connect as this person's own login (RLS)"
    )
    args = parser.parse_args()
    from app.gui.responsiveness import SWITCH_INTERVAL_S

    sys.setswitchinterval(SWITCH_INTERVAL_S)  # as the window does
    url = as_login(args.db, args.login)
    print(f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} {url}", file=sys.stderr)
    if "open" in args.only:
        bench_open(url, args.acting, args.runs)
    if "page" in args.only:
        bench_page(url, args.acting, args.runs)
    if "more" in args.only:
        bench_more(url, args.acting, args.runs)
    if "filtered" in args.only:
        bench_filtered(url, args.acting, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
