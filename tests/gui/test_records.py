"""Record pages: every model through qtmodeltester, the pages over a real SQLite file, New… and
Edit… through the dialogs, inline validation, the conflict path and the filters."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from sqlalchemy.engine import make_url

from app.domain.errors import PermissionDenied
from app.gui.context import AppContext
from app.gui.records.appointment_dialog import AppointmentDialog
from app.gui.records.dialog import RecordDialog
from app.gui.records.escrow_dialog import EscrowDialog
from app.gui.records.kinds import ALL_KINDS, APPOINTMENTS, ESCROWS, LEADS, LISTINGS, KindView
from app.gui.records.lead_dialog import LeadDialog
from app.gui.records.listing_dialog import ListingDialog
from app.gui.records.model import (
    RECORD_ID_ROLE,
    RECORD_ROLE,
    SORT_ROLE,
    STATUS_ROLE,
    RecordFilterProxy,
    RecordTableModel,
)
from app.gui.records.page import RecordPage
from app.gui.records.widgets import DateTimeField
from app.gui.targets import ExplicitUrl
from app.services import records
from app.services.database import open_database
from app.services.records import (
    AppointmentRow,
    ClientRow,
    EscrowFields,
    EscrowRow,
    LeadFields,
    LeadRow,
    ListingFields,
    ListingRow,
    Owner,
    OwnerChoices,
    RecordKind,
)
from app.services.users import add_user
from tests.gui.conftest import FakePrompts, WindowFactory, wait_settled

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
BROKER, ANN, CAL = "bob@office.example", "ann@office.example", "cal@office.example"


def _base(i: int, owner: str = ANN, name: str = "Ann Lee") -> dict[str, object]:
    return {
        "id": i,
        "version": 1,
        "owner_id": 2,
        "owner_email": owner,
        "owner_name": name,
        "created_at": T0 + dt.timedelta(days=i),
        "updated_at": None,
    }


SAMPLE_ROWS: dict[RecordKind, list[records.RecordRow]] = {
    RecordKind.LEADS: [
        LeadRow(
            **_base(1),
            name="Laura Parker",
            email="laura@mail.example",
            phone=None,
            source="Zillow",
            status="new",
            is_private=False,
        ),
        LeadRow(
            **_base(2, CAL, "Cal Ray"),
            name="Raj Stewart",
            email=None,
            phone="(661) 555-0101",
            source="Referral",
            status="converted",
            is_private=True,
        ),
    ],
    RecordKind.APPOINTMENTS: [
        AppointmentRow(
            **_base(1),
            title="Showing — Laura Parker",
            start_time=T0,
            end_time=None,
            status="no_show",
            location=None,
            notes=None,
            is_private=False,
        ),
    ],
    RecordKind.CLIENTS: [
        ClientRow(
            **_base(1),
            name="Jason Wang",
            email=None,
            phone=None,
            source=None,
            status="active",
        ),
    ],
    RecordKind.LISTINGS: [
        ListingRow(**_base(1), address="9 Elm St", list_price=Decimal("10000"), status="active"),
        ListingRow(**_base(2), address="12 Oak St", list_price=Decimal("9000.5"), status="sold"),
    ],
    RecordKind.ESCROWS: [
        EscrowRow(
            **_base(1),
            property_address="4578 Caldwell Ave",
            purchase_price=Decimal("311500"),
            my_commission=None,
            escrow_status="Active",
            closed_at=None,
            client_name="Lisa Souza",
        ),
        EscrowRow(
            **_base(2, CAL, "Cal Ray"),
            property_address="7412 Valley View Dr",
            purchase_price=Decimal("480000"),
            my_commission=Decimal("12000"),
            escrow_status="Closed",
            closed_at=T0 + dt.timedelta(days=40),
            client_name=None,
        ),
    ],
}


def make_model(view: KindView) -> RecordTableModel:
    model = RecordTableModel(view.columns, view.status_of)
    model.set_rows(SAMPLE_ROWS[view.kind], "SGD")
    return model


# -- models -----------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ALL_KINDS, ids=lambda v: v.key)
def test_every_record_model_passes_qtmodeltester(qtmodeltester, view: KindView) -> None:
    model = make_model(view)
    qtmodeltester.check(model)
    model.set_rows([])
    qtmodeltester.check(model)


@pytest.mark.parametrize("view", ALL_KINDS, ids=lambda v: v.key)
def test_every_record_proxy_passes_qtmodeltester_while_filtering(
    qtmodeltester, view: KindView
) -> None:
    model = RecordTableModel(view.columns, view.status_of)
    proxy = RecordFilterProxy()
    proxy.setSourceModel(model)
    model.set_rows(SAMPLE_ROWS[view.kind], "USD")
    proxy.sort(view.sort_column, view.sort_order)
    qtmodeltester.check(proxy)
    proxy.set_status(view.statuses[0])
    qtmodeltester.check(proxy)
    proxy.setFilterFixedString("a")
    qtmodeltester.check(proxy)


def test_money_shows_in_the_office_currency_and_sorts_as_numbers() -> None:
    model = make_model(LISTINGS)
    price = model.index(1, 1)
    assert price.data() == "SGD 9,000.50"
    assert price.data(SORT_ROLE) == 900050
    align = Qt.AlignmentFlag(price.data(Qt.ItemDataRole.TextAlignmentRole))
    assert align & Qt.AlignmentFlag.AlignRight
    proxy = RecordFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(1, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, 0).data() for r in range(2)] == ["12 Oak St", "9 Elm St"]
    model.set_rows(SAMPLE_ROWS[RecordKind.LISTINGS], "USD")
    assert model.index(0, 1).data() == "$10,000.00"


def test_model_roles_and_local_times() -> None:
    model = make_model(ESCROWS)
    closed = model.index(1, 0)
    assert closed.data(RECORD_ID_ROLE) == 2
    assert closed.data(RECORD_ROLE) is SAMPLE_ROWS[RecordKind.ESCROWS][1]
    assert closed.data(STATUS_ROLE) == "Closed"
    assert model.index(0, 2).data() == "—"  # no commission
    expected = (T0 + dt.timedelta(days=40)).astimezone().strftime("%Y-%m-%d")
    assert model.index(1, 7).data() == expected  # closed, local date
    assert model.index(0, 7).data() == ""
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Purchase price"
    appointments = make_model(APPOINTMENTS)
    assert appointments.index(0, 1).data() == T0.astimezone().strftime("%Y-%m-%d %H:%M")
    assert appointments.index(0, 3).data() == "No show"
    assert appointments.rowCount(appointments.index(0, 0)) == 0


def test_proxy_filters_by_text_and_status_and_sorts_status_in_workflow_order() -> None:
    model = make_model(LEADS)
    proxy = RecordFilterProxy()
    proxy.setSourceModel(model)
    proxy.setFilterFixedString("zillow")
    assert proxy.rowCount() == 1
    proxy.setFilterFixedString("yes")
    assert proxy.rowCount() == 0  # the Private column is not searched
    proxy.setFilterFixedString("cal ray")
    assert proxy.rowCount() == 1  # the owner is
    proxy.setFilterFixedString("")
    proxy.set_status("converted")
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["Raj Stewart"]
    proxy.set_status(None)
    proxy.sort(1, Qt.SortOrder.DescendingOrder)  # converted comes after new
    assert proxy.index(0, 0).data() == "Raj Stewart"


# -- pages over a real database ---------------------------------------------------------------


@pytest.fixture
def office_db(prepared_db_path: Path) -> Path:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, BROKER, "broker", "Bob", "Broker")
        add_user(db, ANN, "agent", "Ann", "Lee", broker_email=BROKER)
        add_user(db, CAL, "agent", "Cal", "Ray", broker_email=BROKER)
        for i, name in enumerate(("Laura Parker", "Raj Stewart", "Janet Liu")):
            records.create_lead(
                db,
                LeadFields(
                    name=name,
                    owner_email=ANN if i < 2 else CAL,
                    source="Zillow" if i == 0 else "Referral",
                    status="new" if i < 2 else "qualified",
                    created_at=T0 + dt.timedelta(days=i),
                ),
            )
        records.create_listing(
            db, ListingFields(address="9 Elm St", list_price=Decimal(450000), owner_email=ANN)
        )
        records.create_escrow(
            db,
            EscrowFields(
                property_address="12 Oak St",
                purchase_price=Decimal(300000),
                owner_email=CAL,
                created_at=T0,
            ),
        )
    finally:
        db.dispose()
    return prepared_db_path


def open_page(qtbot, make_window: WindowFactory, path: Path, key: str):
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    assert window.show_page(key)
    page = window.page_widget(key)
    assert isinstance(page, RecordPage)
    qtbot.waitUntil(lambda: page._loaded is not None, timeout=5000)
    return window, page


def wait_loaded(qtbot, page: RecordPage, rows: int) -> None:
    qtbot.waitUntil(
        lambda: page.model.rowCount() == rows and not page.ctx.ops.active(), timeout=5000
    )


def test_the_record_pages_follow_people_in_the_navigation(
    qtbot, make_window: WindowFactory
) -> None:
    window = make_window()
    keys = window.page_keys()
    records = ["leads", "appointments", "clients", "listings", "escrows"]
    start = keys.index("leads")
    assert keys[start : start + 5] == records
    assert keys.index("people") > keys.index("escrows")
    # The KPI and goal pages come together, after the records and the rent roll.
    kpi_pages = ["my_kpis", "team_view", "goals", "leaderboard", "kpi_definitions",
                 "kpi_assignments"]  # fmt: skip
    first = keys.index("my_kpis")
    assert keys[first : first + 6] == kpi_pages
    assert first > keys.index("buy_boxes")


def test_leads_page_lists_sorts_and_filters(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    _window, page = open_page(qtbot, make_window, office_db, "leads")
    assert page.model.rowCount() == 3
    assert page.count_label.text() == "3 leads"
    assert page.proxy.index(0, 0).data() == "Janet Liu"  # newest first
    assert not page.table.isColumnHidden(6)  # local: everyone's, so the owner shows
    qtbot.keyClicks(page.filter_edit, "zillow")
    assert page.proxy.rowCount() == 1 and page.count_label.text() == "1 of 3 leads"
    page.filter_edit.clear()
    page.status_combo.setCurrentIndex(page.status_combo.findData("qualified"))
    assert page.proxy.rowCount() == 1
    page.filter_edit.setText("laura")
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text() == "No qualified leads match “laura”."
    page.filter_edit.clear()
    page.status_combo.setCurrentIndex(0)
    assert page.body.currentWidget() is page.table
    page.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert page.proxy.index(0, 0).data() == "Janet Liu"
    assert page.proxy.index(2, 0).data() == "Raj Stewart"


def test_the_status_filter_is_remembered(
    qtbot, make_window: WindowFactory, office_db: Path, ctx: AppContext
) -> None:
    _window, page = open_page(qtbot, make_window, office_db, "leads")
    page.status_combo.setCurrentIndex(page.status_combo.findData("new"))
    page.filter_edit.setText("raj")
    again = RecordPage(ctx, LEADS)
    qtbot.addWidget(again)
    assert again.status_combo.currentData() == "new"
    assert again.filter_edit.text() == "raj"


def test_an_empty_page_says_how_to_add_the_first(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    _window, page = open_page(qtbot, make_window, office_db, "appointments")
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text() == (
        "No appointments yet.\nAdd the first with New appointment… (Ctrl+N)."
    )
    assert page.count_label.text() == "0 appointments"
    assert page.new_button.isEnabled() and not page.edit_button.isEnabled()


def test_a_page_without_a_database_says_so(qtbot, ctx: AppContext) -> None:
    page = RecordPage(ctx, ESCROWS)
    qtbot.addWidget(page)
    assert page.empty_label.text() == "Open a database to see escrows."
    assert not page.new_button.isEnabled()
    assert page.new_record() is None


def test_a_capped_list_says_it_shows_the_newest(
    qtbot, make_window: WindowFactory, office_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "MAX_ROWS", 2)
    _window, page = open_page(qtbot, make_window, office_db, "leads")
    assert page.model.rowCount() == 2
    assert page.count_label.text() == "Showing the newest 2 of 3 leads"
    page.filter_edit.setText("raj")
    assert page.count_label.text() == "1 of the newest 2 (of 3 leads)"


def test_new_lead_through_the_dialog(
    qtbot, make_window: WindowFactory, office_db: Path, prompts: FakePrompts
) -> None:
    window, page = open_page(qtbot, make_window, office_db, "leads")
    dialog = page.new_record()
    assert isinstance(dialog, LeadDialog)
    assert dialog.owner_combo.currentText() == "Choose…"  # several people: nobody guessed
    assert dialog.private_check is not None and not dialog.private_check.isChecked()

    dialog.ok_button.click()  # nothing filled in
    assert dialog.field_error("name") == "Required."
    assert dialog.field_error("owner") == "Choose who the lead belongs to."
    assert dialog.name_edit.property("invalid") is True
    assert dialog.focusWidget() is dialog.name_edit  # the first refused field
    assert page.ctx.ops.active() == []  # nothing was sent to the database

    qtbot.keyClicks(dialog.name_edit, "Maria Lopez")
    assert dialog.field_error("name") == ""  # cleared as typed
    assert dialog.name_edit.property("invalid") is False
    dialog.email_edit.setText("maria@")
    dialog.owner_combo.setCurrentIndex(dialog.owner_combo.findData(BROKER))
    assert dialog.private_check.isChecked()  # a broker's own lead: private by default
    dialog.private_check.click()  # the person decides
    dialog.owner_combo.setCurrentIndex(dialog.owner_combo.findData(ANN))
    assert not dialog.private_check.isChecked()
    dialog.ok_button.click()
    assert dialog.field_error("email") == "'maria@' is not an email address."
    dialog.email_edit.setText("maria@mail.example")
    dialog.source_edit.setText("Open house")
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    row = blocker.args[0]
    assert (row.name, row.owner_email, row.source, row.is_private) == (
        "Maria Lopez",
        ANN,
        "Open house",
        False,
    )
    wait_loaded(qtbot, page, 4)
    assert page.current_id() == row.id  # the new lead is selected
    assert "Saved the lead “Maria Lopez”." in window.statusBar().currentMessage()
    assert prompts.errors == []


def test_edit_with_enter_and_keyboard_shortcuts(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    window, page = open_page(qtbot, make_window, office_db, "leads")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    page.table.setFocus()
    page.select_id(page.model.rows()[1].id)  # Raj Stewart
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    dialogs = page.findChildren(LeadDialog)
    assert len(dialogs) == 1
    dialog = dialogs[0]
    assert dialog.windowTitle() == "Edit lead"
    assert dialog.name_edit.text() == "Raj Stewart"
    assert dialog.owner_combo.email() == ANN
    dialog.status_combo.setCurrentIndex(dialog.status_combo.findData("contacted"))
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    assert (blocker.args[0].status, blocker.args[0].version) == ("contacted", 2)
    qtbot.waitUntil(
        lambda: page.current_record() is not None and page.current_record().version == 2,
        timeout=5000,
    )

    window.activateWindow()  # the dialog was the active window until it closed
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert page.filter_edit.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(d.record is None for d in page.findChildren(LeadDialog)))
    for d in page.findChildren(RecordDialog):
        d.reject()


def test_a_stale_edit_offers_to_reload(
    qtbot, make_window: WindowFactory, office_db: Path, prompts: FakePrompts
) -> None:
    _window, page = open_page(qtbot, make_window, office_db, "listings")
    page.select_id(page.model.rows()[0].id)
    dialog = page.edit_current()
    assert isinstance(dialog, ListingDialog)
    assert dialog.price_edit.text() == "450,000.00"
    listing = dialog.record
    assert listing is not None

    other = open_database(f"sqlite:///{office_db}")  # another workstation saves first
    try:
        records.update_listing(
            other,
            listing.id,
            listing.version,
            ListingFields(address="9 Elm St", list_price=Decimal(425000), status="pending"),
        )
    finally:
        other.dispose()

    dialog.price_edit.setText("440,000")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.conflict_bar.isVisible(), timeout=5000)
    assert "was changed on another workstation; reload it" in dialog.conflict_message.text()
    assert dialog.reload_button.isVisible() and dialog.isVisible()

    dialog.reload_button.click()
    qtbot.waitUntil(lambda: not dialog.conflict_bar.isVisible(), timeout=5000)
    assert dialog.price_edit.text() == "425,000.00"
    assert dialog.status_combo.status() == "pending"
    assert "saved on the other workstation" in dialog.form_message.text()
    dialog.price_edit.setText("440,000")
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.ok_button.click()
    assert (blocker.args[0].list_price, blocker.args[0].status) == (Decimal(440000), "pending")
    qtbot.waitUntil(lambda: page.model.rows()[0].list_price == Decimal(440000), timeout=5000)
    assert prompts.errors == []


def test_listing_dialog_refuses_a_negative_or_unreadable_price(qtbot, ctx: AppContext) -> None:
    dialog = ListingDialog(ctx, object(), choices(), "USD")  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.address_edit.setText("9 Elm St")
    dialog.price_edit.setText("-5")
    dialog.ok_button.click()
    assert dialog.field_error("list_price") == "Must not be negative (got -5)."
    dialog.price_edit.setText("four hundred")
    dialog.ok_button.click()
    assert dialog.field_error("list_price") == "'four hundred' is not a number."
    assert ctx.ops.active() == []  # nothing was sent to the database


def choices(*owners: Owner, default: str | None = ANN) -> OwnerChoices:
    people = owners or (Owner(2, ANN, "Ann Lee", "agent"),)
    return OwnerChoices(tuple(people), default)


def test_appointment_dialog_refuses_an_end_before_the_start(qtbot, ctx: AppContext) -> None:
    dialog = AppointmentDialog(ctx, object(), choices(), "USD")  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.title_edit.setText("Showing")
    start = dialog.start_field.value()
    assert start is not None and dialog.end_field.value() == start + dt.timedelta(hours=1)
    dialog.start_field.set_value(start + dt.timedelta(days=1))  # the end moves along
    assert dialog.end_field.value() == start + dt.timedelta(days=1, hours=1)
    dialog.end_field.set_value(start)
    dialog.ok_button.click()
    assert "is before the start" in dialog.field_error("end_time")
    assert dialog.form.labelForField(dialog.end_field).property("role") == "fieldError"
    dialog.end_field.set_checked(False)  # no end at all is fine
    assert dialog.field_error("end_time") == ""
    assert ctx.ops.active() == []


def test_escrow_dialog_closing_rules(qtbot, ctx: AppContext) -> None:
    dialog = EscrowDialog(ctx, object(), choices(), "EUR")  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    assert dialog.form.labelForField(dialog.price_edit).text() == "P&urchase price (EUR):"
    dialog.address_edit.setText("12 Oak St")
    dialog.price_edit.setText("300,000")
    dialog.status_combo.setCurrentIndex(dialog.status_combo.findData("Closed"))
    dialog.ok_button.click()
    assert dialog.field_error("closed_at") == "Required when the escrow is Closed."
    dialog.status_combo.activated.emit(dialog.status_combo.currentIndex())  # chosen by hand
    assert dialog.closed_field.is_set()  # closing offers a close time
    opened = dialog.opened_field.value()
    assert opened is not None
    dialog.closed_field.set_value(opened - dt.timedelta(days=2))
    dialog.commission_edit.setText("400,000")
    dialog.ok_button.click()
    assert "is before it was opened" in dialog.field_error("closed_at")
    assert dialog.field_error("my_commission") == (
        "400000 is more than the purchase price, 300000."
    )
    dialog.status_combo.setCurrentIndex(dialog.status_combo.findData("Active"))
    dialog.status_combo.activated.emit(dialog.status_combo.currentIndex())
    assert not dialog.closed_field.is_set()
    assert ctx.ops.active() == []


def test_the_services_refusal_is_shown_under_its_field(
    qtbot, make_window: WindowFactory, office_db: Path, prompts: FakePrompts
) -> None:
    """A person the form offered is gone by the time of saving: the service names the field."""
    _window, page = open_page(qtbot, make_window, office_db, "escrows")
    loaded = page._loaded
    assert loaded is not None
    ghost = Owner(99, "ghost@office.example", "Gus Ghost", "agent")
    page._loaded = replace(loaded, owners=OwnerChoices((*loaded.owners.owners, ghost), None))
    dialog = page.new_record()
    assert isinstance(dialog, EscrowDialog)
    dialog.address_edit.setText("1 Main St")
    dialog.price_edit.setText("100000")
    dialog.owner_combo.setCurrentIndex(dialog.owner_combo.findData("ghost@office.example"))
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.field_error("owner") != "", timeout=5000)
    assert dialog.field_error("owner") == (
        "No one with the email ghost@office.example is in the office."
    )
    assert dialog.isVisible() and dialog.ok_button.isEnabled()
    assert page.model.rowCount() == 1 and prompts.errors == []
    dialog.reject()


def test_saving_on_one_page_refreshes_a_page_showing_the_same_kind(
    qtbot, make_window: WindowFactory, office_db: Path, ctx: AppContext
) -> None:
    _window, page = open_page(qtbot, make_window, office_db, "escrows")
    dialog = page.new_record()
    assert isinstance(dialog, EscrowDialog)
    dialog.address_edit.setText("1 Main St")
    dialog.price_edit.setText("$250,000")
    dialog.owner_combo.setCurrentIndex(dialog.owner_combo.findData(ANN))
    with qtbot.waitSignal(ctx.events.data_changed, timeout=5000) as blocker:
        dialog.ok_button.click()
    assert blocker.args == ["escrows"]
    wait_loaded(qtbot, page, 2)
    saved = [r for r in page.model.rows() if isinstance(r, EscrowRow)]
    assert {r.purchase_price for r in saved} == {Decimal(250000), Decimal(300000)}


def test_datetime_field_gives_back_an_unchanged_time_exactly(qtbot) -> None:
    field = DateTimeField(optional=True)
    qtbot.addWidget(field)
    assert field.value() is None
    exact = dt.datetime(2026, 3, 2, 9, 30, 41, 123456, tzinfo=dt.UTC)
    field.set_value(exact)
    assert field.value() == exact  # not cut to the minute the editor shows
    field.edit.setDateTime(field.edit.dateTime().addSecs(3600))
    assert field.value() == dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)


def test_a_permission_problem_is_shown_on_the_page(
    qtbot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch, office_db: Path
) -> None:
    def refuse(*_args: object, **_kw: object) -> None:
        raise PermissionDenied("The server login postgres is not a person of the office")

    monkeypatch.setattr(records, "list_records", refuse)
    page = RecordPage(ctx, LEADS)
    qtbot.addWidget(page)
    page.show()
    db = open_database(f"sqlite:///{office_db}")
    try:
        page._on_opened(db, None)  # type: ignore[arg-type]
        qtbot.waitUntil(lambda: page._problem is not None, timeout=5000)
        assert page.empty_label.text() == (
            "The server login postgres is not a person of the office."
        )
        assert not page.new_button.isEnabled()
    finally:
        qtbot.waitUntil(lambda: ctx.ops.active() == [], timeout=5000)
        db.dispose()


@pytest.mark.pg
def test_on_a_server_each_login_sees_what_spec_1_allows(
    qtbot, make_window: WindowFactory, pg_db, prompts: FakePrompts
) -> None:
    pid = os.getpid()
    bob, ann = f"bob.w{pid}@office.example", f"ann.w{pid}@office.example"
    add_user(pg_db, bob, "broker", "Bob", "Broker", password="pw-bob-123")
    add_user(pg_db, ann, "agent", "Ann", "Lee", broker_email=bob, password="pw-ann-123")
    records.create_lead(pg_db, LeadFields(name="Ann's lead"), acting=ann)
    records.create_lead(pg_db, LeadFields(name="Bob's lead"), acting=bob)
    fields = EscrowFields(property_address="12 Oak St", purchase_price=Decimal(300000))
    records.create_escrow(pg_db, fields, acting=ann)

    window = make_window()
    window.open_database(ExplicitUrl(make_url(pg_db.url).set(username=bob).render_as_string(False)))
    wait_settled(qtbot, window)
    window.show_page("leads")
    leads = window.page_widget("leads")
    assert isinstance(leads, RecordPage)
    qtbot.waitUntil(lambda: leads._loaded is not None, timeout=5000)
    assert [r.name for r in leads.model.rows()] == ["Bob's lead"]  # not his agent's
    assert leads.table.isColumnHidden(6) and leads.scope_label.isVisible()
    window.show_page("escrows")
    escrows = window.page_widget("escrows")
    assert isinstance(escrows, RecordPage)
    qtbot.waitUntil(lambda: escrows._loaded is not None, timeout=5000)
    assert [r.owner_email for r in escrows.model.rows()] == [ann]  # his agent's escrow
    assert not escrows.table.isColumnHidden(5)
    assert prompts.errors == []
    window.ctx.database.close()
