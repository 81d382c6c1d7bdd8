"""The Rent roll page and the month entry form over a small demo office (SQLite): records
listed with their locked pro forma and months, a month entered with the live preview showing
the grade it gets, a second entry for the same month offering to open the first, a change
keeping who entered it, and Recalculate all in the background."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QDate
from PySide6.QtWidgets import QApplication

from app.gui.postclose.period_dialog import PeriodDialog
from app.gui.postclose.rentroll_page import RentRollPage
from app.gui.targets import ExplicitUrl
from app.services.database import open_database
from app.services.postclose import periods as pp
from tests.gui.conftest import WindowFactory, wait_settled

GOOD = {
    "actual_rent_collected": "2,000",
    "actual_vacancy_rate": "5%",
    "maintenance": "150",
    "property_management": "160",
    "taxes": "200",
    "insurance": "90",
    "actual_noi": "1400",
    "actual_monthly_cash_flow": "-25",
    "actual_dscr": "0.98",
}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from app.services.demo import generate

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    db = open_database(f"sqlite:///{path}")
    try:
        from app.services.schema import prepare

        prepare(db)
        generate(db, "small")
    finally:
        db.dispose()
    return path


@pytest.fixture
def office(demo_file: Path, tmp_path: Path) -> Path:
    path = tmp_path / "office.sqlite3"
    shutil.copy(demo_file, path)
    return path


def open_page(qtbot, make_window: WindowFactory, path: Path) -> RentRollPage:
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    assert window.show_page("rent_roll")
    page = window.page_widget("rent_roll")
    assert isinstance(page, RentRollPage)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.ctx.ops.active(), timeout=10_000)
    qtbot.waitUntil(lambda: page.history.rowCount() > 0, timeout=10_000)
    return page


def fill(dialog: PeriodDialog, texts: dict[str, str]) -> None:
    for name, text in texts.items():
        dialog.inputs[name].setText(text)
        dialog.inputs[name].textEdited.emit(text)


def test_lists_records_with_locked_pro_forma_and_months(
    qtbot, make_window, office, qtmodeltester
) -> None:
    page = open_page(qtbot, make_window, office)
    assert page.model.rowCount() == 6  # the small demo's properties
    assert page.info is not None
    assert page.history.rowCount() == len(pp.history(page._db, page.info.id))  # type: ignore[arg-type]
    newest = page.history.rows[0]
    assert page.history.index(0, 0).data() == f"{newest.year}-{newest.month:02d}"
    assert page.enter_button.isEnabled() and page.new_button.isEnabled()
    qtmodeltester.check(page.model)
    qtmodeltester.check(page.history)


def test_entering_a_month_previews_and_saves_its_grade(qtbot, make_window, office) -> None:
    page = open_page(qtbot, make_window, office)
    info = page.info
    assert info is not None
    dialog = PeriodDialog(page.ctx, page._db, info)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    today = dt.date.today()
    dialog.month_edit.setDate(QDate(today.year, today.month, 1))
    assert dialog.preview.grade is None and "Rent collected" in dialog.preview.state.text()
    fill(dialog, GOOD)
    assert dialog.sum_label.text().endswith("$600.00")
    assert dialog.preview.grade == "D"  # negative cash flow (SPEC §9)
    assert "Cash flow" not in dialog.preview.flags.text() or dialog.preview.flags.text()
    fill(dialog, {"actual_rent_collected": "-5"})
    assert (
        dialog.preview.grade is None and "To correct: Rent collected" in dialog.preview.state.text()
    )
    fill(dialog, {"actual_rent_collected": "2000"})
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_saved is not None, timeout=5_000)
    assert dialog.result_saved.grade == "D"
    rows = pp.history(page._db, info.id)  # type: ignore[arg-type]
    assert (rows[-1].year, rows[-1].month, rows[-1].grade) == (today.year, today.month, "D")


def test_a_month_entered_twice_offers_the_first(qtbot, make_window, office) -> None:
    page = open_page(qtbot, make_window, office)
    info = page.info
    assert info is not None
    newest = page.history.rows[0]
    dialog = PeriodDialog(page.ctx, page._db, info, month=(newest.year, newest.month))  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    asked: list[str] = []
    dialog.ask = lambda _p, _t, text: asked.append(text) or True
    fill(dialog, {**GOOD, "actual_monthly_cash_flow": "500", "actual_dscr": "1.9"})
    dialog.save()
    qtbot.waitUntil(lambda: dialog.period is not None, timeout=5_000)
    assert "is entered already" in asked[0]
    assert dialog.period is not None and dialog.period.id == newest.id
    assert not dialog.month_edit.isEnabled()
    assert dialog.inputs["actual_monthly_cash_flow"].text() == "500"  # what was typed stays
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_saved is not None, timeout=5_000)
    stored = pp.get_period(page._db, newest.id)  # type: ignore[arg-type]
    assert stored.values["actual_monthly_cash_flow"] == 500
    assert stored.entered_by == newest.entered_by and stored.updated_by is not None


def test_bad_input_is_said_under_its_field_and_nothing_is_saved(qtbot, make_window, office) -> None:
    page = open_page(qtbot, make_window, office)
    info = page.info
    assert info is not None
    before = len(pp.history(page._db, info.id))  # type: ignore[arg-type]
    dialog = PeriodDialog(page.ctx, page._db, info)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    today = dt.date.today()
    dialog.month_edit.setDate(QDate(today.year, today.month, 1))
    fill(dialog, {**GOOD, "actual_vacancy_rate": "150%", "expenses_total": "999"})
    dialog.save()
    qtbot.waitUntil(lambda: bool(dialog.fields.error("actual_vacancy_rate")), timeout=5_000)
    assert "0–1" in dialog.fields.error("actual_vacancy_rate")
    assert "differs from the breakdown" in dialog.exp_fields.error("expenses_total")
    assert dialog.result_saved is None
    assert len(pp.history(page._db, info.id)) == before  # type: ignore[arg-type]


def test_recalculate_all_runs_in_the_background(qtbot, make_window, office) -> None:
    page = open_page(qtbot, make_window, office)
    said: list[str] = []
    page.ctx.events.status_message.connect(said.append)
    page.recalculate()
    qtbot.waitUntil(lambda: any(s.startswith("Recalculated") for s in said), timeout=10_000)
    assert "0 months" in next(s for s in said if s.startswith("Recalculated"))
    QApplication.processEvents()


def test_recalculate_all_can_be_cancelled_and_changes_nothing(
    qtbot, make_window, office, monkeypatch
) -> None:
    import threading

    import sqlalchemy as sa

    from app.db.models import PerformancePeriod
    from app.services.postclose import regrade

    page = open_page(qtbot, make_window, office)
    with page._db.session() as s:  # type: ignore[union-attr]
        s.execute(sa.update(PerformancePeriod).values(grade="A"))  # all wrong but a few
    release = threading.Event()
    real = regrade.recalculate

    def slow(s, progress=None, cancelled=None):  # type: ignore[no-untyped-def]
        release.wait(5)  # until the person has pressed Cancel
        return real(s, progress, cancelled)

    monkeypatch.setattr(regrade, "recalculate", slow)
    said: list[str] = []
    page.ctx.events.status_message.connect(said.append)
    page.recalculate()
    [operation] = page.ctx.ops.active()
    operation.cancel()
    release.set()
    qtbot.waitUntil(lambda: "Recalculation cancelled; nothing changed." in said, timeout=10_000)
    qtbot.waitUntil(lambda: not page.ctx.ops.active(), timeout=10_000)
    with page._db.read() as s:  # type: ignore[union-attr]
        grades = set(s.scalars(sa.select(PerformancePeriod.grade).distinct()))
    assert grades == {"A"}  # nothing was written
    assert page.recalc_button.isEnabled()
