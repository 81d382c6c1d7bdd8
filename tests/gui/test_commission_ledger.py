"""The commission ledger page (offscreen) over a real SQLite file: the model through
qtmodeltester (with pages fetched as it asks), the first page and the totals, more rows as the
table scrolls, filters, transitions through the context menu and the buttons, the dispute
and adjustment dialogs, a stale record, and the CSV/XLSX export of the filtered set."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QMenu

from app.db.models import CommissionRecord, Deal, User
from app.domain.enums import CommissionStatus, CommissionType, DealStage, DealStatus
from app.gui.commissions.dialogs import AdjustmentDialog, DisputeDialog, NewCommissionDialog
from app.gui.commissions.model import COLUMNS, ROW_ROLE, STATUS_ROLE, LedgerModel
from app.gui.commissions.page import CommissionLedgerPage
from app.gui.context import AppContext
from app.gui.targets import ExplicitUrl
from app.services import commissions as cm
from app.services.audit import verify_all
from app.services.commissions import CommissionFields, CommissionRow, LedgerSort
from app.services.database import open_database
from app.services.users import add_user
from tests.gui.conftest import FakePrompts, WindowFactory, wait_settled

S = CommissionStatus
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
BOB, ANN, CAL = "bob@office.example", "ann@office.example", "cal@office.example"
BULK = 430  # more than two pages of 200


def sample_row(i: int, **changes: object) -> CommissionRow:
    row = CommissionRow(
        id=i, version=1, deal_id=100 + i, deal_ref=f"DL-{i}", deal_title=f"{i} Oak St",
        currency="USD", agent_id=2, agent_email=ANN, agent_name="Ann Lee",
        commission_type=CommissionType.EXCLUSIVE, basis_amount=Decimal("450000.00"),
        commission_rate=Decimal("0.0250"), commission_amount=Decimal("11250.00"),
        adjustments_total=Decimal("-250.00"), net_amount=Decimal("11000.00"),
        status=S.PENDING, disputed_from=None, dispute_reason=None, dispute_document_uri=None,
        introduced_at=None, confirmed_at=None, invoiced_at=None, paid_at=None, disputed_at=None,
        resolved_at=None, written_off_at=None, created_at=T0 + dt.timedelta(days=i),
        updated_at=None, writable=True,
    )  # fmt: skip
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


# -- the model ----------------------------------------------------------------------------------


def test_the_model_passes_qtmodeltester_while_pages_arrive(qtmodeltester) -> None:
    model = LedgerModel()
    everything = [sample_row(i) for i in range(1, 26)]
    asked: list[int] = []

    def fetch(offset: int) -> None:  # what the page does, but at once
        asked.append(offset)
        chunk = everything[offset : offset + 10]
        model.append(chunk, offset + 10 < len(everything))

    model.fetch_requested.connect(fetch)
    model.reset(everything[:10], True, "USD")
    qtmodeltester.check(model)
    assert asked and model.rowCount() > 10
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == 25 and not model.has_more
    qtmodeltester.check(model)
    model.replace_row(sample_row(3, status=S.DISPUTED, dispute_reason="Split"))
    qtmodeltester.check(model)
    model.reset([], False)
    qtmodeltester.check(model)


def test_the_model_shows_money_rates_and_status() -> None:
    model = LedgerModel()
    model.reset([sample_row(1), sample_row(2, currency="SGD", adjustments_total=Decimal(0))], False)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(COLUMNS))]
    assert headers == [
        "Deal", "Agent", "Type", "Basis", "Rate", "Amount", "Adjustments", "Net", "Status",
        "Created", "Status date",
    ]  # fmt: skip
    texts = [model.index(0, c).data() for c in range(len(COLUMNS))]
    assert texts[:9] == [
        "DL-1 · 1 Oak St", "Ann Lee", "Exclusive", "$450,000.00", "2.5%", "$11,250.00",
        "-$250.00", "$11,000.00", "Pending",
    ]  # fmt: skip
    assert model.index(1, 3).data() == "SGD 450,000.00" and model.index(1, 6).data() == "—"
    assert model.index(0, 0).data(STATUS_ROLE) == "pending"
    assert model.index(0, 0).data(ROW_ROLE).id == 1
    requested: list[tuple[LedgerSort, bool]] = []
    model.sort_requested.connect(lambda key, desc: requested.append((key, desc)))
    model.sort(7, Qt.SortOrder.AscendingOrder)
    assert requested == [(LedgerSort.NET, False)]  # the database sorts, over every row


# -- the page over a database -----------------------------------------------------------------


@pytest.fixture
def office_db(prepared_db_path: Path) -> Path:
    """Bob (broker), Ann and Cal; a deal of Ann's with three records in various states, and
    BULK records of Cal's on other deals (for paging)."""
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, BOB, "broker", "Bob", "Broker")
        add_user(db, ANN, "agent", "Ann", "Lee", broker_email=BOB)
        add_user(db, CAL, "agent", "Cal", "Ray", broker_email=BOB)
        with db.session() as s:
            ids = dict(s.execute(sa.select(User.email, User.id)).all())
            deals = []
            for i in range(BULK // 2 + 2):
                deal = Deal(
                    ref=f"DL-{i:04d}", agent_id=ids[ANN if i == 0 else CAL],
                    title="Harbor Way fourplex" if i == 0 else f"{i} Elm St",
                    asset_type="multifamily", deal_type="acquisition",
                    pipeline_stage=DealStage.PROPOSAL, status=DealStatus.OPEN,
                    estimated_value_amount=Decimal(400000 + i), estimated_value_currency="USD",
                    confidence=Decimal("0.4"), created_at=T0,
                )  # fmt: skip
                s.add(deal)
                deals.append(deal)
            s.flush()
            for k in range(BULK):
                deal = deals[1 + k // 2]
                s.add(
                    CommissionRecord(
                        deal_id=deal.id,
                        agent_id=ids[CAL],
                        commission_type=("co_broke", "referral")[k % 2],
                        basis_amount=Decimal(100000),
                        commission_rate=Decimal("0.01"),
                        commission_amount=Decimal(1000),
                        status=S.PAID,
                        created_at=T0 - dt.timedelta(days=1, minutes=k),
                    )
                )
            harbor = deals[0].id
        for ctype, rate in (("exclusive", "0.025"), ("referral", "0.005"), ("bonus", "0.001")):
            cm.create_commission(
                db,
                CommissionFields(
                    deal_id=harbor, agent_email=ANN, commission_type=ctype,
                    basis_amount=Decimal(400000), commission_rate=Decimal(rate),
                ),
                now=T0,
            )  # fmt: skip
    finally:
        db.dispose()
    return prepared_db_path


def open_page(qtbot, make_window: WindowFactory, path: Path) -> CommissionLedgerPage:
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    assert window.show_page("commissions")
    page = window.page_widget("commissions")
    assert isinstance(page, CommissionLedgerPage)
    settle(qtbot, page)
    return page


def settle(qtbot, page: CommissionLedgerPage) -> None:
    qtbot.waitUntil(
        lambda: page._page_loaded and page._totals is not None and not page.ctx.ops.active(),
        timeout=10_000,
    )


def row_index(page: CommissionLedgerPage, ctype: CommissionType, agent: str = ANN) -> int:
    for i, row in enumerate(page.model.rows()):
        if row.commission_type is ctype and row.agent_email == agent:
            return i
    raise AssertionError(f"no {ctype} row of {agent}")


def select(page: CommissionLedgerPage, ctype: CommissionType) -> CommissionRow:
    row = page.model.rows()[row_index(page, ctype)]
    assert page.select_id(row.id)
    return row


def stored(path: Path, commission_id: int) -> CommissionRow:
    db = open_database(f"sqlite:///{path}")
    try:
        return cm.get_commission(db, commission_id)
    finally:
        db.dispose()


def test_the_ledger_opens_on_its_first_page_with_totals_over_everything(
    qtbot, make_window: WindowFactory, office_db: Path, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, make_window, office_db)
    assert (page.model.sort_key, page.model.descending) == (LedgerSort.CREATED, True)
    assert page.table.horizontalHeader().sortIndicatorSection() == 9  # Created
    assert page.model.rowCount() == 200 and page.model.has_more
    assert page.count_label.text() == f"Showing 200 of {BULK + 3} commissions (more as you scroll)"
    assert page.model.index(0, 0).data() == "DL-0000 · Harbor Way fourplex"  # newest first
    paid = page.totals_strip.buttons[S.PAID].text()
    assert paid == f"Paid · {BULK}\n${BULK * 1000:,}.00"  # all of them, not the 200 loaded
    assert page.totals_strip.buttons[S.PENDING].text() == "Pending · 3\n$12,400.00"
    assert not page.totals_strip.other_label.isVisible()
    page.table.scrollToBottom()
    qtbot.waitUntil(lambda: page.model.rowCount() == 400 and not page.ctx.ops.active())
    while page.model.canFetchMore(QModelIndex()):
        page.model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: not page.model.fetching and not page.ctx.ops.active())
    assert page.model.rowCount() == BULK + 3
    assert len({r.id for r in page.model.rows()}) == BULK + 3
    assert page.count_label.text() == f"{BULK + 3} commissions"
    assert prompts.errors == []


def test_filters_sort_and_the_empty_states(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    page = open_page(qtbot, make_window, office_db)
    page.totals_strip.buttons[S.PENDING].click()  # a status total filters the ledger
    settle(qtbot, page)
    assert page.filter_bar.status() is S.PENDING
    assert page.model.rowCount() == 3 and page.count_label.text() == "3 commissions"
    assert page.totals_strip.buttons[S.PAID].text().startswith("Paid · 0\n")
    page.filter_bar.clear()
    settle(qtbot, page)
    qtbot.keyClicks(page.filter_bar.deal_edit, "dl-0012")
    page.filter_bar.flush()
    settle(qtbot, page)
    assert {r.deal_title for r in page.model.rows()} == {"12 Elm St"}
    assert page.model.rowCount() == 2
    page.filter_bar.deal_edit.setText("nothing like this")
    page.filter_bar.flush()
    settle(qtbot, page)
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text().startswith("No commission matches these filters.")
    page.filter_bar.clear()
    settle(qtbot, page)
    page.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)  # Amount, by the database
    settle(qtbot, page)
    assert page.model.rows()[0].commission_amount == Decimal("10000.00")
    assert page.ctx.settings.qsettings.value("commissions/sort") == "amount"


def test_a_page_without_commissions_or_database_says_so(
    qtbot, make_window: WindowFactory, prepared_db_path: Path, ctx: AppContext
) -> None:
    alone = CommissionLedgerPage(ctx)
    qtbot.addWidget(alone)
    assert alone.empty_label.text() == "Open a database to see the commission ledger."
    assert not alone.new_button.isEnabled()
    page = open_page(qtbot, make_window, prepared_db_path)
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text().startswith("No commissions yet.")


def test_a_transition_through_the_context_menu(
    qtbot, make_window: WindowFactory, office_db: Path, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, make_window, office_db)
    row = select(page, CommissionType.EXCLUSIVE)
    menu = page.build_context_menu()
    assert menu is not None
    actions = {a.text().replace("&", ""): a for a in menu.actions() if a.text()}
    enabled = {text for text, a in actions.items() if a.isEnabled()}
    assert enabled == {"Confirm", "Dispute…", "Adjust…"}  # what a pending record allows
    assert not actions["Invoice"].isEnabled() and not actions["Write off…"].isEnabled()
    actions["Confirm"].trigger()
    qtbot.waitUntil(
        lambda: page.model.rows()[row_index(page, row.commission_type)].status is S.CONFIRMED
    )
    settle(qtbot, page)
    now = page.model.rows()[row_index(page, row.commission_type)]
    assert now.version == row.version + 1 and now.confirmed_at is not None
    assert stored(office_db, row.id).status is S.CONFIRMED
    assert page.totals_strip.buttons[S.CONFIRMED].text() == "Confirmed · 1\n$10,000.00"
    assert page.current_id() == row.id  # still selected
    assert page.actions_by_key["invoice"].isEnabled()
    assert not page.actions_by_key["confirm"].isEnabled()
    assert "confirmed" in page.window().statusBar().currentMessage()

    # A right-click on another record selects it and offers its own actions.
    other = page.model.rows()[row_index(page, CommissionType.REFERRAL)]
    offered: list[list[str]] = []

    def choose_confirm(menu: QMenu, _where: object) -> None:  # instead of menu.exec
        offered.append([a.text() for a in menu.actions() if a.isEnabled() and a.text()])
        next(a for a in menu.actions() if a.text() == "&Confirm").trigger()

    page.show_menu = choose_confirm
    cell = page.table.visualRect(page.model.index(row_index(page, CommissionType.REFERRAL), 1))
    page.table.customContextMenuRequested.emit(cell.center())
    assert page.current_id() == other.id
    assert offered == [["&Confirm", "&Dispute…", "&Adjust…"]]
    qtbot.waitUntil(lambda: stored(office_db, other.id).status is S.CONFIRMED)
    settle(qtbot, page)
    assert prompts.errors == []


def test_paid_resolve_and_write_off_ask_first(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    page = open_page(qtbot, make_window, office_db)
    row = select(page, CommissionType.REFERRAL)
    db = open_database(f"sqlite:///{office_db}")
    try:
        cm.dispute(db, row.id, "Split differs", now=T0 + dt.timedelta(days=1))
    finally:
        db.dispose()
    page.reload()
    settle(qtbot, page)
    select(page, CommissionType.REFERRAL)
    assert page.actions_by_key["resolve"].isEnabled()
    assert page.actions_by_key["write_off"].isEnabled()
    asked: list[str] = []
    page.confirm = lambda _parent, title, _text: asked.append(title) or False
    page.run_action("write_off")
    assert asked == ["Write off"] and not page.ctx.ops.active()  # declined: nothing sent
    page.confirm = lambda _parent, title, _text: asked.append(title) or True
    page.run_action("resolve")
    settle(qtbot, page)
    after = page.model.rows()[row_index(page, CommissionType.REFERRAL)]
    assert asked[-1] == "Resolve dispute" and after.status is S.PENDING
    assert after.resolved_at is not None


def test_the_dispute_dialog_needs_a_reason(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    page = open_page(qtbot, make_window, office_db)
    row = select(page, CommissionType.BONUS)
    dialog = page.run_action("dispute")
    assert isinstance(dialog, DisputeDialog)
    dialog.reason_edit.setPlainText("   ")
    dialog.ok_button.click()
    assert dialog.field_error("dispute_reason") == "A dispute needs a reason."
    assert dialog.reason_edit.property("invalid") is True
    assert page.ctx.ops.active() == [] and dialog.isVisible()  # nothing sent
    assert stored(office_db, row.id).status is S.PENDING
    dialog.reason_edit.setPlainText("Bonus was not agreed")
    assert dialog.field_error("dispute_reason") == ""
    dialog.document_edit.setText("https://docs.example/bonus.pdf")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.ok_button.click()
    settle(qtbot, page)
    after = stored(office_db, row.id)
    assert after.status is S.DISPUTED and after.dispute_reason == "Bonus was not agreed"
    assert after.dispute_document_uri == "https://docs.example/bonus.pdf"
    shown = page.model.rows()[row_index(page, CommissionType.BONUS)]
    assert shown.status is S.DISPUTED
    assert "Reason: Bonus was not agreed" in page.model.index(
        row_index(page, CommissionType.BONUS), 8
    ).data(Qt.ItemDataRole.ToolTipRole)


def test_the_adjustment_dialog_checks_signs_and_updates_the_net(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    page = open_page(qtbot, make_window, office_db)
    row = select(page, CommissionType.EXCLUSIVE)
    dialog = page.run_action("adjust")
    assert isinstance(dialog, AdjustmentDialog)
    dialog.type_combo.setCurrentIndex(dialog.type_combo.findData("clawback"))
    dialog.amount_edit.setText("250")
    dialog.note_edit.setPlainText("Repair credit")
    dialog.ok_button.click()
    assert dialog.field_error("amount") == "A clawback is negative (e.g. -250.00)."
    assert page.ctx.ops.active() == []
    dialog.amount_edit.setText("-250")
    assert dialog.net_label.text() == "$9,750.00"
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.ok_button.click()
    settle(qtbot, page)
    shown = page.model.rows()[row_index(page, CommissionType.EXCLUSIVE)]
    assert (shown.adjustments_total, shown.net_amount) == (Decimal("-250.00"), Decimal("9750.00"))
    assert stored(office_db, row.id).version == row.version + 1


def test_a_stale_record_is_refused_and_read_again(
    qtbot, make_window: WindowFactory, office_db: Path, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, make_window, office_db)
    row = select(page, CommissionType.EXCLUSIVE)
    db = open_database(f"sqlite:///{office_db}")
    try:  # another workstation confirms it first
        cm.change_status(db, row.id, S.CONFIRMED, now=T0 + dt.timedelta(hours=1))
    finally:
        db.dispose()
    page.run_action("confirm")
    qtbot.waitUntil(lambda: bool(prompts.errors))
    settle(qtbot, page)
    assert "changed on another workstation" in prompts.errors[0].text
    prompts.errors.clear()
    shown = page.model.rows()[row_index(page, CommissionType.EXCLUSIVE)]
    assert shown.status is S.CONFIRMED and shown.version == 2  # read again
    assert page.current_id() == row.id and page.actions_by_key["invoice"].isEnabled()


def test_new_commission_shows_the_amount_as_typed(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    page = open_page(qtbot, make_window, office_db)
    select(page, CommissionType.EXCLUSIVE)  # its deal is offered first
    dialog = page.new_commission()
    assert isinstance(dialog, NewCommissionDialog)
    qtbot.waitUntil(lambda: not page.ctx.ops.active())
    assert dialog.deal() is not None and dialog.deal().title == "Harbor Way fourplex"
    assert dialog.basis_edit.text() == "400,000.00"  # the deal's value, until changed
    dialog.ok_button.click()
    assert dialog.field_error("agent") == "Choose who earns the commission."
    assert dialog.field_error("commission_rate") == "Required."
    dialog.agent_combo.setCurrentIndex(dialog.agent_combo.findData(CAL))
    dialog.type_combo.setCurrentIndex(dialog.type_combo.findData("co_broke"))
    dialog.rate_edit.setText("1.25")
    assert dialog.amount_label.text().startswith("$5,000.00")
    dialog.rate_edit.setText("120")
    dialog.ok_button.click()
    assert dialog.field_error("commission_rate") == "A rate is from 0 to 100 % (got 120 %)."
    dialog.rate_edit.setText("1.25")
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    created: CommissionRow = blocker.args[0]
    assert (created.agent_email, created.commission_amount) == (CAL, Decimal("5000.00"))
    settle(qtbot, page)
    assert page.current_id() == created.id
    again = page.new_commission()  # the same deal, person and type once more
    qtbot.waitUntil(lambda: not page.ctx.ops.active())
    again.agent_combo.setCurrentIndex(again.agent_combo.findData(CAL))
    again.type_combo.setCurrentIndex(again.type_combo.findData("co_broke"))
    again.rate_edit.setText("1")
    again.ok_button.click()
    qtbot.waitUntil(lambda: bool(again.field_error("commission_type")))
    assert "already has a co-broke commission" in again.field_error("commission_type")
    again.reject()


def test_export_writes_the_filtered_set_to_csv_and_xlsx(
    qtbot, make_window: WindowFactory, office_db: Path, tmp_path: Path
) -> None:
    page = open_page(qtbot, make_window, office_db)
    target = tmp_path / "ledger"
    page.choose_file = lambda _p, _c, _s, _f: str(target)
    page.export_csv()
    qtbot.waitUntil(lambda: page.last_export is not None and not page.ctx.ops.active())
    assert page.last_export == f"{target}.csv"
    with open(page.last_export, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == BULK + 3  # every row, not only those loaded
    first = rows[0]
    assert (first["deal_ref"], first["agent_email"], first["commission_type"]) == (
        "DL-0000", ANN, rows[0]["commission_type"],
    )  # fmt: skip
    exclusive = next(r for r in rows if r["commission_type"] == "exclusive")
    assert (exclusive["basis_amount"], exclusive["commission_rate"]) == ("400000.00", "0.0250")
    assert (exclusive["commission_amount"], exclusive["net"], exclusive["status"]) == (
        "10000.00", "10000.00", "pending",
    )  # fmt: skip
    assert exclusive["created_at"] == "2026-03-02T09:30:00Z"
    page.filter_bar.set_status(S.PENDING)
    settle(qtbot, page)
    page.last_export = None
    page.export_xlsx()
    qtbot.waitUntil(lambda: page.last_export is not None and not page.ctx.ops.active())
    from openpyxl import load_workbook

    sheet = load_workbook(page.last_export).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:4] == ("id", "deal_ref", "deal", "agent_email")
    assert len(values) == 1 + 3 and {v[12] for v in values[1:]} == {"pending"}
    assert Decimal(str(values[1][9])) in {Decimal(10000), Decimal(2000), Decimal(400)}


def test_the_page_follows_changes_made_elsewhere(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    page = open_page(qtbot, make_window, office_db)
    row = select(page, CommissionType.BONUS)
    db = open_database(f"sqlite:///{office_db}")
    try:
        cm.add_adjustment(db, row.id, "bonus", Decimal("99.50"), "Elsewhere")
        assert verify_all(db).intact
    finally:
        db.dispose()
    page.ctx.events.changed("commissions")  # as a NOTIFY from another workstation would
    qtbot.waitUntil(
        lambda: (
            page.model.rows()[row_index(page, CommissionType.BONUS)].net_amount == Decimal("499.50")
        ),
        timeout=5000,
    )
    settle(qtbot, page)
