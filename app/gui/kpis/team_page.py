"""Team view (managers): the members of a team with their overall scores, how many KPIs each
is below target on or has not been measured on, the team's average, a chart of the scores,
and each KPI's average achievement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.gui.context import AppContext
from app.gui.kpis.scorecard_base import ScorecardBase
from app.gui.kpis.scorecard_cards import is_dark, pct_color
from app.gui.pages import page
from app.services.kpis import scorecard_export
from app.services.kpis.scorecards import TeamView, team_view, viewable_teams

if TYPE_CHECKING:
    from app.services.database import Database

ALL_TEAMS = -1
Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Loaded:
    teams: list[tuple[int, str]]
    view: TeamView | None
    team_id: int


def read_team(db: Database, team_id: int | None, as_of: dt.date) -> Loaded:
    teams = viewable_teams(db)
    if not teams:
        return Loaded(teams, None, ALL_TEAMS)
    known = {tid for tid, _ in teams}
    wanted = team_id if team_id in known else (teams[0][0] if len(teams) == 1 else ALL_TEAMS)
    view = team_view(db, None if wanted == ALL_TEAMS else wanted, as_of=as_of)
    return Loaded(teams, view, wanted)


def _short(name: str) -> str:
    """ "Daniel Reed" → "Daniel R." (first names alone repeat in a team)."""
    first, _, last = name.partition(" ")
    return f"{first} {last[:1]}." if last else first


class RowsModel(QAbstractTableModel):
    """Read-only rows of plain values; numbers sort as numbers."""

    def __init__(self, header: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = list(header)
        self.rows: list[list[Any]] = []
        self.colors: list[Any] = []

    def set_rows(self, rows: list[list[Any]], colors: list[Any] | None = None) -> None:
        self.beginResetModel()
        self.rows = rows
        self.colors = colors or [None] * len(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.header)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None:
                return "—"
            if isinstance(value, Decimal):
                return f"{value:,.2f}"
            return str(value)
        if role == SORT_ROLE:
            if isinstance(value, Decimal):
                return float(value)
            return -1.0 if value is None else value
        if role == Qt.ItemDataRole.TextAlignmentRole and not isinstance(value, str):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 2:
            return self.colors[index.row()]
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.header[section]
        return None


def _table(model: RowsModel, name: str) -> QTableView:
    from PySide6.QtCore import QSortFilterProxyModel

    proxy = QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    view = QTableView()
    view.setObjectName(name)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class TeamPage(ScorecardBase):
    key = "team_view"
    title = "Team view"
    chooser_label = "Team"
    export_name = "team-view"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.average = QLabel()
        self.average.setObjectName("teamAverage")
        self.summary = QLabel()
        self.summary.setProperty("role", "hint")
        self.members_model = RowsModel(
            ("Member", "Team", "Overall score", "KPIs", "Below target", "Not measured"), self
        )
        self.kpi_model = RowsModel(("KPI", "Members measured", "Average achievement %"), self)
        self.members = _table(self.members_model, "teamMembers")
        self.members.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        self.members.doubleClicked.connect(self._open_member)
        self.members.setToolTip("Double-click a member to open their scorecard")
        self.by_kpi = _table(self.kpi_model, "teamByKpi")
        self.chart: Any = None
        self.chart_host = QWidget()
        self.chart_layout = QVBoxLayout(self.chart_host)
        self.chart_layout.setContentsMargins(0, 0, 0, 0)

        top = QHBoxLayout()
        caption = QLabel("Team average")
        caption.setStyleSheet("font-size: 11pt;")
        top.addWidget(caption)
        top.addWidget(self.average)
        top.addWidget(self.summary, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.chart_host)
        right.addWidget(self.by_kpi)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.members)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([640, 520])
        self.body = QWidget()
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.stack.addWidget(self.body)

    def read(self, db: Database, choice: Any, as_of: dt.date) -> Loaded:
        return read_team(db, choice, as_of)

    def show_data(self, data: Loaded) -> None:
        choices: list[tuple[Any, str]] = [(tid, name) for tid, name in data.teams]
        if len(data.teams) > 1:
            choices.insert(0, (ALL_TEAMS, "All my teams"))
        self.set_choices(choices, data.team_id)
        view = data.view
        if view is None:
            self.data = None
            self.say_empty("You manage no team, so there is no team view for you.")
            return
        if not view.members:
            self.say_empty(f"{view.title} has no active members.")
            return
        dark = is_dark(self)
        self.members_model.set_rows(
            [[m.name, m.team, m.overall, m.kpis, m.below_target, m.unmeasured]
             for m in view.members],
            [pct_color(m.overall, dark) for m in view.members],
        )  # fmt: skip
        self.kpi_model.set_rows(
            [[k.kpi, k.members, k.average_achievement] for k in view.by_kpi],
            [pct_color(k.average_achievement, dark) for k in view.by_kpi],
        )
        color = pct_color(view.average, dark)
        style = "font-size: 22pt; font-weight: 700;"
        if color is not None:
            style += f" color: {color.name()};"
        self.average.setStyleSheet(style)
        self.average.setText("—" if view.average is None else f"{view.average:,.2f}")
        scored = sum(1 for m in view.members if m.overall is not None)
        self.summary.setText(
            f"{view.title} · {len(view.members)} members, {scored} with a score · as of "
            f"{view.as_of:%d %b %Y}"
        )
        self._chart(view)
        self.stack.setCurrentWidget(self.body)

    def _chart(self, view: TeamView) -> None:
        import pyqtgraph as pg

        if self.chart is None:
            self.chart = pg.PlotWidget()
            self.chart.setObjectName("teamChart")
            self.chart.setMinimumHeight(180)
            self.chart.setMenuEnabled(False)
            self.chart.setMouseEnabled(x=False, y=False)
            self.chart.hideButtons()
            self.chart_layout.addWidget(self.chart)
        plot = self.chart
        plot.clear()
        members = [m for m in view.members if m.overall is not None]
        members.sort(key=lambda m: m.overall or 0, reverse=True)
        dark = is_dark(self)
        if members:
            xs = list(range(len(members)))
            heights = [float(m.overall or 0) for m in members]
            brushes = [pg.mkBrush(pct_color(m.overall, dark)) for m in members]
            plot.addItem(pg.BarGraphItem(x=xs, height=heights, width=0.7, brushes=brushes))
            plot.addItem(
                pg.InfiniteLine(pos=100, angle=0, pen=pg.mkPen(style=Qt.PenStyle.DashLine))
            )
            axis = plot.getAxis("bottom")
            axis.setTicks([[(i, _short(m.name)) for i, m in enumerate(members)]])
        plot.setLabel("left", "Overall score")
        plot.setProperty("chartTitle", "Members' overall scores (dashed: 100)")
        from app.gui.postclose.portfolio_charts import apply_style

        apply_style(plot, dark)

    def _open_member(self, index: QModelIndex) -> None:
        view = self.data.view if isinstance(self.data, Loaded) else None
        if view is None:
            return
        source = self.members.model().mapToSource(index)  # type: ignore[attr-defined]
        member = view.members[source.row()]
        self.ctx.events.say(f"Open My KPIs and choose {member.name} to see their scorecard.")

    def write_file(self, kind: str, path: str) -> Callable[[], Any]:
        view = self.data.view
        assert view is not None
        if kind == "csv":
            return partial(scorecard_export.team_csv, view, path)
        if kind == "xlsx":
            return partial(scorecard_export.team_xlsx, view, path)
        from app.gui.kpis.scorecard_pdf import team_html, write_pdf

        return partial(write_pdf, f"Team view: {view.title}", team_html(view), path)

    def _enable(self) -> None:
        super()._enable()
        loaded = self.data
        has = isinstance(loaded, Loaded) and loaded.view is not None and bool(loaded.view.members)
        self.export_button.setEnabled(has and not self.is_loading())


@page("team_view", "Team view", order=181, icon="people", tooltip="Your team's KPI scores")
def build_team_page(ctx: AppContext) -> QWidget:
    return TeamPage(ctx)
