"""The pipeline board (app/gui/pipeline/) over a real SQLite file of demo data: the model through
qtmodeltester, drag-and-drop as MIME data and as drop events on a column, Ctrl+Left/Right,
"Move to…", the reason for Closed lost and the optional note, Ctrl+Z, a conflict with another
workstation, the column figures over every deal, the filters, the empty state and "Verify
history" before and after someone edits an audit entry behind PerfDesk's back.

A real mouse drag is tested under Xvfb in tests/e2e/test_board_dnd.py (offscreen, QDrag.exec
returns at once).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QByteArray, QMimeData, QModelIndex, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from app.db.models import AuditEntry, Deal, DealStageEvent
from app.domain.enums import DealStage, DealStatus
from app.domain.money import quantize
from app.domain.pipeline import CLOSED_STAGES, OPEN_STAGES, STAGE_LABELS, STAGES
from app.gui.context import AppContext
from app.gui.dashboard.format import short_money
from app.gui.main_window import MainWindow
from app.gui.pipeline import page as page_module
from app.gui.pipeline.board_model import (
    MIME_TYPE,
    STAGE_ROLE,
    VERSION_ROLE,
    BoardModel,
    decode_cards,
)
from app.gui.pipeline.moves import NOTE_SETTING
from app.gui.pipeline.page import PipelinePage
from app.gui.targets import ExplicitUrl
from app.services.database import Database, open_database
from app.services.demo import generate
from app.services.pipeline import board as board_service
from app.services.pipeline.board import BoardFilters, Card, load_board
from app.services.pipeline.moves import EVENT_TYPE, move_deal
from app.services.schema import prepare
from tests.gui.conftest import FakePrompts, WindowFactory, wait_settled

#: The demo's "as of" day, fixed so every run draws the same office.
AS_OF = dt.date(2026, 3, 2)
MOVE = Qt.DropAction.MoveAction


# -- the data -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo office (48 deals: one in each open stage, the rest closed), made once."""
    path = tmp_path_factory.mktemp("pipeline") / "demo.sqlite3"
    db = open_database(f"sqlite:///{path}")
    try:
        prepare(db)
        generate(db, scale="small", seed=3, as_of=AS_OF)
    finally:
        db.dispose()
    return path


@pytest.fixture
def demo_path(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "office.sqlite3"
    shutil.copyfile(demo_template, path)
    return path


@pytest.fixture
def store(demo_path: Path) -> Iterator[Database]:
    """The test's own connection to the page's database (what another workstation would do)."""
    db = open_database(f"sqlite:///{demo_path}")
    yield db
    db.dispose()


@dataclass
class TextAnswers:
    """Stands in for ``ctx.prompts.ask_text``: answers in order (None: cancelled)."""

    answers: list[str | None] = field(default_factory=list)
    asked: list[tuple[str, str, bool]] = field(default_factory=list)

    def __call__(self, _parent: QWidget | None, title: str, question: str, required: bool):
        self.asked.append((title, question, required))
        return self.answers.pop(0) if self.answers else None


@pytest.fixture(autouse=True)
def ask(ctx: AppContext, prompts: FakePrompts) -> Iterator[TextAnswers]:
    """Every test answers text questions itself (the real dialog would block the test), and
    no error is shown to the person unless the test takes it off the list."""
    answers = TextAnswers()
    ctx.prompts.ask_text = answers
    yield answers
    assert prompts.errors == [], "errors were shown"


@dataclass(frozen=True)
class Event:
    id: int
    from_stage: DealStage | None
    to_stage: DealStage
    note: str | None


@dataclass(frozen=True)
class Entry:
    id: int
    seq: int
    event_type: str
    payload: dict


def deal_state(db: Database, deal_id: int) -> tuple[DealStage, int, DealStatus]:
    with db.read() as s:
        deal = s.get(Deal, deal_id)
        assert deal is not None
        return deal.pipeline_stage, deal.version, deal.status


def stage_events(db: Database, deal_id: int) -> list[Event]:
    with db.read() as s:
        rows = s.scalars(
            sa.select(DealStageEvent)
            .where(DealStageEvent.deal_id == deal_id)
            .order_by(DealStageEvent.id)
        )
        return [Event(r.id, r.from_stage, r.to_stage, r.note) for r in rows]


def audit_entries(db: Database, deal_id: int) -> list[Entry]:
    with db.read() as s:
        rows = s.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.chain_key == f"deal:{deal_id}")
            .order_by(AuditEntry.seq)
        )
        return [Entry(r.id, r.seq, r.event_type, dict(r.payload)) for r in rows]


def history(db: Database, deal_id: int) -> tuple[list[Event], list[Entry]]:
    return stage_events(db, deal_id), audit_entries(db, deal_id)


