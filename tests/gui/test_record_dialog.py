"""The new performance record dialog and the read-only record view (SPEC §9), offscreen over a
real SQLite file: the choices read in the background, the service's messages under their
fields, a good save locking the pro forma in the acting person's name, a cash purchase without
a loan, Esc asking before discarding, and a view with no control that could edit the pro forma.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from app.db.models import Deal, User
from app.domain.enums import DealStage, DealStatus
from app.gui.context import AppContext
from app.gui.postclose.record_dialog import RecordDialog
from app.gui.postclose.record_view import (
    GRADE_COLORS,
    GradeBadge,
    RecordView,
    flag_words,
)
from app.services.database import Database, open_database
from app.services.postclose import catalog
from app.services.postclose.records import deals_awaiting_record, list_records, record_info
from app.services.users import add_user

BOB, DANA, AL = "bob@office.example", "dana@office.example", "al@office.example"
CLOSED = dt.date(2026, 3, 2)
TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def office(prepared_db_path: Path) -> Iterator[Database]:
    """Bob (broker), Dana (closer), Al (agent); two buyers with a buy box each; a closed-won
    deal, and an open one (never offered)."""
    db = open_database(f"sqlite:///{prepared_db_path}")
    add_user(db, BOB, "broker", "Bob", "Broker")
    add_user(db, DANA, "closer", "Dana", "Kessler")
    add_user(db, AL, "agent", "Al", "Moss", broker_email=BOB)
    kern = catalog.save_buyer(db, {"name": "Kern River Capital", "email": "", "phone": ""})
    catalog.save_buyer(db, {"name": "Golden State Rentals", "email": "", "phone": ""})
    catalog.save_buy_box(
        db,
        {"ref": "BB-1", "name": "Bakersfield SFR", "market_key": "CA-BAKERSFIELD",
         "strategy": "buy_hold", "min_dscr": "1.30", "buyer_id": str(kern)},
    )  # fmt: skip
    with db.session() as s:
        agent = s.scalar(sa.select(User.id).where(User.email == AL))
        for title, stage, status, closed in (
            ("Harbor Way fourplex", DealStage.CLOSED_WON, DealStatus.CLOSED_WON, CLOSED),
            ("9 Elm St duplex", DealStage.PROPOSAL, DealStatus.OPEN, None),
        ):
            s.add(
                Deal(
                    ref=title[:6],
                    agent_id=agent,
                    title=title,
                    asset_type="multifamily",
                    deal_type="acquisition",
                    pipeline_stage=stage,
                    status=status,
                    estimated_value_amount=Decimal(400000),
                    estimated_value_currency="USD",
                    confidence=Decimal("0.9"),
                    actual_close_date=closed,
                    created_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
                )
            )
    yield db
    db.dispose()


class Confirmations:
    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, _parent: QWidget, title: str, _text: str) -> bool:
        self.asked.append(title)
        return self.answer


def open_dialog(
    qtbot, ctx: AppContext, db: Database, confirm: Confirmations | None = None, **kwargs: object
) -> RecordDialog:
    dialog = RecordDialog(
        ctx, db, confirm=confirm or Confirmations(), today=lambda: TODAY, **kwargs
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.choices is not None and not ctx.ops.active())
    return dialog


def combo_texts(combo: QComboBox) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def fill_good(dialog: RecordDialog) -> None:
    dialog.buyer_combo.setEditText("golden state rentals")  # any case
    dialog.ref_edit.setText("PF-100")
    dialog.market_edit.setText("CA-BAKERSFIELD")
    dialog.strategy_combo.setCurrentIndex(dialog.strategy_combo.findData("buy_hold"))
    dialog.purchase_edit.setText("450,000")
    dialog.rehab_edit.setText("12,500")
    dialog.loan_combo.setCurrentIndex(dialog.loan_combo.findData("DSCR"))
    dialog.rate_edit.setText("6.5%")
    dialog.ltv_edit.setText("75")
    dialog.amortization_edit.setText("30")
    dialog.rent_edit.setText("3,400")
    dialog.noi_edit.setText("2,300")
    dialog.cash_flow_edit.setText("410.50")
    dialog.dscr_edit.setText("1.32")
    dialog.assumptions_edit.setPlainText("5% vacancy\n8% management\n")


def save(qtbot, dialog: RecordDialog) -> None:
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.ctx.ops.active() and not dialog._saving)


# -- the dialog -------------------------------------------------------------------------------


def test_the_dialog_lists_closed_deals_without_a_record_and_the_buyers(
    qtbot, ctx: AppContext, office: Database
) -> None:
    dialog = open_dialog(qtbot, ctx, office)
    assert dialog.windowTitle() == "New performance record"
    assert combo_texts(dialog.deal_combo) == [
        "On its own (no deal)",
        "Harbor Way fourplex (closed 2 Mar 2026)",
    ]  # the open deal is not offered
    assert combo_texts(dialog.buyer_combo) == ["Golden State Rentals", "Kern River Capital"]
    assert dialog.buyer_combo.isEditable() and dialog.buyer_combo.currentText() == ""
    assert combo_texts(dialog.box_combo) == ["None", "BB-1 · Bakersfield SFR — Kern River Capital"]
    assert dialog.closed_edit.maximumDate() == QDate(2026, 6, 15)  # not after today
    assert not dialog.is_dirty()  # the choices arriving is not typing

    dialog.deal_combo.setCurrentIndex(1)
    assert dialog.closed_edit.date() == QDate(2026, 3, 2)  # the deal's close date
    assert dialog.deal_id() is not None

    assert "1.25" in dialog.required_label.text()
    dialog.box_combo.setCurrentIndex(1)  # fills the empty market, strategy and buyer
    assert dialog.market_edit.text() == "CA-BAKERSFIELD"
    assert dialog.strategy_combo.currentData() == "buy_hold"
    assert dialog.buyer_combo.currentText() == "Kern River Capital"
    assert "1.30" in dialog.required_label.text()
    dialog.box_combo.setCurrentIndex(0)
    dialog.market_edit.setText("CA-FRESNO")
    dialog.strategy_combo.setCurrentIndex(dialog.strategy_combo.findData("commercial"))
    dialog.box_combo.setCurrentIndex(1)  # what was typed stays
    assert dialog.market_edit.text() == "CA-FRESNO"
    assert dialog.strategy_combo.currentData() == "commercial"


def test_a_deal_asked_for_is_chosen_when_the_choices_arrive(
    qtbot, ctx: AppContext, office: Database
) -> None:
    deal = deals_awaiting_record(office)[0]
    dialog = open_dialog(qtbot, ctx, office, deal_id=deal.id)
    assert dialog.deal_id() == deal.id
    assert dialog.closed_edit.date() == QDate(2026, 3, 2)
    assert not dialog.is_dirty()


def test_bad_input_is_said_under_each_field_and_nothing_is_written(
    qtbot, ctx: AppContext, office: Database
) -> None:
    dialog = open_dialog(qtbot, ctx, office)
    fill_good(dialog)
    dialog.buyer_combo.setEditText("Nobody Ltd")
    dialog.market_edit.setText("")
    dialog.purchase_edit.setText("abc")
    dialog.rent_edit.setText("-5")
    dialog.dscr_edit.setText("")
    dialog.amortization_edit.setText("80")
    save(qtbot, dialog)

    assert dialog.field_error("buyer") == (
        "No buyer is called 'Nobody Ltd'; choose one from the list."
    )
    assert dialog.field_error("market_key") == "Required."
    assert dialog.field_error("purchase_price") == "'abc' is not a number."
    assert dialog.field_error("projected_rent") == "Must not be negative (got -5)."
    assert dialog.field_error("projected_dscr") == "Required."
    assert dialog.field_error("amortization_years") == "80 is outside 1–50."
    assert dialog.field_error("projected_noi") == ""
    assert dialog.purchase_edit.property("invalid") is True
    assert dialog.result() == 0 and dialog.isVisible() and dialog.created_id is None
    assert dialog.purchase_edit.text() == "abc"  # kept as typed
    assert dialog.assumptions_edit.toPlainText() == "5% vacancy\n8% management\n"
    assert list_records(office) == []

    dialog.purchase_edit.setText("450000")
    dialog.purchase_edit.textEdited.emit("450000")  # as typing does
    assert dialog.field_error("purchase_price") == ""
    assert dialog.purchase_edit.property("invalid") is False

    dialog.buyer_combo.setEditText("")
    save(qtbot, dialog)
    assert dialog.field_error("buyer") == "Required: choose the buyer."


def test_a_closing_date_after_today_is_refused(qtbot, ctx: AppContext, office: Database) -> None:
    dialog = open_dialog(qtbot, ctx, office)
    fill_good(dialog)
    dialog.today = lambda: dt.date(2026, 1, 1)  # the day turned back since it opened
    save(qtbot, dialog)
    assert dialog.field_error("closed_date") == ("2026-06-15 is after today; record it at close.")
    assert list_records(office) == []


def test_a_good_save_creates_the_record_with_its_pro_forma_locked(
    qtbot, ctx: AppContext, office: Database
) -> None:
    dialog = open_dialog(qtbot, ctx, office)
    changed: list[str] = []
    ctx.events.data_changed.connect(changed.append)
    dialog.deal_combo.setCurrentIndex(1)
    dialog.box_combo.setCurrentIndex(1)
    fill_good(dialog)
    with qtbot.waitSignal(dialog.created, timeout=5000) as blocker:
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: not ctx.ops.active())
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    assert dialog.created_id == blocker.args[0]
    assert "performance_records" in changed

    info = record_info(office, dialog.created_id)
    assert (info.ref, info.market_key, str(info.strategy)) == (
        "PF-100",
        "CA-BAKERSFIELD",
        "buy_hold",
    )
    assert info.buyer_name == "Golden State Rentals"  # typed over the box's buyer
    assert info.buy_box_name == "Bakersfield SFR" and info.required_dscr == Decimal("1.30")
    assert info.deal_title == "Harbor Way fourplex" and info.closed_date == CLOSED
    assert (info.purchase_price, info.rehab_cost_actual) == (Decimal("450000"), Decimal("12500"))
    assert (str(info.loan_type), info.interest_rate, info.ltv, info.amortization_years) == (
        "DSCR",
        Decimal("0.065"),
        Decimal("0.75"),
        30,
    )
    p = info.projection
    assert (p.rent, p.noi, p.cash_flow, p.dscr) == (
        Decimal("3400"),
        Decimal("2300"),
        Decimal("410.50"),
        Decimal("1.32"),
    )
    assert info.assumptions == ("5% vacancy", "8% management")
    assert info.locked_by == "Bob Broker"  # local mode, nobody named: the office's broker
    assert info.locked_at is not None
    assert deals_awaiting_record(office) == []  # the deal has its record now


def test_the_acting_closer_is_who_locked_it_and_an_agent_is_refused(
    qtbot, ctx: AppContext, office: Database
) -> None:
    refused = open_dialog(qtbot, ctx, office, acting=AL)
    fill_good(refused)
    save(qtbot, refused)
    assert "Only a closer, broker, manager or admin may" in refused.form_message.text()
    assert refused.isVisible() and list_records(office) == []
    refused.reject()

    dialog = open_dialog(qtbot, ctx, office, acting=DANA)
    fill_good(dialog)
    with qtbot.waitSignal(dialog.created, timeout=5000):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: not ctx.ops.active())
    assert dialog.created_id is not None
    assert record_info(office, dialog.created_id).locked_by == "Dana Kessler"


def test_a_cash_purchase_disables_the_loan_fields(qtbot, ctx: AppContext, office: Database) -> None:
    dialog = open_dialog(qtbot, ctx, office)
    fill_good(dialog)
    loan_edits = (dialog.rate_edit, dialog.ltv_edit, dialog.amortization_edit)
    assert all(edit.isEnabled() for edit in loan_edits)
    dialog.loan_combo.setCurrentIndex(dialog.loan_combo.findData("cash"))
    assert not any(edit.isEnabled() for edit in loan_edits)
    assert [edit.text() for edit in loan_edits] == ["", "", ""]
    texts = dialog.texts()
    assert (texts["interest_rate"], texts["ltv"], texts["amortization_years"]) == ("", "", "")
    dialog.loan_combo.setCurrentIndex(dialog.loan_combo.findData("conventional"))
    assert all(edit.isEnabled() for edit in loan_edits)  # what was typed comes back
    assert [edit.text() for edit in loan_edits] == ["6.5%", "75", "30"]
    dialog.loan_combo.setCurrentIndex(dialog.loan_combo.findData("cash"))
    with qtbot.waitSignal(dialog.created, timeout=5000):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: not ctx.ops.active())
    assert dialog.created_id is not None
    info = record_info(office, dialog.created_id)
    assert str(info.loan_type) == "cash"
    assert (info.interest_rate, info.ltv, info.amortization_years) == (None, None, None)


def test_escape_asks_before_discarding_what_was_typed(
    qtbot, ctx: AppContext, office: Database
) -> None:
    untouched = open_dialog(qtbot, ctx, office, confirm=(asked := Confirmations(False)))
    qtbot.keyClick(untouched, Qt.Key.Key_Escape)
    assert not untouched.isVisible() and asked.asked == []  # nothing typed: closes at once

    dialog = open_dialog(qtbot, ctx, office, confirm=asked)
    dialog.ref_edit.setText("PF-7")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert asked.asked == ["Discard the new record?"]
    assert dialog.isVisible() and dialog.ref_edit.text() == "PF-7"  # kept
    asked.answer = True
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected
    assert list_records(office) == []


# -- the view ---------------------------------------------------------------------------------

EDITABLE = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit, QComboBox, QAbstractButton)


def editable_controls(widget: QWidget) -> list[QWidget]:
    """Every child that could take a change: an input not read-only, any button or box."""
    found: list[QWidget] = []
    for child in widget.findChildren(QWidget):
        if isinstance(child, QLineEdit | QTextEdit | QPlainTextEdit) and child.isReadOnly():
            continue
        if isinstance(child, QAbstractSpinBox) and child.isReadOnly():
            continue
        editable_label = isinstance(child, QLabel) and bool(
            child.textInteractionFlags() & Qt.TextInteractionFlag.TextEditable
        )
        if isinstance(child, EDITABLE) or editable_label:
            found.append(child)
    return found


def make_record(db: Database, qtbot, ctx: AppContext) -> int:
    dialog = open_dialog(qtbot, ctx, db, acting=DANA)
    dialog.box_combo.setCurrentIndex(1)
    fill_good(dialog)
    with qtbot.waitSignal(dialog.created, timeout=5000):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: not ctx.ops.active())
    assert dialog.created_id is not None
    return dialog.created_id


def test_the_view_shows_the_locked_pro_forma_and_nothing_can_edit_it(
    qtbot, ctx: AppContext, office: Database
) -> None:
    info = record_info(office, make_record(office, qtbot, ctx))
    view = RecordView()
    qtbot.addWidget(view)
    view.show()
    assert view.stack.currentWidget() is view.empty_label  # nothing chosen yet
    view.set_info(info)
    assert view.stack.currentWidget() is view.content
    v = view.values
    assert view.title_label.text() == "PF-100 · CA-BAKERSFIELD"
    assert v["buyer"].text() == "Golden State Rentals"
    assert v["buy_box"].text() == "Bakersfield SFR (required DSCR 1.30)"
    assert v["deal"].text() == "On its own (no deal)"
    assert (v["market"].text(), v["strategy"].text()) == ("CA-BAKERSFIELD", "Buy & hold")
    assert v["closed"].text() == "15 Jun 2026"
    assert (v["purchase"].text(), v["rehab"].text()) == ("$450,000.00", "$12,500.00")
    assert (v["loan"].text(), v["rate"].text(), v["ltv"].text()) == ("DSCR loan", "6.5%", "75%")
    assert v["amortization"].text() == "30 years"
    assert (v["rent"].text(), v["noi"].text(), v["expenses"].text()) == (
        "$3,400.00",
        "$2,300.00",
        "$1,100.00",
    )
    assert v["cash_flow"].text() == "$410.50"
    assert v["dscr"].text() == "1.32 (required 1.30)"
    assert v["assumptions"].text() == "• 5% vacancy\n• 8% management"
    day = info.locked_at.astimezone().date()
    assert view.locked_label.text() == f"Locked {day.day} {day:%b %Y} by Dana Kessler"
    assert view.lock_icon.pixmap() is not None and not view.lock_icon.pixmap().isNull()
    assert view.grade_badge.text() == "Not graded yet" and view.grade_badge.colors() is None
    assert view.flags_label.text() == "No month entered yet."

    assert editable_controls(view) == []
    assert view.findChildren(QLabel)  # it is made of labels

    graded = replace(info, current_grade="D", current_flags=("dscr_below_minimum",))
    view.set_info(graded)
    assert view.grade_badge.text() == "Grade D"
    assert view.flags_label.text() == "Flags: DSCR below minimum"
    assert editable_controls(view) == []
    view.set_info(None)
    assert view.stack.currentWidget() is view.empty_label
    view.set_info(replace(info, ref=None, loan_type=None, interest_rate=None, assumptions=()))
    assert view.title_label.text() == f"#{info.id} · CA-BAKERSFIELD"
    assert (v["loan"].text(), v["rate"].text()) == ("—", "—")
    assert v["assumptions"].text() == "None given"


def test_grade_badges_are_coloured_for_a_light_and_a_dark_palette(qtbot) -> None:
    badge = GradeBadge()
    qtbot.addWidget(badge)
    for grade, light in (("A", "#1e7b34"), ("B", "#00796b"), ("C", "#f0b429"), ("D", "#b3261e")):
        badge.set_grade(grade)
        assert badge.text() == f"Grade {grade}"
        assert badge.colors() == GRADE_COLORS[badge._dark][grade]
        assert GRADE_COLORS[False][grade][0] == light
        assert GRADE_COLORS[True][grade] != GRADE_COLORS[False][grade]
        assert GRADE_COLORS[badge._dark][grade][0] in badge.styleSheet()
    badge.set_grade(None)
    assert badge.text() == "Not graded yet"


def test_flags_read_as_plain_words() -> None:
    assert flag_words("dscr_below_minimum") == "DSCR below minimum"
    assert flag_words("significant_cash_flow_shortfall") == "Significant cash-flow shortfall"
    assert flag_words("high_vacancy_rate") == "High vacancy rate"
    assert flag_words("some_new_dscr_flag") == "Some new DSCR flag"
