"""The Analytics page (issue 7): the benchmark model through qtmodeltester; the donut's slices
and hit-testing; date labels and range presets; and over a real SQLite office (broker Bob with
agents Al and Bea in team North, managed by Mia, and Cy in team South; snapshots inserted as
the job would write them, 10–14 March 2026 without the 12th) the figures for everyone, a team
and an agent, the gap in the lines, the stage donut, the empty state with the lead's button,
the benchmark rows that apply, refreshing on a change and on F5, what an agent may choose, the
choice and range kept for the next time, and the window still fitting a 1280-pixel screen."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton

from app.db.models import AgentPerformanceSnapshot, Benchmark, Deal, Team, User
from app.gui.analytics.analytics_page import (
    COL_ASSET,
    COL_DEAL,
    COL_INDUSTRY,
    COL_INTERNAL,
    COL_METRIC,
    COL_OURS,
    COL_TOP,
    COL_VERDICT,
    CUSTOM,
    LAST_30,
    LAST_90,
    NO_BENCHMARKS,
    NO_SNAPSHOTS,
    THIS_QUARTER,
    VERDICT_ROLE,
    YEAR_TO_DATE,
    AnalyticsPage,
    BenchmarkModel,
    metric_text,
    parse_scope_key,
    preset_range,
    scope_key,
)
from app.gui.analytics.donut import DARK_COLORS, LIGHT_COLORS, DonutChart
from app.gui.context import AppContext
from app.gui.pages import PAGES, load_builtin_pages
from app.gui.targets import ExplicitUrl
from app.services.analytics.overview import (
    AnalyticsScope,
    BenchmarkComparison,
    BenchmarkFigure,
)
from app.services.database import open_database
from app.services.users import add_user
from tests.gui.conftest import FakePrompts, WindowFactory, wait_settled

BOB, MIA = "bob@office.example", "mia@office.example"
AL, BEA, CY = "al@office.example", "bea@office.example", "cy@office.example"
D = dt.date
TODAY = D(2026, 3, 14)
START = D(2026, 3, 10)
_serial = itertools.count(1)

# -- the models and pieces ----------------------------------------------------------------------

NAR = BenchmarkFigure(Decimal("42.5"), None, "NAR 2025", D(2026, 1, 1))
COMPARISONS = (
    BenchmarkComparison("conversion_rate", "Conversion rate", None, None, Decimal("44.44"), 9,
                        True, NAR, BenchmarkFigure(Decimal(58), None, "NAR 2025", D(2026, 1, 1)),
                        BenchmarkFigure(Decimal(51), None, "Office", D(2025, 6, 1)), "better"),
    BenchmarkComparison("avg_cycle_days", "Average cycle days", "residential", "buy_side",
                        Decimal("95.0"), 3, False,
                        BenchmarkFigure(Decimal(92), None, "CoStar", D(2025, 7, 1)), None, None,
                        "worse"),
    BenchmarkComparison("commission_rate", "Commission rate", "commercial", None, None, 0, True,
                        BenchmarkFigure(Decimal("0.03"), None, "Survey", D(2025, 1, 1)), None,
                        None, None),
)  # fmt: skip


def test_the_benchmark_model_passes_qtmodeltester(qtmodeltester) -> None:
    model = BenchmarkModel()
    model.set_rows(COMPARISONS, START, TODAY)
    qtmodeltester.check(model)
    model.set_rows((), START, TODAY)
    qtmodeltester.check(model)


def test_the_benchmark_model_says_values_markers_and_sources() -> None:
    model = BenchmarkModel()
    model.set_rows(COMPARISONS, START, TODAY)

    def cells(row: int, role: Any = Qt.ItemDataRole.DisplayRole) -> list[Any]:
        return [model.index(row, c).data(role) for c in range(model.columnCount())]

    assert cells(0) == [
        "Conversion rate", "All", "All", "44.44%", "42.50%", "58.00%", "51.00%", "▲ Better",
    ]  # fmt: skip
    assert cells(1) == [
        "Average cycle days", "Residential", "Buy side", "95.0 days", "92.0 days", "", "",
        "▼ Worse",
    ]  # fmt: skip
    assert cells(2)[COL_OURS] == "—" and cells(2)[COL_INDUSTRY] == "3.00%"
    assert cells(2)[COL_VERDICT] == ""
    assert model.index(0, COL_INDUSTRY).data(Qt.ItemDataRole.ToolTipRole) == (
        "Industry average — source: NAR 2025, effective 1 Jan 2026"
    )
    assert model.index(0, COL_INTERNAL).data(Qt.ItemDataRole.ToolTipRole) == (
        "Internal average — source: Office, effective 1 Jun 2025"
    )
    assert model.index(0, COL_TOP).data(Qt.ItemDataRole.ToolTipRole).startswith("Top quartile")
    assert model.index(1, COL_VERDICT).data(Qt.ItemDataRole.ToolTipRole) == (
        "Worse than the industry average of 92.0 days (CoStar, effective 1 Jul 2025); for this "
        "metric lower is better."
    )
    assert "Nothing in this range" in model.index(2, COL_VERDICT).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, COL_OURS).data(Qt.ItemDataRole.ToolTipRole) == (
        "Ours: 9 deals closed (won or lost) between 10 Mar 2026 to 14 Mar 2026"
    )
    better = model.index(0, COL_VERDICT).data(Qt.ItemDataRole.ForegroundRole)
    worse = model.index(1, COL_VERDICT).data(Qt.ItemDataRole.ForegroundRole)
    assert better is not None and worse is not None and better != worse
    assert model.index(2, COL_VERDICT).data(Qt.ItemDataRole.ForegroundRole) is None
    assert [model.index(r, 0).data(VERDICT_ROLE) for r in range(3)] == ["better", "worse", None]
    assert model.headerData(COL_ASSET, Qt.Orientation.Horizontal) == "Asset"
    assert model.headerData(COL_DEAL, Qt.Orientation.Horizontal) == "Deal type"
    assert model.headerData(COL_METRIC, Qt.Orientation.Horizontal) == "Metric"
    assert metric_text("commission_rate", Decimal("0.0255")) == "2.55%"
    assert metric_text("lead_conversion_pct", Decimal("2.40")) == "2.4"


def test_the_donut_has_a_slice_per_counted_stage_and_finds_it_under_the_mouse(qtbot) -> None:
    donut = DonutChart("deals", "deal")
    qtbot.addWidget(donut)
    donut.resize(420, 220)
    donut.set_slices([("a", "Alpha", 3), ("b", "Beta", 0), ("c", "Gamma", 1)])
    assert [(s.key, s.count) for s in donut.slices()] == [("a", 3), ("c", 1)]
    assert donut.total == 4
    assert donut.accessibleName() == "4 deals: Alpha 3; Gamma 1"
    ring = donut._ring()
    centre, radius = ring.center(), ring.width() / 2
    # slices run clockwise from 12 o'clock: Alpha the first three quarters, Gamma the last
    right = QPoint(round(centre.x() + radius * 0.8), round(centre.y()))
    bottom = QPoint(round(centre.x()), round(centre.y() + radius * 0.8))
    top_left = QPoint(round(centre.x() - radius * 0.5), round(centre.y() - radius * 0.5))
    hit_right, hit_bottom, hit_top_left = (
        donut.slice_at(right), donut.slice_at(bottom), donut.slice_at(top_left),
    )  # fmt: skip
    assert hit_right is not None and hit_right.key == "a"
    assert hit_bottom is not None and hit_bottom.key == "a"
    assert hit_top_left is not None and hit_top_left.key == "c"
    assert donut.slice_at(centre.toPoint()) is None  # the hole
    assert donut.slice_text(hit_top_left) == "Gamma: 1 deal (25.0%)"
    assert donut.color_of(donut.slices()[0]) != donut.color_of(donut.slices()[1])
    donut.grab()
    donut.set_slices([])
    assert donut.slices() == [] and donut.accessibleName() == "No deals"
    assert donut.slice_at(centre.toPoint()) is None
    donut.grab()


def test_the_donut_and_the_charts_follow_a_dark_palette(qtbot, qapp) -> None:
    from app.gui.analytics.analytics_charts import STYLES, AnalyticsCharts
    from app.gui.theme import dark_palette

    donut = DonutChart("deals", "deal")
    charts = AnalyticsCharts()
    qtbot.addWidget(donut)
    qtbot.addWidget(charts)
    donut.set_slices([("a", "Alpha", 1)])
    assert donut.colors() == LIGHT_COLORS and not charts.dark
    light = qapp.palette()
    try:
        qapp.setPalette(dark_palette())
        qtbot.waitUntil(lambda: charts.dark)
        assert donut.colors() == DARK_COLORS
        pen = charts.weighted_line.opts["pen"]
        assert pen.color().name() == STYLES[True]["weighted"]
        donut.grab()
    finally:
        qapp.setPalette(light)
    qtbot.waitUntil(lambda: not charts.dark)
    assert donut.colors() == LIGHT_COLORS


def test_date_labels_are_dates_and_presets_end_today() -> None:
    from app.gui.analytics.analytics_charts import date_ticks

    assert date_ticks(D(2026, 3, 10), 5) == [
        (0.0, "10 Mar"), (1.0, "11 Mar"), (2.0, "12 Mar"), (3.0, "13 Mar"), (4.0, "14 Mar"),
    ]  # fmt: skip
    month = date_ticks(D(2026, 2, 13), 30)
    assert month and all(len(t[1].split()) == 2 for t in month) and len(month) <= 8
    assert month[0][1] == "16 Feb"  # Mondays
    year = date_ticks(D(2025, 3, 15), 366)
    assert len(year) <= 8 and year[0][1] in ("Apr 25", "Jul 25", "May 25")
    assert preset_range(LAST_30, TODAY) == (D(2026, 2, 13), TODAY)
    assert preset_range(LAST_90, TODAY) == (D(2025, 12, 15), TODAY)
    assert preset_range(THIS_QUARTER, D(2026, 5, 20)) == (D(2026, 4, 1), D(2026, 5, 20))
    assert preset_range(YEAR_TO_DATE, TODAY) == (D(2026, 1, 1), TODAY)
    assert preset_range(CUSTOM, TODAY) is None
    for scope in (AnalyticsScope(), AnalyticsScope(agent_id=4), AnalyticsScope(team_id=2)):
        assert parse_scope_key(scope_key(scope)) == scope
    assert parse_scope_key("team:x") == AnalyticsScope()


# -- the page over a real office ----------------------------------------------------------------


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


def _stages(**counts: int) -> dict[str, int]:
    names = (
        "lead_captured", "qualification", "needs_analysis", "proposal", "negotiation",
        "agreement", "due_diligence", "awaiting_closure", "closed_won", "closed_lost",
    )  # fmt: skip
    return {n: counts.get(n, 0) for n in names}


# (email, day, weighted, won, lost, volume, cycle days, confirmed, disputed, stages)
SNAPSHOTS = (
    (AL, D(2026, 3, 9), "90000", 1, 0, "100000", 10, "1000", "0", {}),
    (AL, D(2026, 3, 10), "100000", 1, 1, "100000", 10, "1000", "0", {}),
    (AL, D(2026, 3, 11), "110000", 2, 1, "250000", 30, "2000", "0", {}),
    (AL, D(2026, 3, 13), "115000", 2, 1, "250000", 30, "2000", "500", {}),
    (AL, D(2026, 3, 14), "120000", 3, 1, "400000", 45, "3000", "500",
     {"proposal": 3, "negotiation": 1, "closed_won": 3, "closed_lost": 1}),
    (BEA, D(2026, 3, 9), "40000", 0, 2, "0", 0, "0", "0", {}),
    (BEA, D(2026, 3, 10), "50000", 0, 2, "0", 0, "0", "0", {}),
    (BEA, D(2026, 3, 11), "50000", 0, 2, "0", 0, "0", "0", {}),
    (BEA, D(2026, 3, 13), "60000", 1, 2, "80000", 15, "800", "0", {}),
    (BEA, D(2026, 3, 14), "80000", 1, 3, "80000", 15, "800", "200",
     {"lead_captured": 2, "proposal": 1, "closed_won": 1, "closed_lost": 3}),
    (CY, D(2026, 3, 14), "1000000", 4, 0, "2000000", 100, "20000", "0",
     {"agreement": 5, "closed_won": 4}),
)  # fmt: skip


@pytest.fixture
def office(prepared_db_path: Path) -> Path:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, MIA, "manager", "Mia", "Manager")
        add_user(db, BOB, "broker", "Bob", "Broker")
        add_user(db, AL, "agent", "Al", "Agent", team="North", broker_email=BOB)
        add_user(db, BEA, "agent", "Bea", "Baker", team="North", broker_email=BOB)
        add_user(db, CY, "agent", "Cy", "Cole", team="South", broker_email=BOB)
        with db.session() as s:
            ids = {str(e): int(i) for e, i in s.execute(sa.select(User.email, User.id))}
            s.execute(sa.update(Team).where(Team.name == "North").values(manager_id=ids[MIA]))
            for email, day, w, won, lost, vol, cycle, conf, disp, stages in SNAPSHOTS:
                s.add(
                    AgentPerformanceSnapshot(
                        agent_id=ids[email], as_of_date=day, deals_open=sum(
                            n for k, n in stages.items() if not k.startswith("closed")
                        ),
                        gross_pipeline_value=Decimal(w) * 2, weighted_pipeline_value=Decimal(w),
                        deals_closed_won=won, deals_closed_lost=lost,
                        closed_won_volume=Decimal(vol), cycle_days_total=cycle,
                        confirmed_commission_amount=Decimal(conf),
                        disputed_commission_amount=Decimal(disp),
                        ratios={"deals_by_stage": _stages(**stages), "currency": "USD",
                                "pending_commission_amount": "10.00"},
                    )
                )  # fmt: skip
    finally:
        db.dispose()
    return prepared_db_path


def add_rows(path: Path, *rows: Any) -> None:
    db = open_database(f"sqlite:///{path}")
    try:
        with db.session() as s:
            for row in rows:
                s.add(row)
    finally:
        db.dispose()


def user_id(path: Path, email: str) -> int:
    db = open_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            return int(s.scalar(sa.select(User.id).where(User.email == email)))
    finally:
        db.dispose()


def team_id(path: Path, name: str) -> int:
    db = open_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            return int(s.scalar(sa.select(Team.id).where(Team.name == name)))
    finally:
        db.dispose()


def one_snapshot(agent: int, day: dt.date) -> AgentPerformanceSnapshot:
    return AgentPerformanceSnapshot(
        agent_id=agent, as_of_date=day, weighted_pipeline_value=Decimal(1), ratios={}
    )


def settle(qtbot, page: AnalyticsPage) -> None:
    qtbot.waitUntil(lambda: not page.ctx.ops.active() and not page.is_loading(), timeout=10_000)


def open_page(
    qtbot,
    ctx: AppContext,
    path: Path,
    acting: str | None = None,
    span: tuple[dt.date, dt.date] | None = (START, TODAY),
) -> AnalyticsPage:
    page = AnalyticsPage(ctx)
    qtbot.addWidget(page)
    page.acting = acting
    page.today = lambda: TODAY
    if span is not None:
        page.set_dates(*span)
    page.resize(1100, 800)
    page.show()
    ctx.database.open(ExplicitUrl(f"sqlite:///{path}"))
    qtbot.waitUntil(lambda: page.overview is not None, timeout=10_000)
    settle(qtbot, page)
    return page


def tile(page: AnalyticsPage, name: str) -> tuple[str, str]:
    t = getattr(page.cards, name)
    return t.value.text(), t.note.text()


def choose(qtbot, page: AnalyticsPage, key: str) -> None:
    assert page.choose(key)
    qtbot.waitUntil(
        lambda: page.overview is not None and scope_key(page.overview.scope) == key,
        timeout=10_000,
    )
    settle(qtbot, page)


def test_the_page_registers_itself(qtbot, ctx: AppContext) -> None:
    spec = next(s for s in PAGES if s.key == "analytics")
    assert (spec.title, spec.order, spec.icon) == ("Analytics", 190, "dashboard")
    assert spec.tooltip == "Trends, pipeline and benchmarks from the daily snapshots"
    page = spec.build(ctx)
    qtbot.addWidget(page)
    assert isinstance(page, AnalyticsPage)
    assert page.message.text() == "Open a database to see the analytics."
    assert page.snapshot_stack.currentWidget() is page.message
    assert page.range_combo.currentData() == LAST_30  # the default


def test_everyone_a_team_and_an_agent_show_their_summed_figures(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office)
    combo = page.show_combo
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert labels == [
        "Everyone I see", "", "North (team of 2)", "South (team of 1)", "",
        "Al Agent", "Bea Baker", "Bob Broker", "Cy Cole",
    ]  # fmt: skip
    assert page.snapshot_stack.currentWidget() is page.content
    o = page.overview
    assert o is not None and o.scope_label == "Everyone you see"
    # the end day, everyone: weighted 120,000 + 80,000 + 1,000,000
    assert tile(page, "weighted") == ("$1.2M", "12 open deals · gross $2.4M")
    # won in the range: each agent from their row of the 9th (Cy from his first, the 14th)
    assert tile(page, "volume") == ("$380K", "3 deals won in the range")
    assert tile(page, "conversion") == ("66.67%", "8 won, 4 lost")
    assert tile(page, "cycle") == ("20.0 days", "over 8 won deals")
    assert tile(page, "commission") == ("$23.8K", "$700 disputed")
    assert "Σ value × confidence" in page.cards.weighted.toolTip()
    donut = page.donut
    assert [(s.key, s.count) for s in donut.slices()] == [
        ("lead_captured", 2), ("proposal", 4), ("negotiation", 1), ("agreement", 5),
        ("closed_won", 8), ("closed_lost", 4),
    ]  # fmt: skip
    assert [s.label for s in donut.slices()][:2] == ["Lead captured", "Proposal"]
    assert page.donut_caption.text() == "Deals by stage, 14 Mar 2026"
    assert "1 day without snapshots" in page.range_label.text()
    assert page.range_label.toolTip() == "No snapshots: 12 Mar 2026"

    charts = page.charts
    assert charts is not None
    weighted = charts.series("weighted")  # in millions
    assert weighted[:2] == pytest.approx([0.15, 0.16]) and math.isnan(weighted[2])
    assert weighted[3:] == pytest.approx([0.175, 1.2])
    assert charts.money_unit == 1e6
    assert charts.pipeline_plot.getAxis("left").labelText == "(millions USD)"
    volume = charts.series("volume")
    assert volume[0] == 0.0 and math.isnan(volume[2]) and volume[4] == pytest.approx(0.38)
    conversion = charts.series("conversion")
    assert math.isnan(conversion[2]) and conversion[4] == pytest.approx(200 / 3)
    assert charts.weighted_line.opts["connect"] == "finite"  # a gap, not a drop to 0
    ticks = charts.pipeline_plot.getAxis("bottom")._tickLevels
    assert ticks is not None and ticks[0][0] == (0.0, "10 Mar")
    page.grab()

    north = team_id(office, "North")
    choose(qtbot, page, f"team:{north}")
    assert tile(page, "weighted") == ("$200K", "7 open deals · gross $400K")
    assert tile(page, "conversion") == ("50.00%", "4 won, 4 lost")  # 4 / 8, a ratio of sums
    assert tile(page, "cycle") == ("15.0 days", "over 4 won deals")  # 60 / 4
    assert tile(page, "volume") == ("$380K", "3 deals won in the range")
    assert [(s.key, s.count) for s in page.donut.slices()] == [
        ("lead_captured", 2), ("proposal", 4), ("negotiation", 1), ("closed_won", 4),
        ("closed_lost", 4),
    ]  # fmt: skip
    assert page.range_label.text().startswith("Team North · ")

    al = user_id(office, AL)
    choose(qtbot, page, f"agent:{al}")
    assert tile(page, "weighted") == ("$120K", "4 open deals · gross $240K")
    assert tile(page, "conversion") == ("75.00%", "3 won, 1 lost")
    assert tile(page, "volume") == ("$300K", "2 deals won in the range")
    assert ctx.settings.qsettings.value("analytics/show") == f"agent:{al}"

    # typing a name's first letters on the closed combo picks it
    cy = user_id(office, CY)
    page.show_combo.setFocus()
    QTest.keyClicks(page.show_combo, "Cy")
    qtbot.waitUntil(
        lambda: page.overview is not None and page.overview.scope == AnalyticsScope(agent_id=cy),
        timeout=10_000,
    )
    settle(qtbot, page)
    assert page.show_combo.currentText() == "Cy Cole"
    assert tile(page, "weighted") == ("$1M", "5 open deals · gross $2M")
    assert prompts.errors == []


def test_a_range_without_snapshots_says_so_and_holds_the_leads_button(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office, span=(D(2026, 2, 1), D(2026, 2, 5)))
    assert page.snapshot_stack.currentWidget() is page.empty_state
    assert page.empty_label.text() == NO_SNAPSHOTS
    assert "Everyone you see, 1 Feb 2026 to 5 Feb 2026" in page.empty_hint.text()
    assert page.donut.slices() == []
    assert all(t.value.text() == "—" for t in page.cards.tiles())
    button = QPushButton("Compute snapshots…")
    page.set_empty_action(button)
    assert button.parent() is page.empty_state and button.isVisible()
    other = QPushButton("Compute again…")
    page.set_empty_action(other)
    assert other.isVisible() and page.empty_action is other
    # the benchmarks do not wait for snapshots
    assert page.benchmark_stack.currentWidget() is page.benchmark_empty
    assert page.benchmark_empty.text() == NO_BENCHMARKS

    page.set_dates(START, TODAY)
    qtbot.waitUntil(lambda: page.overview is not None and page.overview.start == START)
    settle(qtbot, page)
    assert page.snapshot_stack.currentWidget() is page.content
    page.set_dates(TODAY, START)  # backwards: said, nothing read
    assert page.message.text() == "The first day is after the last: choose the range again."
    assert page.snapshot_stack.currentWidget() is page.message
    page.set_dates(D(2025, 1, 1), TODAY)
    assert page.message.text() == "A range covers at most 366 days; this one covers 438."
    assert prompts.errors == []


def test_the_benchmark_table_shows_the_rows_that_apply(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts
) -> None:
    al, bea = user_id(office, AL), user_id(office, BEA)

    def deal(agent: int, created: dt.date, closed: dt.date, stage: str) -> Deal:
        return Deal(
            ref=f"B-{next(_serial)}", agent_id=agent, title="12 Elm St",
            asset_type="residential", deal_type="buy_side", pipeline_stage=stage, status=stage,
            estimated_value_amount=Decimal(300000), estimated_value_currency="USD",
            confidence=Decimal("0.5"), actual_close_date=closed, created_at=_noon(created),
        )  # fmt: skip

    def bench(metric: str, cohort: str, value: str, day: dt.date, **kw: Any) -> Benchmark:
        return Benchmark(metric_key=metric, cohort=cohort, value_numeric=Decimal(value),
                         source=kw.pop("source", "NAR 2025"), effective_date=day, **kw)  # fmt: skip

    add_rows(
        office,
        deal(al, D(2026, 3, 1), D(2026, 3, 11), "closed_won"),  # 10 days
        deal(al, D(2026, 2, 20), D(2026, 3, 12), "closed_won"),  # 20 days
        deal(bea, D(2026, 2, 1), D(2026, 3, 13), "closed_lost"),
        deal(bea, D(2026, 2, 1), D(2026, 2, 13), "closed_won"),  # before the range
        bench("conversion_rate", "industry_avg", "42.5", D(2025, 1, 1)),
        bench("conversion_rate", "industry_avg", "70", D(2026, 1, 1), source="NAR 2026"),
        bench("conversion_rate", "top_quartile", "80", D(2026, 1, 1)),
        bench("avg_cycle_days", "industry_avg", "92", D(2025, 1, 1), asset_type="residential",
              deal_type="buy_side"),
        bench("show_rate_pct", "industry_avg", "74", D(2025, 1, 1)),  # not compared here
    )  # fmt: skip
    page = open_page(qtbot, ctx, office)
    model = page.benchmark_model
    assert page.benchmark_stack.currentWidget() is page.benchmark_table
    rows = [
        [model.index(r, c).data() for c in (COL_METRIC, COL_ASSET, COL_DEAL, COL_OURS,
                                            COL_INDUSTRY, COL_TOP, COL_VERDICT)]
        for r in range(model.rowCount())
    ]  # fmt: skip
    assert rows == [
        ["Conversion rate", "All", "All", "66.67%", "70.00%", "80.00%", "▼ Worse"],
        ["Conversion rate", "Residential", "Buy side", "66.67%", "70.00%", "80.00%", "▼ Worse"],
        ["Average cycle days", "Residential", "Buy side", "15.0 days", "92.0 days", "",
         "▲ Better"],
    ]  # fmt: skip
    assert model.index(0, COL_INDUSTRY).data(Qt.ItemDataRole.ToolTipRole) == (
        "Industry average — source: NAR 2026, effective 1 Jan 2026"
    )
    assert "lower is better" in model.index(2, COL_VERDICT).data(Qt.ItemDataRole.ToolTipRole)
    assert "deals closed 10 Mar 2026 to 14 Mar 2026" in page.benchmark_note.text()
    page.benchmark_table.grab()

    # an earlier range: the 2025 figure was the one in force then
    page.set_dates(D(2025, 12, 1), D(2025, 12, 31))
    qtbot.waitUntil(lambda: page.overview is not None and page.overview.end.year == 2025)
    settle(qtbot, page)
    # nothing closed then: only the overall row, whose benchmark names no asset type
    assert [model.index(r, COL_INDUSTRY).data() for r in range(model.rowCount())] == ["42.50%"]
    assert model.index(0, COL_OURS).data() == "—"
    assert model.index(0, COL_VERDICT).data() == ""
    assert prompts.errors == []


def test_new_snapshots_and_f5_read_again(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office)
    cy = user_id(office, CY)
    first = page.overview
    add_rows(office, one_snapshot(cy, D(2026, 3, 12)))
    ctx.events.changed("snapshots")
    qtbot.waitUntil(lambda: page.overview is not first, timeout=10_000)
    settle(qtbot, page)
    assert page.overview is not None and page.overview.missing_days == ()
    assert "without snapshots" not in page.range_label.text()
    charts = page.charts
    assert charts is not None and charts.series("weighted")[2] == pytest.approx(1e-6)

    second = page.overview
    add_rows(office, one_snapshot(cy, D(2026, 3, 13)))
    page.activateWindow()
    page.refresh_button.setFocus()
    QTest.keyClick(page.refresh_button, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: page.overview is not second, timeout=10_000)
    settle(qtbot, page)
    assert page.overview is not None
    assert page.overview.points[3].agents == 3  # Al, Bea and now Cy on the 13th
    assert prompts.errors == []


def test_an_agent_chooses_only_themself_and_a_manager_their_team(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office, acting=BEA)
    combo = page.show_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Everyone I see", "", "Bea Baker",
    ]  # fmt: skip
    assert tile(page, "weighted") == ("$80K", "3 open deals · gross $160K")
    page.close()

    manager = open_page(qtbot, ctx, office, acting=MIA)
    combo = manager.show_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Everyone I see", "", "North (team of 2)", "", "Al Agent", "Bea Baker",
    ]  # fmt: skip
    assert tile(manager, "weighted") == ("$200K", "7 open deals · gross $400K")
    assert prompts.errors == []


def test_the_choice_and_range_are_kept_for_the_next_time(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts
) -> None:
    page = open_page(qtbot, ctx, office, span=None)
    assert page.range_combo.currentData() == LAST_30
    assert page.span() == (D(2026, 2, 13), TODAY)
    south = team_id(office, "South")
    choose(qtbot, page, f"team:{south}")
    page.set_preset(LAST_90)
    qtbot.waitUntil(lambda: page.overview is not None and page.overview.start == D(2025, 12, 15))
    settle(qtbot, page)
    assert tile(page, "weighted") == ("$1M", "5 open deals · gross $2M")
    page.close()
    ctx.database.close()

    again = AnalyticsPage(ctx)
    qtbot.addWidget(again)
    again.today = lambda: TODAY
    again.show()
    ctx.database.open(ExplicitUrl(f"sqlite:///{office}"))
    qtbot.waitUntil(lambda: again.overview is not None, timeout=10_000)
    settle(qtbot, again)
    assert again.show_combo.currentData() == f"team:{south}"
    assert again.range_combo.currentData() == LAST_90
    assert again.overview is not None and again.overview.scope_label == "Team South"

    again.set_dates(D(2026, 3, 1), D(2026, 3, 20))
    settle(qtbot, again)
    assert ctx.settings.qsettings.value("analytics/range") == CUSTOM
    third = AnalyticsPage(ctx)
    qtbot.addWidget(third)
    assert third.range_combo.currentData() == CUSTOM
    assert third.span() == (D(2026, 3, 1), D(2026, 3, 20))
    assert prompts.errors == []


def test_the_window_with_the_page_still_fits_a_1280_pixel_screen(
    qtbot, make_window: WindowFactory, office: Path
) -> None:
    specs = list(load_builtin_pages())
    if not any(s.key == "analytics" for s in specs):  # registered on import of the module
        specs.append(next(s for s in PAGES if s.key == "analytics"))
    window = make_window(pages=specs)
    assert window.show_page("analytics")
    page = window.stack.currentWidget()
    assert isinstance(page, AnalyticsPage)
    page.set_dates(START, TODAY)
    window.ctx.database.open(ExplicitUrl(f"sqlite:///{office}"))
    wait_settled(qtbot, window)
    qtbot.waitUntil(lambda: page.overview is not None, timeout=10_000)
    settle(qtbot, page)
    assert page.charts is not None
    assert window.minimumSizeHint().width() <= 1280
    assert page.minimumSizeHint().width() <= 1280 - window.navigation.width()
    # F5 is the window's Refresh there (the page's own would make the key ambiguous)
    assert not page.f5_shortcut.isEnabled()
    first = page.overview
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    page.show_combo.setFocus()
    QTest.keyClick(page.show_combo, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: page.overview is not first, timeout=10_000)
    settle(qtbot, page)


def test_compute_snapshots_from_the_empty_state_fills_the_page(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts, monkeypatch
) -> None:
    from PySide6.QtWidgets import QDialog

    from app.gui.analytics import snapshot_action

    monkeypatch.setattr(
        snapshot_action.SnapshotsDialog, "exec", lambda self: QDialog.DialogCode.Accepted
    )
    today = dt.datetime.now(dt.UTC).date()
    spec = next(s for s in PAGES if s.key == "analytics")
    page = spec.build(ctx)
    assert isinstance(page, AnalyticsPage)
    qtbot.addWidget(page)
    page.set_dates(today - dt.timedelta(days=1), today)
    page.resize(1100, 800)
    page.show()
    ctx.database.open(ExplicitUrl(f"sqlite:///{office}"))
    qtbot.waitUntil(lambda: page.overview is not None, timeout=10_000)
    settle(qtbot, page)
    assert page.snapshot_stack.currentWidget() is page.empty_state
    button = page.findChild(QPushButton, "emptyComputeButton")
    assert button is not None and button.isVisible()
    button.click()  # the dialog's default: the last 30 days
    qtbot.waitUntil(
        lambda: page.overview is not None and bool(page.overview.points), timeout=20_000
    )
    settle(qtbot, page)
    assert page.snapshot_stack.currentWidget() is page.content
    assert [p.day for p in page.overview.points] == [today - dt.timedelta(days=1), today]
    assert prompts.errors == []
