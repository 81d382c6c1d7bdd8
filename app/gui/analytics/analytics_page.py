"""The Analytics page (issue 7): everyone's, a team's or an agent's trends over a range of days,
from the daily performance snapshots (SPEC §10), and the office's own figures beside the
industry benchmarks.

- The top bar: *Show* (everyone the person sees, each team, each agent: grouped, with
  separators; typing a name's first letters picks it), the range (last 30 days, the default;
  last 90 days; this quarter; year to date; custom, with From and To) and *Refresh* (F5). The
  choice and the range are kept in QSettings.
- Cards: the weighted pipeline at the end day, the closed-won volume won within the range
  (and how many deals), the conversion rate, the average cycle days, and the commission
  confirmed beside the disputed.
- Charts (pyqtgraph, ``analytics_charts``; imported when first shown): the trends, a day
  without snapshots a gap in the line; a donut of the deals by stage on the end day.
- The benchmark table: each metric with ours, the industry average, the top quartile and the
  internal average, and whether ours is better or worse (its source and effective date in
  the tooltip).
- A range without snapshots says "No snapshots for these days yet." in place of the cards and
  charts; ``set_empty_action(widget)`` puts a widget (the job's button) there.

A preset range ends on the day it is read (a window left open overnight moves on).
Everything is read in the background (``BackgroundRead``; a newer read makes an older one's
result be ignored), again when the snapshots, benchmarks, deals, commissions or people change
while the page is shown (or when it is shown next). "Today" is the UTC date, as on the
command line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Slot,
)
from PySide6.QtGui import QAction, QColor, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.benchmarks import COHORT_LABELS
from app.domain.enums import BenchmarkCohort, DealStage
from app.domain.errors import PerfDeskError
from app.domain.money import format_money, quantize
from app.domain.pipeline import STAGE_LABELS
from app.gui import events, theme
from app.gui.analytics.date_range import DateRange
from app.gui.analytics.donut import DonutChart, is_dark
from app.gui.context import AppContext
from app.gui.dashboard.format import plural, short_money
from app.gui.dashboard.overview import StatTile
from app.gui.errors import describe_error
from app.gui.page_loading import BackgroundPage, BackgroundRead
from app.gui.pages import page
from app.gui.table_page import make_empty_label
from app.services.analytics.overview import (
    AVG_CYCLE_DAYS,
    BETTER,
    COMMISSION_RATE,
    CONVERSION_RATE,
    LEVEL,
    MAX_RANGE_DAYS,
    WORSE,
    AnalyticsChoices,
    AnalyticsOverview,
    AnalyticsScope,
    BenchmarkComparison,
    BenchmarkFigure,
    analytics_choices,
    analytics_overview,
)
from app.services.records import Acting

if TYPE_CHECKING:
    from app.gui.analytics.analytics_charts import AnalyticsCharts
    from app.services.database import Database

#: ``AppEvents.data_changed`` kinds: the snapshot job's and the benchmark imports'.
SNAPSHOTS = "snapshots"
BENCHMARKS = "benchmarks"
OVERVIEW_KINDS = (
    SNAPSHOTS, BENCHMARKS, events.DEALS, events.COMMISSIONS, events.PEOPLE, events.OFFICE,
)  # fmt: skip
CHOICE_KINDS = (events.PEOPLE,)

SHOW_KEY = "analytics/show"
RANGE_KEY = "analytics/range"
FROM_KEY = "analytics/from"
TO_KEY = "analytics/to"
SPLITTER_KEY = "analytics/splitter"
CHANGE_DELAY_MS = 250  # a burst of changes elsewhere is read once

NO_SNAPSHOTS = "No snapshots for these days yet."
NO_BENCHMARKS = "No benchmarks for these metrics — import them on the Benchmarks page."
EVERYONE = "all"
EVERYONE_LABEL = "Everyone I see"

# -- the range --------------------------------------------------------------------------------

LAST_30, LAST_90, THIS_QUARTER, YEAR_TO_DATE, CUSTOM = (
    "last_30", "last_90", "this_quarter", "ytd", "custom",
)  # fmt: skip
PRESETS: tuple[tuple[str, str], ...] = (
    (LAST_30, "Last 30 days"),
    (LAST_90, "Last 90 days"),
    (THIS_QUARTER, "This quarter"),
    (YEAR_TO_DATE, "Year to date"),
    (CUSTOM, "Custom"),
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The days a preset names, ending today (None: custom)."""
    if preset == LAST_30:
        return today - dt.timedelta(days=29), today
    if preset == LAST_90:
        return today - dt.timedelta(days=89), today
    if preset == THIS_QUARTER:
        return dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if preset == YEAR_TO_DATE:
        return dt.date(today.year, 1, 1), today
    return None