def assert_moved_once(
    db: Database,
    deal_id: int,
    before: tuple[list[Event], list[Entry]],
    from_stage: DealStage,
    to_stage: DealStage,
    note: str | None = None,
) -> None:
    """One stage event and one audit entry more, linked to each other; older ones unchanged."""
    events, entries = history(db, deal_id)
    assert events[:-1] == before[0] and entries[:-1] == before[1]
    event, entry = events[-1], entries[-1]
    assert (event.from_stage, event.to_stage, event.note) == (from_stage, to_stage, note)
    assert entry.event_type == EVENT_TYPE
    assert entry.seq == len(before[1]) + 1
    assert entry.payload == {
        "deal_id": deal_id,
        "stage_event_id": event.id,
        "from_stage": from_stage.value,
        "to_stage": to_stage.value,
        "note": note,
    }


# -- the page -------------------------------------------------------------------------------


def idle(page: PipelinePage) -> bool:
    return (
        not page.ctx.ops.active()
        and not page._reload_timer.isActive()
        and not page._search_timer.isActive()
    )


def no_moves(page: PipelinePage) -> bool:
    """No move is under way (the deal panel beside the board may be reading its deal)."""
    return not [op for op in page.ctx.ops.active() if op.label.startswith("Moving")]


def wait_idle(qtbot, page: PipelinePage) -> None:
    qtbot.waitUntil(lambda: idle(page), timeout=10_000)


def open_board(qtbot, make_window: WindowFactory, path: Path) -> tuple[MainWindow, PipelinePage]:
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    assert window.show_page("pipeline")
    page = window.page_widget("pipeline")
    assert isinstance(page, PipelinePage)
    qtbot.waitUntil(lambda: page._loaded is not None and idle(page), timeout=10_000)
    return window, page


@pytest.fixture
def board(qtbot, make_window: WindowFactory, demo_path: Path) -> PipelinePage:
    return open_board(qtbot, make_window, demo_path)[1]


def the_card(page: PipelinePage, stage: DealStage) -> Card:
    """The demo has exactly one deal in each open stage."""
    cards = page.model.cards(stage)
    assert len(cards) == 1, [c.title for c in cards]
    return cards[0]


def column_of(page: PipelinePage, deal_id: int) -> DealStage | None:
    """The column the deal's card is drawn in (its parent in the model), None when not drawn."""
    index = page.model.find(deal_id)
    if not index.isValid():
        return None
    column = page.model.stages()[index.parent().row()]
    assert index.parent().data(STAGE_ROLE) == column.value  # (Qt hands a StrEnum back as str)
    assert page.model.card_at(index).stage is column  # type: ignore[union-attr]
    return column


def card_index(page: PipelinePage, deal_id: int) -> QModelIndex:
    index = page.model.find(deal_id)
    assert index.isValid()
    return index


def mime_for(model: BoardModel, *deal_ids: int) -> QMimeData:
    return model.mimeData([model.find(i) for i in deal_ids])


def raw_mime(data: bytes, fmt: str = MIME_TYPE) -> QMimeData:
    mime = QMimeData()
    mime.setData(fmt, QByteArray(data))
    return mime


# -- the model ------------------------------------------------------------------------------


def test_the_board_model_passes_qtmodeltester(qtmodeltester, store: Database) -> None:
    loaded = load_board(store, BoardFilters(), "USD")
    model = BoardModel()
    model.set_board(list(STAGES), loaded.cards)
    assert model.card_count() == 48
    qtmodeltester.check(model)
    # a move between columns and back, a card dropped from the board, one added again
    card = model.cards(DealStage.PROPOSAL)[0]
    model.replace_card(replace(card, stage=DealStage.NEGOTIATION))
    assert model.cards(DealStage.NEGOTIATION)[0].deal_id == card.deal_id
    model.remove_card(card.deal_id)
    model.replace_card(card)
    qtmodeltester.check(model)
    # hidden closed stages: a card moved into one leaves the board
    model.set_board(list(OPEN_STAGES), {s: loaded.cards[s] for s in OPEN_STAGES})
    model.replace_card(replace(card, stage=DealStage.CLOSED_WON))
    assert model.find(card.deal_id) == QModelIndex()
    qtmodeltester.check(model)
    model.set_board(list(STAGES), {})
    qtmodeltester.check(model)


def test_cards_carry_their_deal_as_mime_data(store: Database) -> None:
    loaded = load_board(store, BoardFilters(), "USD")
    model = BoardModel()
    model.set_board(list(STAGES), loaded.cards)
    won = model.cards(DealStage.CLOSED_WON)[:2]
    mime = mime_for(model, *(c.deal_id for c in won))
    assert model.mimeTypes() == [MIME_TYPE] and mime.hasFormat(MIME_TYPE)
    assert decode_cards(bytes(mime.data(MIME_TYPE).data())) == [
        (c.deal_id, c.version, DealStage.CLOSED_WON) for c in won
    ]
    assert mime.text() == "\n".join(c.ref for c in won)
    index = model.find(won[0].deal_id)
    assert index.data(VERSION_ROLE) == won[0].version
    assert model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
    assert not model.flags(index) & Qt.ItemFlag.ItemIsDropEnabled
    assert model.flags(model.stage_index(DealStage.PROPOSAL)) & Qt.ItemFlag.ItemIsDropEnabled
    # a stage header is not a card: it carries nothing
    empty = model.mimeData([model.stage_index(DealStage.PROPOSAL)])
    assert decode_cards(bytes(empty.data(MIME_TYPE).data())) == []


