"""The pipeline at scale (issue 4), on a ``large`` demo database (SQLite file or PostgreSQL URL).

Measurements (one JSON line each):

- ``move``: one committed move (version check, stage event, audit entry with the chain lock,
  NOTIFY on PostgreSQL) through ``app.services.pipeline.moves.move_deal``, timed from the call
  to its return; ``--moves`` open deals are moved one stage right and back again. Median and
  p95. Budget: median ≤ 30 ms. (The moves are kept: each is a real, audited move.)
- ``verify``: ``app.services.audit.verify_all`` over every audit entry, and in the same run
  plain ``hashlib.sha256`` over the same bytes (prev_hash + canonical JSON of each entry, built
  beforehand and not timed). Budget: ≤ 5 s for 1,000,000 entries (the figure is also given
  per million).
- ``board``: the Pipeline page (offscreen, 1600×900) from ``reload()`` to the first paint of
  the loaded cards: the column figures and each column's first cards read in the worker, then
  applied and painted (the rest of the cards are read after that paint; ``all_cards_read_ms``
  is until they are in). Median of ``--runs``. Budget: ≤ 300 ms to the first paint with the
  demo's ~5,900 open deals.
- ``scroll``: a column holding 2,000 cards scrolled by one wheel step (3 × 24 px) at a time
  from top to bottom; each step's synchronous repaint of the column is timed. Budget: every
  frame ≤ 16 ms (max reported, with the median). The column's first paint (fonts and a
  screenful of cards drawn cold) is reported apart; long-lived objects are frozen out of the
  garbage collector first, as the window does after opening a database.

    .venv/bin/python bench/bench_pipeline.py --db sqlite:////work/benchdata/large.sqlite3
    .venv/bin/python bench/bench_pipeline.py --db postgresql+psycopg://postgres@127.0.0.1/perfdesk_bench_large
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MOVE_BUDGET_MS = 30.0
VERIFY_BUDGET_S_PER_MILLION = 5.0
BOARD_BUDGET_MS = 300.0
FRAME_BUDGET_MS = 16.0


def emit(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)


def backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def bench_move(url: str, count: int) -> None:
    import sqlalchemy as sa

    from app.db.models import Deal
    from app.domain.enums import DealStatus
    from app.domain.pipeline import neighbour
    from app.services.database import open_database
    from app.services.pipeline.moves import move_deal

    db = open_database(url)
    with db.read() as s:
        rows = s.execute(
            sa.select(Deal.id, Deal.pipeline_stage)
            .where(Deal.status == DealStatus.OPEN)
            .order_by(Deal.id)
            .limit(count)
        ).all()
    times: list[float] = []
    for deal_id, stage in rows:
        forward = neighbour(stage, 1)
        assert forward is not None
        for to in (forward, stage):
            t0 = time.perf_counter()
            move_deal(db, deal_id, to, note=None if to.value != "closed_lost" else "bench")
            times.append((time.perf_counter() - t0) * 1000)
    db.dispose()
    times.sort()
    median = statistics.median(times)
    emit(
        {
            "bench": "move",
            "backend": backend(url),
            "moves": len(times),
            "median_ms": round(median, 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            "max_ms": round(times[-1], 2),
            "budget_ms": MOVE_BUDGET_MS,
            "within_budget": median <= MOVE_BUDGET_MS,
        }
    )


def bench_verify(url: str, workers: int | None = None) -> None:
    import sqlalchemy as sa

    from app.db.models import AuditEntry
    from app.domain.audit import HASHED_FIELDS, utc_text
    from app.services.audit import _payload, verify_all
    from app.services.database import open_database

    db = open_database(url)
    verify_all(db, "deal:1")  # warm the connection and the statement cache
    t0 = time.perf_counter()
    result = verify_all(db, workers=workers)
    verify_s = time.perf_counter() - t0
    # The same bytes, built untimed, then hashed with nothing else going on.
    blobs: list[bytes] = []
    with db.read() as s:
        stmt = sa.select(AuditEntry).order_by(AuditEntry.chain_key, AuditEntry.seq)
        cols = [getattr(AuditEntry, f) for f in (*HASHED_FIELDS, "prev_hash")]
        stmt = sa.select(*cols).order_by(AuditEntry.chain_key, AuditEntry.seq)
        for row in s.execute(stmt.execution_options(yield_per=5000)):
            body = {f: getattr(row, f) for f in HASHED_FIELDS}
            body["payload"] = _payload(body["payload"])
            body["recorded_at"] = utc_text(body["recorded_at"])
            text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            blobs.append(row.prev_hash.encode("ascii") + text.encode("utf-8"))
    t0 = time.perf_counter()
    for blob in blobs:
        hashlib.sha256(blob).hexdigest()
    plain_s = time.perf_counter() - t0
    db.dispose()
    per_million = verify_s * 1_000_000 / max(result.entries, 1)
    emit(
        {
            "bench": "verify",
            "backend": backend(url),
            "entries": result.entries,
            "chains": result.chains,
            "workers": workers if workers is not None else "default",
            "intact": result.intact,
            "verify_s": round(verify_s, 3),
            "verify_s_per_million": round(per_million, 3),
            "plain_sha256_s": round(plain_s, 3),
            "ratio_to_plain_sha256": round(verify_s / plain_s, 1) if plain_s else None,
            "budget_s_per_million": VERIFY_BUDGET_S_PER_MILLION,
            "within_budget": per_million <= VERIFY_BUDGET_S_PER_MILLION,
        }
    )


def _wait(app: object, predicate: object, timeout_s: float = 30.0) -> None:
    """Run the event loop until ``predicate()``; QTest.qWait would hold the GIL from the worker."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.perf_counter() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.perf_counter() > deadline:
            raise TimeoutError("the board did not load")
        loop = QEventLoop()
        QTimer.singleShot(1, loop.quit)
        loop.exec()


