"""Team Business: the agent cards in a grid (one QListView, one model, one painting delegate)
with search, a team filter and a sort. Enter or a double-click on a card opens the agent's
full report; the card's menu (the menu key or a right-click) offers "View full report" and
"Message agent"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.agent_kpis import AgentKpis
from app.gui.dashboard.card_delegate import (
    GAP,
    MAX_CARD_WIDTH,
    MIN_CARD_WIDTH,
    AgentCardDelegate,
)
from app.gui.dashboard.cards import (
    AGENT_ROLE,
    AgentCardModel,
    AgentCardProxy,
    CardText,
    SortKey,
)

ALL_TEAMS = None
NO_TEAM = ""


def open_url(url: QUrl) -> bool:
    """The system's handler for ``url`` (the mail client for mailto:). Tests replace it."""
    return bool(QDesktopServices.openUrl(url))


def popup(menu: QMenu, at: QPoint) -> None:
    """Show a card's menu at a global position. Tests replace it (the offscreen platform
    warns that a pop-up can neither be raised nor grab the keyboard)."""
    menu.popup(at)


def mailto(agent: AgentKpis) -> QUrl:
    return QUrl(f"mailto:{agent.email}")


def open_agent_report(section: QWidget, agent: AgentKpis) -> QWidget | None:
    """Open ``agent``'s full report in a window of its own, with the context of the page the
    section is on. Tests replace it. pyqtgraph is imported here, on first use, not at start-up."""
    ctx = getattr(section.window(), "ctx", None)
    widget: QWidget | None = section
    while ctx is None and widget is not None:
        ctx = getattr(widget, "ctx", None)
        widget = widget.parentWidget()
    if ctx is None:
        return None
    from app.gui.agent_report.dialog import AgentReportDialog

    dialog = AgentReportDialog(ctx, agent, section.window())
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