# -- drag-and-drop --------------------------------------------------------------------------


def test_a_drop_on_another_column_moves_the_deal(
    qtbot, board: PipelinePage, store: Database
) -> None:
    page, model = board, board.model
    card = the_card(page, DealStage.PROPOSAL)
    before = history(store, card.deal_id)
    mime = mime_for(model, card.deal_id)
    target = model.stage_index(DealStage.NEGOTIATION)
    assert model.canDropMimeData(mime, MOVE, -1, 0, target)
    with qtbot.waitSignal(model.move_requested, timeout=1000) as asked:
        # False: the view must not remove the dragged row itself
        assert model.dropMimeData(mime, MOVE, -1, 0, target) is False
    assert asked.args == [[(card.deal_id, card.version)], DealStage.NEGOTIATION]
    # the card moves once the database has the move, not before
    assert column_of(page, card.deal_id) is DealStage.PROPOSAL
    wait_idle(qtbot, page)
    moved = model.card_at(model.find(card.deal_id))
    assert moved is not None
    assert column_of(page, card.deal_id) is DealStage.NEGOTIATION
    assert moved.version == card.version + 1
    assert model.cards(DealStage.NEGOTIATION)[0].deal_id == card.deal_id  # on top
    assert model.cards(DealStage.PROPOSAL) == []
    assert deal_state(store, card.deal_id) == (DealStage.NEGOTIATION, card.version + 1,
                                               DealStatus.OPEN)  # fmt: skip
    assert_moved_once(store, card.deal_id, before, DealStage.PROPOSAL, DealStage.NEGOTIATION)
    # the headers were read again from the database
    assert page.columns[DealStage.PROPOSAL].count.text() == "0"
    assert page.columns[DealStage.NEGOTIATION].count.text() == "2"


def test_a_drop_on_a_card_of_another_column_moves_to_that_column(
    qtbot, board: PipelinePage, store: Database
) -> None:
    page, model = board, board.model
    card = the_card(page, DealStage.QUALIFICATION)
    other = the_card(page, DealStage.DUE_DILIGENCE)
    before = history(store, card.deal_id)
    assert model.dropMimeData(mime_for(model, card.deal_id), MOVE, -1, 0,
                              card_index(page, other.deal_id)) is False  # fmt: skip
    wait_idle(qtbot, page)
    assert column_of(page, card.deal_id) is DealStage.DUE_DILIGENCE
    assert_moved_once(store, card.deal_id, before, DealStage.QUALIFICATION,
                      DealStage.DUE_DILIGENCE)  # fmt: skip


def drag_events(view: QWidget, mime: QMimeData, pos: QPoint) -> tuple[bool, bool]:
    """Drag enter, move and drop on a column's viewport, as Qt sends them during a drag.
    (Whether the enter and the drop were accepted.)"""
    viewport = view.viewport()  # type: ignore[attr-defined]
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, MOVE, mime, buttons, mods)
    QApplication.sendEvent(viewport, enter)
    move = QDragMoveEvent(pos, MOVE, mime, buttons, mods)
    QApplication.sendEvent(viewport, move)
    drop = QDropEvent(QPointF(pos), MOVE, mime, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_drop_events_on_a_column_view_move_the_deal(
    qtbot, board: PipelinePage, store: Database
) -> None:
    page, model = board, board.model
    card = the_card(page, DealStage.AGREEMENT)
    before = history(store, card.deal_id)
    view = page.columns[DealStage.DUE_DILIGENCE].view
    below_the_cards = QPoint(view.viewport().width() // 2, view.viewport().height() - 5)
    entered, dropped = drag_events(view, mime_for(model, card.deal_id), below_the_cards)
    assert entered
    assert not dropped  # refused: the source view must not delete the row
    wait_idle(qtbot, page)
    assert column_of(page, card.deal_id) is DealStage.DUE_DILIGENCE
    assert_moved_once(store, card.deal_id, before, DealStage.AGREEMENT, DealStage.DUE_DILIGENCE)
    assert model.card_count() == 48


def test_a_drop_on_the_same_column_does_nothing(
    qtbot, board: PipelinePage, store: Database
) -> None:
    page, model = board, board.model
    won = model.cards(DealStage.CLOSED_WON)
    before = history(store, won[0].deal_id)
    mime = mime_for(model, won[0].deal_id)
    with qtbot.assertNotEmitted(model.move_requested):
        assert (
            model.dropMimeData(mime, MOVE, -1, 0, model.stage_index(DealStage.CLOSED_WON)) is False
        )
        assert model.dropMimeData(mime, MOVE, -1, 0, card_index(page, won[1].deal_id)) is False
        view = page.columns[DealStage.CLOSED_WON].view
        drag_events(view, mime, view.visualRect(card_index(page, won[1].deal_id)).center())
    assert no_moves(page)
    assert history(store, won[0].deal_id) == before
    assert column_of(page, won[0].deal_id) is DealStage.CLOSED_WON


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"\xff\xfe",
        b"null",
        b'{"id": 1, "version": 1, "stage": "proposal"}',
        b"[1, 2]",
        b"[null]",
        b'[{"id": 1}]',
        b'[{"id": "one", "version": 1, "stage": "proposal"}]',
        b'[{"id": 1, "version": 1, "stage": "nowhere"}]',
    ],
)
def test_bad_mime_data_is_ignored(qtbot, board: PipelinePage, data: bytes) -> None:
    model = board.model
    target = model.stage_index(DealStage.NEGOTIATION)
    with qtbot.assertNotEmitted(model.move_requested):
        assert model.dropMimeData(raw_mime(data), MOVE, -1, 0, target) is False
    assert no_moves(board)


