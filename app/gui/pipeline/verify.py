""" "Verify history": recompute every audit chain off the GUI thread, with progress and cancel,
then say plainly whether the history is intact or which entry was changed (SPEC §5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from app.gui.context import AppContext
from app.gui.operations import CancelledFn, OperationCancelled, ProgressFn
from app.services.audit import VerifyCancelled, VerifyResult, verify_all

if TYPE_CHECKING:
    from app.services.database import Database


def verify_task(db: Database, progress: ProgressFn, cancelled: CancelledFn) -> VerifyResult:
    def report(done: int, total: int) -> None:
        progress(done, total, f"Checked {done:,} of {total:,} audit entries")

    try:
        return verify_all(db, progress=report, cancelled=cancelled)
    except VerifyCancelled:
        raise OperationCancelled from None


def describe(result: VerifyResult) -> str:
    if result.fault is None:
        return (
            f"The history is intact: {result.entries:,} audit entries in {result.chains:,} "
            "chains were recomputed and every hash and link matches."
        )
    f = result.fault
    return (
        f"The history has been changed.\n\nAudit entry {f.entry_id} ({f.chain_key}, "
        f"#{f.seq}): {f.reason}.\n\n{result.entries:,} entries before it verified. Entries "
        "are never changed by PerfDesk: someone edited the database directly."
    )


class VerifyHistory(QObject):
    def __init__(self, ctx: AppContext, parent: QWidget) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.widget = parent
        self.db: Database | None = None
        self.last: VerifyResult | None = None

    def run(self) -> None:
        db = self.db
        if db is None:
            return

        def done(result: VerifyResult) -> None:
            self.last = result
            self.ctx.prompts.notice(self.widget, describe(result))

        self.ctx.ops.run(
            lambda progress, cancelled: verify_task(db, progress, cancelled),
            label="Verifying the history…",
            progress="dialog",
            on_success=done,
            parent=self.widget,
        )
