"""The Dashboard page, first in the navigation: brokerage overview, Team Business cards, recent
activity and My Business, for a period chosen at the top.

Everything is read in one background task (``app.services.dashboard.load``) when the page is
first shown, when the period or the broker changes, and, while shown, whenever leads,
appointments, clients, listings, escrows, people or the office currency change; a hidden page
only notes that it is stale. A result that arrives after the period changed again is dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPaintEvent, QPalette, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.agent_kpis import reference_time
from app.domain.errors import PerfDeskError
from app.gui import events
from app.gui.context import AppContext
from app.gui.dashboard.business import BusinessSection
from app.gui.dashboard.card_delegate import mix
from app.gui.dashboard.cards import CardText, SortKey, card_texts
from app.gui.dashboard.feed import FeedSection
from app.gui.dashboard.overview import OverviewBar
from app.gui.dashboard.period import DEFAULT, Period, PeriodSelector, today
from app.gui.dashboard.team import TeamSection
from app.gui.pages import page
from app.services import dashboard
from app.services.dashboard import Dashboard, DashboardRequest

if TYPE_CHECKING:
    from app.services.database import Database
    from app.services.schema import SchemaStatus


def read_dashboard(db: Database, request: DashboardRequest) -> tuple[Dashboard, list[CardText]]:
    """The worker's part: the data, and every agent card's texts written out, so that the GUI
    thread only stores them (500 cards on the ``large`` demo: ~10 ms kept off it)."""
    d = dashboard.load(db, request)
    now = reference_time(d.report.as_of, d.now)
    texts = card_texts(d.report.agents, d.currency, now, d.report.period.period_days)
    return d, texts


#: The kinds of data the dashboard shows (events.data_changed).
SHOWN_KINDS = (
    events.LEADS,
    events.APPOINTMENTS,
    events.CLIENTS,
    events.LISTINGS,
    events.ESCROWS,
    events.PEOPLE,
    events.OFFICE,
)

#: The longest a reload on showing waits for the page's first paint.
PAINT_FALLBACK_MS = 100

PERIOD_KEY = "dashboard/period"
FROM_KEY = "dashboard/from"
TO_KEY = "dashboard/to"
SEARCH_KEY = "dashboard/search"
TEAM_KEY = "dashboard/team"
SORT_KEY = "dashboard/sort"
DESCENDING_KEY = "dashboard/descending"
BROKER_KEY = "dashboard/broker"
SPLITTER_KEY = "dashboard/splitter"
SIDE_SPLITTER_KEY = "dashboard/sideSplitter"
#: The right-hand column (My Business, Recent activity): its narrowest and its first width.
SIDE_MIN_WIDTH = 320
SIDE_WIDTH = 390
#: The team filter's value for "All teams" in QSettings (a team may be called anything else).
ALL_TEAMS_SETTING = "\x00all"

_STYLE = """
QFrame[role="panel"] {{
    background: palette(base);
    border: 1px solid {line};
    border-radius: 8px;
}}
QFrame[role="tile"] {{
    background: palette(base);
    border: 1px solid {line};
    border-radius: 8px;
}}
QFrame[role="panel"] QLabel, QFrame[role="tile"] QLabel {{ background: transparent; border: none; }}
QLabel[role="tileCaption"] {{ color: palette(placeholder-text); font-weight: 600; }}
QLabel[role="tileValue"] {{ font-size: 17pt; font-weight: 600; }}
QLabel[role="sectionTitle"] {{ font-size: 12pt; font-weight: 600; }}
QLabel[role="subTitle"] {{ font-weight: 600; }}
QToolButton[segment] {{
    padding: 4px 12px;
    border: 1px solid {control};
    background: palette(button);
    margin-left: -1px;
}}
QToolButton[segment="first"] {{ border-top-left-radius: 5px; border-bottom-left-radius: 5px; }}
QToolButton[segment="last"] {{ border-top-right-radius: 5px; border-bottom-right-radius: 5px; }}
QToolButton[segment]:checked {{
    background: palette(highlight);
    color: palette(highlighted-text);
    border-color: palette(highlight);
}}
QToolButton[segment]:focus {{ border-color: palette(highlight); }}
QScrollArea#businessScroll {{ background: transparent; border: none; }}
QScrollArea#businessScroll > QWidget > QWidget {{ background: transparent; }}
"""


def panel(content: QWidget, name: str, margins: int = 12) -> QFrame:
    frame = QFrame()
    frame.setObjectName(name)
    frame.setProperty("role", "panel")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(margins, margins, margins, margins)
    layout.addWidget(content)
    return frame


def this_week() -> tuple[dt.datetime, dt.datetime]:
    """The current week, Monday to Monday, in this computer's time zone."""
    now = dt.datetime.now().astimezone()
    tz = now.tzinfo or dt.UTC
    return dashboard.week_of(now.date(), tz)