def range_problem(start: dt.date, end: dt.date) -> str | None:
    if end < start:
        return "The first day is after the last: choose the range again."
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        return f"A range covers at most {MAX_RANGE_DAYS} days; this one covers {days:,}."
    return None


def short_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


# -- the scope --------------------------------------------------------------------------------


def scope_key(scope: AnalyticsScope) -> str:
    if scope.agent_id is not None:
        return f"agent:{scope.agent_id}"
    if scope.team_id is not None:
        return f"team:{scope.team_id}"
    return EVERYONE


def parse_scope_key(key: object) -> AnalyticsScope:
    text = str(key or "")
    kind, _, number = text.partition(":")
    if number.isdigit():
        if kind == "agent":
            return AnalyticsScope(agent_id=int(number))
        if kind == "team":
            return AnalyticsScope(team_id=int(number))
    return AnalyticsScope()


# -- how figures are written ------------------------------------------------------------------


def pct_text(value: Decimal | None, places: int = 2) -> str:
    return "—" if value is None else f"{quantize(value, places)}%"


def days_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{quantize(value, 1)} days"


def metric_text(metric_key: str, value: Decimal | None) -> str:
    """A metric's value as shown: rates in %, the commission rate (a fraction) too."""
    if value is None:
        return "—"
    if metric_key == CONVERSION_RATE:
        return pct_text(value)
    if metric_key == AVG_CYCLE_DAYS:
        return days_text(value)
    if metric_key == COMMISSION_RATE:
        return pct_text(value * 100)
    return f"{value.normalize():f}"


def figure_text(metric_key: str, figure: BenchmarkFigure | None) -> str:
    if figure is None:
        return ""
    if figure.value is None:
        return figure.text or ""
    return metric_text(metric_key, figure.value)


def dimension_text(value: str | None) -> str:
    return "All" if value is None else value.replace("_", " ").capitalize()


VERDICT_TEXT = {BETTER: "▲ Better", WORSE: "▼ Worse", LEVEL: "= Level"}


# -- the benchmark table ----------------------------------------------------------------------

(
    COL_METRIC, COL_ASSET, COL_DEAL, COL_OURS, COL_INDUSTRY, COL_TOP, COL_INTERNAL, COL_VERDICT,
) = range(8)  # fmt: skip
HEADERS = (
    "Metric", "Asset", "Deal type", "Ours", "Industry average", "Top quartile",
    "Internal average", "Ours vs industry",
)  # fmt: skip
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the BenchmarkComparison
VERDICT_ROLE = Qt.ItemDataRole.UserRole + 2  # "better" | "worse" | "level" | None
_COHORT_COLUMNS = {
    COL_INDUSTRY: BenchmarkCohort.INDUSTRY_AVG.value,
    COL_TOP: BenchmarkCohort.TOP_QUARTILE.value,
    COL_INTERNAL: BenchmarkCohort.INTERNAL_AVG.value,
}
Index = QModelIndex | QPersistentModelIndex


def _cohort_figure(row: BenchmarkComparison, cohort: str) -> BenchmarkFigure | None:
    if cohort == BenchmarkCohort.INDUSTRY_AVG.value:
        return row.industry_avg
    if cohort == BenchmarkCohort.TOP_QUARTILE.value:
        return row.top_quartile
    return row.internal_avg


