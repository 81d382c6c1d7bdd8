"""My KPIs: a card per KPI assigned (actual, target, achievement %, weight, a sparkline of the
last 6 periods) and the overall score of SPEC §7. A manager, broker or admin picks whose
scorecard to see (the people SPEC §1 lets them read); everyone else sees their own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.gui.context import AppContext
from app.gui.kpis.scorecard_base import ScorecardBase
from app.gui.kpis.scorecard_cards import KpiCard, is_dark, pct_color, plain
from app.gui.pages import page
from app.services.kpis import scorecard_export
from app.services.kpis.scorecards import Scorecard, my_kpis, scorecard_people

if TYPE_CHECKING:
    from app.services.database import Database

COLUMNS = 3


@dataclass(frozen=True)
class Loaded:
    people: list[tuple[int, str]]
    card: Scorecard | None


def read_scorecard(db: Database, user_id: int | None, as_of: dt.date) -> Loaded:
    """Runs on a worker: whose scorecards may be opened, and the one asked for (default the
    acting person's own, else the first person with one)."""
    people = scorecard_people(db)
    if not people:
        return Loaded(people, None)
    known = {pid for pid, _ in people}
    wanted = user_id if user_id in known else people[0][0]
    return Loaded(people, my_kpis(db, wanted, as_of=as_of))


class ScorecardPage(ScorecardBase):
    key = "my_kpis"
    title = "My KPIs"
    chooser_label = "Whose"
    export_name = "scorecard"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.overall = QLabel()
        self.overall.setObjectName("overallScore")
        self.overall_note = QLabel()
        self.overall_note.setProperty("role", "hint")
        self.overall_note.setWordWrap(True)
        score_box = QFrame()
        score_box.setFrameShape(QFrame.Shape.StyledPanel)
        box = QHBoxLayout(score_box)
        caption = QLabel("Overall score")
        caption.setStyleSheet("font-size: 11pt;")
        box.addWidget(caption)
        box.addWidget(self.overall)
        box.addWidget(self.overall_note, 1)

        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.grid.setSpacing(10)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.grid_host)
        self.cards: list[KpiCard] = []

        self.body = QWidget()
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(score_box)
        layout.addWidget(scroll, 1)
        self.stack.addWidget(self.body)

    def read(self, db: Database, choice: Any, as_of: dt.date) -> Loaded:
        return read_scorecard(db, choice, as_of)

    def show_data(self, data: Loaded) -> None:
        card = data.card
        self.set_choices([(pid, name) for pid, name in data.people], card.user_id if card else None)
        for old in self.cards:
            old.setParent(None)
            old.deleteLater()
        self.cards = []
        if card is None:
            self.data = None
            self.say_empty("Nobody in the office has KPIs you may see yet.")
            return
        if not card.cards:
            self.say_empty(
                f"No KPIs are assigned to {card.name} on {card.as_of:%d %b %Y}. A manager "
                "assigns them on the KPI assignments page."
            )
            return
        color = pct_color(card.overall, is_dark(self))
        style = "font-size: 22pt; font-weight: 700;"
        if color is not None:
            style += f" color: {color.name()};"
        self.overall.setStyleSheet(style)
        self.overall.setText("—" if card.overall is None else f"{card.overall:,.2f}")
        measured = sum(1 for c in card.cards if c.latest is not None)
        note = (
            f"{card.name} · {measured} of {len(card.cards)} KPIs measured · weighted by the "
            f"weights, which add up to {plain(card.weights_total)}"
        )
        if card.weights_total != 100:
            note += " (not 100: ask your manager to re-weight)"
        self.overall_note.setText(note)
        for i, c in enumerate(card.cards):
            widget = KpiCard(c)
            self.cards.append(widget)
            self.grid.addWidget(widget, i // COLUMNS, i % COLUMNS)
        self.stack.setCurrentWidget(self.body)

    def write_file(self, kind: str, path: str) -> Callable[[], Any]:
        data: Loaded = self.data
        card = data.card
        assert card is not None
        if kind == "csv":
            return partial(scorecard_export.scorecard_csv, card, path)
        if kind == "xlsx":
            return partial(scorecard_export.scorecard_xlsx, card, path)
        from app.gui.kpis.scorecard_pdf import scorecard_html, write_pdf

        return partial(write_pdf, f"Scorecard: {card.name}", scorecard_html(card), path)

    def _enable(self) -> None:
        super()._enable()
        loaded = self.data
        has_cards = (
            isinstance(loaded, Loaded) and loaded.card is not None and bool(loaded.card.cards)
        )
        self.export_button.setEnabled(has_cards and not self.is_loading())


@page("my_kpis", "My KPIs", order=180, icon="dashboard", tooltip="Your KPIs and overall score")
def build_scorecard_page(ctx: AppContext) -> QWidget:
    return ScorecardPage(ctx)