def test_drops_the_board_cannot_take_are_refused(
    qtbot, board: PipelinePage, store: Database
) -> None:
    page, model = board, board.model
    card = the_card(page, DealStage.PROPOSAL)
    payload = json.dumps([{"id": card.deal_id, "version": card.version, "stage": "proposal"}])
    target = model.stage_index(DealStage.NEGOTIATION)
    with qtbot.assertNotEmitted(model.move_requested):
        # another format (text from elsewhere), nowhere to drop, an ignored drop
        text = raw_mime(payload.encode(), "text/plain")
        assert not model.canDropMimeData(text, MOVE, -1, 0, target)
        assert model.dropMimeData(text, MOVE, -1, 0, target) is False
        good = raw_mime(payload.encode())
        assert not model.canDropMimeData(good, MOVE, -1, 0, QModelIndex())
        assert model.dropMimeData(good, MOVE, -1, 0, QModelIndex()) is False
        assert model.dropMimeData(good, Qt.DropAction.IgnoreAction, -1, 0, target) is False
        view = page.columns[DealStage.NEGOTIATION].view
        entered, _ = drag_events(view, text, QPoint(10, 10))
        assert not entered
    # a card drawn at another version (the board read it again meanwhile), a deal not on
    # the board: asked for, but the page moves nothing
    for stale in (
        [{"id": card.deal_id, "version": card.version - 1, "stage": "proposal"}],
        [{"id": 999_999, "version": 1, "stage": "proposal"}],
    ):
        with qtbot.waitSignal(model.move_requested, timeout=1000):
            model.dropMimeData(raw_mime(json.dumps(stale).encode()), MOVE, -1, 0, target)
        assert no_moves(page)
    assert deal_state(store, card.deal_id)[:2] == (DealStage.PROPOSAL, card.version)


# -- keys and menus -------------------------------------------------------------------------


def test_ctrl_right_and_ctrl_left_move_the_selected_card_a_stage(
    qtbot, board: PipelinePage, store: Database
) -> None:
    page = board
    card = the_card(page, DealStage.NEEDS_ANALYSIS)
    before = history(store, card.deal_id)
    assert page.select_deal(card.deal_id)
    view = page.columns[DealStage.NEEDS_ANALYSIS].view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, page)
    assert column_of(page, card.deal_id) is DealStage.PROPOSAL
    assert_moved_once(store, card.deal_id, before, DealStage.NEEDS_ANALYSIS, DealStage.PROPOSAL)
    # the moved card stays selected, in its new column: Ctrl+Left takes it one stage back
    assert page.current_card().deal_id == card.deal_id  # type: ignore[union-attr]
    view = page.columns[DealStage.PROPOSAL].view
    assert page.model.card_at(view.currentIndex()).deal_id == card.deal_id  # type: ignore[union-attr]
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, page)
    assert column_of(page, card.deal_id) is DealStage.NEEDS_ANALYSIS
    assert deal_state(store, card.deal_id)[:2] == (DealStage.NEEDS_ANALYSIS, card.version + 2)
    assert len(stage_events(store, card.deal_id)) == len(before[0]) + 2


def test_ctrl_left_in_the_first_column_and_plain_arrows_move_nothing(
    qtbot, board: PipelinePage, store: Database
) -> None:
    page = board
    card = the_card(page, DealStage.LEAD_CAPTURED)
    before = history(store, card.deal_id)
    page.select_deal(card.deal_id)
    view = page.columns[DealStage.LEAD_CAPTURED].view
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert no_moves(page)
    assert history(store, card.deal_id) == before


def menu_action(page: PipelinePage, text: str):
    page.move_menu.aboutToShow.emit()  # what opening the menu does
    found = [a for a in page.move_menu.actions() if a.text() == text]
    assert len(found) == 1, [a.text() for a in page.move_menu.actions()]
    return found[0]


def test_the_move_to_menu_moves_the_selected_card(
    qtbot, board: PipelinePage, store: Database
) -> None:
    page = board
    assert not menu_action(page, "Select a deal first").isEnabled()
    card = the_card(page, DealStage.AGREEMENT)
    before = history(store, card.deal_id)
    page.select_deal(card.deal_id)
    labels = [a.text() for a in (menu_action(page, STAGE_LABELS[s]) for s in STAGES)]
    assert labels == [STAGE_LABELS[s] for s in STAGES]
    assert not menu_action(page, "Agreement").isEnabled()  # where it is already
    action = menu_action(page, "Lead captured")
    assert action.isEnabled()
    action.trigger()
    wait_idle(qtbot, page)
    assert column_of(page, card.deal_id) is DealStage.LEAD_CAPTURED
    assert_moved_once(store, card.deal_id, before, DealStage.AGREEMENT, DealStage.LEAD_CAPTURED)
    assert page.current_card().deal_id == card.deal_id  # type: ignore[union-attr]