def _source_text(cohort: str, figure: BenchmarkFigure) -> str:
    when = short_date(figure.effective_date)
    return f"{COHORT_LABELS.get(cohort, cohort)} — source: {figure.source}, effective {when}"


def verdict_tooltip(row: BenchmarkComparison) -> str:
    direction = "higher" if row.higher_is_better else "lower"
    industry = row.industry_avg
    if industry is None or industry.value is None:
        return "No industry average applies to this row: nothing to compare ours with."
    if row.ours is None:
        return "Nothing in this range to compute ours from: nothing to compare."
    said = {BETTER: "Better than", WORSE: "Worse than", LEVEL: "Level with"}.get(
        row.verdict or "", "Compared with"
    )
    figure = metric_text(row.metric_key, industry.value)
    return (
        f"{said} the industry average of {figure} ({industry.source}, effective "
        f"{short_date(industry.effective_date)}); for this metric {direction} is better."
    )


def ours_tooltip(row: BenchmarkComparison, start: dt.date, end: dt.date) -> str:
    span = f"{short_date(start)} to {short_date(end)}"
    if row.metric_key == CONVERSION_RATE:
        what = f"{plural(row.basis, 'deal')} closed (won or lost)"
    elif row.metric_key == AVG_CYCLE_DAYS:
        what = f"{plural(row.basis, 'deal')} won, from creation to close"
    else:
        what = (
            f"{plural(row.basis, 'commission record')} confirmed, invoiced or paid on the deals won"
        )
    return f"Ours: {what} between {span}"


class BenchmarkModel(QAbstractTableModel):
    """One row per (metric, asset type, deal type) that has a benchmark."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[BenchmarkComparison] = []
        self._span = (dt.date.today(), dt.date.today())

    def set_rows(self, rows: Sequence[BenchmarkComparison], start: dt.date, end: dt.date) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._span = (start, end)
        self.endResetModel()

    def rows(self) -> list[BenchmarkComparison]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and COL_OURS <= section <= COL_INTERNAL:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        column = index.column()
        if not 0 <= column < len(HEADERS):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and COL_OURS <= column <= COL_INTERNAL:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column == COL_VERDICT:
            return verdict_color(row.verdict)
        if role == ROW_ROLE:
            return row
        if role == VERDICT_ROLE:
            return row.verdict
        return None

    def _text(self, row: BenchmarkComparison, column: int) -> str:
        if column == COL_METRIC:
            return row.metric
        if column == COL_ASSET:
            return dimension_text(row.asset_type)
        if column == COL_DEAL:
            return dimension_text(row.deal_type)
        if column == COL_OURS:
            return metric_text(row.metric_key, row.ours)
        if column in _COHORT_COLUMNS:
            return figure_text(row.metric_key, _cohort_figure(row, _COHORT_COLUMNS[column]))
        return VERDICT_TEXT.get(row.verdict or "", "")

    def _tooltip(self, row: BenchmarkComparison, column: int) -> str | None:
        if column in _COHORT_COLUMNS:
            cohort = _COHORT_COLUMNS[column]
            figure = _cohort_figure(row, cohort)
            return None if figure is None else _source_text(cohort, figure)
        if column == COL_OURS:
            return ours_tooltip(row, *self._span)
        if column == COL_VERDICT:
            return verdict_tooltip(row)
        if column == COL_METRIC:
            direction = "Higher" if row.higher_is_better else "Lower"
            return f"{row.metric}: {direction.lower()} is better"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


def verdict_color(verdict: str | None) -> QColor | None:
    if verdict not in (BETTER, WORSE):
        return None
    palette = theme.colors(is_dark(QApplication.palette()))
    return QColor(palette["ok"] if verdict == BETTER else palette["error"])


# -- the page ---------------------------------------------------------------------------------


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: 600; font-size: 11pt;")
    return label


class FigureCards(QWidget):
    """The end day's figures as tiles."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("analyticsCards")
        self.weighted = StatTile("weighted", "Weighted pipeline")
        self.volume = StatTile("volume", "Closed-won volume")
        self.conversion = StatTile("conversion", "Conversion rate")
        self.cycle = StatTile("cycle", "Average cycle")
        self.commission = StatTile("commission", "Commission confirmed")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        for tile in self.tiles():
            layout.addWidget(tile)

    def tiles(self) -> tuple[StatTile, ...]:
        return (self.weighted, self.volume, self.conversion, self.cycle, self.commission)

    def clear(self) -> None:
        for tile in self.tiles():
            tile.clear()

    def show_overview(self, o: AnalyticsOverview) -> None:
        t = o.totals
        if t is None:
            self.clear()
            return
        cur = o.currency
        as_of = short_date(t.day)
        self.weighted.set(
            short_money(t.weighted_pipeline, cur),
            f"{plural(t.deals_open, 'open deal')} · gross {short_money(t.gross_pipeline, cur)}",
            f"{format_money(t.weighted_pipeline, cur)}: Σ value × confidence of the deals open "
            f"at the end of {as_of} (gross {format_money(t.gross_pipeline, cur)})",
        )
        self.volume.set(
            short_money(t.volume_in_range, cur),
            f"{plural(t.won_in_range, 'deal')} won in the range",
            f"{format_money(t.volume_in_range, cur)}: the estimated value of the deals won in "
            f"the range up to the end of {as_of}, each agent counted from their snapshot of the "
            "day before the range (or their first in it)",
        )
        self.conversion.set(
            pct_text(t.conversion_rate),
            f"{t.deals_closed_won:,} won, {t.deals_closed_lost:,} lost",
            "Deals won ÷ deals closed (won or lost), every deal closed by the end of "
            f"{as_of}; none when none has closed",
        )
        self.cycle.set(
            days_text(t.avg_cycle_days),
            f"over {plural(t.deals_closed_won, 'won deal')}",
            "Mean days from a won deal's creation to its close, over every deal won by the "
            f"end of {as_of}",
        )
        self.commission.set(
            short_money(t.confirmed_commission, cur),
            f"{short_money(t.disputed_commission, cur)} disputed",
            f"Confirmed, invoiced or paid: {format_money(t.confirmed_commission, cur)}; "
            f"disputed: {format_money(t.disputed_commission, cur)}; pending: "
            f"{format_money(o.pending_commission, cur)} (end of {as_of})",
        )