class DashboardPage(QWidget):
    #: After a result has been put on screen (tests and the benchmark wait for it).
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardPage")
        self.ctx = ctx
        self._db: Database | None = None
        self._data: Dashboard | None = None
        self._stale = False
        self._generation = 0
        self._pending: DashboardRequest | None = None
        # A reload asked for on showing waits for the page's first paint (``paintEvent``),
        # or this long when no paint comes (a window that is not exposed).
        self._start_after_paint: Callable[[], None] | None = None
        self._paint_fallback = QTimer(self)
        self._paint_fallback.setSingleShot(True)
        self._paint_fallback.setInterval(PAINT_FALLBACK_MS)
        self._paint_fallback.timeout.connect(self._start_waiting)
        self._broker_email: str | None = None
        self._restoring = True
        self._side_sized = False  # by the person (or restored): not fitted to My Business
        self._main_sized = False  # by the person (or restored): the side keeps SIDE_WIDTH
        self._style_key = ""
        self._apply_style()

        title = QLabel("Dashboard")
        title.setProperty("role", "pageTitle")
        self.period_selector = PeriodSelector()
        self.period_selector.changed.connect(self._period_changed)
        self.period_label = QLabel()
        self.period_label.setObjectName("periodLabel")
        self.period_label.setProperty("role", "hint")
        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(16)
        top.addWidget(self.period_selector)
        top.addSpacing(10)
        top.addWidget(self.period_label, 1)

        self.overview = OverviewBar()
        self.team = TeamSection()
        self.team.filters_changed.connect(self._save_filters)
        self.business = BusinessSection()
        self.business.broker_chosen.connect(self._broker_chosen)
        self.feed = FeedSection()
        self.feed.open_requested.connect(self._open_record)

        scroll = QScrollArea()
        scroll.setObjectName("businessScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.business)
        self.side_splitter = QSplitter(Qt.Orientation.Vertical)
        self.side_splitter.setObjectName("dashboardSide")
        self.side_splitter.setChildrenCollapsible(False)
        self.side_splitter.addWidget(panel(scroll, "businessPanel"))
        self.side_splitter.addWidget(panel(self.feed, "feedPanel", 8))
        self.side_splitter.setMinimumWidth(SIDE_MIN_WIDTH)
        self.side_splitter.setStretchFactor(0, 1)
        self.side_splitter.setStretchFactor(1, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("dashboardSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.team)
        self.splitter.addWidget(self.side_splitter)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.splitterMoved.connect(self._save_splitters)
        self.side_splitter.splitterMoved.connect(self._save_splitters)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.overview)
        layout.addWidget(self.splitter, 1)

        self._restore_settings()
        ctx.database.opened.connect(self._on_opened)
        ctx.database.closed.connect(self._on_closed)
        ctx.database.failed.connect(self._on_closed)
        ctx.events.data_changed.connect(self._on_data_changed)
        self._on_closed()

    def _apply_style(self) -> None:
        """The page's stylesheet, its lines mixed from the palette (light or dark)."""
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        line, control = mix(base, text, 0.16).name(), mix(base, text, 0.3).name()
        if f"{line}{control}" != self._style_key:
            self._style_key = f"{line}{control}"
            self.setStyleSheet(_STYLE.format(line=line, control=control))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_style()

    # -- the database ---------------------------------------------------------------------

    @Slot(object, object)
    def _on_opened(self, db: Database, _status: SchemaStatus) -> None:
        self._db = db
        self._data = None
        self._clear(None)
        self._refresh_when_shown()

    @Slot()
    def _on_closed(self) -> None:
        self._db = None
        self._data = None
        self._pending = None
        self._generation += 1  # a load still running belongs to the old database
        self._clear("Open a database to see the dashboard.")

    @Slot(str)
    def _on_data_changed(self, kind: str) -> None:
        if events.concerns(kind, *SHOWN_KINDS):
            self._refresh_when_shown()

    def _refresh_when_shown(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._start_after_paint is not None:
            QTimer.singleShot(0, self, self._start_waiting)  # once this frame is done

    @Slot()
    def _start_waiting(self) -> None:
        start, self._start_after_paint = self._start_after_paint, None
        self._paint_fallback.stop()
        if start is not None:
            start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            # The page paints what it last showed first; the worker starts after that paint.
            # Started at once, its Python competes for the GIL with the paint's delegates and
            # the window froze 35–65 ms on the ``large`` demo (bench_dashboard's stall).
            self.reload(after_paint=True)

    def request(self) -> DashboardRequest:
        period = self.period_selector.period(today())
        return DashboardRequest(
            as_of=period.as_of,
            period_days=period.days,
            week=this_week(),
            business_email=self._broker_email,
        )

    def reload(self, after_paint: bool = False) -> None:
        """Read everything again in the background (``after_paint``: once the pending paint
        is done; the page says it is updating meanwhile)."""
        db = self._db
        if db is None:
            return
        self._stale = False
        self._generation += 1
        generation = self._generation
        request = self.request()
        self._pending = request
        self._show_period(loading=True)

        def loaded(result: tuple[Dashboard, list[CardText]]) -> None:
            d, texts = result
            if generation == self._generation and d.request == self._pending:
                self._pending = None
                self._show(d, texts)

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self._pending = None
            if isinstance(exc, PerfDeskError):
                self._data = None
                self._clear(str(exc))
                self._show_period()
            else:
                self._show_period()
                self.ctx.ops.present(exc, self)

        def start() -> None:
            if generation == self._generation and self._db is db:
                self.ctx.ops.run(
                    partial(read_dashboard, db, request),
                    label="Reading the dashboard…",
                    on_success=loaded,
                    on_error=failed,
                    parent=self,
                )

        if after_paint:
            self._start_after_paint = start
            self._paint_fallback.start()  # a page that is never painted still loads
        else:
            start()

    def is_loading(self) -> bool:
        return self._pending is not None

    # -- showing --------------------------------------------------------------------------

    def _clear(self, message: str | None) -> None:
        """Nothing to show: ``message`` says why, in the cards' place; None while reading."""
        self.overview.clear()
        self.team.clear(problem=message)
        side = "Reading…" if message is None else ""
        self.feed.set_entries([], problem=side)
        self.business.show_problem(side)
        self._show_period()

    def _show(self, d: Dashboard, texts: list[CardText] | None = None) -> None:
        self._data = d
        self.overview.show_dashboard(d)
        now = reference_time(d.report.as_of, d.now)
        period_days = d.report.period.period_days
        self.team.set_cards(list(d.report.agents), d.currency, now, period_days, texts)
        self.feed.set_entries(d.feed, d.currency, now, problem=d.feed_problem)
        self.business.set_owners(d.owners)
        if d.business is not None:
            self.business.set_business(d.business, d.currency)
        elif d.owners.fixed or not d.owners.choices:
            self.business.show_problem(
                "No broker in this office yet: My Business shows the broker's own leads, "
                "appointments and production."
            )
        else:
            self.business.show_problem("Choose a broker above to see their own business.")
        self._show_period()
        self._fit_side()
        self.loaded.emit()

    def _show_period(self, loading: bool = False) -> None:
        period = self.period_selector.period(today())
        text = period.describe()
        if loading or self._pending is not None:
            text += "  · updating…"
        self.period_label.setText(text)

    @property
    def data(self) -> Dashboard | None:
        return self._data

    # -- choices --------------------------------------------------------------------------

    @Slot(object)
    def _period_changed(self, period: Period) -> None:
        qs = self.ctx.settings.qsettings
        qs.setValue(PERIOD_KEY, period.choice)
        sel = self.period_selector
        qs.setValue(FROM_KEY, sel.from_edit.date().toString("yyyy-MM-dd"))
        qs.setValue(TO_KEY, sel.to_edit.date().toString("yyyy-MM-dd"))
        self._show_period()
        self.reload()

    @Slot(str)
    def _broker_chosen(self, email: str) -> None:
        self._broker_email = email
        self.ctx.settings.qsettings.setValue(BROKER_KEY, email)
        self.reload()

    @Slot()
    def _save_filters(self) -> None:
        if self._restoring:
            return
        qs = self.ctx.settings.qsettings
        qs.setValue(SEARCH_KEY, self.team.search_edit.text().strip())
        team = self.team.team_combo.currentData()
        qs.setValue(TEAM_KEY, ALL_TEAMS_SETTING if team is None else team)
        qs.setValue(SORT_KEY, self.team.sort_key().name)
        qs.setValue(DESCENDING_KEY, "true" if self.team.descending() else "false")

    def _fit_side(self) -> None:
        """My Business as tall as its content, unless that leaves the feed too little room."""
        if self._side_sized:
            return
        total = sum(self.side_splitter.sizes())
        panel_margins = 2 * 12 + 2
        wanted = self.business.sizeHint().height() + panel_margins
        feed_min = 8 * self.fontMetrics().height()
        top = min(wanted, max(total - feed_min, total // 2))
        self.side_splitter.setSizes([top, total - top])

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._main_sized:
            total = sum(self.splitter.sizes()) or self.splitter.width()
            side = min(SIDE_WIDTH, max(total // 2, SIDE_MIN_WIDTH))
            self.splitter.setSizes([total - side, side])

    @Slot()
    def _save_splitters(self) -> None:
        if self.sender() is self.side_splitter:
            self._side_sized = True
        else:
            self._main_sized = True
        qs = self.ctx.settings.qsettings
        qs.setValue(SPLITTER_KEY, self.splitter.saveState())
        qs.setValue(SIDE_SPLITTER_KEY, self.side_splitter.saveState())

    def _restore_settings(self) -> None:
        qs = self.ctx.settings.qsettings

        def text(key: str, default: str = "") -> str:
            value: Any = qs.value(key, default)
            return value if isinstance(value, str) else default

        def date(key: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat(text(key))
            except ValueError:
                return None

        self.period_selector.set_state(text(PERIOD_KEY, DEFAULT), date(FROM_KEY), date(TO_KEY))
        self._broker_email = text(BROKER_KEY) or None
        self.team.search_edit.setText(text(SEARCH_KEY))
        team = text(TEAM_KEY, ALL_TEAMS_SETTING)
        self.team.set_team(None if team == ALL_TEAMS_SETTING else team)
        sort = text(SORT_KEY, SortKey.VOLUME.name)
        key = SortKey[sort] if sort in SortKey.__members__ else SortKey.VOLUME
        self.team.set_sort(key, text(DESCENDING_KEY, "true") != "false")
        for splitter, setting in (
            (self.splitter, SPLITTER_KEY),
            (self.side_splitter, SIDE_SPLITTER_KEY),
        ):
            state = qs.value(setting)
            restored = isinstance(state, QByteArray) and splitter.restoreState(state)
            if splitter is self.side_splitter:
                self._side_sized = restored
            else:
                self._main_sized = restored
        self._restoring = False

    # -- opening a record -----------------------------------------------------------------

    @Slot(str, object)
    def _open_record(self, kind: str, record_id: object) -> None:
        if isinstance(record_id, int):
            self.ctx.events.open_record(kind, record_id)


@page(
    "dashboard",
    "Dashboard",
    order=10,
    icon="dashboard",
    tooltip="The brokerage at a glance: production, every agent's numbers, what happened last",
)
def build_dashboard_page(ctx: AppContext) -> QWidget:
    return DashboardPage(ctx)