def test_closed_won_needs_no_reason_and_closes_the_deal(
    qtbot, board: PipelinePage, store: Database, ask: TextAnswers
) -> None:
    page = board
    card = the_card(page, DealStage.AWAITING_CLOSURE)
    before = history(store, card.deal_id)
    page.select_deal(card.deal_id)
    qtbot.keyClick(page.columns[DealStage.AWAITING_CLOSURE].view, Qt.Key.Key_Right,
                   Qt.KeyboardModifier.ControlModifier)  # fmt: skip
    wait_idle(qtbot, page)
    assert ask.asked == []
    assert deal_state(store, card.deal_id) == (DealStage.CLOSED_WON, card.version + 1,
                                               DealStatus.CLOSED_WON)  # fmt: skip
    assert_moved_once(store, card.deal_id, before, DealStage.AWAITING_CLOSURE,
                      DealStage.CLOSED_WON)  # fmt: skip
    assert page.model.cards(DealStage.CLOSED_WON)[0].deal_id == card.deal_id


def test_closed_lost_asks_why_and_cancelling_writes_nothing(
    qtbot, board: PipelinePage, store: Database, ask: TextAnswers
) -> None:
    page, model = board, board.model
    card = the_card(page, DealStage.NEGOTIATION)
    before = history(store, card.deal_id)
    lost = model.stage_index(DealStage.CLOSED_LOST)
    ask.answers = [None]  # Cancel
    model.dropMimeData(mime_for(model, card.deal_id), MOVE, -1, 0, lost)
    assert ask.asked == [("Move to Closed lost", f"Why was “{card.title}” lost?", True)]
    assert no_moves(page)
    assert history(store, card.deal_id) == before
    assert column_of(page, card.deal_id) is DealStage.NEGOTIATION
    assert not page.undo_button.isEnabled()

    ask.answers = ["Buyer chose another broker"]
    model.dropMimeData(mime_for(model, card.deal_id), MOVE, -1, 0, lost)
    assert len(ask.asked) == 2
    wait_idle(qtbot, page)
    assert column_of(page, card.deal_id) is DealStage.CLOSED_LOST
    assert deal_state(store, card.deal_id) == (DealStage.CLOSED_LOST, card.version + 1,
                                               DealStatus.CLOSED_LOST)  # fmt: skip
    assert_moved_once(store, card.deal_id, before, DealStage.NEGOTIATION,
                      DealStage.CLOSED_LOST, "Buyer chose another broker")  # fmt: skip


def test_the_note_setting_asks_for_a_note_on_each_move(
    qtbot, board: PipelinePage, store: Database, ask: TextAnswers, ctx: AppContext
) -> None:
    page, model = board, board.model
    assert not page.note_action.isChecked() and not page.moves.ask_note
    card = the_card(page, DealStage.PROPOSAL)
    before = history(store, card.deal_id)

    page.note_action.setChecked(True)
    assert ctx.settings.qsettings.value(NOTE_SETTING, type=bool) is True
    ask.answers = [None]  # Cancel: no move
    page.move_card(card, DealStage.NEGOTIATION)
    assert ask.asked == [
        ("Move to Negotiation", f"A note for this move (optional):\n{card.title}", False)
    ]
    assert no_moves(page) and history(store, card.deal_id) == before

    ask.answers = ["Counter-offer sent"]
    page.move_card(card, DealStage.NEGOTIATION)
    wait_idle(qtbot, page)
    assert_moved_once(store, card.deal_id, before, DealStage.PROPOSAL, DealStage.NEGOTIATION,
                      "Counter-offer sent")  # fmt: skip
    moved = model.card_at(model.find(card.deal_id))
    assert moved is not None

    ask.answers = [""]  # OK with nothing typed: moved, without a note
    middle = history(store, card.deal_id)
    page.move_card(moved, DealStage.AGREEMENT)
    wait_idle(qtbot, page)
    assert_moved_once(store, card.deal_id, middle, DealStage.NEGOTIATION, DealStage.AGREEMENT)
    assert len(ask.asked) == 3

    page.note_action.setChecked(False)
    assert ctx.settings.qsettings.value(NOTE_SETTING, type=bool) is False
    moved = model.card_at(model.find(card.deal_id))
    after = history(store, card.deal_id)
    page.move_card(moved, DealStage.DUE_DILIGENCE)  # type: ignore[arg-type]
    wait_idle(qtbot, page)
    assert len(ask.asked) == 3  # not asked
    assert_moved_once(store, card.deal_id, after, DealStage.AGREEMENT, DealStage.DUE_DILIGENCE)
    # the setting is remembered for the next board
    ctx.settings.qsettings.setValue(NOTE_SETTING, True)
    again = PipelinePage(ctx)
    qtbot.addWidget(again)
    assert again.note_action.isChecked()


