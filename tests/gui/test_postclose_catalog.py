"""Buyers and Buy boxes pages: every model through qtmodeltester, the pages over a real SQLite
file, the buyer's side panel (score and grades), New…/Edit… through the dialogs with the
service's per-field problems, the conflict path, and who may change them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.db.models import BuyBox, Buyer, DealPerformance, User
from app.gui import theme
from app.gui.context import AppContext
from app.gui.pages import load_builtin_pages
from app.gui.postclose import buy_boxes_page as boxes_module
from app.gui.postclose import buyers_page as buyers_module
from app.gui.postclose.buy_boxes_page import BuyBoxesPage
from app.gui.postclose.buyers_page import BuyersPage
from app.gui.postclose.catalog_dialogs import BuyBoxDialog, BuyerDialog
from app.gui.postclose.catalog_models import (
    BOX_LEVEL,
    BOX_MIN_DSCR,
    BOX_RATE,
    BUYER_NAME,
    BUYER_SCORE,
    DEAL_GRADE,
    ID_ROLE,
    ROW_ROLE,
    SORT_ROLE,
    RowFilterProxy,
    buy_boxes_model,
    buyers_model,
    past_deals_model,
)
from app.gui.postclose.catalog_page import Loaded
from app.gui.targets import ExplicitUrl
from app.services.database import open_database
from app.services.postclose import catalog
from app.services.postclose.catalog import BuyBoxRow, BuyerRow, PastDeal
from app.services.users import add_user
from tests.gui.conftest import FakePrompts, WindowFactory, wait_settled

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)

BUYERS = [
    BuyerRow(1, "Acme Holdings", "deals@acme.example", "661-555-0100", Decimal("61.67"), 3, 2),
    BuyerRow(2, "Birch Fund", None, None, None, 0, 1),
    BuyerRow(3, "Cedar Capital", "c@cedar.example", None, Decimal("35.00"), 12, 4),
]
BOXES = [
    BuyBoxRow(1, "BB-1", "Bakersfield SFR", "CA-BAKERSFIELD", "buy_hold", Decimal("1.25"),
              1, "Acme Holdings", Decimal("75.00"), None, 4, 1),
    BuyBoxRow(2, None, "Fresno NNN", "CA-FRESNO", "commercial", Decimal("1.40"),
              None, None, Decimal("50.00"), "WARNING", 2, 3),
    BuyBoxRow(3, "BB-3", "Visalia SFR", "CA-VISALIA", "buy_hold", Decimal("1.20"),
              3, "Cedar Capital", Decimal("25.00"), "CRITICAL", 4, 1),
]  # fmt: skip
DEALS = [
    PastDeal(1, "PF-1", "CA-BAKERSFIELD", "buy_hold", dt.date(2025, 5, 1), "A", "Bakersfield SFR"),
    PastDeal(2, None, "CA-FRESNO", "commercial", dt.date(2025, 7, 1), None, None),
    PastDeal(3, "PF-3", "CA-FRESNO", "buy_hold", dt.date(2024, 1, 1), "D", None),
]


# -- models -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "rows"),
    [(buyers_model, BUYERS), (buy_boxes_model, BOXES), (past_deals_model, DEALS)],
    ids=["buyers", "buy_boxes", "past_deals"],
)
def test_every_catalog_model_passes_qtmodeltester(qtmodeltester, make, rows) -> None:
    model = make()
    model.set_rows(rows)
    qtmodeltester.check(model)
    model.set_rows([])
    qtmodeltester.check(model)


@pytest.mark.parametrize(
    ("make", "rows"),
    [(buyers_model, BUYERS), (buy_boxes_model, BOXES), (past_deals_model, DEALS)],
    ids=["buyers", "buy_boxes", "past_deals"],
)
def test_every_catalog_proxy_passes_qtmodeltester_while_filtering(
    qtmodeltester, make, rows
) -> None:
    model = make()
    proxy = RowFilterProxy()
    proxy.setSourceModel(model)
    model.set_rows(rows)
    proxy.sort(1, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(proxy)
    proxy.setFilterFixedString("fresno")
    qtmodeltester.check(proxy)
    proxy.setFilterFixedString("")
    assert proxy.rowCount() == len(rows)


def test_buyer_model_shows_and_sorts_the_engagement_score() -> None:
    model = buyers_model()
    model.set_rows(BUYERS)
    proxy = RowFilterProxy()
    proxy.setSourceModel(model)
    assert model.index(0, BUYER_SCORE).data() == "61.67"
    assert model.index(1, BUYER_SCORE).data() == "—"
    assert "No score yet" in model.index(1, BUYER_SCORE).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, BUYER_SCORE).data(SORT_ROLE) == pytest.approx(61.67)
    assert model.index(2, 0).data(ROW_ROLE) is BUYERS[2]
    assert model.index(2, 0).data(ID_ROLE) == 3
    ok, error = theme.colors()["ok"], theme.colors()["error"]
    assert model.index(0, BUYER_SCORE).data(Qt.ItemDataRole.ForegroundRole).name() == ok
    assert model.index(2, BUYER_SCORE).data(Qt.ItemDataRole.ForegroundRole).name() == error
    assert model.index(1, BUYER_SCORE).data(Qt.ItemDataRole.ForegroundRole) is None
    proxy.sort(BUYER_SCORE, Qt.SortOrder.DescendingOrder)
    order = [proxy.index(r, BUYER_NAME).data() for r in range(3)]
    assert order == ["Acme Holdings", "Cedar Capital", "Birch Fund"]  # by number, none last
    proxy.setFilterFixedString("CEDAR.EX")
    assert proxy.rowCount() == 1


def test_buy_box_levels_show_in_colour() -> None:
    model = buy_boxes_model()
    model.set_rows(BOXES)
    fg = Qt.ItemDataRole.ForegroundRole
    assert [model.index(r, BOX_LEVEL).data() for r in range(3)] == ["OK", "WARNING", "CRITICAL"]
    assert model.index(2, BOX_LEVEL).data(fg).name() == theme.colors()["error"]
    assert model.index(2, BOX_RATE).data(fg).name() == theme.colors()["error"]
    warning = model.index(1, BOX_LEVEL).data(fg)
    assert warning is not None and warning.name() not in (
        theme.colors()["error"],
        theme.colors()["ok"],
    )
    assert model.index(0, BOX_RATE).data(fg) is None  # a healthy rate is plain
    assert model.index(2, BOX_LEVEL).data(Qt.ItemDataRole.FontRole).bold()
    assert model.index(1, BOX_RATE).data() == "50.00%"
    assert model.index(1, BOX_MIN_DSCR).data() == "1.40"
    assert model.index(1, 3).data() == "Commercial"
    assert "below" not in (model.index(0, BOX_LEVEL).data(Qt.ItemDataRole.ToolTipRole) or "")
    assert "Fewer than 40%" in model.index(2, BOX_LEVEL).data(Qt.ItemDataRole.ToolTipRole)


def test_past_deal_grades_are_coloured_and_ungraded_say_so() -> None:
    model = past_deals_model()
    model.set_rows(DEALS)
    assert [model.index(r, DEAL_GRADE).data() for r in range(3)] == ["A", "—", "D"]
    a = model.index(0, DEAL_GRADE).data(Qt.ItemDataRole.ForegroundRole)
    d = model.index(2, DEAL_GRADE).data(Qt.ItemDataRole.ForegroundRole)
    assert a is not None and d is not None and a != d
    assert model.index(1, DEAL_GRADE).data(Qt.ItemDataRole.ToolTipRole) == "No month entered yet"
    assert model.index(1, 0).data() == "#2"  # no reference: the record's number


# -- the pages over a real file -----------------------------------------------------------------


def _record(s, buyer_id: int, ref: str, closed: dt.date, grade: str | None, box_id=None) -> None:
    locker = s.scalar(sa.select(User.id).limit(1))
    s.add(
        DealPerformance(
            ref=ref, buyer_id=buyer_id, buy_box_id=box_id, strategy="buy_hold",
            market_key="CA-BAKERSFIELD", closed_date=closed, purchase_price=Decimal(300000),
            projected_rent=Decimal(2400), projected_noi=Decimal(1700),
            projected_monthly_cash_flow=Decimal(350), projected_dscr=Decimal("1.30"),
            assumptions=[], locked_at=NOW, locked_by=locker, current_grade=grade,
        )
    )  # fmt: skip


@pytest.fixture
def catalog_db(prepared_db_path: Path) -> Path:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, "cleo@office.example", "closer", "Cleo", "Closer")
        acme = catalog.save_buyer(db, {"name": "Acme Holdings", "email": "deals@acme.example"})
        birch = catalog.save_buyer(db, {"name": "Birch Fund"})
        box = catalog.save_buy_box(
            db,
            {"ref": "BB-1", "name": "Bakersfield SFR", "market_key": "CA-BAKERSFIELD",
             "strategy": "buy_hold", "min_dscr": "1.25", "buyer_id": str(acme)},
        )  # fmt: skip
        catalog.save_buy_box(
            db,
            {"name": "Fresno NNN", "market_key": "CA-FRESNO", "strategy": "commercial",
             "min_dscr": "1.40"},
        )  # fmt: skip
        with db.session() as s:
            _record(s, acme, "PF-1", dt.date(2025, 3, 1), "A", box.id)
            _record(s, acme, "PF-2", dt.date(2025, 6, 1), "A", box.id)
            _record(s, acme, "PF-3", dt.date(2025, 9, 1), "C", None)
            _record(s, acme, "PF-4", dt.date(2025, 10, 1), None, box.id)
            s.execute(
                sa.update(Buyer).where(Buyer.id == acme).values(engagement_score=Decimal("71.5"))
            )
            s.execute(
                sa.update(BuyBox)
                .where(BuyBox.id == box.id)
                .values(performance_rate=Decimal("33.33"), warning_level="CRITICAL")
            )
        assert birch
    finally:
        db.dispose()
    return prepared_db_path


def open_page(qtbot, make_window: WindowFactory, path: Path, key: str):
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    assert window.show_page(key)
    page = window.page_widget(key)
    qtbot.waitUntil(lambda: page._loaded is not None and not page.ctx.ops.active(), timeout=5000)
    return window, page


def settle(qtbot, page) -> None:
    qtbot.waitUntil(lambda: not page.ctx.ops.active(), timeout=5000)


def test_the_pages_are_registered_after_the_records_and_before_people(
    make_window: WindowFactory,
) -> None:
    specs = {spec.key: spec for spec in load_builtin_pages()}
    assert (specs["buyers"].title, specs["buy_boxes"].title) == ("Buyers", "Buy boxes")
    assert specs["buyers"].icon and specs["buy_boxes"].icon
    keys = make_window().page_keys()
    assert keys.index("escrows") < keys.index("buyers") < keys.index("buy_boxes")
    assert keys.index("buy_boxes") < keys.index("people")


def test_buyers_page_lists_buyers_and_the_panel_shows_score_and_grades(
    qtbot, make_window: WindowFactory, catalog_db: Path, prompts: FakePrompts
) -> None:
    _window, page = open_page(qtbot, make_window, catalog_db, "buyers")
    assert isinstance(page, BuyersPage)
    assert [r.name for r in page.model.rows()] == ["Acme Holdings", "Birch Fund"]
    assert page.count_label.text() == "2 buyers"
    assert page.proxy.index(0, BUYER_SCORE).data() == "71.50"
    assert page.proxy.index(0, 2).data() == "4"  # deals

    panel = page.panel
    qtbot.waitUntil(lambda: panel.detail is not None, timeout=5000)  # the first is selected
    assert page.current_id() == page.model.rows()[0].id
    assert panel.stack.currentWidget() is panel.content
    assert panel.name_label.text() == "Acme Holdings"
    assert panel.score_label.text() == "71.50"
    assert theme.colors()["ok"] in panel.score_label.styleSheet()
    assert [panel.grade_labels[g].text() for g in "ABCD"] == ["A  2", "B  0", "C  1", "D  0"]
    assert panel.grades_summary.text() == (
        "2 of 3 graded properties are A or B (67%). 1 has no month entered yet."
    )
    deals = panel.deals_proxy
    assert [deals.index(r, 0).data() for r in range(deals.rowCount())] == [
        "PF-4", "PF-3", "PF-2", "PF-1"
    ]  # fmt: skip
    assert [deals.index(r, DEAL_GRADE).data() for r in range(4)] == ["—", "C", "A", "A"]
    assert deals.index(0, 5).data() == "Bakersfield SFR"

    page.select_id(page.model.rows()[1].id)  # Birch: nothing closed yet
    qtbot.waitUntil(lambda: panel.name_label.text() == "Birch Fund", timeout=5000)
    assert panel.score_label.text() == "—"
    assert "No score yet" in panel.score_hint.text()
    assert panel.grades_summary.text() == "No graded properties yet."
    assert panel.deals_table.isHidden() and not panel.deals_empty.isHidden()

    page.table.clearSelection()
    qtbot.waitUntil(lambda: panel.stack.currentWidget() is panel.message, timeout=5000)
    assert "Select a buyer" in panel.message.text()
    assert not page.edit_button.isEnabled() and page.new_button.isEnabled()
    assert prompts.errors == []


def test_new_buyer_shows_the_services_problems_under_their_fields_then_saves(
    qtbot, make_window: WindowFactory, catalog_db: Path, prompts: FakePrompts
) -> None:
    window, page = open_page(qtbot, make_window, catalog_db, "buyers")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(page.findChildren(BuyerDialog)), timeout=2000)
    (dialog,) = page.findChildren(BuyerDialog)
    assert dialog.windowTitle() == "New buyer" and dialog.row is None

    dialog.email_edit.setText("deals@acme")
    dialog.phone_edit.setText("5" * 41)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("name") != "", timeout=5000)
    assert dialog.field_error("name") == "Required."
    assert dialog.field_error("email") == "'deals@acme' is not an email address."
    assert dialog.field_error("phone") == "41 characters long; at most 40 fit."
    assert dialog.name_edit.property("invalid") is True
    assert dialog.isVisible() and dialog.ok_button.isEnabled()

    qtbot.keyClicks(dialog.name_edit, "acme HOLDINGS")
    assert dialog.field_error("name") == ""  # cleared as typed
    dialog.email_edit.setText("")
    dialog.phone_edit.setText("")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("name") != "", timeout=5000)
    assert dialog.field_error("name") == "Another buyer is already called 'acme HOLDINGS'."

    dialog.name_edit.setText("Cedar Capital")
    dialog.email_edit.setText("Buy@Cedar.Example")
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    new_id = blocker.args[0]
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=5000)
    settle(qtbot, page)
    assert page.current_id() == new_id
    assert page.current_row().email == "buy@cedar.example"
    assert "Saved the buyer “Cedar Capital”." in window.statusBar().currentMessage()
    assert prompts.errors == []


def test_enter_edits_the_selected_buyer_and_a_stale_save_offers_a_reload(
    qtbot, make_window: WindowFactory, catalog_db: Path, prompts: FakePrompts
) -> None:
    window, page = open_page(qtbot, make_window, catalog_db, "buyers")
    birch = page.model.rows()[1]
    page.select_id(birch.id)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    (dialog,) = page.findChildren(BuyerDialog)
    assert dialog.windowTitle() == "Edit buyer"
    assert dialog.name_edit.text() == "Birch Fund"

    other = open_database(f"sqlite:///{catalog_db}")  # another workstation saves first
    try:
        catalog.save_buyer(other, {"name": "Birch Fund II"}, birch.id, birch.version)
    finally:
        other.dispose()
    dialog.phone_edit.setText("661-555-0199")
    dialog.ok_button.click()
    qtbot.waitUntil(dialog.conflict_bar.isVisible, timeout=5000)
    assert "was changed on another workstation; reload it" in dialog.conflict_message.text()

    dialog.reload_button.click()
    qtbot.waitUntil(lambda: not dialog.conflict_bar.isVisible(), timeout=5000)
    assert dialog.name_edit.text() == "Birch Fund II"
    assert "saved on the other workstation" in dialog.form_message.text()
    dialog.phone_edit.setText("661-555-0199")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.ok_button.click()
    qtbot.waitUntil(
        lambda: any(r.phone == "661-555-0199" and r.version == 3 for r in page.model.rows()),
        timeout=5000,
    )
    settle(qtbot, page)
    assert prompts.errors == []


def test_buy_boxes_page_lists_boxes_with_their_level(
    qtbot, make_window: WindowFactory, catalog_db: Path
) -> None:
    _window, page = open_page(qtbot, make_window, catalog_db, "buy_boxes")
    assert isinstance(page, BuyBoxesPage)
    assert page.count_label.text() == "2 buy boxes"
    first = page.proxy.index(0, 0)
    assert first.data(ROW_ROLE).name == "Bakersfield SFR"
    assert page.proxy.index(0, BOX_LEVEL).data() == "CRITICAL"
    colour = page.proxy.index(0, BOX_LEVEL).data(Qt.ItemDataRole.ForegroundRole)
    assert colour.name() == theme.colors()["error"]
    assert page.proxy.index(0, 5).data() == "Acme Holdings"
    assert page.proxy.index(0, 6).data() == "3"
    page.filter_edit.setText("fresno")
    assert page.proxy.rowCount() == 1 and page.count_label.text() == "1 of 2 buy boxes"
    page.filter_edit.setText("nothing like it")
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text() == "No buy boxes match “nothing like it”."


def test_buy_box_dialog_refuses_an_unreadable_dscr_then_saves_a_change(
    qtbot, make_window: WindowFactory, catalog_db: Path, prompts: FakePrompts
) -> None:
    window, page = open_page(qtbot, make_window, catalog_db, "buy_boxes")
    fresno = next(r for r in page.model.rows() if r.name == "Fresno NNN")
    page.select_id(fresno.id)
    dialog = page.edit_current()
    assert isinstance(dialog, BuyBoxDialog)
    assert dialog.min_dscr_edit.text() == "1.40"
    assert dialog.strategy_combo.currentData() == "commercial"
    assert dialog.buyer_combo.currentData() is None
    assert dialog.market_combo.currentText() == "CA-FRESNO"
    assert [dialog.market_combo.itemText(i) for i in range(dialog.market_combo.count())] == [
        "CA-BAKERSFIELD",
        "CA-FRESNO",
    ]

    dialog.min_dscr_edit.setText("abc")
    dialog.market_combo.setCurrentText("")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("min_dscr") != "", timeout=5000)
    assert dialog.field_error("min_dscr") == "'abc' is not a number."
    assert dialog.field_error("market_key") == "Required."
    dialog.min_dscr_edit.setText("-1")
    dialog.market_combo.setCurrentText("CA-FRESNO")
    assert dialog.field_error("market_key") == ""
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("min_dscr") != "", timeout=5000)
    assert dialog.field_error("min_dscr") == "Must not be negative (got -1)."

    dialog.min_dscr_edit.setText("1.5")
    dialog.buyer_combo.setCurrentIndex(dialog.buyer_combo.findText("Birch Fund"))
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    assert blocker.args[0].min_dscr_changed
    qtbot.waitUntil(
        lambda: any(r.min_dscr == Decimal("1.50") for r in page.model.rows()), timeout=5000
    )
    settle(qtbot, page)
    saved = next(r for r in page.model.rows() if r.name == "Fresno NNN")
    assert (saved.buyer_name, saved.version) == ("Birch Fund", 2)
    assert page.current_id() == saved.id
    assert "Saved the buy box “Fresno NNN”." in window.statusBar().currentMessage()
    assert prompts.errors == []


def test_a_new_buy_box_starts_at_the_usual_dscr(qtbot, ctx: AppContext) -> None:
    dialog = BuyBoxDialog(ctx, object(), BUYERS, ["CA-FRESNO"])  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "New buy box"
    assert dialog.min_dscr_edit.text() == "1.25"
    assert dialog.buyer_combo.currentText() == "No buyer"
    assert [dialog.buyer_combo.itemText(i) for i in range(1, 4)] == [
        "Acme Holdings",
        "Birch Fund",
        "Cedar Capital",
    ]
    assert dialog.values() == {
        "ref": "",
        "name": "",
        "market_key": "",
        "strategy": "buy_hold",
        "min_dscr": "1.25",
        "buyer_id": "",
    }


def test_those_who_may_not_change_buyers_see_why(
    qtbot,
    make_window: WindowFactory,
    catalog_db: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalog, "may_edit", lambda _db, _acting=None: False)
    window, page = open_page(qtbot, make_window, catalog_db, "buyers")
    assert not page.new_button.isEnabled() and not page.edit_button.isEnabled()
    assert page.new_button.toolTip() == (
        "Only closers, brokers, managers and admins may add or change buyers."
    )
    assert page.new_row() is None
    assert page.edit_current() is None
    assert page.findChildren(BuyerDialog) == []
    assert "Only closers" in window.statusBar().currentMessage()
    settle(qtbot, page)


def test_an_empty_page_says_how_to_add_the_first(
    qtbot, make_window: WindowFactory, prepared_db_path: Path
) -> None:
    _window, page = open_page(qtbot, make_window, prepared_db_path, "buy_boxes")
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text() == "No buy boxes yet.\nAdd the first with New buy box… (Ctrl+N)."
    assert page.count_label.text() == "0 buy boxes"
    assert page.new_button.isEnabled() and not page.edit_button.isEnabled()


def test_a_page_without_a_database_says_so(qtbot, ctx: AppContext) -> None:
    page = BuyersPage(ctx)
    qtbot.addWidget(page)
    assert page.empty_label.text() == "Open a database to see buyers."
    assert page.panel.stack.currentWidget() is page.panel.message
    assert not page.new_button.isEnabled()
    assert page.new_row() is None


def test_loaders_read_through_the_service(catalog_db: Path) -> None:
    db = open_database(f"sqlite:///{catalog_db}")
    try:
        buyers = buyers_module.load_buyers(db)
        boxes = boxes_module.load_buy_boxes(db)
    finally:
        db.dispose()
    assert isinstance(buyers, Loaded) and buyers.may_edit
    assert [b.name for b in buyers.rows] == ["Acme Holdings", "Birch Fund"]
    assert [b.name for b in boxes.rows] == ["Bakersfield SFR", "Fresno NNN"]
    assert boxes.extra.markets == ["CA-BAKERSFIELD", "CA-FRESNO"]
    assert [b.name for b in boxes.extra.buyers] == ["Acme Holdings", "Birch Fund"]


def test_a_notification_opens_the_buyer_it_is_about(
    qtbot, make_window: WindowFactory, catalog_db: Path
) -> None:
    window, page = open_page(qtbot, make_window, catalog_db, "buyers")
    assert isinstance(page, BuyersPage)
    birch = page.model.rows()[1]
    window.show_page("people")
    page.filter_edit.setText("Acme")  # a filter that hides Birch
    window.ctx.events.open_record("buyers", birch.id)  # as the bell does
    qtbot.waitUntil(lambda: page.current_id() == birch.id, timeout=5000)
    assert page.filter_edit.text() == ""
    qtbot.waitUntil(lambda: page.panel.name_label.text() == "Birch Fund", timeout=5000)