class CardGridView(QListView):
    """Cards left to right, wrapping; as many columns as fit, each card as wide as they allow."""

    def __init__(self, delegate: AgentCardDelegate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.card_delegate = delegate
        self.setItemDelegate(delegate)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.setUniformItemSizes(True)
        self.setSpacing(0)
        self.setDragEnabled(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setMouseTracking(True)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.viewport().setAutoFillBackground(False)
        self._fit_cards()

    def _fit_cards(self) -> None:
        # The scroll bar's width is always set aside, so cards keep their size when it comes
        # and goes (the view's own resizeEvent does not see the viewport narrow).
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        width = max(self.contentsRect().width() - bar - 2, MIN_CARD_WIDTH + GAP)
        columns = max(1, width // (MIN_CARD_WIDTH + GAP))
        card = min(MAX_CARD_WIDTH, width // columns - GAP)
        height = self.card_delegate.card_height(self.font()) + GAP
        size = QSize(card + GAP, height)
        if self.gridSize() != size:
            self.card_delegate.card_width = card
            self.setGridSize(size)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit_cards()
        super().resizeEvent(event)

    def columns(self) -> int:
        grid = self.gridSize().width()
        return max(1, self.viewport().width() // grid) if grid > 0 else 1


class TeamSection(QWidget):
    """The cards and their controls. Filters and sort are remembered by the page."""

    filters_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("teamSection")
        self.model = AgentCardModel(self)
        self.proxy = AgentCardProxy(self)
        self.proxy.setSourceModel(self.model)

        self.title = QLabel("Team Business")
        self.title.setProperty("role", "sectionTitle")
        self.count_label = QLabel()
        self.count_label.setObjectName("teamCount")
        self.count_label.setProperty("role", "hint")

        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("agentSearch")
        self.search_edit.setPlaceholderText("Search agents by name (Ctrl+F)")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(120)
        self.search_edit.textChanged.connect(self._search)
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_search)

        self.team_combo = QComboBox()
        self.team_combo.setObjectName("teamFilter")
        self.team_combo.setToolTip("Show the agents of one team")
        self.team_combo.setAccessibleName("Team")
        self.team_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.team_combo.setMinimumContentsLength(12)
        self.team_combo.addItem("All teams", ALL_TEAMS)
        self.team_combo.currentIndexChanged.connect(self._team_chosen)

        self.sort_combo = QComboBox()
        self.sort_combo.setObjectName("cardSort")
        self.sort_combo.setAccessibleName("Sort by")
        self.sort_combo.setToolTip("Sort the cards")
        for key in SortKey:
            self.sort_combo.addItem(f"Sort: {key.label}", key.name)
        self.sort_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.sort_combo.setMinimumContentsLength(12)
        self.sort_combo.currentIndexChanged.connect(self._sort_changed)
        self.order_button = QToolButton()
        self.order_button.setObjectName("sortOrder")
        self.order_button.setCheckable(True)
        self.order_button.setChecked(True)  # descending: the biggest first
        self.order_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.order_button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.order_button.toggled.connect(self._sort_changed)
        self._show_order()

        self.delegate = AgentCardDelegate(self)
        self.view = CardGridView(self.delegate)
        self.view.setObjectName("agentCards")
        self.view.setAccessibleName("Agent cards")
        self.view.setModel(self.proxy)
        self.view.activated.connect(self._activated)  # Enter, and a double-click
        self.view.customContextMenuRequested.connect(self._context_menu)

        self.empty_label = QLabel()
        self.empty_label.setObjectName("teamEmpty")
        self.empty_label.setProperty("role", "hint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.body = QStackedWidget()
        self.body.addWidget(self.view)
        self.body.addWidget(self.empty_label)

        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.count_label)
        head.addStretch(1)
        bar = QHBoxLayout()
        bar.addWidget(self.search_edit, 1)
        bar.addWidget(self.team_combo)
        bar.addWidget(self.sort_combo)
        bar.addWidget(self.order_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addLayout(bar)
        layout.addWidget(self.body, 1)

        self.menu: QMenu | None = None
        self._problem: str | None = None
        self._loaded = False
        self.update_state()

    # -- data ------------------------------------------------------------------------------

    def set_cards(
        self,
        agents: list[AgentKpis],
        currency: str,
        now: dt.datetime,
        period_days: int,
        texts: Sequence[CardText] | None = None,
    ) -> None:
        """Show ``agents``; ``texts`` are their cards written beforehand (in the worker that
        read them), else they are written here."""
        current = self.current_agent()
        if texts is None:
            self.model.set_agents(agents, currency, now, period_days)
        else:
            self.model.set_cards(agents, texts)
        self._set_teams(self.model.teams(), any(a.team is None for a in agents))
        self._loaded, self._problem = True, None
        if current is not None:
            self.select_user(current.user_id)
        self.update_state()

    def clear(self, problem: str | None = None) -> None:
        self.model.set_agents([])
        self._loaded = problem is not None
        self._problem = problem
        self.update_state()

    def _set_teams(self, teams: list[str], some_without: bool) -> None:
        wanted = self.team_combo.currentData()
        self.team_combo.blockSignals(True)
        try:
            self.team_combo.clear()
            self.team_combo.addItem("All teams", ALL_TEAMS)
            for team in teams:
                self.team_combo.addItem(team, team)
            if some_without:
                self.team_combo.addItem("No team", NO_TEAM)
            found = self.team_combo.findData(wanted) if wanted is not None else 0
            if found < 0 and wanted is not None:
                # A remembered team that has no agents now stays chosen (and shows nobody).
                self.team_combo.addItem(str(wanted) or "No team", wanted)
                found = self.team_combo.count() - 1
            self.team_combo.setCurrentIndex(max(found, 0))
        finally:
            self.team_combo.blockSignals(False)
        self.proxy.set_team(self.team_combo.currentData())

    # -- filters and sort ------------------------------------------------------------------

    def set_team(self, team: str | None) -> None:
        index = self.team_combo.findData(team) if team is not None else 0
        if index < 0:
            self.team_combo.addItem(team or "No team", team)
            index = self.team_combo.count() - 1
        self.team_combo.setCurrentIndex(index)

    def set_sort(self, key: SortKey, descending: bool) -> None:
        self.sort_combo.blockSignals(True)
        self.order_button.blockSignals(True)
        self.sort_combo.setCurrentIndex(max(self.sort_combo.findData(key.name), 0))
        self.order_button.setChecked(descending)
        self.sort_combo.blockSignals(False)
        self.order_button.blockSignals(False)
        self._sort_changed()

    def sort_key(self) -> SortKey:
        name = self.sort_combo.currentData()
        return (
            SortKey[name]
            if isinstance(name, str) and name in SortKey.__members__
            else SortKey.VOLUME
        )

    def descending(self) -> bool:
        return self.order_button.isChecked()

    @Slot()
    def _focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    @Slot(str)
    def _search(self, text: str) -> None:
        self.proxy.set_search(text)
        self.update_state()
        self.filters_changed.emit()

    @Slot(int)
    def _team_chosen(self, _index: int) -> None:
        data = self.team_combo.currentData()
        self.proxy.set_team(data if isinstance(data, str) else None)
        self.update_state()
        self.filters_changed.emit()

    @Slot()
    def _sort_changed(self) -> None:
        self.model.sort_by(self.sort_key(), self.descending())
        self._show_order()
        self.filters_changed.emit()

    def _show_order(self) -> None:
        down = self.order_button.isChecked()
        self.order_button.setArrowType(Qt.ArrowType.DownArrow if down else Qt.ArrowType.UpArrow)
        words = "Highest first" if down else "Lowest first"
        if self.sort_key() is SortKey.NAME:
            words = "Z to A" if down else "A to Z"
        elif self.sort_key() is SortKey.LAST_ACTIVITY:
            words = "Most recent first" if down else "Least recent first"
        self.order_button.setToolTip(f"{words} (click to reverse)")
        self.order_button.setAccessibleName(f"Sort order: {words}")

    # -- what the section says -------------------------------------------------------------

    def update_state(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        if self._problem is not None:
            empty: str | None = self._problem
        elif not self._loaded:
            empty = "Reading the agents…"
        elif total == 0:
            empty = (
                "No agents yet.\nAdd people with the role agent on the People page; "
                "every agent gets a card here, with zeros until they have data."
            )
        elif shown == 0:
            empty = self._no_match_text()
        else:
            empty = None
        if total == 0 or not self._loaded:
            counted = ""
        elif shown == total:
            counted = f"{total:,} agent{'s' if total != 1 else ''}"
        else:
            counted = f"{shown:,} of {total:,} agents"
        self.count_label.setText(counted)
        if empty is None:
            self.body.setCurrentWidget(self.view)
        else:
            self.empty_label.setText(empty)
            self.body.setCurrentWidget(self.empty_label)

    def _no_match_text(self) -> str:
        search = self.search_edit.text().strip()
        team = self.team_combo.currentText()
        if search and self.proxy.team is not None:
            return f"No agents of {team} match “{search}”."
        if search:
            return f"No agents match “{search}”."
        return f"{team} has no agents." if self.proxy.team else "No agents without a team."

    # -- a card ----------------------------------------------------------------------------

    def current_agent(self) -> AgentKpis | None:
        agent = self.view.currentIndex().data(AGENT_ROLE)
        return agent if isinstance(agent, AgentKpis) else None

    def select_user(self, user_id: int) -> bool:
        row = self.model.row_of_user(user_id)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.view.setCurrentIndex(index)
        return True

    def card_menu(self, index: QModelIndex) -> QMenu | None:
        """The card's menu: what can be done with one agent."""
        agent = index.data(AGENT_ROLE)
        if not isinstance(agent, AgentKpis):
            return None
        menu = QMenu(self)
        menu.setObjectName("cardMenu")
        report = QAction("&View full report…", menu)
        report.setObjectName("viewReport")
        report.setStatusTip(f"{agent.name}'s figures by month, with charts and exports")
        report.triggered.connect(lambda _checked=False, a=agent: self.view_report(a))
        menu.addAction(report)
        menu.setDefaultAction(report)
        message = QAction(f"&Message {agent.name}…", menu)
        message.setObjectName("messageAgent")
        message.setStatusTip(f"Write to {agent.email} in your mail program")
        message.triggered.connect(lambda _checked=False, a=agent: self.message(a))
        menu.addAction(message)
        return menu

    def message(self, agent: AgentKpis) -> bool:
        return open_url(mailto(agent))

    def view_report(self, agent: AgentKpis) -> QWidget | None:
        return open_agent_report(self, agent)

    def _popup(self, index: QModelIndex, pos: QPoint) -> None:
        if self.menu is not None:
            self.menu.close()
            self.menu.deleteLater()
        self.menu = self.card_menu(index)
        if self.menu is not None:
            popup(self.menu, self.view.viewport().mapToGlobal(pos))

    @Slot(QModelIndex)
    def _activated(self, index: QModelIndex) -> None:
        agent = index.data(AGENT_ROLE)
        if isinstance(agent, AgentKpis):
            self.view_report(agent)

    @Slot(QPoint)
    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():  # the menu key: the current card
            index = self.view.currentIndex()
            if not index.isValid():
                return
            pos = self.view.visualRect(index).center()
        self.view.setCurrentIndex(index)
        self._popup(index, pos)