def _page(url: str):  # type: ignore[no-untyped-def]
    import tempfile

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.gui.app_settings import AppSettings
    from app.gui.context import AppContext
    from app.gui.pipeline.page import PipelinePage
    from app.services.database import open_database

    app = QApplication.instance() or QApplication([])
    ini = Path(tempfile.mkdtemp()) / "bench.ini"
    ctx = AppContext.create(AppSettings(QSettings(str(ini), QSettings.Format.IniFormat)))
    page = PipelinePage(ctx)
    page.resize(1600, 900)
    page.show()
    db = open_database(url)
    return app, ctx, page, db


def bench_board(url: str, runs: int) -> None:
    from PySide6.QtCore import QEvent, QObject

    app, ctx, page, db = _page(url)
    CLOSED = ("closed_won", "closed_lost")
    painted: list[float] = []

    class PaintWatch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and page._loaded is not None and not painted:
                painted.append(time.perf_counter())
            return False

    watch = PaintWatch()
    first_view = page.columns[next(iter(page.columns))].view
    first_view.viewport().installEventFilter(watch)
    page._on_opened(db, None)
    _wait(app, lambda: page._loaded is not None)
    _wait(app, lambda: not ctx.ops.active())
    open_deals = sum(f.count for f in page._loaded.board.columns if f.stage.value not in CLOSED)
    results: list[float] = []
    complete: list[float] = []
    for _ in range(runs):
        page._loaded = None
        painted.clear()
        t0 = time.perf_counter()
        page.reload()
        _wait(app, lambda: bool(painted))
        results.append((painted[0] - t0) * 1000)
        _wait(app, lambda: not ctx.ops.active())  # the rest of the cards, read after the paint
        complete.append((time.perf_counter() - t0) * 1000)
    median = statistics.median(results)
    emit(
        {
            "bench": "board_first_paint",
            "backend": backend(url),
            "open_deals": open_deals,
            "cards_drawn": page.model.card_count(),
            "runs": runs,
            "median_ms": round(median, 1),
            "max_ms": round(max(results), 1),
            "all_cards_read_ms": round(statistics.median(complete), 1),
            "budget_ms": BOARD_BUDGET_MS,
            "within_budget": median <= BOARD_BUDGET_MS,
        }
    )
    ctx.ops.wait_for_done(10000)
    db.dispose()


def bench_scroll(url: str, cards_in_column: int) -> None:
    from dataclasses import replace

    from app.domain.enums import DealStage

    app, ctx, page, db = _page(url)
    page._on_opened(db, None)
    _wait(app, lambda: page._loaded is not None)
    board = page._loaded.board
    pool = [c for cards in board.cards.values() for c in cards]
    stage = DealStage.NEGOTIATION
    column_cards = [
        replace(pool[i % len(pool)], deal_id=10_000_000 + i, stage=stage)
        for i in range(cards_in_column)
    ]
    cards = {st: (column_cards if st is stage else []) for st in board.filters.stages()}
    page.model.set_board(list(cards), cards)
    for column in page.columns.values():
        column.reroot()
    view = page.columns[stage].view
    view.scrollToTop()
    import gc

    gc.collect()
    gc.freeze()  # as the window does once a database is open (app/gui/responsiveness.py)
    bar = view.verticalScrollBar()
    step = 3 * bar.singleStep()
    frames: list[float] = []
    while True:
        t0 = time.perf_counter()
        view.viewport().repaint()
        frames.append((time.perf_counter() - t0) * 1000)
        if bar.value() >= bar.maximum():
            break
        bar.setValue(bar.value() + step)
    first, frames = frames[0], frames[1:]  # the first paint of the column is not a scroll
    worst = max(frames)
    emit(
        {
            "bench": "scroll",
            "backend": backend(url),
            "cards_in_column": cards_in_column,
            "frames": len(frames),
            "median_frame_ms": round(statistics.median(frames), 2),
            "max_frame_ms": round(worst, 2),
            "first_paint_ms": round(first, 2),
            "frames_over_budget": sum(1 for f in frames if f > FRAME_BUDGET_MS),
            "budget_ms": FRAME_BUDGET_MS,
            "within_budget": worst <= FRAME_BUDGET_MS,
        }
    )
    ctx.ops.wait_for_done(10000)
    db.dispose()


def as_login(url: str, email: str | None) -> str:
    """On PostgreSQL, the URL of ``email``'s own login (created when missing): the bench then
    reads and moves as that person, under row-level security, as a workstation does."""
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
    parser.add_argument(
        "--only", nargs="*", default=["move", "verify", "board", "scroll"],
        choices=["move", "verify", "board", "scroll"],
    )  # fmt: skip
    parser.add_argument("--moves", type=int, default=100)
    parser.add_argument(
        "--login", default=None,
        help="PostgreSQL: run as this person's own login (e.g. the office's admin)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--column-cards", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=None, help="verify: processes")
    args = parser.parse_args()
    from app.gui.responsiveness import SWITCH_INTERVAL_S

    sys.setswitchinterval(SWITCH_INTERVAL_S)  # as the window does
    url = as_login(args.db, args.login)
    print(f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} {url}", file=sys.stderr)
    if "board" in args.only:
        bench_board(url, args.runs)
    if "scroll" in args.only:
        bench_scroll(url, args.column_cards)
    if "verify" in args.only:
        bench_verify(url, args.workers)
    if "move" in args.only:
        bench_move(url, args.moves // 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