class AnalyticsPage(BackgroundPage):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("analyticsPage")
        #: Whose rules apply: None is the login (shared) or the one local person.
        self.acting: Acting = None
        #: Today, for the range presets (tests pin it).
        self.today: Callable[[], dt.date] = utc_today
        self.choices: AnalyticsChoices | None = None
        self.overview: AnalyticsOverview | None = None
        self.charts: AnalyticsCharts | None = None
        self._choices_for: Database | None = None
        self._problem: str | None = None
        self._choices_read = BackgroundRead(
            self,
            "Reading whom you can see…",
            self._choices_task,
            self._set_choices,
            kinds=CHOICE_KINDS,
            refused=self._refused,
            failed=self._failed,
        )
        self._overview_read = BackgroundRead(
            self,
            "Reading the analytics…",
            self._overview_task,
            self._set_overview,
            kinds=OVERVIEW_KINDS,
            refused=self._refused,
            failed=self._failed,
            delay_ms=CHANGE_DELAY_MS,
        )

        # -- the top bar ------------------------------------------------------------------
        heading = QLabel("Analytics")
        heading.setProperty("role", "pageTitle")
        self.show_combo = QComboBox()
        self.show_combo.setObjectName("showCombo")
        self.show_combo.setToolTip(
            "Whose figures: everyone you see, a team or an agent (type a name's first letters)"
        )
        self.show_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.show_combo.setMinimumContentsLength(16)
        self.show_combo.setMaxVisibleItems(20)
        self.show_combo.addItem(EVERYONE_LABEL, EVERYONE)
        self._range = DateRange(
            self,
            ctx.settings.qsettings,
            presets=PRESETS,
            preset_range=preset_range,
            default=LAST_30,
            custom=CUSTOM,
            keys=(RANGE_KEY, FROM_KEY, TO_KEY),
            today=lambda: self.today(),  # looked up each time: tests pin it
            shown=self._show_range_label,
            changed=self._changed,
            save_while_typing=True,
        )
        self.range_combo = self._range.combo
        self.range_combo.setToolTip("The days the trends cover")
        self.from_edit = self._range.from_edit
        self.from_edit.setToolTip("The first day of the range")
        self.to_edit = self._range.to_edit
        self.to_edit.setToolTip("The last day of the range")
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.setObjectName("refreshButton")
        self.refresh_button.setToolTip("Read the figures again (F5)")
        self.refresh_button.clicked.connect(self.reload)
        # F5 reads again; inside a window whose own Refresh action holds F5 (it says every
        # kind of data changed, this page included), that action answers instead: two
        # shortcuts on one key would cancel each other out.
        self.f5_shortcut = QShortcut(QKeySequence(Qt.Key.Key_F5), self, self.reload)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        for text, field in (
            ("&Show:", self.show_combo),
            ("R&ange:", self.range_combo),
            ("&From", self.from_edit),
            ("&to", self.to_edit),
        ):
            buddy = QLabel(text)
            buddy.setBuddy(field)
            top.addWidget(buddy)
            top.addWidget(field)
        top.addWidget(self.refresh_button)
        self.compute_button = QPushButton("&Compute snapshots…")
        self.compute_button.setObjectName("computeButton")
        self.compute_button.setToolTip(
            "Store every agent's daily snapshot for the last days (the job also runs each "
            "morning); days already stored are computed again"
        )
        self.compute_button.clicked.connect(self.compute_snapshots)
        top.addWidget(self.compute_button)
        self.range_label = QLabel()
        self.range_label.setObjectName("rangeLabel")
        self.range_label.setProperty("role", "hint")
        self.range_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        # -- the snapshot part: cards and charts, or why there are none -------------------
        self.cards = FigureCards()
        self.charts_holder = QWidget()
        self.charts_holder.setObjectName("chartsHolder")
        self._charts_layout = QVBoxLayout(self.charts_holder)
        self._charts_layout.setContentsMargins(0, 0, 0, 0)
        self.donut = DonutChart("deals", "deal")
        self.donut.setObjectName("stageDonut")
        self.donut_caption = _caption("Deals by stage")
        donut_panel = QWidget()
        donut_box = QVBoxLayout(donut_panel)
        donut_box.setContentsMargins(0, 0, 0, 0)
        donut_box.addWidget(self.donut_caption)
        donut_box.addWidget(self.donut, 1)
        charts_row = QHBoxLayout()
        charts_row.setSpacing(10)
        charts_row.addWidget(self.charts_holder, 3)
        charts_row.addWidget(donut_panel, 1)
        self.content = QWidget()
        self.content.setObjectName("analyticsContent")
        content_box = QVBoxLayout(self.content)
        content_box.setContentsMargins(0, 0, 0, 0)
        content_box.addWidget(self.cards)
        content_box.addLayout(charts_row, 1)

        self.empty_state = QFrame()
        self.empty_state.setObjectName("snapshotsEmpty")
        self.empty_label = QLabel(NO_SNAPSHOTS)
        self.empty_label.setObjectName("snapshotsEmptyText")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_hint = QLabel()
        self.empty_hint.setProperty("role", "hint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        self._empty_action_box = QHBoxLayout()
        self._empty_action_box.addStretch(1)
        self._empty_action_box.addStretch(1)
        self.empty_action: QWidget | None = None
        empty_box = QVBoxLayout(self.empty_state)
        empty_box.addStretch(1)
        empty_box.addWidget(self.empty_label)
        empty_box.addWidget(self.empty_hint)
        empty_box.addLayout(self._empty_action_box)
        empty_box.addStretch(1)

        self.message = make_empty_label("analyticsMessage")
        self.snapshot_stack = QStackedWidget()
        self.snapshot_stack.setObjectName("snapshotStack")
        self.snapshot_stack.addWidget(self.content)
        self.snapshot_stack.addWidget(self.empty_state)
        self.snapshot_stack.addWidget(self.message)

        # -- the benchmarks ---------------------------------------------------------------
        self.benchmark_model = BenchmarkModel(self)
        self.benchmark_table = QTableView()
        self.benchmark_table.setObjectName("benchmarkTable")
        self.benchmark_table.setModel(self.benchmark_model)
        self.benchmark_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.benchmark_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.benchmark_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.benchmark_table.setAlternatingRowColors(True)
        self.benchmark_table.setWordWrap(False)
        self.benchmark_table.verticalHeader().hide()
        self.benchmark_table.setAccessibleName("Our figures beside the benchmarks")
        header = self.benchmark_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setResizeContentsPrecision(40)
        self._columns_fitted = False
        self.benchmark_empty = make_empty_label("benchmarksEmpty")
        self.benchmark_stack = QStackedWidget()
        self.benchmark_stack.addWidget(self.benchmark_table)
        self.benchmark_stack.addWidget(self.benchmark_empty)
        self.benchmark_note = QLabel()
        self.benchmark_note.setProperty("role", "hint")
        self.benchmark_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        benchmarks = QWidget()
        benchmarks_box = QVBoxLayout(benchmarks)
        benchmarks_box.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(_caption("Benchmarks"))
        bar.addWidget(self.benchmark_note, 1)
        benchmarks_box.addLayout(bar)
        benchmarks_box.addWidget(self.benchmark_stack, 1)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("analyticsSplitter")
        self.splitter.addWidget(self.snapshot_stack)
        self.splitter.addWidget(benchmarks)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        state = ctx.settings.qsettings.value(SPLITTER_KEY)
        if not (isinstance(state, QByteArray) and self.splitter.restoreState(state)):
            self.splitter.setSizes([520, 200])
        self.splitter.splitterMoved.connect(self._save_splitter)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.range_label)
        layout.addWidget(self.splitter, 1)

        self._range.restore()
        self.show_combo.activated.connect(self._scope_chosen)
        self.database_closed()
        self.watch_database()

    # -- computing snapshots --------------------------------------------------------------

    def compute_snapshots(self) -> None:
        """Compute snapshots…: the snapshots job for the last N days, with progress."""
        from app.gui.analytics.snapshot_action import compute_snapshots

        compute_snapshots(self.ctx, self)

    # -- the empty state ------------------------------------------------------------------

    def set_empty_action(self, widget: QWidget) -> None:
        """Put ``widget`` (e.g. a button that computes the snapshots) in the empty state shown
        when the range has no snapshots; a widget given before is replaced."""
        if self.empty_action is not None and self.empty_action is not widget:
            self._empty_action_box.removeWidget(self.empty_action)
            self.empty_action.deleteLater()
        self.empty_action = widget
        self._empty_action_box.insertWidget(1, widget)
        widget.show()  # a child added to a page already shown stays hidden otherwise

    # -- the range ------------------------------------------------------------------------

    def preset(self) -> str:
        return self._range.preset()

    def span(self) -> tuple[dt.date, dt.date]:
        return self._range.dates()

    def set_preset(self, preset: str) -> None:
        """Choose a preset (as the person would in the combo)."""
        self._range.set_preset(preset)

    def set_dates(self, start: dt.date, end: dt.date) -> None:
        """A custom range (as the person would type it); the page reads at once."""
        self._range.set_dates(start, end)

    def _show_range_label(self) -> None:
        start, end = self.span()
        problem = range_problem(start, end)
        if problem is not None:
            self.range_label.setText(problem)
            self.range_label.setToolTip("")
            return
        days = (end - start).days + 1
        text = f"{short_date(start)} to {short_date(end)} ({plural(days, 'day')})"
        tip = ""
        o = self.overview
        if o is not None and (o.start, o.end) == (start, end):
            text = f"{o.scope_label} · {text}"
            if o.end_day is not None and o.end_day != end:
                text += f" · figures as of {short_date(o.end_day)}"
            if o.missing_days and o.points:
                text += f" · {plural(len(o.missing_days), 'day')} without snapshots"
                shown = ", ".join(short_date(d) for d in o.missing_days[:20])
                more = len(o.missing_days) - 20
                tip = f"No snapshots: {shown}" + (f" and {more:,} more" if more > 0 else "")
        self.range_label.setText(text)
        self.range_label.setToolTip(tip)

    # -- the scope ------------------------------------------------------------------------

    def scope(self) -> AnalyticsScope:
        return parse_scope_key(self.show_combo.currentData())

    def choose(self, key: str) -> bool:
        """Show ``key`` ("all", "team:ID", "agent:ID") as if chosen in the combo."""
        index = self.show_combo.findData(key)
        if index < 0:
            return False
        self.show_combo.setCurrentIndex(index)
        self._scope_chosen(index)
        return True

    @Slot(int)
    def _scope_chosen(self, _index: int) -> None:
        self.ctx.settings.qsettings.setValue(SHOW_KEY, str(self.show_combo.currentData()))
        self._changed()

    def _fill_choices(self, choices: AnalyticsChoices) -> bool:
        """Fill the combo; keep (or restore) the choice. True when the choice changed."""
        before = self.show_combo.currentData()
        wanted = str(self.ctx.settings.qsettings.value(SHOW_KEY, EVERYONE))
        combo = self.show_combo
        combo.blockSignals(True)
        try:
            combo.clear()
            combo.addItem(EVERYONE_LABEL, EVERYONE)
            combo.setItemData(
                0, "Everyone whose deals you see, summed", Qt.ItemDataRole.ToolTipRole
            )
            if choices.teams:
                combo.insertSeparator(combo.count())
                for team in choices.teams:
                    combo.addItem(f"{team.name} (team of {team.members:,})", f"team:{team.id}")
                    combo.setItemData(
                        combo.count() - 1,
                        f"Team {team.name}: its members' figures summed",
                        Qt.ItemDataRole.ToolTipRole,
                    )
            if choices.agents:
                combo.insertSeparator(combo.count())
                for agent in choices.agents:
                    combo.addItem(agent.name, f"agent:{agent.id}")
                    combo.setItemData(combo.count() - 1, agent.email, Qt.ItemDataRole.ToolTipRole)
            index = combo.findData(wanted)
            combo.setCurrentIndex(index if index >= 0 else 0)
        finally:
            combo.blockSignals(False)
        return bool(combo.currentData() != before)

    # -- reading --------------------------------------------------------------------------

    def _choices_task(self, db: Database) -> Callable[[], AnalyticsChoices]:
        if db is not self._choices_for:  # another database: its people are not known yet
            self.choices = None
            self._choices_for = db
        return partial(analytics_choices, db, self.acting)

    def _overview_task(self, db: Database) -> Callable[[], AnalyticsOverview] | None:
        if self.choices is None:  # read once whom the person may choose is known
            return None
        span = preset_range(self.preset(), self.today())
        if span is not None and span != self.span():  # a preset moves on with the days
            self._range.show_dates(*span)
        start, end = self.span()
        problem = range_problem(start, end)
        if problem is not None:
            self._show_message(problem)
            return None
        return partial(analytics_overview, db, self.scope(), start, end, self.acting)

    def _changed(self) -> None:
        self._overview_read.refresh_when_shown()

    def _set_choices(self, choices: AnalyticsChoices) -> None:
        self.choices = choices
        changed = self._fill_choices(choices)
        if changed or self.overview is None:
            self._overview_read.refresh_when_shown()

    def _set_overview(self, overview: AnalyticsOverview) -> None:
        self.overview = overview
        self._problem = None
        self._show()

    def _refused(self, text: str) -> None:
        self._clear(text)

    def _failed(self, exc: BaseException) -> None:
        self._clear(describe_error(exc).text)
        if not isinstance(exc, PerfDeskError):
            self.ctx.ops.present(exc, self)

    def _clear(self, problem: str) -> None:
        self.overview = None
        self._problem = problem
        self._show()

    def database_opened(self) -> None:
        self.overview = None
        self._problem = None
        self._show()

    def database_closed(self) -> None:
        self.overview = None
        self._problem = None
        self._show()

    # -- showing --------------------------------------------------------------------------

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.snapshot_stack.setCurrentWidget(self.message)
        self.benchmark_model.set_rows([], *self.span())
        self.benchmark_empty.setText(text)
        self.benchmark_stack.setCurrentWidget(self.benchmark_empty)
        self.benchmark_note.setText("")

    def _show(self) -> None:
        o = self.overview
        self._show_range_label()
        if o is None:
            self.cards.clear()
            self.donut.set_slices([])
            if self.charts is not None:
                self.charts.set_overview(None)
            if self._problem is not None:
                text = self._problem
            elif self._db is None:
                text = "Open a database to see the analytics."
            else:
                text = "Reading the analytics…"
            self._show_message(text)
            return
        if o.points:
            self.cards.show_overview(o)
            self.donut.set_slices(
                [(s.value, STAGE_LABELS[s], o.deals_by_stage.get(s.value, 0)) for s in DealStage]
            )
            self.donut_caption.setText(
                f"Deals by stage, {short_date(o.end_day)}" if o.end_day else "Deals by stage"
            )
            self.ensure_charts().set_overview(o, o.currency)
            self.snapshot_stack.setCurrentWidget(self.content)
        else:
            self.cards.clear()
            self.donut.set_slices([])
            if self.charts is not None:
                self.charts.set_overview(None)
            self.empty_hint.setText(
                f"{o.scope_label}, {short_date(o.start)} to {short_date(o.end)}: the daily "
                "snapshot job has not stored these days."
            )
            self.snapshot_stack.setCurrentWidget(self.empty_state)
        self.benchmark_model.set_rows(o.comparisons, o.start, o.end)
        self.benchmark_note.setText(
            f"Ours from the deals closed {short_date(o.start)} to {short_date(o.end)}; "
            f"benchmarks in force on {short_date(o.end)}"
        )
        if o.comparisons:
            self.benchmark_stack.setCurrentWidget(self.benchmark_table)
            if not self._columns_fitted:  # once: then as the person left them (42 ms a time)
                self.benchmark_table.resizeColumnsToContents()
                self._columns_fitted = True
        else:
            self.benchmark_empty.setText(NO_BENCHMARKS)
            self.benchmark_stack.setCurrentWidget(self.benchmark_empty)

    def showEvent(self, event: QShowEvent) -> None:
        self.f5_shortcut.setEnabled(not _window_holds_f5(self))
        super().showEvent(event)

    def ensure_charts(self) -> AnalyticsCharts:
        """The trend charts, built (and pyqtgraph imported) on first use."""
        if self.charts is None:
            from app.gui.analytics.analytics_charts import AnalyticsCharts

            self.charts = AnalyticsCharts()
            self._charts_layout.addWidget(self.charts)
        return self.charts

    def _save_splitter(self, *_args: object) -> None:
        self.ctx.settings.qsettings.setValue(SPLITTER_KEY, self.splitter.saveState())


def _window_holds_f5(widget: QWidget) -> bool:
    window = widget.window()
    if window is widget:
        return False
    f5 = QKeySequence(Qt.Key.Key_F5)
    return any(f5 in action.shortcuts() for action in window.findChildren(QAction))


@page("analytics", "Analytics", order=190, icon="dashboard",
      tooltip="Trends, pipeline and benchmarks from the daily snapshots")  # fmt: skip
def build_analytics_page(ctx: AppContext) -> QWidget:
    page = AnalyticsPage(ctx)
    button = QPushButton("Compute snapshots…")
    button.setObjectName("emptyComputeButton")
    button.setToolTip("Store every agent's snapshot for the last days, from the records' history")
    button.clicked.connect(page.compute_snapshots)
    page.set_empty_action(button)
    return page
