"""Lead sources page and Lead costs… dialog (issue 7): the models through qtmodeltester; over a
real SQLite office (broker Bo, agents Ann and Ben, October 2026) the figures by source and by
person, the range kept in the settings, the empty state; the dialog saving a month, refusing a
negative cost and a missing source beside their rows while writing nothing, a stale version,
asking before closing with changes, and a person who may not enter spend seeing it read-only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.db.models import CommissionRecord, Deal, Lead, LeadSourceCost, User
from app.domain.roi import THIS_MONTH, CostEntry, Counted, build_report
from app.gui.analytics import roi_page as page_module
from app.gui.analytics.lead_cost_dialog import CANCEL, DISCARD, SAVE, LeadCostDialog
from app.gui.analytics.roi_models import (
    AGENT_COLUMNS,
    KEY_ROLE,
    PROBLEM_ROLE,
    SHEET_AGENT,
    SHEET_COST,
    SHEET_PROBLEM,
    SHEET_SOURCE,
    SOURCE_COLUMNS,
    CostSheetModel,
    RoiSortProxy,
    RoiTableModel,
)
from app.gui.analytics.roi_page import RoiPage
from app.gui.context import AppContext
from app.gui.pages import PAGES
from app.gui.targets import ExplicitUrl
from app.services.analytics.lead_costs import CostChange, CostRow, month_costs, save_month_costs
from app.services.database import Database, open_database
from app.services.users import add_user
from tests.gui.conftest import FakePrompts

D = Decimal
BO, ANN, BEN = "bo@roi.example", "ann@roi.example", "ben@roi.example"
OCT, OCT_END = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
TODAY = dt.date(2026, 10, 20)


# -- the models ---------------------------------------------------------------------------------


def _report():  # type: ignore[no-untyped-def]
    return build_report(
        OCT,
        OCT_END,
        "USD",
        [CostEntry("Website", OCT, None, D(400)), CostEntry("Zillow", OCT, 1, D(300))],
        [
            Counted(1, "Zillow", leads=3, closed=1, commission=D(1200)),
            Counted(2, "Website", leads=4),
            Counted(2, None, leads=1),
        ],
        {1: ("ann@x.example", "Ann Avery"), 2: ("ben@x.example", "Ben Baker")},
    )


def test_the_roi_models_and_proxies_pass_qtmodeltester(qtmodeltester) -> None:
    report = _report()
    sources = RoiTableModel(SOURCE_COLUMNS)
    sources.set_rows(report.sources, "USD")
    qtmodeltester.check(sources)
    texts = [[sources.index(r, c).data() for c in range(8)] for r in range(3)]
    assert texts[0] == [
        "Website", "$400.00", "4", "$100.00", "0", "—", "$0.00", "$0.00",
    ]  # fmt: skip
    assert texts[1] == [
        "Zillow", "$300.00", "3", "$100.00", "1", "$300.00", "$1,200.00", "$4.00",
    ]  # fmt: skip
    assert texts[2][:2] == ["(no source)", "$0.00"] and texts[2][7] == "—"
    agents = RoiTableModel(AGENT_COLUMNS)
    agents.set_rows(report.agents, "SGD")
    proxy = RoiSortProxy()
    proxy.setSourceModel(agents)
    qtmodeltester.check(agents)
    qtmodeltester.check(proxy)
    assert agents.index(0, 2).data() == "SGD 300.00"  # Ann's own Zillow spend
    proxy.set_source("website")
    assert proxy.rowCount() == 1 and proxy.index(0, 0).data() == "Ben Baker"
    proxy.set_source(None)
    assert proxy.rowCount() == 1 and proxy.index(0, 1).data() == "(no source)"
    qtmodeltester.check(proxy)
    proxy.set_source(RoiSortProxy.ALL)
    proxy.sort(2, Qt.SortOrder.DescendingOrder)  # own spend, as numbers
    assert proxy.index(0, 2).data() == "SGD 300.00"
    agents.set_rows([])
    qtmodeltester.check(proxy)


def test_the_cost_sheet_passes_qtmodeltester_and_says_what_changed(qtmodeltester) -> None:
    model = CostSheetModel()
    rows = [
        CostRow(1, "Website", None, None, D("310.00"), 1),
        CostRow(2, "Zillow", 7, "Ann Avery", D("620.00"), 3),
    ]
    model.load(rows, {7: "Ann Avery"}, lambda agent: agent is None)
    qtmodeltester.check(model)
    assert [model.index(r, SHEET_AGENT).data() for r in range(2)] == ["Whole office", "Ann Avery"]
    assert model.index(0, SHEET_COST).data() == "310.00"
    assert not model.flags(model.index(1, SHEET_COST)) & Qt.ItemFlag.ItemIsEditable
    assert model.setData(model.index(0, SHEET_COST), "333")
    assert not model.setData(model.index(1, SHEET_COST), "1")  # greyed: not theirs to write
    row = model.add_line()
    model.setData(model.index(row, SHEET_SOURCE), "Flyers")
    model.setData(model.index(row, SHEET_COST), "-5")
    model.add_line()  # left blank: not saved
    qtmodeltester.check(model)
    assert model.changed_lines() == 2
    changes = model.changes()
    assert [(c.row, c.source, c.cost, c.id, c.version) for c in changes] == [
        (1, "Website", "333", 1, 1),
        (3, "Flyers", "-5", None, None),
    ]
    model.set_problems({3: {"cost": "must not be negative (got -5)"}})
    assert model.index(2, SHEET_PROBLEM).data() == "Cost: must not be negative (got -5)"
    assert model.index(2, SHEET_COST).data(PROBLEM_ROLE) == "must not be negative (got -5)"
    assert model.index(2, SHEET_COST).data(Qt.ItemDataRole.BackgroundRole) is not None
    model.setData(model.index(2, SHEET_COST), "5")  # edited: the problem goes
    assert model.index(2, SHEET_PROBLEM).data() == ""
    assert model.remove_line(0) is not None
    assert [c.delete for c in model.changes()] == [True, False]
    assert model.remove_line(0) is None  # Ann's line: not theirs to delete
    qtmodeltester.check(model)


# -- the page over a real office ----------------------------------------------------------------


def _add(db: Database, obj: object) -> int:
    with db.session() as s:
        s.add(obj)
        s.flush()
        return int(obj.id)  # type: ignore[attr-defined]


def _ids(db: Database) -> dict[str, int]:
    with db.read() as s:
        return {e: i for i, e in s.execute(sa.select(User.id, User.email))}


def _at(day: int) -> dt.datetime:
    return dt.datetime(2026, 10, day, 12, tzinfo=dt.UTC)


@pytest.fixture
def office(prepared_db_path: Path) -> Path:
    """October 2026: Website office-wide $400; Zillow bought for Ann $300. Ann: 3 Zillow leads
    and a Zillow deal won with $1,200 confirmed; Ben: 4 Website leads."""
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, BO, "broker", "Bo", "Broker")
        add_user(db, ANN, "agent", "Ann", "Avery", broker_email=BO)
        add_user(db, BEN, "agent", "Ben", "Baker", broker_email=BO)
        ids = _ids(db)
        _add(db, LeadSourceCost(source="Website", month=OCT, agent_id=None, cost=D(400)))
        _add(db, LeadSourceCost(source="Zillow", month=OCT, agent_id=ids[ANN], cost=D(300)))
        for day in (1, 2, 3):
            _add(db, Lead(owner_id=ids[ANN], name=f"A{day}", source="Zillow", status="new",
                          created_at=_at(day)))  # fmt: skip
        for day in (4, 5, 6, 7):
            _add(db, Lead(owner_id=ids[BEN], name=f"B{day}", source="website", status="new",
                          created_at=_at(day)))  # fmt: skip
        won = _add(
            db,
            Deal(
                ref="Z-1", agent_id=ids[ANN], title="1 Oak St", asset_type="single_family",
                deal_type="acquisition", pipeline_stage="closed_won", status="closed_won",
                lead_source="Zillow", estimated_value_amount=D(450000),
                estimated_value_currency="USD", confidence=D("0.5"),
                actual_close_date=dt.date(2026, 10, 9), created_at=_at(1),
            ),
        )  # fmt: skip
        _add(db, CommissionRecord(deal_id=won, agent_id=ids[ANN], commission_type="exclusive",
                                  basis_amount=D(1200), commission_rate=D(1),
                                  commission_amount=D(1200), status="confirmed",
                                  created_at=_at(9)))  # fmt: skip
    finally:
        db.dispose()
    return prepared_db_path


@pytest.fixture
def db(office: Path):  # type: ignore[no-untyped-def]
    database = open_database(f"sqlite:///{office}")
    yield database
    database.dispose()


def settle(qtbot, page: RoiPage) -> None:
    qtbot.waitUntil(lambda: not page.ctx.ops.active(), timeout=10_000)


def open_page(qtbot, ctx: AppContext, path: Path, acting: str | None = None) -> RoiPage:
    page = RoiPage(ctx)
    qtbot.addWidget(page)
    page.acting = acting
    page.today = lambda: TODAY
    page.resize(1200, 800)
    page.show()
    ctx.database.open(ExplicitUrl(f"sqlite:///{path}"))
    page.set_dates(OCT, OCT_END)
    qtbot.waitUntil(
        lambda: page.report() is not None and page.report().start == OCT,  # type: ignore[union-attr]
        timeout=10_000,
    )
    settle(qtbot, page)
    return page


def _table(view) -> list[list[str]]:  # type: ignore[no-untyped-def]
    model = view.model()
    return [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def test_the_page_registers_itself(qtbot, ctx: AppContext) -> None:
    spec = next(s for s in PAGES if s.key == "roi")
    assert (spec.title, spec.order, spec.icon) == ("Lead sources", 191, "leads")
    assert spec.tooltip == "What each lead source cost and brought in"
    page = spec.build(ctx)
    qtbot.addWidget(page)
    assert isinstance(page, RoiPage)
    assert page.source_empty.text().startswith("Open a database")
    assert not page.costs_button.isEnabled() and page.open_costs() is None


def test_the_page_shows_what_each_source_cost_and_brought_in(
    qtbot, ctx: AppContext, office: Path, db: Database, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office)
    assert page.source_body.currentWidget() is page.source_table
    assert _table(page.source_table) == [
        ["Website", "$400.00", "4", "$100.00", "0", "—", "$0.00", "$0.00"],
        ["Zillow", "$300.00", "3", "$100.00", "1", "$300.00", "$1,200.00", "$4.00"],
    ]
    assert page.totals_label.text().startswith("Total: $700.00 spent · 7 leads at $100.00 each")
    assert "$1,200.00 commission, $1.71 per $1.00 spent" in page.totals_label.text()
    assert [r[:3] for r in _table(page.agent_table)] == [
        ["Ann Avery", "Zillow", "$300.00"],
        ["Ben Baker", "Website", "$0.00"],  # office-wide spend is not shared out
    ]
    assert "not shared out" in page.agent_note.text()
    # a source selected above narrows the rows by person; All sources shows them all again
    assert page.select_source("website")
    assert [r[0] for r in _table(page.agent_table)] == ["Ben Baker"]
    assert page.agent_caption.text() == "By person — Website"
    page.all_button.click()
    assert page.agent_proxy.rowCount() == 2 and page.selected_source() is RoiSortProxy.ALL
    # sortable
    page.source_table.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    assert [r[0] for r in _table(page.source_table)] == ["Zillow", "Website"]
    # a deal won elsewhere: the page reads again when told deals changed
    _add(db, Deal(ref="W-1", agent_id=_ids(db)[BEN], title="2 Elm St", asset_type="house",
                  deal_type="acquisition", pipeline_stage="closed_won", status="closed_won",
                  lead_source="Website", estimated_value_amount=D(1),
                  estimated_value_currency="USD", confidence=D("0.5"),
                  actual_close_date=dt.date(2026, 10, 20), created_at=_at(2)))  # fmt: skip
    ctx.events.changed("deals")
    qtbot.waitUntil(lambda: page.report().totals.closed == 2, timeout=10_000)  # type: ignore[union-attr]
    settle(qtbot, page)
    assert prompts.errors == []


def test_the_range_is_kept_and_an_empty_range_says_so(qtbot, ctx: AppContext, office: Path) -> None:
    page = open_page(qtbot, ctx, office)
    page.set_dates(dt.date(2027, 1, 1), dt.date(2027, 1, 31))
    qtbot.waitUntil(lambda: page.report().start.year == 2027)  # type: ignore[union-attr]
    settle(qtbot, page)
    assert page.source_body.currentWidget() is page.source_empty
    assert page.source_empty.text().startswith("Nothing to show for 1 Jan 2027 to 31 Jan 2027")
    assert "Lead costs… (Ctrl+L)" in page.source_empty.text()
    assert page.agent_body.currentWidget() is page.agent_empty
    again = RoiPage(ctx)
    qtbot.addWidget(again)
    assert again.preset() == "custom"
    assert again.date_range() == (dt.date(2027, 1, 1), dt.date(2027, 1, 31))
    again.today = lambda: TODAY
    again.set_preset(THIS_MONTH)
    assert again.date_range() == (OCT, OCT_END)
    assert "31 days" in again.range_label.text()


# -- Lead costs… --------------------------------------------------------------------------------


def open_dialog(qtbot, page: RoiPage, by_key: bool = True) -> LeadCostDialog:
    """Lead costs… by its shortcut (Ctrl+L) or its button, once the month is read."""
    if by_key:
        page.activateWindow()
        page.setFocus()
        qtbot.keyClick(page, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    else:
        page.costs_button.click()
    (dialog,) = [d for d in page.findChildren(LeadCostDialog) if d.isVisible()]
    qtbot.waitUntil(lambda: dialog._sheet is not None and not dialog._busy(), timeout=10_000)
    dialog.confirm = lambda *_a: True
    return dialog


def settle_dialog(qtbot, dialog: LeadCostDialog) -> None:
    qtbot.waitUntil(lambda: not dialog._busy() and not dialog.ctx.ops.active(), timeout=10_000)


def _sheet(dialog: LeadCostDialog) -> list[list[str]]:
    m = dialog.model
    return [[m.index(r, c).data() for c in range(3)] for r in range(m.rowCount())]


def _stored(db: Database) -> set[tuple[str, int | None, Decimal]]:
    with db.read() as s:
        return {
            (src, agent, cost)
            for src, agent, cost in s.execute(
                sa.select(LeadSourceCost.source, LeadSourceCost.agent_id, LeadSourceCost.cost)
            )
        }


def test_the_dialog_saves_a_month_and_the_page_reads_again(
    qtbot, ctx: AppContext, office: Path, db: Database
) -> None:
    changed: list[str] = []
    ctx.events.data_changed.connect(changed.append)
    page = open_page(qtbot, ctx, office)
    dialog = open_dialog(qtbot, page)
    assert dialog.month_edit.text() == "October 2026"
    assert _sheet(dialog) == [
        ["Website", "Whole office", "400.00"],
        ["Zillow", "Ann Avery", "300.00"],
    ]
    assert not dialog.note.isVisible() and dialog.add_button.isEnabled()
    m = dialog.model
    m.setData(m.index(0, SHEET_COST), "450")
    qtbot.keyClick(dialog, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # Add row
    dialog.commit_editing()
    assert m.rowCount() == 3
    m.setData(m.index(2, SHEET_SOURCE), "Flyers")
    m.setData(m.index(2, SHEET_COST), "120.50")
    dialog.table.setCurrentIndex(m.index(1, 0))
    asked: list[str] = []
    dialog.confirm = lambda _p, _t, text: asked.append(text) or True
    assert dialog.delete_row()
    assert asked == [
        "Delete row 2 (Zillow, Ann Avery)? It is deleted from October 2026 when you save."
    ]
    assert dialog.save_button.text() == "&Save (3)"
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    settle_dialog(qtbot, dialog)
    assert dialog.message.text() == "Saved October 2026: 1 added, 1 changed, 1 deleted."
    assert _stored(db) == {("Website", None, D(450)), ("Flyers", None, D("120.50"))}
    assert _sheet(dialog) == [
        ["Flyers", "Whole office", "120.50"],
        ["Website", "Whole office", "450.00"],
    ]
    assert "lead_source_costs" in changed
    qtbot.waitUntil(lambda: len(page.source_model.rows()) == 3, timeout=10_000)
    settle(qtbot, page)
    assert [r[:2] for r in _table(page.source_table)] == [
        ["Website", "$450.00"], ["Flyers", "$120.50"], ["Zillow", "$0.00"],
    ]  # fmt: skip


def test_the_dialog_refuses_a_negative_cost_and_a_missing_source_and_writes_nothing(
    qtbot, ctx: AppContext, office: Path, db: Database
) -> None:
    before = _stored(db)
    page = open_page(qtbot, ctx, office)
    dialog = open_dialog(qtbot, page)
    m = dialog.model
    m.setData(m.index(1, SHEET_COST), "-5")
    row = dialog.add_row()
    dialog.commit_editing()
    assert row == 2
    m.setData(m.index(2, SHEET_COST), "80")  # no source
    dialog.save()
    settle_dialog(qtbot, dialog)
    text = dialog.message.text()
    assert text.startswith("October 2026: 2 rows to correct; nothing was saved.")
    assert "Row 2, Cost: must not be negative (got -5)" in text
    assert "Row 3, Source: required" in text
    assert not dialog.table.isColumnHidden(SHEET_PROBLEM)
    assert m.index(1, SHEET_PROBLEM).data() == "Cost: must not be negative (got -5)"
    assert m.index(2, SHEET_PROBLEM).data() == "Source: required"
    assert dialog.table.currentIndex().row() == 1  # the first problem's cell
    assert _sheet(dialog)[1:] == [["Zillow", "Ann Avery", "-5"], ["", "Whole office", "80"]]
    assert _stored(db) == before
    assert dialog.isVisible()


def test_a_stale_version_is_refused_with_a_message_and_reload(
    qtbot, ctx: AppContext, office: Path, db: Database
) -> None:
    page = open_page(qtbot, ctx, office)
    dialog = open_dialog(qtbot, page)
    website = month_costs(db, OCT)[0]
    save_month_costs(db, OCT, [CostChange(1, "Website", None, "999", id=website.id,
                                          version=website.version)])  # fmt: skip
    m = dialog.model
    m.setData(m.index(0, SHEET_COST), "410")
    dialog.save()
    settle_dialog(qtbot, dialog)
    assert dialog.message.text() == (
        "Row 1 (Website, the whole office) was changed on another workstation; reload the "
        "month. Nothing was saved."
    )
    assert dialog.reload_button.isVisible()
    assert ("Website", None, D(999)) in _stored(db)
    assert _sheet(dialog)[0] == ["Website", "Whole office", "410"]  # what was typed stays
    dialog.reload_button.click()
    settle_dialog(qtbot, dialog)
    assert _sheet(dialog)[0] == ["Website", "Whole office", "999.00"]
    assert not dialog.reload_button.isVisible()


def test_closing_or_leaving_the_month_with_changes_asks_first(
    qtbot, ctx: AppContext, office: Path, db: Database
) -> None:
    page = open_page(qtbot, ctx, office)
    dialog = open_dialog(qtbot, page)
    m = dialog.model
    m.setData(m.index(0, SHEET_COST), "401")
    answers = [CANCEL]
    asked: list[str] = []

    def ask(_parent: object, text: str) -> str:
        asked.append(text)
        return answers.pop(0)

    dialog.ask_unsaved = ask
    dialog.step_month(1)  # November: stays on October
    assert dialog.month_edit.text() == "October 2026" and m.changed_lines() == 1
    answers.append(DISCARD)
    dialog.reject()
    assert asked[-1] == "Save the 1 change to October 2026 before closing?"
    assert not dialog.isVisible()
    assert ("Website", None, D(400)) in _stored(db)

    dialog = open_dialog(qtbot, page, by_key=False)
    dialog.ask_unsaved = ask
    dialog.model.setData(dialog.model.index(0, SHEET_COST), "402")
    answers.append(SAVE)
    dialog.step_month(1)  # saves October, then shows November
    qtbot.waitUntil(lambda: dialog._sheet is not None and dialog._sheet.month.month == 11)
    settle_dialog(qtbot, dialog)
    assert ("Website", None, D(402)) in _stored(db)
    assert dialog.month_edit.text() == "November 2026" and dialog.model.rowCount() == 0
    assert dialog.message.text().startswith("No spend entered for November 2026 yet.")
    dialog.close()
    assert not dialog.isVisible()


def test_someone_who_may_not_enter_spend_sees_the_month_read_only(
    qtbot, ctx: AppContext, office: Path
) -> None:
    page = open_page(qtbot, ctx, office, acting=ANN)
    assert [r[0] for r in _table(page.source_table)] == ["Website", "Zillow"]
    assert [r[0] for r in _table(page.agent_table)] == ["Ann Avery"]
    dialog = open_dialog(qtbot, page)
    assert dialog.note.isVisible() and "may read this month's spend" in dialog.note.text()
    assert not dialog.add_button.isEnabled() and not dialog.save_button.isEnabled()
    assert dialog.add_row() is None
    m = dialog.model
    assert not m.flags(m.index(0, SHEET_SOURCE)) & Qt.ItemFlag.ItemIsEditable
    assert not m.setData(m.index(0, SHEET_COST), "1")
    assert _sheet(dialog) == [
        ["Website", "Whole office", "400.00"],
        ["Zillow", "Ann Avery", "300.00"],
    ]


def test_the_keys_and_roles_the_page_relies_on() -> None:
    assert page_module.ROI_KINDS[0] == "lead_source_costs"
    report = _report()
    model = RoiTableModel(SOURCE_COLUMNS)
    model.set_rows(report.sources)
    assert [model.index(r, 0).data(KEY_ROLE) for r in range(3)] == ["website", "zillow", None]
