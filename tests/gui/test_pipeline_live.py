"""The board follows changes made elsewhere (another workstation's move arrives as
``data_changed("deals")``, as the NOTIFY listener delivers it): it reads itself again, keeps the
selected deal selected, and a move of its own does not make it read everything again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db.models import Deal, DealStageEvent
from app.domain.enums import DealStage
from app.gui import events
from app.gui.database_holder import ExplicitUrl
from app.gui.pipeline.page import PipelinePage
from app.services.database import open_database
from app.services.pipeline.moves import move_deal
from app.services.users import add_user
from tests.gui.conftest import WindowFactory, wait_settled

BROKER = "bob.broker@example.com"
ANN = "ann.lee@example.com"


@pytest.fixture
def board_db(prepared_db_path: Path) -> Path:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, BROKER, "broker", "Bob", "Broker")
        ann = add_user(db, ANN, "agent", "Ann", "Lee", broker_email=BROKER)
        with db.session() as s:
            for i, stage in enumerate(
                (DealStage.QUALIFICATION, DealStage.PROPOSAL, DealStage.PROPOSAL)
            ):
                deal = Deal(
                    ref=f"DL-{i + 1}", agent_id=ann.id, title=f"Deal {i + 1}",
                    asset_type="residential", deal_type="buy_side", pipeline_stage=stage,
                    estimated_value_amount=Decimal("100000.00") * (i + 1),
                    estimated_value_currency="USD", confidence=Decimal("0.5"),
                    created_at=dt.datetime(2026, 1, 1 + i, tzinfo=dt.UTC),
                )  # fmt: skip
                s.add(deal)
                s.flush()
                first = DealStageEvent(
                    deal_id=deal.id, from_stage=None, to_stage=stage, changed_by_id=ann.id,
                    recorded_at=deal.created_at,
                )  # fmt: skip
                s.add(first)
    finally:
        db.dispose()
    return prepared_db_path


def open_board(qtbot, make_window: WindowFactory, path: Path) -> tuple[object, PipelinePage]:
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    assert window.show_page("pipeline")
    page = window.page_widget("pipeline")
    assert isinstance(page, PipelinePage)
    qtbot.waitUntil(lambda: page._loaded is not None and not page.ctx.ops.active(), timeout=5000)
    return window, page


def stage_titles(page: PipelinePage, stage: DealStage) -> list[str]:
    return [c.title for c in page.model.cards(stage)]


def test_a_move_made_elsewhere_reaches_the_board_and_the_column_figures(
    qtbot, make_window: WindowFactory, board_db: Path
) -> None:
    _window, page = open_board(qtbot, make_window, board_db)
    assert stage_titles(page, DealStage.PROPOSAL) == ["Deal 3", "Deal 2"]
    assert page.columns[DealStage.PROPOSAL].count.text() == "2"
    assert page.select_deal(2)

    other = open_database(f"sqlite:///{board_db}")
    try:
        move_deal(other, 2, DealStage.NEGOTIATION, acting=ANN)
    finally:
        other.dispose()
    page.ctx.events.changed(events.DEALS)  # what the NOTIFY listener emits in shared mode

    qtbot.waitUntil(lambda: stage_titles(page, DealStage.NEGOTIATION) == ["Deal 2"], timeout=3000)
    qtbot.waitUntil(lambda: not page.ctx.ops.active(), timeout=3000)
    assert stage_titles(page, DealStage.PROPOSAL) == ["Deal 3"]
    assert page.columns[DealStage.PROPOSAL].count.text() == "1"
    assert page.columns[DealStage.NEGOTIATION].count.text() == "1"
    card = page.current_card()
    assert card is not None and card.deal_id == 2 and card.stage is DealStage.NEGOTIATION


def test_a_move_of_its_own_moves_the_card_without_reading_the_board_again(
    qtbot, make_window: WindowFactory, board_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _window, page = open_board(qtbot, make_window, board_db)
    reads: list[object] = []
    original = PipelinePage.reload

    def counting(self: PipelinePage) -> None:
        reads.append(self)
        original(self)

    monkeypatch.setattr(PipelinePage, "reload", counting)
    card = page.model.cards(DealStage.QUALIFICATION)[0]
    page.move_card(card, DealStage.NEEDS_ANALYSIS)
    qtbot.waitUntil(
        lambda: stage_titles(page, DealStage.NEEDS_ANALYSIS) == ["Deal 1"], timeout=3000
    )
    qtbot.waitUntil(lambda: not page.ctx.ops.active(), timeout=3000)
    qtbot.wait(400)  # longer than the reload debounce
    assert reads == []
    assert page.columns[DealStage.NEEDS_ANALYSIS].count.text() == "1"
    db = open_database(f"sqlite:///{board_db}")
    try:
        with db.read() as s:
            assert s.scalar(sa.select(Deal.version).where(Deal.id == card.deal_id)) == 2
    finally:
        db.dispose()


def test_a_column_paints_its_first_cards_then_reads_the_rest(
    qtbot, make_window: WindowFactory, board_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.gui.pipeline import page as page_module

    monkeypatch.setattr(page_module, "FIRST_CARDS", 1)
    window = make_window()
    appended: list[tuple[str, int, int]] = []
    window.open_database(ExplicitUrl(f"sqlite:///{board_db}"))
    wait_settled(qtbot, window)
    page = window.page_widget("pipeline")
    assert isinstance(page, PipelinePage)
    page.model.rowsInserted.connect(
        lambda parent, first, last: appended.append((str(parent.data()), first, last))
    )
    assert window.show_page("pipeline")
    qtbot.waitUntil(lambda: stage_titles(page, DealStage.PROPOSAL) == ["Deal 3", "Deal 2"],
                    timeout=5000)  # fmt: skip
    qtbot.waitUntil(lambda: not page.ctx.ops.active(), timeout=3000)
    assert appended == [("Proposal", 1, 1)]  # the first card painted, the second read after
    assert page.columns[DealStage.PROPOSAL].count.text() == "2"
    assert stage_titles(page, DealStage.QUALIFICATION) == ["Deal 1"]
