"""An escrow committed on one connection, to the window's ``data_changed("escrows")`` in another.

Budget (issue 3, "Budgets"): ≤ 1 s from the commit to the Qt signal (median of 20). A scratch
database is created on the server, migrated, used and dropped. The relay is the window's
(app/gui/live.py) under the platform given by QT_QPA_PLATFORM (offscreen by default); the
commit runs on its own SQLAlchemy connection and the clock stops when ctx.events.data_changed
fires on the GUI thread. Prints one JSON line; exit status 1 when over budget.

    PERFDESK_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_live.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy.engine import make_url

from app.gui.app_settings import AppSettings
from app.gui.context import AppContext
from app.gui.live import LiveRelay
from app.services.database import open_database
from app.services.schema import prepare
from app.services.users import add_user

BUDGET_S = 1.0
TIMEOUT_MS = 5_000
INSERT = sa.text(
    "INSERT INTO escrows (agent_id, property_address, purchase_price, escrow_status, "
    "created_at, version) VALUES (:a, '9 Elm St', 100000, 'Active', now(), 1)"
)


def measure(url: str, runs: int) -> list[float]:
    app = QApplication.instance() or QApplication([])
    db = open_database(url)
    prepare(db)
    agent = add_user(db, "bench.live@office.example", "agent", "Bench", "Agent").id
    with tempfile.TemporaryDirectory() as tmp:
        settings = AppSettings(QSettings(str(Path(tmp) / "bench.ini"), QSettings.Format.IniFormat))
        ctx = AppContext.create(settings)
        relay = LiveRelay(ctx)
        relay.start(db)
        loop = QEventLoop()
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not relay.is_listening and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if not relay.is_listening:
            raise RuntimeError("the relay did not start listening")
        arrived: list[float] = []

        def on_changed(kind: str) -> None:
            if kind == "escrows":
                arrived.append(time.perf_counter())
                loop.quit()

        ctx.events.data_changed.connect(on_changed)
        timeout = QTimer()
        timeout.setSingleShot(True)
        timeout.setInterval(TIMEOUT_MS)
        timeout.timeout.connect(loop.quit)
        writer = sa.create_engine(url)
        times: list[float] = []
        try:
            for _ in range(runs):
                arrived.clear()
                with writer.connect() as conn:
                    conn.execute(INSERT, {"a": agent})
                    committed = time.perf_counter()  # the clock starts as COMMIT is sent
                    conn.commit()
                if not arrived:
                    timeout.start()
                    loop.exec()
                    timeout.stop()
                if not arrived:
                    raise RuntimeError(f"no data_changed('escrows') within {TIMEOUT_MS} ms")
                times.append(arrived[0] - committed)
                QCoreApplication.processEvents()
        finally:
            writer.dispose()
            relay.stop()
            ctx.ops.wait_for_done(TIMEOUT_MS)
            db.dispose()
    assert app is not None
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("PERFDESK_TEST_PG_URL"),
        help="an administrator's URL on the server (default: PERFDESK_TEST_PG_URL)",
    )
    args = parser.parse_args()
    if not args.pg_url:
        parser.error("give --pg-url or set PERFDESK_TEST_PG_URL")
    admin = sa.create_engine(
        make_url(args.pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    name = f"perfdesk_bench_live_{os.getpid()}"
    url = (
        make_url(args.pg_url)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        times = measure(url, args.runs)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(sa.text('DROP ROLE IF EXISTS "bench.live@office.example"'))
        admin.dispose()
    median, worst = statistics.median(times), max(times)
    result = {
        "bench": "live",
        "runs": len(times),
        "median_ms": round(median * 1000, 2),
        "max_ms": round(worst * 1000, 2),
        "budget_ms": BUDGET_S * 1000,
        "ok": median <= BUDGET_S,
    }
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
