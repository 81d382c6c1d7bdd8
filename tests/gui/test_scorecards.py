"""My KPIs and Team view over a small demo office (SQLite) whose KPIs were measured by the
kpis job: the cards and the overall score equal the service's scorecard, the person and the
date choose what is shown, a manager's team view lists the members, and the exports write
real files."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.db.models import User
from app.gui.kpis.scorecard_cards import KpiCard
from app.gui.kpis.scorecard_page import ScorecardPage
from app.gui.kpis.team_page import TeamPage
from app.gui.targets import ExplicitUrl
from app.services.database import open_database
from app.services.kpis.scorecards import my_kpis, team_view
from tests.gui.conftest import WindowFactory, wait_settled

AS_OF = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from app.services.demo import generate
    from app.services.jobs.runner import run_jobs
    from app.services.schema import prepare

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    db = open_database(f"sqlite:///{path}")
    try:
        prepare(db)
        generate(db, "small", as_of=AS_OF)
        run_jobs(db, ["kpis"], as_of=AS_OF, options={"kpis": {"periods": 2}})
    finally:
        db.dispose()
    return path


@pytest.fixture
def office(demo_file: Path, tmp_path: Path) -> Path:
    path = tmp_path / "office.sqlite3"
    shutil.copy(demo_file, path)
    return path


def _open(qtbot, make_window: WindowFactory, path: Path, key: str):  # type: ignore[no-untyped-def]
    window = make_window()
    window.resize(1400, 900)
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    assert window.show_page(key)
    page = window.page_widget(key)
    qtbot.waitUntil(lambda: page.data is not None and not page.is_loading(), timeout=10_000)
    return page


def _agent(path: Path) -> tuple[int, str]:
    db = open_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            u = s.scalars(sa.select(User).where(User.email.like("jayden%"))).one()
            return u.id, f"{u.first_name} {u.last_name}"
    finally:
        db.dispose()


def test_my_kpis_shows_the_scorecard_of_the_person_chosen(
    qtbot, make_window: WindowFactory, office: Path
) -> None:
    page = _open(qtbot, make_window, office, "my_kpis")
    assert isinstance(page, ScorecardPage)
    uid, name = _agent(office)
    page.as_of.setDate(AS_OF)
    qtbot.waitUntil(lambda: not page.is_loading(), timeout=10_000)
    index = page.chooser.findData(uid)
    assert index >= 0
    page.chooser.setCurrentIndex(index)
    page.chooser.activated.emit(index)
    qtbot.waitUntil(lambda: not page.is_loading() and page.data.card.user_id == uid, timeout=10_000)
    db = open_database(f"sqlite:///{office}")
    try:
        expected = my_kpis(db, uid, as_of=AS_OF)
    finally:
        db.dispose()
    assert [c.card.kpi for c in page.cards] == [c.kpi for c in expected.cards]
    assert len(page.cards) >= 5
    assert page.overall.text() == f"{expected.overall:,.2f}"
    assert name in page.overall_note.text()
    first = page.cards[0]
    assert isinstance(first, KpiCard)
    assert len(first.spark.points) == len(expected.cards[0].history) <= 6
    # An earlier day shows the scorecard as it stood then (fewer measurements).
    page.as_of.setDate(dt.date(2026, 1, 5))
    qtbot.waitUntil(lambda: not page.is_loading(), timeout=10_000)
    assert page.data.card.as_of == dt.date(2026, 1, 5)


def test_my_kpis_exports_csv_xlsx_and_pdf(
    qtbot, make_window: WindowFactory, office: Path, tmp_path: Path
) -> None:
    page = _open(qtbot, make_window, office, "my_kpis")
    page.as_of.setDate(AS_OF)
    qtbot.waitUntil(lambda: not page.is_loading(), timeout=10_000)
    index = page.chooser.findData(_agent(office)[0])
    page.chooser.setCurrentIndex(index)
    page.chooser.activated.emit(index)
    qtbot.waitUntil(lambda: not page.is_loading() and bool(page.cards), timeout=10_000)
    card = page.data.card
    for kind in ("csv", "xlsx", "pdf"):
        target = tmp_path / f"out.{kind}"
        page.choose_file = lambda *_a, t=target: str(t)
        assert page.export(kind) == str(target)
        qtbot.waitUntil(lambda t=target: page.last_export == str(t), timeout=10_000)
        assert target.stat().st_size > 0
    with open(tmp_path / "out.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:2] == ["Scorecard", card.name]
    header = rows.index(["KPI", "Category", "Period", "Period start", "Actual", "Unit",
                         "Target", "Achievement %", "Weight"])  # fmt: skip
    assert [r[0] for r in rows[header + 1 :]] == [c.kpi for c in card.cards]
    sheet = load_workbook(tmp_path / "out.xlsx")["KPIs"]
    assert sheet.cell(row=2, column=1).value == card.cards[0].kpi
    weight = sheet.cell(row=2, column=9).value
    assert isinstance(weight, int | float) and weight == float(card.cards[0].weight)
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")


def test_team_view_lists_the_members_with_their_scores(
    qtbot, make_window: WindowFactory, office: Path, tmp_path: Path
) -> None:
    page = _open(qtbot, make_window, office, "team_view")
    assert isinstance(page, TeamPage)
    page.as_of.setDate(AS_OF)
    qtbot.waitUntil(lambda: not page.is_loading(), timeout=10_000)
    db = open_database(f"sqlite:///{office}")
    try:
        expected = team_view(db, as_of=AS_OF)
    finally:
        db.dispose()
    view = page.data.view
    assert [m.name for m in view.members] == [m.name for m in expected.members]
    assert page.members_model.rowCount() == len(expected.members) > 0
    assert page.average.text() == f"{expected.average:,.2f}"
    assert page.chooser.itemText(0) == "All my teams"  # local mode: every team
    # One team only.
    page.chooser.setCurrentIndex(1)
    page.chooser.activated.emit(1)
    qtbot.waitUntil(lambda: not page.is_loading() and page.data.team_id != -1, timeout=10_000)
    assert {m.team for m in page.data.view.members} == {page.chooser.currentText()}
    target = tmp_path / "team.xlsx"
    page.choose_file = lambda *_a: str(target)
    page.export("xlsx")
    qtbot.waitUntil(lambda: page.last_export == str(target), timeout=10_000)
    assert load_workbook(target)["Members"].max_row == len(page.data.view.members) + 1


def test_models_pass_the_model_tester(qtbot, qtmodeltester, make_window: WindowFactory,
                                      office: Path) -> None:  # fmt: skip
    page = _open(qtbot, make_window, office, "team_view")
    qtmodeltester.check(page.members_model)
    qtmodeltester.check(page.kpi_model)
