"""The deal panel: its models through qtmodeltester, the empty state, a deal read in the
background, validation shown under each field, a save round trip (Ctrl+S), a stale save, the
timeline's badges (a tampered entry), contacts and documents (opened by the system)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices

from app.db.models import AuditEntry, Deal, DealDocument, DealStageEvent, User
from app.domain.audit import deal_chain_key
from app.domain.enums import ContactRole, DealStage, DealStatus
from app.gui import events, theme
from app.gui.context import AppContext
from app.gui.database_holder import DbState
from app.gui.pipeline import detail_dialogs
from app.gui.pipeline.detail import EMPTY_TEXT, TIMELINE_TAB, DealDetailPanel
from app.gui.pipeline.detail_dialogs import document_url
from app.gui.pipeline.detail_models import (
    INTEGRITY_ROLE,
    ROW_ROLE,
    ContactsModel,
    DocumentsModel,
    TimelineModel,
)
from app.gui.targets import ExplicitUrl
from app.services.database import Database, open_database
from app.services.pipeline import detail as service
from app.services.pipeline.detail import (
    ContactFields,
    ContactRow,
    DocumentRow,
    Integrity,
    TimelineItem,
    TimelineKind,
)
from app.services.pipeline.moves import move_deal

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
DOC_URI = "https://docs.example/deals/DL-7/loi.pdf"


@pytest.fixture
def deal_db(prepared_db_path: Path) -> Iterator[tuple[Path, int]]:
    """A broker, his agent Ann and her deal DL-7: created at T0, moved at T0 + 1 day, with a
    document."""
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        with db.session() as s:
            bob = User(email="bob@office.example", first_name="Bob", last_name="Stone",
                       role="broker")  # fmt: skip
            s.add(bob)
            s.flush()
            ann = User(email="ann@office.example", first_name="Ann", last_name="Lee",
                       role="agent", broker_id=bob.id)  # fmt: skip
            s.add(ann)
            s.flush()
            deal = Deal(
                ref="DL-7",
                agent_id=ann.id,
                title="Oak duplex",
                asset_type="residential",
                deal_type="buy_side",
                pipeline_stage=DealStage.LEAD_CAPTURED,
                status=DealStatus.OPEN,
                estimated_value_amount=Decimal("450000"),
                estimated_value_currency="USD",
                confidence=Decimal("0.4"),
                created_at=T0,
            )
            s.add(deal)
            s.flush()
            s.add(
                DealStageEvent(
                    deal_id=deal.id,
                    from_stage=None,
                    to_stage=DealStage.LEAD_CAPTURED,
                    changed_by_id=ann.id,
                    recorded_at=T0,
                )
            )
            s.add(
                DealDocument(deal_id=deal.id, title="Letter of intent", doc_type="loi", uri=DOC_URI)
            )
            deal_id = deal.id
        move_deal(db, deal_id, DealStage.QUALIFICATION, note="Called back",
                  now=T0 + dt.timedelta(days=1))  # fmt: skip
    finally:
        db.dispose()
    yield prepared_db_path, deal_id


@pytest.fixture
def opened(qtbot, ctx: AppContext, deal_db: tuple[Path, int]) -> Iterator[tuple[AppContext, int]]:
    path, deal_id = deal_db
    ctx.database.open(ExplicitUrl(f"sqlite:///{path}"))
    qtbot.waitUntil(
        lambda: ctx.database.state in (DbState.OPEN, DbState.FAILED) and not ctx.ops.active(),
        timeout=15_000,
    )
    assert ctx.database.state is DbState.OPEN, ctx.database.error_text
    yield ctx, deal_id
    ctx.database.close()


def make_panel(qtbot, ctx: AppContext) -> DealDetailPanel:
    panel = DealDetailPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(640, 720)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def wait_idle(qtbot, panel: DealDetailPanel) -> None:
    qtbot.waitUntil(
        lambda: not panel.ctx.ops.active() and not panel._reload_timer.isActive(), timeout=10_000
    )


def shown(qtbot, ctx: AppContext, deal_id: int) -> DealDetailPanel:
    panel = make_panel(qtbot, ctx)
    panel.show_deal(deal_id)
    qtbot.waitUntil(lambda: panel.detail is not None, timeout=10_000)
    wait_idle(qtbot, panel)
    return panel


def db_of(ctx: AppContext) -> Database:
    db = ctx.database.db
    assert db is not None
    return db


# -- models -----------------------------------------------------------------------------------


def _item(integrity: Integrity, seconds: int | None = 3600 * 76) -> TimelineItem:
    return TimelineItem(
        kind=TimelineKind.STAGE,
        event_type="deal_stage_transition",
        recorded_at=T0,
        who="Ann Lee",
        summary="Lead captured → Qualification",
        note="Called back",
        from_stage=DealStage.LEAD_CAPTURED,
        to_stage=DealStage.QUALIFICATION,
        duration_seconds=seconds,
        stage_event_id=2,
        audit_entry_id=9 if integrity is not Integrity.NO_ENTRY else None,
        audit_seq=1,
        verified=integrity is Integrity.VERIFIED,
        integrity=integrity,
        problem=None if integrity is Integrity.VERIFIED else "hash does not verify",
    )


def test_the_panels_models_pass_qtmodeltester(qtmodeltester) -> None:
    contacts = ContactsModel()
    contacts.set_rows(
        [
            ContactRow(
                1, 1, ContactRole.LEGAL, "Jo Ruiz", "jo@law.example", None, "Ruiz LLP", None, T0
            )
        ]
    )
    documents = DocumentsModel()
    documents.set_rows([DocumentRow(1, 1, "LOI", "loi", DOC_URI, "Bob Stone", T0)])
    timeline = TimelineModel()
    timeline.set_items([_item(Integrity.NO_ENTRY, None), _item(Integrity.BROKEN)])
    for model in (contacts, documents, timeline):
        qtmodeltester.check(model)
        model.set_rows([])
        qtmodeltester.check(model)


def test_the_timeline_shows_durations_newest_first_and_coloured_badges() -> None:
    model = TimelineModel()
    model.set_items([_item(Integrity.VERIFIED), _item(Integrity.BROKEN, 60 * 5)])
    newest, oldest = (model.index(r, TimelineModel.BADGE_COLUMN) for r in range(2))
    assert model.index(0, TimelineModel.DURATION_COLUMN).data() == "5m"
    assert model.index(1, TimelineModel.DURATION_COLUMN).data() == "3d 4h"
    assert newest.data() == "✗ hash does not verify"
    assert oldest.data() == "✓ verified"
    assert newest.data(Qt.ItemDataRole.ForegroundRole).color() == QColor(theme.colors()["error"])
    assert oldest.data(Qt.ItemDataRole.ForegroundRole).color() == QColor(theme.colors()["ok"])
    assert model.index(0, TimelineModel.EVENT_COLUMN).data() == (
        "Lead captured → Qualification — Called back"
    )
    assert model.index(0, TimelineModel.WHO_COLUMN).data() == "Ann Lee"


# -- the panel --------------------------------------------------------------------------------


def test_without_a_deal_the_panel_says_what_to_do(qtbot, ctx: AppContext) -> None:
    panel = make_panel(qtbot, ctx)
    assert panel.stack.currentIndex() == 0
    assert panel.empty_label.text() == EMPTY_TEXT == "Select a deal to see its details"
    panel.show_deal(None)
    assert panel.empty_label.text() == EMPTY_TEXT


def test_a_deal_is_read_in_the_background_and_shown(qtbot, opened: tuple[AppContext, int]) -> None:
    ctx, deal_id = opened
    panel = make_panel(qtbot, ctx)
    panel.show_deal(deal_id)
    assert panel.ctx.ops.active()  # not read on the GUI thread
    qtbot.waitUntil(lambda: panel.detail is not None, timeout=10_000)

    assert panel.stack.currentIndex() == 1
    assert panel.title_label.text() == "DL-7 · Oak duplex"
    assert panel.form.title_edit.text() == "Oak duplex"
    assert panel.form.amount_edit.text() == "450,000.00"
    assert panel.form.confidence_edit.text() == "0.40"
    assert panel.form.weighted_label.text() == "$180,000.00"
    assert panel.form.stage_label.text() == "Qualification (open)"
    assert "Ann Lee" in panel.form.agent_label.text()
    assert panel.documents.rowCount() == 1 and panel.contacts.rowCount() == 0
    assert panel.tabs.tabText(TIMELINE_TAB) == "&Timeline"
    # newest first: the move (running until now), then the creation (one day)
    assert panel.timeline.rowCount() == 2
    assert panel.timeline.index(1, TimelineModel.DURATION_COLUMN).data() == "1d"
    assert panel.timeline.index(0, TimelineModel.BADGE_COLUMN).data() == "✓ verified"
    assert panel.timeline.index(1, TimelineModel.BADGE_COLUMN).data() == "— no audit entry"
    assert "verifies" in panel.history_label.text()
    panel.show_deal(None)
    assert panel.stack.currentIndex() == 0


def test_problems_are_shown_next_to_their_fields_and_nothing_is_sent(
    qtbot, opened: tuple[AppContext, int]
) -> None:
    ctx, deal_id = opened
    panel = shown(qtbot, ctx, deal_id)
    form = panel.form
    form.title_edit.clear()
    qtbot.keyClicks(form.title_edit, " ")
    form.confidence_edit.setText("1.5")
    form.amount_edit.setText("lots")
    assert form.save_button.isEnabled()

    form.save_button.click()

    assert form.field_error("title") == "Required."
    assert form.field_error("confidence") == "Must be between 0 and 1 (got 1.5)."
    assert form.field_error("estimated_value_amount") == "'lots' is not a number."
    assert form.field_error("deal_type") == ""
    assert form.title_edit.property("invalid") is True
    assert ctx.ops.active() == []  # nothing was sent to the database
    with db_of(ctx).read() as s:
        assert s.get(Deal, deal_id).title == "Oak duplex"  # type: ignore[union-attr]


def test_the_services_refusal_is_shown_under_its_field(
    qtbot, opened: tuple[AppContext, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, deal_id = opened
    panel = shown(qtbot, ctx, deal_id)
    monkeypatch.setattr(service, "check_deal_fields", lambda _fields: {})  # the form's check
    panel.form.currency_edit.setText("ZZZ")
    panel.form._typed()
    panel.save()
    qtbot.waitUntil(lambda: bool(panel.form.field_error("estimated_value_currency")), timeout=5000)
    assert "ISO 4217" in panel.form.field_error("estimated_value_currency")


def test_a_save_round_trip_with_ctrl_s(qtbot, opened: tuple[AppContext, int]) -> None:
    ctx, deal_id = opened
    panel = shown(qtbot, ctx, deal_id)
    changes: list[str] = []
    ctx.events.data_changed.connect(changes.append)
    panel.activateWindow()
    qtbot.waitActive(panel)
    panel.form.title_edit.setFocus()
    panel.form.title_edit.selectAll()
    qtbot.keyClicks(panel.form.title_edit, "Oak duplex (two units)")
    panel.form.confidence_edit.setText("0.55")
    panel.form._typed()

    with qtbot.waitSignal(panel.deal_changed, timeout=10_000) as saved:
        qtbot.keyClick(panel.form.title_edit, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    assert saved.args == [deal_id]
    assert events.DEALS in changes
    wait_idle(qtbot, panel)
    with db_of(ctx).read() as s:
        deal = s.get(Deal, deal_id)
        assert deal is not None
        assert (deal.title, deal.confidence, deal.version) == (
            "Oak duplex (two units)",
            Decimal("0.55"),
            3,
        )
    assert panel.form.info is not None and panel.form.info.version == 3
    assert not panel.form.is_dirty() and not panel.form.save_button.isEnabled()
    assert panel.form.form_message.text() == "Saved."
    assert panel.form.weighted_label.text() == "$247,500.00"
    newest = panel.timeline.index(0, TimelineModel.EVENT_COLUMN).data()
    assert newest.startswith("Details changed: Title, Confidence")
    assert panel.timeline.index(0, TimelineModel.BADGE_COLUMN).data() == "✓ verified"


def test_a_stale_save_is_refused_and_reload_shows_the_stored_values(
    qtbot, opened: tuple[AppContext, int]
) -> None:
    ctx, deal_id = opened
    panel = shown(qtbot, ctx, deal_id)
    panel.form.title_edit.setText("Mine")
    panel.form._typed()
    # another workstation moves the deal meanwhile (no change signal reaches this panel)
    move_deal(db_of(ctx), deal_id, DealStage.NEEDS_ANALYSIS)

    panel.save()
    qtbot.waitUntil(lambda: panel.form.conflict_bar.isVisible(), timeout=5000)
    wait_idle(qtbot, panel)

    assert "changed on another workstation" in panel.form.conflict_message.text()
    assert panel.form.title_edit.text() == "Mine"  # kept as typed
    panel.form.reload_button.click()
    qtbot.waitUntil(
        lambda: panel.form.info is not None and panel.form.info.version == 3, timeout=5000
    )
    wait_idle(qtbot, panel)
    assert panel.form.title_edit.text() == "Oak duplex"
    assert panel.form.stage_label.text() == "Needs analysis (open)"
    assert not panel.form.conflict_bar.isVisible()


def test_a_change_elsewhere_is_read_again_keeping_what_is_typed(
    qtbot, opened: tuple[AppContext, int]
) -> None:
    ctx, deal_id = opened
    panel = shown(qtbot, ctx, deal_id)
    panel.form.title_edit.setText("Typing…")
    panel.form._typed()
    service.add_contact(db_of(ctx), deal_id, ContactFields(name="Jo Ruiz", role="legal"))
    move_deal(db_of(ctx), deal_id, DealStage.NEEDS_ANALYSIS)

    ctx.events.changed(events.DEALS)  # as NOTIFY from another workstation would

    qtbot.waitUntil(lambda: panel.contacts.rowCount() == 1, timeout=5000)
    wait_idle(qtbot, panel)
    assert panel.form.title_edit.text() == "Typing…"
    assert panel.form.stage_label.text() == "Needs analysis (open)"
    assert panel.form.conflict_bar.isVisible()


def test_a_tampered_entry_shows_its_badge(qtbot, opened: tuple[AppContext, int]) -> None:
    ctx, deal_id = opened
    db = db_of(ctx)
    with db.session() as s:
        s.execute(sa.text("DROP TRIGGER trg_audit_entries_no_update"))
        entry = s.scalars(
            sa.select(AuditEntry).where(AuditEntry.chain_key == deal_chain_key(deal_id))
        ).one()
        entry.payload = {**entry.payload, "note": "Never called"}

    panel = shown(qtbot, ctx, deal_id)

    badge = panel.timeline.index(0, TimelineModel.BADGE_COLUMN)
    assert badge.data() == "✗ hash does not verify"
    assert badge.data(INTEGRITY_ROLE) == Integrity.BROKEN.value
    assert badge.data(Qt.ItemDataRole.ForegroundRole).color() == QColor(theme.colors()["error"])
    assert "someone edited the database directly" in badge.data(Qt.ItemDataRole.ToolTipRole)
    assert "does not verify" in panel.history_label.text()
    assert panel.history_label.property("role") == "error"
    assert panel.tabs.tabText(TIMELINE_TAB) == "&Timeline ✗"

    panel.tabs.setCurrentIndex(TIMELINE_TAB)
    panel.timeline_view.selectRow(0)
    text = panel.timeline_detail.text()
    assert "Lead captured → Qualification — Called back" in text  # the stage event, as stored
    assert "✗ hash does not verify" in text
    ctx.events.changed(events.COMMISSIONS)  # read again: the item stays selected
    qtbot.waitUntil(lambda: panel._reload_timer.isActive() or bool(ctx.ops.active()))
    wait_idle(qtbot, panel)
    assert panel.timeline_view.currentIndex().row() == 0
    assert "✗ hash does not verify" in panel.timeline_detail.text()


def test_a_document_opens_with_the_system_handler(
    qtbot, opened: tuple[AppContext, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, deal_id = opened
    opened_urls: list[QUrl] = []

    def fake_open(url: QUrl) -> bool:
        opened_urls.append(QUrl(url))
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", fake_open)
    panel = shown(qtbot, ctx, deal_id)
    assert not panel.open_document_button.isEnabled()
    panel.documents_view.selectRow(0)
    assert panel.open_document_button.isEnabled()

    panel.open_document_button.click()
    index = panel.documents.index(0, 0)
    panel.documents_view.doubleClicked.emit(index)

    assert [u.toString() for u in opened_urls] == [DOC_URI, DOC_URI]


def test_a_bare_path_opens_as_a_file() -> None:
    assert document_url("/srv/deals/loi.pdf") == QUrl.fromLocalFile("/srv/deals/loi.pdf")
    assert document_url("file:///srv/deals/loi.pdf").isLocalFile()
    assert document_url(DOC_URI).toString() == DOC_URI


def test_a_contact_is_added_through_its_dialog_with_checks_by_field(
    qtbot, opened: tuple[AppContext, int]
) -> None:
    ctx, deal_id = opened
    panel = shown(qtbot, ctx, deal_id)
    panel.tabs.setCurrentIndex(1)
    panel.add_contact_button.click()
    dialog = panel.contact_dialog
    assert dialog is not None
    dialog.email_edit.setText("not-an-email")
    dialog.ok_button.click()
    assert dialog.field_error("name") == "Required."
    assert dialog.field_error("email") == "'not-an-email' is not an email address."
    assert ctx.ops.active() == []

    dialog.name_edit.setText("Jo Ruiz")
    dialog.email_edit.setText("jo@law.example")
    dialog.role_combo.setCurrentIndex(dialog.role_combo.findData("legal"))
    with qtbot.waitSignal(panel.deal_changed, timeout=10_000):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: panel.contacts.rowCount() == 1, timeout=5000)
    wait_idle(qtbot, panel)
    row = panel.contacts.index(0, 0).data(ROW_ROLE)
    assert (row.name, row.role, row.email) == ("Jo Ruiz", ContactRole.LEGAL, "jo@law.example")
    assert panel.tabs.tabText(1) == "&Contacts (1)"
    assert (
        panel.timeline.index(0, TimelineModel.EVENT_COLUMN).data()
        == "Contact added: Jo Ruiz (Legal)"
    )


def test_removing_a_contact_asks_first(
    qtbot, opened: tuple[AppContext, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, deal_id = opened
    service.add_contact(db_of(ctx), deal_id, ContactFields(name="Jo Ruiz", role="legal"))
    panel = shown(qtbot, ctx, deal_id)
    asked: list[str] = []
    answer = [False]

    def confirm(_parent: object, _title: str, text: str, _action: str) -> bool:
        asked.append(text)
        return answer[0]

    monkeypatch.setattr(detail_dialogs, "confirm", confirm)
    panel.contacts_view.selectRow(0)

    panel.remove_contact_button.click()
    assert asked == ["Remove Jo Ruiz from this deal's contacts?"]
    assert ctx.ops.active() == []  # said no: nothing sent
    assert panel.contacts.rowCount() == 1

    answer[0] = True
    with qtbot.waitSignal(panel.deal_changed, timeout=10_000):
        panel.remove_contact_button.click()
    qtbot.waitUntil(lambda: panel.contacts.rowCount() == 0, timeout=5000)
    wait_idle(qtbot, panel)
    assert (
        panel.timeline.index(0, TimelineModel.EVENT_COLUMN).data()
        == "Contact removed: Jo Ruiz (Legal)"
    )


def test_a_contact_changed_elsewhere_is_not_overwritten(
    qtbot, opened: tuple[AppContext, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, deal_id = opened
    db = db_of(ctx)
    jo = service.add_contact(db, deal_id, ContactFields(name="Jo Ruiz", role="legal"))
    panel = shown(qtbot, ctx, deal_id)
    panel.contacts_view.selectRow(0)
    panel.edit_contact_button.click()
    dialog = panel.contact_dialog
    assert dialog is not None and dialog.name_edit.text() == "Jo Ruiz"
    # another workstation renames Jo, then removes her
    service.update_contact(db, deal_id, jo.id, ContactFields(name="Jo R.", role="legal"), 1)

    dialog.phone_edit.setText("555-0101")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: bool(dialog.form_message.text()), timeout=5000)
    assert "changed on another workstation" in dialog.form_message.text()
    qtbot.waitUntil(lambda: panel.contacts.index(0, 0).data() == "Jo R.", timeout=5000)
    wait_idle(qtbot, panel)
    dialog.reject()

    service.delete_contact(db, deal_id, jo.id)
    monkeypatch.setattr(detail_dialogs, "confirm", lambda *_args: True)
    panel.contacts_view.selectRow(0)
    panel.remove_contact_button.click()
    qtbot.waitUntil(lambda: panel.message.is_error, timeout=5000)
    assert "no longer exists" in panel.message.text()
    qtbot.waitUntil(lambda: panel.contacts.rowCount() == 0, timeout=5000)
    wait_idle(qtbot, panel)
    assert panel.message.is_error  # still said after the deal was read again


def test_a_document_is_added_and_removed(
    qtbot, opened: tuple[AppContext, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, deal_id = opened
    panel = shown(qtbot, ctx, deal_id)
    dialog = panel.add_document()
    assert dialog is not None
    dialog.ok_button.click()
    assert dialog.field_error("uri") == "Required."
    assert dialog.field_error("title") == "Required."
    dialog.title_edit.setText("Inspection report")
    dialog.type_combo.setCurrentText("inspection")
    dialog.uri_edit.setText("/srv/deals/DL-7/inspection.pdf")
    with qtbot.waitSignal(panel.deal_changed, timeout=10_000):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: panel.documents.rowCount() == 2, timeout=5000)
    wait_idle(qtbot, panel)

    monkeypatch.setattr(detail_dialogs, "confirm", lambda *_args: True)
    panel.documents_view.selectRow(0)
    with qtbot.waitSignal(panel.deal_changed, timeout=10_000):
        panel.remove_document_button.click()
    qtbot.waitUntil(lambda: panel.documents.rowCount() == 1, timeout=5000)
    wait_idle(qtbot, panel)
    assert panel.documents.index(0, 0).data() == "Inspection report"


def test_closing_the_database_empties_the_panel(qtbot, opened: tuple[AppContext, int]) -> None:
    ctx, deal_id = opened
    panel = shown(qtbot, ctx, deal_id)
    ctx.database.close()
    assert panel.stack.currentIndex() == 0
    assert panel.deal_id is None


def test_a_closed_won_deal_offers_its_performance_record_once(
    qtbot, opened: tuple[AppContext, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.gui.postclose.record_dialog import RecordDialog
    from app.services.postclose import catalog, records

    ctx, deal_id = opened
    panel = shown(qtbot, ctx, deal_id)
    assert not panel.record_button.isVisibleTo(panel)  # still open: nothing to record yet
    db = db_of(ctx)
    with db.session() as s:
        deal = s.get(Deal, deal_id)
        assert deal is not None
        deal.pipeline_stage, deal.status = DealStage.CLOSED_WON, DealStatus.CLOSED_WON
    panel.show_deal(None)
    panel.show_deal(deal_id)
    qtbot.waitUntil(lambda: panel.detail is not None, timeout=10_000)
    wait_idle(qtbot, panel)
    assert panel.record_button.isVisibleTo(panel)

    opened_for: list[int | None] = []

    def fake_exec(dialog: RecordDialog) -> int:
        opened_for.append(dialog._wanted_deal)
        return 0

    monkeypatch.setattr(RecordDialog, "exec", fake_exec)
    panel.record_button.click()
    qtbot.waitUntil(lambda: bool(opened_for), timeout=10_000)
    assert opened_for == [deal_id]

    buyer = catalog.save_buyer(db, {"name": "Acme", "email": "", "phone": ""})
    records.create_record(
        db,
        {"market_key": "CA-X", "strategy": "buy_hold", "closed_date": "2025-01-02",
         "purchase_price": "1", "projected_rent": "1", "projected_noi": "1",
         "projected_monthly_cash_flow": "1", "projected_dscr": "1"},
        buyer, deal_id=deal_id,
    )  # fmt: skip
    panel.record_button.click()
    qtbot.waitUntil(lambda: "already has" in panel.status_label.text(), timeout=10_000)
    assert opened_for == [deal_id]