def test_ctrl_z_appends_the_reverse_move(
    qtbot, make_window: WindowFactory, demo_path: Path, store: Database
) -> None:
    window, page = open_board(qtbot, make_window, demo_path)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    card = the_card(page, DealStage.QUALIFICATION)
    before = history(store, card.deal_id)
    assert not page.undo_button.isEnabled()
    page.model.dropMimeData(mime_for(page.model, card.deal_id), MOVE, -1, 0,
                            page.model.stage_index(DealStage.AGREEMENT))  # fmt: skip
    wait_idle(qtbot, page)
    assert column_of(page, card.deal_id) is DealStage.AGREEMENT
    assert page.undo_button.isEnabled()
    moved_events, moved_entries = history(store, card.deal_id)

    view = page.columns[DealStage.AGREEMENT].view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, page)
    assert column_of(page, card.deal_id) is DealStage.QUALIFICATION
    assert page.model.card_at(page.model.find(card.deal_id)).version == card.version + 2  # type: ignore[union-attr]
    assert deal_state(store, card.deal_id) == (DealStage.QUALIFICATION, card.version + 2,
                                               DealStatus.OPEN)  # fmt: skip
    events, entries = history(store, card.deal_id)
    # both moves are in the history: nothing was rewritten or taken out
    assert events[: len(moved_events)] == moved_events
    assert entries[: len(moved_entries)] == moved_entries
    assert len(events) == len(before[0]) + 2 and len(entries) == len(before[1]) + 2
    assert [(e.from_stage, e.to_stage, e.note) for e in events[-2:]] == [
        (DealStage.QUALIFICATION, DealStage.AGREEMENT, None),
        (DealStage.AGREEMENT, DealStage.QUALIFICATION, "Undo: back to Qualification"),
    ]
    assert_moved_once(store, card.deal_id, (moved_events, moved_entries), DealStage.AGREEMENT,
                      DealStage.QUALIFICATION, "Undo: back to Qualification")  # fmt: skip
    assert not page.undo_button.isEnabled()
    # nothing more to take back
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert no_moves(page)
    assert len(stage_events(store, card.deal_id)) == len(events)


def test_a_move_made_on_another_workstation_is_a_conflict(
    qtbot, board: PipelinePage, store: Database, prompts: FakePrompts
) -> None:
    page, model = board, board.model
    card = the_card(page, DealStage.DUE_DILIGENCE)
    # another workstation moves the deal; this board has not heard of it
    theirs = move_deal(store, card.deal_id, DealStage.AWAITING_CLOSURE,
                       expected_version=card.version)  # fmt: skip
    after_theirs = history(store, card.deal_id)
    assert column_of(page, card.deal_id) is DealStage.DUE_DILIGENCE  # the stale card
    model.dropMimeData(mime_for(model, card.deal_id), MOVE, -1, 0,
                       model.stage_index(DealStage.AGREEMENT))  # fmt: skip
    wait_idle(qtbot, page)
    error = prompts.errors.pop()
    assert prompts.errors == []
    assert "changed on another workstation" in error.text
    assert "Nothing was moved" in error.text
    # nothing written by this board's move
    assert history(store, card.deal_id) == after_theirs
    assert deal_state(store, card.deal_id)[:2] == (DealStage.AWAITING_CLOSURE, theirs.version)
    # the board read itself again: the fresh card, where the other workstation put it
    fresh = model.card_at(model.find(card.deal_id))
    assert fresh is not None and fresh.version == theirs.version
    assert column_of(page, card.deal_id) is DealStage.AWAITING_CLOSURE
    assert page.columns[DealStage.DUE_DILIGENCE].count.text() == "0"
    assert page.columns[DealStage.AWAITING_CLOSURE].count.text() == "2"
    assert not page.undo_button.isEnabled()


# -- column figures -------------------------------------------------------------------------


def sql_figures(path: Path, currency: str = "USD") -> dict[DealStage, tuple[int, str]]:
    """Straight from the file: count, and the header's total and weighted text per stage.
    (SQLite keeps money as cents and rates as ten-thousandths.)"""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT pipeline_stage, estimated_value_currency, estimated_value_amount, confidence"
            " FROM deals"
        ).fetchall()
    out: dict[DealStage, tuple[int, str]] = {}
    for stage in STAGES:
        mine = [r for r in rows if r[0] == stage.value]
        ours = [r for r in mine if r[1] == currency]
        total = sum((Decimal(r[2]) / 100 for r in ours), Decimal(0))
        weighted = sum((Decimal(r[2]) / 100 * Decimal(r[3]) / 10000 for r in ours), Decimal(0))
        plus = " +" if len(ours) < len(mine) else ""
        text = f"{short_money(quantize(total))} · {short_money(quantize(weighted))} weighted"
        out[stage] = (len(mine), text + plus)
    return out


