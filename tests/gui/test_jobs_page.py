"""The job log page: lists the runs newest first with why a run failed or was partial, and
Run now runs a job in the background and shows it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.domain.enums import JobTrigger
from app.gui.jobs_page import JobsPage
from app.gui.targets import ExplicitUrl
from app.services.database import open_database
from app.services.jobs import runner
from app.services.jobs.runner import Job, run_jobs
from tests.gui.conftest import WindowFactory, wait_settled


def _page(qtbot, make_window: WindowFactory, path: Path) -> JobsPage:
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    assert window.show_page("jobs")
    page = window.page_widget("jobs")
    assert isinstance(page, JobsPage)
    qtbot.waitUntil(lambda: not page.loading, timeout=10_000)
    return page


def test_the_log_lists_runs_newest_first_with_their_message(
    qtbot, qtmodeltester, make_window: WindowFactory, prepared_db_path: Path, monkeypatch
) -> None:
    def boom(_s: object, _ctx: object) -> int:
        raise RuntimeError("the data source answered garbage")

    runner.registered_jobs()
    monkeypatch.setitem(runner._REGISTRY, "boom", Job("boom", "fails", boom))
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        run_jobs(db, ["goals"], dt.date(2026, 11, 20), JobTrigger.CLI)
        run_jobs(db, ["boom"], dt.date(2026, 11, 20), JobTrigger.CLI)
    finally:
        db.dispose()
    page = _page(qtbot, make_window, prepared_db_path)
    qtmodeltester.check(page.model)
    assert [r.job for r in page.model.rows] == ["boom", "goals"]
    failed = page.model.rows[0]
    assert failed.status == "failed" and "garbage" in (failed.message or "")
    assert page.model.index(0, 7).data() == failed.message
    assert "1 failed" in page.status.text()


def test_run_now_runs_the_job_and_shows_it(
    qtbot, make_window: WindowFactory, prepared_db_path: Path
) -> None:
    page = _page(qtbot, make_window, prepared_db_path)
    assert page.model.rows == [] and page.empty.isVisibleTo(page)
    page.job.setCurrentIndex(page.job.findData("kpis"))
    page.run_selected()
    qtbot.waitUntil(lambda: page.running is None and not page.loading, timeout=15_000)
    qtbot.waitUntil(lambda: bool(page.model.rows), timeout=10_000)
    run = page.model.rows[0]
    assert (run.job, run.status, run.triggered_by) == ("kpis", "succeeded", "window")
