"""Live updates in the window (app/gui/live.py): another workstation's escrow reaches an open
dashboard within 1 s through ctx.events.data_changed; nothing listens in local mode."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.gui import events, live
from app.gui.dashboard.page import DashboardPage
from app.gui.database_holder import DbState
from app.gui.targets import ExplicitUrl
from app.services.database import Database
from app.services.users import add_user
from tests.gui.conftest import WindowFactory, wait_settled


def _insert_escrow(url: str, agent: int) -> float:
    """Commit an escrow on a connection of its own; returns the monotonic time of the commit."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO escrows (agent_id, property_address, purchase_price, "
                    "escrow_status, created_at, version) "
                    "VALUES (:a, '9 Elm St', CAST(:p AS numeric), 'Active', now(), 1)"
                ),
                {"a": agent, "p": str(Decimal(100000))},
            )
        return time.monotonic()
    finally:
        engine.dispose()


@pytest.mark.pg
def test_an_escrow_from_another_connection_refreshes_the_dashboard_within_a_second(
    qtbot, make_window: WindowFactory, pg_db: Database
) -> None:
    agent = add_user(pg_db, "ann.live@office.example", "agent", "Ann", "Lee").id
    window = make_window()
    window.open_database(ExplicitUrl(pg_db.url))
    wait_settled(qtbot, window)
    assert window.ctx.database.state is DbState.OPEN, window.banner.label.text()
    qtbot.waitUntil(lambda: window.live.is_listening, timeout=5000)
    assert window.show_page("dashboard")
    page = window.page_widget("dashboard")
    assert isinstance(page, DashboardPage)
    qtbot.waitUntil(
        lambda: page.data is not None and not page.is_loading() and not window.ctx.ops.active(),
        timeout=10_000,
    )
    assert page.data is not None and page.data.report.brokerage.escrows_ytd == 0

    with qtbot.waitSignal(
        window.ctx.events.data_changed,
        timeout=1000,
        check_params_cb=lambda kind: kind == events.ESCROWS,
    ):
        committed = _insert_escrow(pg_db.url, agent)
    qtbot.waitUntil(
        lambda: page.data is not None and page.data.report.brokerage.escrows_ytd == 1,
        timeout=1000,
    )
    assert time.monotonic() - committed < 1.0
    qtbot.waitUntil(lambda: not window.ctx.ops.active(), timeout=5000)

    window.ctx.database.close()
    assert not window.live.is_listening and window.live.listener is None


def test_nothing_listens_in_local_mode(
    qtbot, make_window: WindowFactory, prepared_db_path: Path
) -> None:
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    wait_settled(qtbot, window)
    assert window.ctx.database.state is DbState.OPEN
    assert not window.live.is_listening and window.live.listener is None


@pytest.mark.pg
def test_a_lost_listening_connection_is_opened_again_and_pages_read_again(
    qtbot, make_window: WindowFactory, pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "RETRY_MS", 50)
    agent = add_user(pg_db, "ann.live@office.example", "agent", "Ann", "Lee").id
    window = make_window()
    window.open_database(ExplicitUrl(pg_db.url))
    wait_settled(qtbot, window)
    qtbot.waitUntil(lambda: window.live.is_listening, timeout=5000)
    with (
        qtbot.waitSignal(window.live.listening, timeout=5000),
        qtbot.waitSignal(
            window.ctx.events.data_changed,
            timeout=5000,
            check_params_cb=lambda kind: kind == events.ALL,
        ),
        pg_db.engine.begin() as conn,
    ):
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() "
                "AND application_name = 'PerfDesk live updates'"
            )
        )
    with qtbot.waitSignal(
        window.ctx.events.data_changed,
        timeout=1000,
        check_params_cb=lambda kind: kind == events.ESCROWS,
    ):
        _insert_escrow(pg_db.url, agent)
    qtbot.waitUntil(lambda: not window.ctx.ops.active(), timeout=5000)
