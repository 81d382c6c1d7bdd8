"""The agent report window: opened from a card, its month table, exports and "Message agent"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QWidget

from app.gui.agent_report.dialog import AgentReportDialog, default_range, mailto
from app.gui.agent_report.model import HistoryModel
from app.gui.dashboard import team as team_module
from app.services.reports.agent_history import AgentHistory, MonthFigures
from tests.gui.conftest import WindowFactory
from tests.gui.test_dashboard import ANN, card, office_db, open_dashboard

__all__ = ["office_db"]  # the fixture, shared with the dashboard's tests


def figures(month: dt.date, new: int, volume: str) -> MonthFigures:
    return MonthFigures(
        month=month,
        first_day=month,
        last_day=month + dt.timedelta(days=27),
        total_leads=new * 2,
        new_leads=new,
        converted_leads=1,
        conversion_rate_pct=Decimal("50.00"),
        appointments_scheduled=3,
        appointments_completed=2,
        no_shows=1,
        show_rate_pct=Decimal("66.7"),
        escrows=1,
        volume=Decimal(volume),
        commission=Decimal("100.00"),
        active_clients=1,
        active_listings=0,
    )


def history() -> AgentHistory:
    months = (figures(dt.date(2025, 1, 1), 2, "1000"), figures(dt.date(2025, 2, 1), 3, "2000"))
    return AgentHistory(
        user_id=1,
        email="ann@example.com",
        name="Ann Lee",
        team=None,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 2, 28),
        currency="USD",
        months=months,
        totals=figures(dt.date(2025, 1, 1), 5, "3000"),
    )


def test_the_month_model_passes_qtmodeltester(qtmodeltester) -> None:
    model = HistoryModel()
    qtmodeltester.check(model)
    model.set_history(history())
    qtmodeltester.check(model)
    assert model.rowCount() == 3 and model.index(2, 0).data() == "Total"
    assert model.index(1, 10).data() == "$2,000.00"
    model.set_history(None)
    qtmodeltester.check(model)


def test_the_default_range_is_the_last_12_months() -> None:
    assert default_range(dt.date(2026, 3, 15)) == (dt.date(2025, 4, 1), dt.date(2026, 3, 15))
    assert default_range(dt.date(2026, 12, 31)) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def test_mailto_url() -> None:
    url = mailto("ann.lee@example.com", "Your report, Jan 2025 to Feb 2025")
    assert url.scheme() == "mailto" and url.path() == "ann.lee@example.com"
    assert url.toString() == "mailto:ann.lee@example.com?subject=Your report, Jan 2025 to Feb 2025"


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[QWidget]:
    dialogs: list[QWidget] = []
    original = team_module.open_agent_report

    def record(section: QWidget, agent):  # type: ignore[no-untyped-def]
        dialog = original(section, agent)
        assert dialog is not None
        dialogs.append(dialog)
        return dialog

    monkeypatch.setattr(team_module, "open_agent_report", record)
    monkeypatch.setattr(team_module, "popup", lambda _menu, _at: None)
    return dialogs


def wait_report(qtbot, dialog: AgentReportDialog) -> None:
    qtbot.waitUntil(
        lambda: not dialog.is_loading() and dialog.model.history is not None, timeout=10_000
    )


def test_view_full_report_opens_from_the_card_menu(
    qtbot, make_window: WindowFactory, office_db: Path, opened: list[QWidget], tmp_path: Path
) -> None:
    _window, page = open_dashboard(qtbot, make_window, office_db)
    ann = card(page, ANN)
    assert page.team.select_user(ann.user_id)
    menu = page.team.card_menu(page.team.view.currentIndex())
    assert menu is not None
    names = [a.objectName() for a in menu.actions()]
    assert names == ["viewReport", "messageAgent"]
    menu.actions()[0].trigger()
    assert len(opened) == 1
    dialog = opened[0]
    assert isinstance(dialog, AgentReportDialog)
    wait_report(qtbot, dialog)
    history = dialog.model.history
    assert history is not None and history.email == ANN
    assert len(history.months) in (12, 13) and dialog.model.rowCount() == len(history.months) + 1
    assert history.totals.new_leads == 2 and history.totals.volume == Decimal(450000)
    heights = dialog.volume_bars.opts["height"]
    assert (heights[-1] + heights[-2]) * dialog.volume_scale == 450000

    # Exports, to files the injected chooser names.
    chosen: list[str] = []

    def choose(_parent: QWidget, _caption: str, suggested: str, _filter: str) -> str:
        chosen.append(suggested)
        return str(tmp_path / Path(suggested).stem)  # without the extension: it is added

    dialog.choose_file = choose
    pdf = dialog.export_pdf()
    assert pdf is not None and pdf.endswith(".pdf")
    assert Path(pdf).read_bytes().startswith(b"%PDF")
    dialog.export_xlsx()
    xlsx = tmp_path / (Path(chosen[-1]).stem + ".xlsx")
    qtbot.waitUntil(lambda: xlsx.exists() and not dialog.ctx.ops.active(), timeout=10_000)
    rows = list(load_workbook(xlsx).active.iter_rows(values_only=True))
    assert rows[1][0] == "Month" and rows[-1][0] == "Total"
    assert chosen[0].endswith(".pdf") and chosen[1].endswith(".xlsx")

    # Message agent: a mailto: URL to the agent, through the injected opener.
    urls: list[QUrl] = []
    dialog.open_url = lambda url: urls.append(url) or True
    dialog.message_button.click()
    assert [u.scheme() for u in urls] == ["mailto"] and urls[0].path() == ANN
    assert "subject=" in urls[0].toString()

    # A new range reloads into the same charts.
    start, end = dt.date(2025, 1, 1), dt.date(2025, 3, 31)
    dialog.set_range(start, end)
    wait_report(qtbot, dialog)
    assert dialog.model.rowCount() == 4
    assert len(dialog.volume_bars.opts["height"]) == 3
    dialog.close()


def test_enter_on_a_card_opens_the_report(
    qtbot, make_window: WindowFactory, office_db: Path, opened: list[QWidget]
) -> None:
    _window, page = open_dashboard(qtbot, make_window, office_db)
    view = page.team.view
    view.setFocus()
    view.setCurrentIndex(page.team.proxy.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert len(opened) == 1
    dialog = opened[0]
    assert isinstance(dialog, AgentReportDialog)
    wait_report(qtbot, dialog)
    dialog.close()
