"""Moving cards: asks for the note (a setting) or the reason a deal was lost, runs the move off
the GUI thread, keeps the moves that Ctrl+Z can take back, and reports conflicts plainly.

Undo appends the reverse move ("Undo: back to …"); the history keeps both moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.domain.enums import DealStage
from app.domain.errors import ConflictError
from app.domain.pipeline import STAGE_LABELS
from app.gui.context import AppContext
from app.services.pipeline.board import Card
from app.services.pipeline.moves import MoveResult, move_deal

if TYPE_CHECKING:
    from app.services.database import Database

NOTE_SETTING = "pipeline/ask_note"
UNDO_DEPTH = 50


@dataclass(frozen=True)
class DoneMove:
    deal_id: int
    title: str
    from_stage: DealStage
    to_stage: DealStage
    version: int  # the deal's version after the move


class MoveController(QObject):
    #: The card as it is after a move (its new stage, version and time).
    moved = Signal(object)
    #: A move was refused because another workstation changed the deal first.
    conflicted = Signal(int)
    undo_available = Signal(bool)
    #: An undo moved a deal whose card is not on the board (the page reads the board again).
    undone_offboard = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.widget = parent
        self.db: Database | None = None
        self._undo: list[DoneMove] = []
        self.busy = 0

    @property
    def ask_note(self) -> bool:
        return bool(self.ctx.settings.qsettings.value(NOTE_SETTING, False, type=bool))

    def set_ask_note(self, on: bool) -> None:
        self.ctx.settings.qsettings.setValue(NOTE_SETTING, on)

    def can_undo(self) -> bool:
        return bool(self._undo)

    def clear(self) -> None:
        self._undo.clear()
        self.undo_available.emit(False)

    def _note_for(self, card: Card, to: DealStage) -> tuple[bool, str | None]:
        """(go on, note). closed_lost needs a reason; otherwise a note only if the setting asks."""
        title = f"Move to {STAGE_LABELS[to]}"
        if to is DealStage.CLOSED_LOST:
            reason = self.ctx.prompts.ask_text(
                self.widget, title, f"Why was “{card.title}” lost?", True
            )
            return (reason is not None, reason)
        if self.ask_note:
            note = self.ctx.prompts.ask_text(
                self.widget, title, f"A note for this move (optional):\n{card.title}", False
            )
            return (note is not None, note or None)
        return (True, None)

    def move(self, card: Card, to: DealStage) -> None:
        if self.db is None or to is card.stage:
            return
        go, note = self._note_for(card, to)
        if go:
            self._run(card, to, note, undo=False)

    def undo(self, find_card: Callable[[int], Card | None]) -> None:
        """Move the last moved deal back. The card on the board (when it is there) is the one
        refreshed; the version checked is the one the move left, so a deal changed since is a
        conflict, not a silent overwrite."""
        if self.db is None or not self._undo:
            return
        last = self._undo.pop()
        self.undo_available.emit(bool(self._undo))
        note = f"Undo: back to {STAGE_LABELS[last.from_stage]}"
        card = find_card(last.deal_id)
        if card is None:
            self._run_plain(last, note)  # the board reads itself once the move is written
            return
        self._run(replace(card, version=last.version), last.from_stage, note, undo=True)

    def _run_plain(self, last: DoneMove, note: str) -> None:
        """Undo for a deal the filters hide: move it back; the board reads itself again."""
        db = self.db
        assert db is not None
        self.ctx.ops.run(
            partial(
                move_deal,
                db,
                last.deal_id,
                last.from_stage,
                expected_version=last.version,
                note=note,
            ),
            label=f"Moving {last.title} back…",
            on_success=lambda _r: self._undone_offboard(last),
            parent=self.widget,
        )

    def _undone_offboard(self, last: DoneMove) -> None:
        self.undone_offboard.emit(last.deal_id)
        self.ctx.events.say(f"Undone: {last.title}")
        self.ctx.events.changed("deals")

    def _run(self, card: Card, to: DealStage, note: str | None, *, undo: bool) -> None:
        db = self.db
        if db is None:
            return
        self.busy += 1

        def done(result: MoveResult) -> None:
            self.busy -= 1
            if not undo:
                self._undo.append(
                    DoneMove(
                        card.deal_id, card.title, result.from_stage, result.to_stage, result.version
                    )
                )
                del self._undo[:-UNDO_DEPTH]
            self.undo_available.emit(bool(self._undo))
            self.moved.emit(
                replace(
                    card,
                    stage=result.to_stage,
                    status=result.status,
                    version=result.version,
                    last_move_at=result.recorded_at,
                )
            )
            verb = "Undone" if undo else "Moved"
            self.ctx.events.say(f"{verb}: {card.title} → {STAGE_LABELS[result.to_stage]}")

        def failed(exc: BaseException) -> None:
            self.busy -= 1
            if isinstance(exc, ConflictError):
                self.conflicted.emit(card.deal_id)
            self.ctx.ops.present(exc, self.widget)

        self.ctx.ops.run(
            partial(move_deal, db, card.deal_id, to, expected_version=card.version, note=note),
            label=f"Moving {card.title}…",
            on_success=done,
            on_error=failed,
            parent=self.widget,
        )
