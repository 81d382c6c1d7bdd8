"""First run on an empty database: fill it with a demo brokerage office, or start empty."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from app import APP_NAME
from app.gui import events
from app.gui.operations import CancelledFn, ProgressFn
from app.gui.prompts import FirstRunChoice

if TYPE_CHECKING:
    from app.gui.context import AppContext
    from app.services.database import Database
    from app.services.demo import DemoSummary

DEMO_SCALE = "brokerage"


class FirstRunDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunDialog")
        self.setWindowTitle(f"Welcome to {APP_NAME}")
        self.choice: FirstRunChoice | None = None
        intro = QLabel(
            "<b>This database is empty.</b><br>"
            "Fill it with a made-up brokerage office to look around, or start with nothing "
            "and add your own people and records."
        )
        intro.setWordWrap(True)
        self.demo_button = QPushButton("Fill with &demo data (brokerage office)")
        self.demo_button.setDefault(True)
        self.demo_button.clicked.connect(lambda: self._choose(FirstRunChoice.DEMO))
        self.empty_button = QPushButton("Start with an &empty database")
        self.empty_button.clicked.connect(lambda: self._choose(FirstRunChoice.EMPTY))
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addSpacing(8)
        layout.addWidget(self.demo_button)
        layout.addWidget(self.empty_button)
        self.setMinimumWidth(420)

    def _choose(self, choice: FirstRunChoice) -> None:
        self.choice = choice
        self.accept()

    @classmethod
    def ask(cls, parent: QWidget | None) -> FirstRunChoice | None:
        dialog = cls(parent)
        dialog.exec()
        choice = dialog.choice
        dialog.deleteLater()
        return choice


def generate_demo(db: Database, progress: ProgressFn, cancelled: CancelledFn) -> DemoSummary:
    """Runs on a worker. The demo generator is imported only when someone asks for it."""
    from app.services.demo import generate

    return generate(db, scale=DEMO_SCALE, progress=progress, cancelled=cancelled)


def offer_first_run(ctx: AppContext, parent: QWidget, db: Database) -> None:
    """Offer demo data or an empty start; a closed dialog leaves the question for next time."""
    where = db.describe()
    if ctx.settings.first_run_answered(where):
        return
    choice = ctx.prompts.choose_first_run(parent)
    if choice is None:
        return
    if choice is FirstRunChoice.EMPTY:
        # Remembered so an office that wants an empty database is not asked at every start.
        # A demo that fails or is cancelled leaves the database empty: asked again next time.
        ctx.settings.remember_first_run_answer(where)
        ctx.events.say("Starting with an empty database: add people on the People page.")
        return
    ctx.ops.run(
        lambda progress, cancelled: generate_demo(db, progress, cancelled),
        label="Filling the database with demo data…",
        progress="dialog",
        on_success=lambda summary: ctx.events.say(
            f"Demo data is ready: {summary.total_rows:,} records in {summary.seconds:.1f} s."
        ),
        on_cancelled=lambda: ctx.events.say("Demo data was not added: it was cancelled."),
        on_finished=lambda: ctx.events.changed(events.ALL),
        parent=parent,
    )
