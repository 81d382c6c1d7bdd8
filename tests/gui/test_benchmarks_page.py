"""Benchmarks page (SPEC §10, §11): the table model and its proxy through qtmodeltester; over a
real SQLite file the rows read with their status (current, superseded, future), the Current
only, cohort and search filters, Import CSV… of a good file (rows added, "Imported N
benchmarks") and of a bad one (every problem listed, nothing written), Delete… after a
confirmation naming how many, what an agent may not do, and reading again when benchmarks
change elsewhere."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.db.models import Benchmark
from app.gui.analytics import benchmarks_page as page_module
from app.gui.analytics.benchmark_models import (
    ASSET,
    COHORT,
    DEAL,
    EFFECTIVE,
    METRIC,
    ROW_ROLE,
    SORT_ROLE,
    SOURCE,
    STATUS,
    VALUE,
    BenchmarkFilterProxy,
    BenchmarkTableModel,
    plain_number,
    superseded_color,
)
from app.gui.analytics.benchmarks_page import (
    EMPTY,
    NOT_WRITER,
    BenchmarksPage,
    ImportErrorsDialog,
)
from app.gui.context import AppContext
from app.gui.pages import PAGES
from app.gui.targets import ExplicitUrl
from app.services.analytics.benchmarks import BenchmarkItem
from app.services.database import Database, open_database
from app.services.importing import import_file
from app.services.users import add_user
from tests.gui.conftest import FakePrompts

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "resources" / "samples" / "benchmarks.csv"
SAMPLE_ROWS, SAMPLE_CURRENT = 43, 32
HEADER = "metric_key,asset_type,deal_type,cohort,value_numeric,value_text,source,effective_date"
ADA, AL = "ada@bench.example", "al@bench.example"
TODAY = dt.datetime.now(dt.UTC).date()


def _item(i: int, metric: str, **kw: object) -> BenchmarkItem:
    values: dict[str, object] = dict(
        id=i, metric_key=metric, asset_type=None, deal_type=None, cohort="industry_avg",
        value_numeric=Decimal("42.5000"), value_text=None, source="Survey 2025",
        effective_date=dt.date(2025, 7, 1), current=True, future=False,
    )  # fmt: skip
    values.update(kw)
    return BenchmarkItem(**values)  # type: ignore[arg-type]


ITEMS = [
    _item(1, "avg_cycle_days", asset_type="residential", deal_type="buy_side",
          value_numeric=Decimal("92.0000")),
    _item(2, "avg_cycle_days", asset_type="residential", deal_type="buy_side",
          value_numeric=Decimal("95.0000"), effective_date=dt.date(2024, 7, 1), current=False,
          source="Survey 2024"),
    _item(3, "commission_rate", asset_type="commercial", cohort="top_quartile",
          value_numeric=Decimal("0.0350")),
    _item(4, "conversion_rate", cohort="internal_avg", value_numeric=Decimal("51"),
          effective_date=dt.date(2099, 1, 1), current=False, future=True, source="Office"),
    _item(5, "market_outlook", value_numeric=None, value_text="Balanced market"),
    _item(6, "median_price", value_numeric=Decimal("1250000.5"), value_text="Kern County"),
]  # fmt: skip


# -- the model ---------------------------------------------------------------------------------


def test_the_model_and_proxy_pass_qtmodeltester(qtmodeltester) -> None:
    model = BenchmarkTableModel()
    model.set_rows(ITEMS)
    qtmodeltester.check(model)
    proxy = BenchmarkFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    proxy.set_current_only(False)
    proxy.sort(VALUE, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(proxy)
    proxy.set_search("survey")
    proxy.set_cohort("top_quartile")
    qtmodeltester.check(proxy)
    model.set_rows([])
    qtmodeltester.check(model)
    qtmodeltester.check(proxy)


def test_the_model_shows_any_labels_plain_values_and_greys_superseded_rows() -> None:
    model = BenchmarkTableModel()
    model.set_rows(ITEMS)

    def row(r: int) -> list[str]:
        return [model.index(r, c).data() for c in range(model.columnCount())]

    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(8)] == [
        "Metric", "Asset type", "Deal type", "Cohort", "Value", "Source", "Effective", "Status",
    ]  # fmt: skip
    assert row(0) == [
        "avg_cycle_days", "residential", "buy_side", "Industry average", "92", "Survey 2025",
        "2025-07-01", "Current",
    ]  # fmt: skip
    assert row(1)[VALUE] == "95" and row(1)[STATUS] == "Superseded"
    assert row(2)[ASSET : VALUE + 1] == ["commercial", "Any", "Top quartile", "0.035"]
    assert row(3)[COHORT] == "Internal average" and row(3)[STATUS] == "Future"
    assert row(4)[ASSET : VALUE + 1] == ["Any", "Any", "Industry average", "Balanced market"]
    assert row(5)[VALUE] == "1,250,000.5"
    assert model.index(5, VALUE).data(Qt.ItemDataRole.ToolTipRole) == "Kern County"
    assert model.index(3, STATUS).data(Qt.ItemDataRole.ToolTipRole) == "Takes effect on 2099-01-01"

    fg = Qt.ItemDataRole.ForegroundRole
    assert all(model.index(1, c).data(fg) == superseded_color() for c in range(8))
    assert model.index(0, METRIC).data(fg) is None
    assert model.index(3, METRIC).data(fg) is None  # a future row is not greyed
    assert model.index(4, VALUE).data(SORT_ROLE) == float("inf")
    assert model.index(0, VALUE).data(SORT_ROLE) == 92.0
    assert model.index(2, 0).data(ROW_ROLE) is ITEMS[2]
    assert model.index(0, METRIC).data(SORT_ROLE) < model.index(1, METRIC).data(SORT_ROLE)
    assert [plain_number(Decimal(v)) for v in ("0.0000", "1E+2", "-1.5000")] == ["0", "100", "-1.5"]


def test_the_proxy_filters_current_rows_cohort_and_metric_or_source() -> None:
    model = BenchmarkTableModel()
    model.set_rows(ITEMS)
    proxy = BenchmarkFilterProxy()
    proxy.setSourceModel(model)

    def shown() -> list[int]:
        return sorted(proxy.index(r, 0).data(ROW_ROLE).id for r in range(proxy.rowCount()))

    assert proxy.current_only
    assert shown() == [1, 3, 5, 6]
    proxy.set_current_only(False)
    assert shown() == [1, 2, 3, 4, 5, 6]
    proxy.set_search("  SURVEY 2024 ")  # a source
    assert shown() == [2]
    proxy.set_search("rate")  # metrics
    assert shown() == [3, 4]
    proxy.set_cohort("internal_avg")
    assert shown() == [4]
    proxy.set_search("")
    proxy.set_cohort(None)
    proxy.set_current_only(True)
    assert shown() == [1, 3, 5, 6]


# -- the page over a real file -----------------------------------------------------------------


@pytest.fixture
def office(prepared_db_path: Path) -> Path:
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, ADA, "admin", "Ada", "Admin")
        add_user(db, AL, "agent", "Al", "Agent")
    finally:
        db.dispose()
    return prepared_db_path


@pytest.fixture
def with_sample(office: Path) -> Path:
    db = open_database(f"sqlite:///{office}")
    try:
        import_file(db, "benchmarks", SAMPLE)
    finally:
        db.dispose()
    return office


def stored(path: Path) -> list[tuple[int, str, dt.date]]:
    db: Database = open_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            return [
                (int(i), str(m), e)
                for i, m, e in s.execute(
                    sa.select(Benchmark.id, Benchmark.metric_key, Benchmark.effective_date)
                )
            ]
    finally:
        db.dispose()


def settle(qtbot, page: BenchmarksPage) -> None:
    qtbot.waitUntil(lambda: not page.ctx.ops.active(), timeout=10_000)


def open_page(
    qtbot, ctx: AppContext, path: Path, acting: str | None = None
) -> tuple[BenchmarksPage, list[str]]:
    said: list[str] = []
    ctx.events.status_message.connect(said.append)
    page = BenchmarksPage(ctx, acting=acting)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    ctx.database.open(ExplicitUrl(f"sqlite:///{path}"))
    qtbot.waitUntil(lambda: page._loaded is not None, timeout=10_000)
    settle(qtbot, page)
    return page, said


def test_the_page_registers_itself(qtbot, ctx: AppContext) -> None:
    spec = next(s for s in PAGES if s.key == "benchmarks")
    assert (spec.title, spec.order, spec.icon, spec.tooltip) == (
        "Benchmarks", 192, "portfolio", "Industry and internal reference figures"
    )  # fmt: skip
    assert spec.build is page_module.build_benchmarks_page
    page = spec.build(ctx)
    qtbot.addWidget(page)
    assert isinstance(page, BenchmarksPage)
    assert page.empty_label.text() == "Open a database to see benchmarks."
    assert not page.import_button.isEnabled() and page.import_csv() is False


def test_the_page_lists_the_current_rows_and_all_on_request(
    qtbot, ctx: AppContext, with_sample: Path, prompts: FakePrompts
) -> None:
    page, _said = open_page(qtbot, ctx, with_sample)
    assert page.model.rowCount() == SAMPLE_ROWS
    assert page.proxy.rowCount() == SAMPLE_CURRENT
    assert page.count_label.text() == f"{SAMPLE_CURRENT} of {SAMPLE_ROWS} benchmarks"
    assert page.body.currentWidget() is page.table
    assert page.current_check.isChecked()
    assert {page.proxy.index(r, STATUS).data() for r in range(page.proxy.rowCount())} == {"Current"}
    first = [page.proxy.index(0, c).data() for c in range(page.proxy.columnCount())]
    assert first == [
        "avg_cycle_days", "commercial", "Any", "Industry average", "148",
        "Regional brokerage survey 2025 (sample data)", "2025-07-01", "Current",
    ]  # fmt: skip

    page.current_check.setChecked(False)
    assert page.proxy.rowCount() == SAMPLE_ROWS
    assert page.count_label.text() == f"{SAMPLE_ROWS} benchmarks"
    old = [r for r in range(SAMPLE_ROWS) if page.proxy.index(r, STATUS).data() == "Superseded"]
    assert len(old) == SAMPLE_ROWS - SAMPLE_CURRENT
    assert page.proxy.index(old[0], SOURCE).data(Qt.ItemDataRole.ForegroundRole) == (
        superseded_color()
    )
    assert ctx.settings.qsettings.value("benchmarks/current_only", True, bool) is False

    page.filter_edit.setText("commission")
    page.cohort_combo.setCurrentIndex(page.cohort_combo.findData("top_quartile"))
    values = {page.proxy.index(r, VALUE).data() for r in range(page.proxy.rowCount())}
    assert values == {"0.028", "0.035"}
    page.filter_edit.setText("nothing like it")
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text() == "No benchmarks match “nothing like it”."
    page.current_check.setChecked(True)
    assert page.empty_label.text().endswith(
        "Untick Current only to see superseded and future rows too."
    )
    assert prompts.errors == []


def test_an_empty_database_says_a_sample_ships(qtbot, ctx: AppContext, office: Path) -> None:
    page, _said = open_page(qtbot, ctx, office)
    assert page.body.currentWidget() is page.empty_label
    assert page.empty_label.text() == EMPTY
    assert EMPTY == (
        "No benchmarks yet — import a CSV (a sample ships in resources/samples/benchmarks.csv)"
    )
    assert page.count_label.text() == "0 benchmarks"
    assert page.import_button.isEnabled() and not page.delete_button.isEnabled()


def test_importing_a_good_file_adds_its_rows(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts
) -> None:
    page, said = open_page(qtbot, ctx, office)
    asked: list[tuple[str, str]] = []

    def choose(_parent: object, caption: str, folder: str, _filter: str) -> str:
        asked.append((caption, folder))
        return str(SAMPLE)

    page.choose_file = choose
    changes: list[str] = []
    ctx.events.data_changed.connect(changes.append)
    assert page.import_csv()
    qtbot.waitUntil(lambda: page.model.rowCount() == SAMPLE_ROWS, timeout=10_000)
    settle(qtbot, page)

    assert asked == [("Import benchmarks", str(SAMPLE.parent))]  # the samples' folder first
    assert prompts.notices == [f"Imported {SAMPLE_ROWS} benchmarks."]
    assert f"Imported {SAMPLE_ROWS} benchmarks from benchmarks.csv." in said
    assert changes == ["benchmarks"]
    assert len(stored(office)) == SAMPLE_ROWS
    assert page.import_button.isEnabled()
    assert ctx.settings.qsettings.value("benchmarks/last_folder") == str(SAMPLE.parent)
    assert prompts.errors == []


def test_a_bad_file_lists_every_problem_and_writes_nothing(
    qtbot, ctx: AppContext, office: Path, prompts: FakePrompts, tmp_path: Path
) -> None:
    page, said = open_page(qtbot, ctx, office)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "\n".join((
            HEADER,
            "conversion_rate,,,median,42,,Survey,2025-01-15",
            "conversion_rate,,,industry_avg,forty,,Survey,2025-01-15",
            "conversion_rate,,,top_quartile,58,,,2025-01-15",
            "dscr,,,industry_avg,1.2,,Survey,2025-01-15",
        )) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    page.choose_file = lambda *_args: str(bad)
    assert page.import_csv()
    qtbot.waitUntil(lambda: page.errors_dialog is not None, timeout=10_000)
    settle(qtbot, page)

    dialog = page.errors_dialog
    assert isinstance(dialog, ImportErrorsDialog) and dialog.isVisible()
    assert dialog.summary.text().startswith(f"{bad} has 3 problems; nothing was imported.")
    model = dialog.table.model()
    lines = [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]
    assert lines == [
        [str(bad), "2", "cohort",
         "unknown cohort 'median' (expected industry_avg, top_quartile or internal_avg)"],
        [str(bad), "3", "value_numeric", "'forty' is not a number"],
        [str(bad), "4", "source", "is required"],
    ]  # fmt: skip
    dialog.copy()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text().splitlines()[0] == (
        f"{bad}, row 2, column cohort: unknown cohort 'median' "
        "(expected industry_avg, top_quartile or internal_avg)"
    )
    assert "bad.csv: 3 problems; nothing imported." in said
    assert stored(office) == []
    assert page.model.rowCount() == 0 and prompts.notices == [] and prompts.errors == []
    dialog.close()
    qtbot.waitUntil(lambda: page.errors_dialog is None, timeout=5_000)


def test_delete_asks_naming_how_many_then_deletes(
    qtbot, ctx: AppContext, with_sample: Path, prompts: FakePrompts
) -> None:
    page, said = open_page(qtbot, ctx, with_sample)
    page.current_check.setChecked(False)
    page.filter_edit.setText("dscr")
    ids = [page.proxy.index(r, 0).data(ROW_ROLE).id for r in range(page.proxy.rowCount())]
    assert len(ids) == 4
    assert page.select_ids(ids[:2]) == 2
    assert page.delete_button.isEnabled()
    assert page.delete_button.toolTip() == "Delete the 2 benchmarks selected (Delete)"

    asked: list[tuple[str, str, str]] = []
    page.confirm = lambda _p, title, text, action: asked.append((title, text, action)) or False
    assert page.delete_selected() is False
    assert asked[0][0] == "Delete benchmarks" and asked[0][2] == "Delete"
    assert asked[0][1].startswith("Delete 2 benchmarks? They are removed for everyone.")
    assert len(stored(with_sample)) == SAMPLE_ROWS  # cancelled: nothing deleted

    page.confirm = lambda _p, title, text, action: asked.append((title, text, action)) or True
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)  # the Delete key asks the same
    qtbot.waitUntil(lambda: page.model.rowCount() == SAMPLE_ROWS - 2, timeout=10_000)
    settle(qtbot, page)
    assert len(asked) == 2 and asked[1][1].startswith("Delete 2 benchmarks?")
    left = {i for i, _m, _e in stored(with_sample)}
    assert not left & set(ids[:2]) and set(ids[2:]) <= left
    assert "Deleted 2 benchmarks." in said
    assert prompts.errors == []

    assert page.select_ids(ids[2:3]) == 1
    assert page.delete_selected()
    qtbot.waitUntil(lambda: page.model.rowCount() == SAMPLE_ROWS - 3, timeout=10_000)
    settle(qtbot, page)
    assert asked[2][0] == "Delete benchmark"
    assert asked[2][1].startswith("Delete the benchmark dscr (")


def test_an_agent_may_neither_import_nor_delete(
    qtbot, ctx: AppContext, with_sample: Path, prompts: FakePrompts
) -> None:
    page, said = open_page(qtbot, ctx, with_sample, acting=AL)
    assert page.model.rowCount() == SAMPLE_ROWS  # everyone reads them
    assert not page.import_button.isEnabled()
    assert page.import_button.toolTip() == NOT_WRITER
    page.select_ids([page.model.rows()[0].id])
    assert page.selected_ids() and not page.delete_button.isEnabled()
    assert page.delete_button.toolTip() == NOT_WRITER

    chosen: list[object] = []
    page.choose_file = lambda *args: chosen.append(args) or str(SAMPLE)
    page.confirm = lambda *args: chosen.append(args) or True
    assert page.import_csv() is False
    assert page.delete_selected() is False
    assert chosen == []  # never asked for a file or a confirmation
    assert said.count(NOT_WRITER) == 2
    assert NOT_WRITER == "Only a broker, manager or admin may import or delete benchmarks."
    assert len(stored(with_sample)) == SAMPLE_ROWS

    admin = BenchmarksPage(ctx, acting=ADA)
    qtbot.addWidget(admin)
    admin.show()
    qtbot.waitUntil(lambda: admin._loaded is not None, timeout=10_000)
    settle(qtbot, admin)
    assert admin.import_button.isEnabled()
    assert prompts.errors == []


def test_the_page_reads_again_when_benchmarks_change(qtbot, ctx: AppContext, office: Path) -> None:
    page, _said = open_page(qtbot, ctx, office)
    db = open_database(f"sqlite:///{office}")
    try:
        with db.session() as s:
            s.add(
                Benchmark(metric_key="dscr", cohort="industry_avg", value_numeric=Decimal("1.25"),
                          source="Lenders", effective_date=TODAY)
            )  # fmt: skip
    finally:
        db.dispose()
    assert page.model.rowCount() == 0
    ctx.events.changed("leads")  # not what the page shows
    settle(qtbot, page)
    assert page.model.rowCount() == 0
    ctx.events.changed("benchmarks")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    settle(qtbot, page)
    assert page.model.index(0, DEAL).data() == "Any"
    assert page.model.index(0, EFFECTIVE).data() == TODAY.isoformat()
    assert page.body.currentWidget() is page.table


def test_ctrl_i_asks_for_a_file(qtbot, ctx: AppContext, office: Path) -> None:
    page, _said = open_page(qtbot, ctx, office)
    asked: list[str] = []
    page.choose_file = lambda _p, caption, _f, _n: asked.append(caption) or None
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow, timeout=2000)
    qtbot.keyClick(page, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["Import benchmarks"]  # cancelled: nothing imported
    settle(qtbot, page)
    assert page.model.rowCount() == 0 and page.import_button.isEnabled()