def test_column_headers_add_up_every_deal_even_when_fewer_cards_are_drawn(
    qtbot,
    make_window: WindowFactory,
    demo_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(page_module, "load_board", partial(load_board, closed_card_limit=5))
    _window, page = open_board(qtbot, make_window, demo_path)
    expected = sql_figures(demo_path)
    assert expected[DealStage.CLOSED_WON][0] == 21 and expected[DealStage.CLOSED_LOST][0] == 19
    for stage, column in page.columns.items():
        count, totals = expected[stage]
        drawn = len(page.model.cards(stage))
        assert column.count.text() == f"{count:,}", stage
        assert column.totals.text() == totals, stage
        if stage in CLOSED_STAGES:
            assert drawn == 5
            assert not column.note.isHidden()
            assert column.note.text() == f"Showing the 5 most recent of {count}"
        else:
            assert drawn == count
            assert column.note.isHidden()
    # two deals in Closed won are in SGD: counted, left out of the USD total, in the tooltip
    with sqlite3.connect(demo_path) as conn:
        sgd = conn.execute(
            "SELECT count(*) FROM deals WHERE pipeline_stage = 'closed_won'"
            " AND estimated_value_currency = 'SGD'"
        ).fetchone()[0]
    assert sgd == 2
    won = page.columns[DealStage.CLOSED_WON]
    assert won.totals.text().endswith(" +")
    assert "Also 2 in SGD: SGD" in won.totals.toolTip()
    # a move: the headers follow the database, the closed column still draws 5 of them
    card = the_card(page, DealStage.AWAITING_CLOSURE)
    page.move_card(card, DealStage.CLOSED_WON)
    wait_idle(qtbot, page)
    expected = sql_figures(demo_path)
    assert expected[DealStage.CLOSED_WON][0] == 22
    for stage, column in page.columns.items():
        count, totals = expected[stage]
        assert (column.count.text(), column.totals.text()) == (f"{count:,}", totals), stage
    won = page.columns[DealStage.CLOSED_WON]
    assert len(page.model.cards(DealStage.CLOSED_WON)) == 6  # the moved card, on top
    assert won.note.text() == "Showing the 6 most recent of 22"


def test_load_board_figures_cover_every_deal_whatever_the_limit(store: Database, demo_path):
    limited = load_board(store, BoardFilters(), "USD", closed_card_limit=3)
    full = load_board(store, BoardFilters(), "USD")
    assert limited.columns == full.columns
    expected = sql_figures(demo_path)
    for stage in STAGES:
        figures = limited.figures(stage)
        assert figures is not None and figures.count == expected[stage][0]
        assert len(limited.cards[stage]) == (min(3, figures.count) if stage in CLOSED_STAGES
                                             else figures.count)  # fmt: skip
    # the drawn closed cards are the most recently closed
    assert {c.deal_id for c in limited.cards[DealStage.CLOSED_LOST]} <= {
        c.deal_id for c in full.cards[DealStage.CLOSED_LOST]
    }
    assert board_service.CLOSED_CARD_LIMIT >= 100


# -- filters and empty states ---------------------------------------------------------------


def shown_stages(page: PipelinePage) -> list[DealStage]:
    return [s for s, c in page.columns.items() if not c.isHidden()]


def drawn_ids(page: PipelinePage) -> set[int]:
    return {c.deal_id for s in STAGES for c in page.model.cards(s)}


def test_the_filters_narrow_cards_and_figures(qtbot, board: PipelinePage, store: Database) -> None:
    page = board
    with store.read() as s:
        deals = list(s.scalars(sa.select(Deal)))
    assert shown_stages(page) == list(STAGES) and drawn_ids(page) == {d.id for d in deals}

    # an agent
    agent = max({d.agent_id for d in deals}, key=lambda a: sum(d.agent_id == a for d in deals))
    combo = page.agent_combo
    assert combo.itemText(0) == "All agents"
    combo.setCurrentIndex(combo.findData(agent))
    wait_idle(qtbot, page)
    mine = {d.id for d in deals if d.agent_id == agent}
    assert drawn_ids(page) == mine
    for stage, column in page.columns.items():
        n = sum(1 for d in deals if d.agent_id == agent and d.pipeline_stage is stage)
        assert column.count.text() == str(n)
    combo.setCurrentIndex(0)

    # an asset type
    page.asset_combo.setCurrentIndex(page.asset_combo.findData("multifamily"))
    wait_idle(qtbot, page)
    assert drawn_ids(page) == {d.id for d in deals if d.asset_type == "multifamily"}
    assert page.asset_combo.currentText() == "multifamily"
    page.asset_combo.setCurrentIndex(0)

    # text: title or ref, whatever the case
    qtbot.keyClicks(page.search, "PALMDALE")
    wait_idle(qtbot, page)
    assert drawn_ids(page) == {d.id for d in deals if "palmdale" in d.title.lower()}
    page.search.setText(deals[5].ref)
    wait_idle(qtbot, page)
    assert drawn_ids(page) == {deals[5].id}
    assert page.status_label.text().startswith("1 deal")
    page.search.setText("no such deal anywhere")
    wait_idle(qtbot, page)
    assert drawn_ids(page) == set()
    assert page.status_label.text() == "No deal matches these filters."
    page.search.clear()
    wait_idle(qtbot, page)
    assert len(drawn_ids(page)) == 48
    assert page.status_label.text().startswith("48 deals")


def test_hide_closed_hides_the_closed_columns_and_is_remembered(
    qtbot, board: PipelinePage, store: Database, ctx: AppContext
) -> None:
    page = board
    page.hide_closed.setChecked(True)
    wait_idle(qtbot, page)
    assert shown_stages(page) == list(OPEN_STAGES)
    assert all(page.model.cards(s) == [] for s in CLOSED_STAGES)
    assert len(drawn_ids(page)) == 8
    assert page.status_label.text().startswith("8 deals")
    # Ctrl+Right from the last open column would move into a hidden one: nothing happens
    card = the_card(page, DealStage.AWAITING_CLOSURE)
    page.select_deal(card.deal_id)
    qtbot.keyClick(page.columns[DealStage.AWAITING_CLOSURE].view, Qt.Key.Key_Right,
                   Qt.KeyboardModifier.ControlModifier)  # fmt: skip
    assert no_moves(page)
    assert deal_state(store, card.deal_id)[0] is DealStage.AWAITING_CLOSURE
    # "Move to…" still offers them; the card leaves the board with the move
    menu_action(page, "Closed won").trigger()
    wait_idle(qtbot, page)
    assert deal_state(store, card.deal_id)[0] is DealStage.CLOSED_WON
    assert page.model.find(card.deal_id) == QModelIndex()
    assert page.current_card() is None  # nothing invisible stays selected
    assert shown_stages(page) == list(OPEN_STAGES)
    # Ctrl+Z brings it back from the hidden column: the board reads itself again
    page.undo()
    wait_idle(qtbot, page)
    assert deal_state(store, card.deal_id)[:2] == (DealStage.AWAITING_CLOSURE, card.version + 2)
    assert stage_events(store, card.deal_id)[-1].note == "Undo: back to Awaiting closure"
    assert column_of(page, card.deal_id) is DealStage.AWAITING_CLOSURE
    assert page.model.card_at(page.model.find(card.deal_id)).version == card.version + 2  # type: ignore[union-attr]
    # remembered for the next board
    assert ctx.settings.qsettings.value("pipeline/hide_closed", type=bool) is True
    again = PipelinePage(ctx)
    qtbot.addWidget(again)
    assert again.hide_closed.isChecked()
    page.hide_closed.setChecked(False)
    wait_idle(qtbot, page)
    assert shown_stages(page) == list(STAGES)
    assert page.model.find(card.deal_id).isValid()


def test_an_empty_office_says_how_to_get_deals(
    qtbot, make_window: WindowFactory, prepared_db_path: Path
) -> None:
    _window, page = open_board(qtbot, make_window, prepared_db_path)
    assert page.model.card_count() == 0
    assert page.status_label.text() == (
        "No deals yet: import them (python main.py import deals FILE) "
        "or fill the database with demo data."
    )
    assert all(c.count.text() == "0" for c in page.columns.values())
    assert shown_stages(page) == list(STAGES)
    assert not menu_action(page, "Select a deal first").isEnabled()
    page.undo()  # nothing to undo, nothing happens
    assert no_moves(page)


def test_a_board_without_a_database_says_so(qtbot, ctx: AppContext) -> None:
    page = PipelinePage(ctx)
    qtbot.addWidget(page)
    assert page.status_label.text() == "No database is open."
    assert page.model.card_count() == 0 and page.model.rowCount() == len(STAGES)
    page.reload()
    page.verify_history()
    assert ctx.ops.active() == []


# -- Verify history -------------------------------------------------------------------------


def test_verify_history_reports_intact_then_names_the_changed_entry(
    qtbot, board: PipelinePage, store: Database, demo_path: Path, prompts: FakePrompts
) -> None:
    page = board
    page.verify_action.trigger()
    wait_idle(qtbot, page)
    with sqlite3.connect(demo_path) as conn:
        entries, chains = conn.execute(
            "SELECT count(*), count(DISTINCT chain_key) FROM audit_entries"
        ).fetchone()
    assert prompts.notices == [
        f"The history is intact: {entries:,} audit entries in {chains:,} chains were "
        "recomputed and every hash and link matches."
    ]

    victim = audit_entries(store, the_card(page, DealStage.PROPOSAL).deal_id)[1]
    conn = sqlite3.connect(demo_path)
    try:
        update = (
            "UPDATE audit_entries SET payload = json_set(payload, '$.note', 'edited') WHERE id = ?"
        )
        with pytest.raises(sqlite3.DatabaseError):  # append-only: the trigger refuses
            conn.execute(update, (victim.id,))
        conn.rollback()
        conn.execute("DROP TRIGGER trg_audit_entries_no_update")
        conn.execute(update, (victim.id,))
        conn.commit()
    finally:
        conn.close()

    page.verify_history()
    wait_idle(qtbot, page)
    assert len(prompts.notices) == 2
    report = prompts.notices[1]
    assert report.startswith("The history has been changed.")
    assert f"Audit entry {victim.id} (deal:" in report
    assert f"#{victim.seq}): hash does not match its contents" in report
    assert page.verifier.last is not None and page.verifier.last.fault is not None
    assert page.verifier.last.fault.entry_id == victim.id
