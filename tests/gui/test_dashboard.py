"""The Dashboard page: its models through qtmodeltester, the cards' search, team filter and
sort, the delegates' painting, and the page over a real SQLite file — the period selector,
the feed opening a record, My Business, remembered choices and the empty office."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QPoint, QRect, Qt, QUrl
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QListView, QStyle, QStyleOptionViewItem
from sqlalchemy.engine import make_url

from app.domain.agent_kpis import AgentKpis, conversion_rate_pct, show_rate_pct
from app.domain.errors import PermissionDenied
from app.gui import events
from app.gui.context import AppContext
from app.gui.dashboard import team as team_module
from app.gui.dashboard.business import (
    APPOINTMENT_ROLE,
    FigureRow,
    SourceBars,
    WeekDelegate,
    WeekModel,
)
from app.gui.dashboard.card_delegate import AgentCardDelegate
from app.gui.dashboard.cards import (
    AGENT_ROLE,
    CARD_ROLE,
    EMAIL_ROLE,
    AgentCardModel,
    AgentCardProxy,
    CardText,
    Metric,
    SortKey,
    initials,
)
from app.gui.dashboard.feed import (
    ENTRY_ROLE,
    KIND_ROLE,
    RECORD_ID_ROLE,
    FeedDelegate,
    FeedModel,
)
from app.gui.dashboard.format import percent, short_money
from app.gui.dashboard.page import DashboardPage
from app.gui.dashboard.period import (
    CUSTOM,
    DAYS_7,
    DAYS_90,
    YTD,
    Period,
    period_for,
    to_qdate,
)
from app.gui.dashboard.team import TeamSection
from app.gui.records.page import RecordPage
from app.gui.targets import ExplicitUrl
from app.gui.theme import dark_palette
from app.services import dashboard as dashboard_service
from app.services import records
from app.services.dashboard import ActivityEntry, SourceCount, WeekAppointment
from app.services.database import open_database
from app.services.records import (
    AppointmentFields,
    ClientFields,
    EscrowFields,
    LeadFields,
    ListingFields,
    RecordKind,
)
from app.services.users import add_user
from tests.gui.conftest import WindowFactory, wait_settled

NOW = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)


def kpis(
    name: str,
    *,
    team: str | None = "Central",
    leads: int = 0,
    converted: int = 0,
    completed: int = 0,
    no_shows: int = 0,
    volume: str = "0",
    last: dt.datetime | None = None,
    uid: int = 0,
) -> AgentKpis:
    first, _, rest = name.partition(" ")
    return AgentKpis(
        user_id=uid or abs(hash(name)) % 10_000,
        email=f"{first}.{rest}@office.example".lower().replace(" ", ""),
        name=name,
        team=team,
        total_leads=leads,
        new_leads=leads // 3,
        converted_leads=converted,
        conversion_rate_pct=conversion_rate_pct(converted, leads),
        appointments_scheduled=completed + no_shows + 2,
        appointments_completed=completed,
        no_shows=no_shows,
        show_rate_pct=show_rate_pct(completed, no_shows),
        escrows_ytd=3,
        volume_ytd=Decimal(volume),
        commission_ytd=Decimal(volume) * Decimal("0.03"),
        active_clients=4,
        active_listings=1,
        last_activity=last,
    )


AGENTS = [
    kpis(
        "Jayden Metz",
        leads=1247,
        converted=29,
        completed=38,
        no_shows=14,
        volume="3200000",
        last=NOW - dt.timedelta(hours=2),
        uid=1,
    ),
    kpis(
        "Cole Rangel",
        team="South",
        leads=823,
        converted=18,
        completed=33,
        no_shows=8,
        volume="1675000",
        last=NOW - dt.timedelta(days=3),
        uid=2,
    ),
    kpis("Lee Rangel", team="South", leads=1502, converted=42, volume="4850000", uid=3),
    kpis("Zoe Zero", team=None, uid=4),  # no data at all: zeros and "—"
]


def card_model() -> AgentCardModel:
    model = AgentCardModel()
    model.set_agents(AGENTS, "USD", NOW, 30)
    return model


def names(proxy: AgentCardProxy) -> list[str]:
    return [proxy.index(r, 0).data() for r in range(proxy.rowCount())]


# -- models -----------------------------------------------------------------------------------


def test_card_model_passes_qtmodeltester(qtmodeltester) -> None:
    model = card_model()
    qtmodeltester.check(model)
    model.set_agents([])
    qtmodeltester.check(model)


def test_card_proxy_passes_qtmodeltester_while_filtering_and_sorting(qtmodeltester) -> None:
    model = AgentCardModel()
    proxy = AgentCardProxy()
    proxy.setSourceModel(model)
    model.set_agents(AGENTS, "USD", NOW, 30)
    qtmodeltester.check(proxy)
    model.sort_by(SortKey.CONVERSION, descending=False)
    qtmodeltester.check(model)
    proxy.set_team("South")
    qtmodeltester.check(proxy)
    proxy.set_search("lee")
    qtmodeltester.check(proxy)


def test_a_card_says_every_spec_2_figure() -> None:
    model = card_model()
    jayden = model.index(model.row_of_user(1), 0)
    text = jayden.data(CARD_ROLE)
    assert isinstance(text, CardText)
    assert isinstance(jayden.data(AGENT_ROLE), AgentKpis)
    assert (text.name, text.initials, text.team, text.activity, text.recent) == (
        "Jayden Metz",
        "JM",
        "Central",
        "2 h ago",
        True,
    )
    values = {m.label: m.value for m in (*text.leads, *text.appointments)}
    assert values == {
        "Total": "1,247",
        "New · 30 d": "415",
        "Converted": "29",
        "Conversion": "2.33%",
        "Scheduled": "54",
        "Completed": "38",
        "No-shows": "14",
        "Show rate": "73.1%",
    }
    assert {m.label: m.value for m in (*text.production, *text.active)} == {
        "Escrows": "3",
        "Volume": "$3.2M",
        "Commission": "$96K",
        "Clients": "4",
        "Listings": "1",
    }
    assert "conversion 2.33%" in jayden.data(Qt.ItemDataRole.ToolTipRole)
    zoe = model.index(model.row_of_user(4), 0).data(CARD_ROLE)
    assert {m.label: m.value for m in zoe.leads}["Conversion"] == "—"  # no leads: undefined
    assert {m.label: m.value for m in zoe.appointments}["Show rate"] == "—"
    assert (zoe.team, zoe.activity, zoe.recent) == ("No team", "never", False)
    assert model.teams() == ["Central", "South"]


def test_proxy_searches_by_name_and_filters_by_team() -> None:
    proxy = AgentCardProxy()
    model = card_model()
    proxy.setSourceModel(model)
    model.sort_by(SortKey.NAME, descending=False)
    assert names(proxy) == ["Cole Rangel", "Jayden Metz", "Lee Rangel", "Zoe Zero"]
    proxy.set_search("  RANGEL ")
    assert names(proxy) == ["Cole Rangel", "Lee Rangel"]
    proxy.set_team("Central")
    assert names(proxy) == []
    proxy.set_search("")
    assert names(proxy) == ["Jayden Metz"]
    proxy.set_team("")  # no team
    assert names(proxy) == ["Zoe Zero"]
    proxy.set_team(None)
    assert proxy.rowCount() == 4


@pytest.mark.parametrize(
    ("key", "descending", "expected"),
    [
        (SortKey.VOLUME, True, ["Lee Rangel", "Jayden Metz", "Cole Rangel", "Zoe Zero"]),
        (SortKey.VOLUME, False, ["Zoe Zero", "Cole Rangel", "Jayden Metz", "Lee Rangel"]),
        (SortKey.LEADS, True, ["Lee Rangel", "Jayden Metz", "Cole Rangel", "Zoe Zero"]),
        # Undefined rates and "never" come last whichever way.
        (SortKey.CONVERSION, True, ["Lee Rangel", "Jayden Metz", "Cole Rangel", "Zoe Zero"]),
        (SortKey.CONVERSION, False, ["Cole Rangel", "Jayden Metz", "Lee Rangel", "Zoe Zero"]),
        (SortKey.SHOW_RATE, True, ["Cole Rangel", "Jayden Metz", "Lee Rangel", "Zoe Zero"]),
        (SortKey.SHOW_RATE, False, ["Jayden Metz", "Cole Rangel", "Lee Rangel", "Zoe Zero"]),
        (SortKey.LAST_ACTIVITY, True, ["Jayden Metz", "Cole Rangel", "Lee Rangel", "Zoe Zero"]),
        (SortKey.LAST_ACTIVITY, False, ["Cole Rangel", "Jayden Metz", "Lee Rangel", "Zoe Zero"]),
        (SortKey.NAME, True, ["Zoe Zero", "Lee Rangel", "Jayden Metz", "Cole Rangel"]),
    ],
)
def test_model_sorts_cards(key: SortKey, descending: bool, expected: list[str]) -> None:
    proxy = AgentCardProxy()
    model = card_model()
    proxy.setSourceModel(model)
    model.sort_by(key, descending)
    assert names(proxy) == expected
    model.set_agents(list(reversed(AGENTS)), "USD", NOW, 30)  # new data keeps the order
    assert names(proxy) == expected


def test_equal_values_are_ordered_by_name() -> None:
    model = AgentCardModel()
    model.set_agents([kpis("Bea B", uid=1), kpis("Al A", uid=2), kpis("Cy C", uid=3)], now=NOW)
    proxy = AgentCardProxy()
    proxy.setSourceModel(model)
    for descending in (True, False):
        model.sort_by(SortKey.VOLUME, descending)
        assert names(proxy) == ["Al A", "Bea B", "Cy C"]


def test_sorting_keeps_the_current_card_on_its_agent(qtbot) -> None:
    model = card_model()
    proxy = AgentCardProxy()
    proxy.setSourceModel(model)
    view = QListView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    model.sort_by(SortKey.NAME, descending=False)
    view.setCurrentIndex(proxy.index(2, 0))
    assert view.currentIndex().data() == "Lee Rangel"
    model.sort_by(SortKey.NAME, descending=True)
    assert view.currentIndex().data() == "Lee Rangel" and view.currentIndex().row() == 1


def test_card_texts_must_match_the_agents() -> None:
    with pytest.raises(ValueError, match="one card text per agent"):
        AgentCardModel().set_cards(AGENTS, [])


def _card_image(delegate: AgentCardDelegate, view: QListView, index: QModelIndex) -> QImage:
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.state = QStyle.StateFlag.State_Enabled
    option.rect = QRect(QPoint(30, 40), delegate.sizeHint(option, index))
    image = QImage(500, 400, QImage.Format.Format_ARGB32)
    image.fill(QColor("#808080"))
    painter = QPainter(image)
    try:
        delegate.paint(painter, option, index)
    finally:
        painter.end()
    return image


def test_a_card_drawn_from_the_cache_is_the_card_drawn_afresh(qtbot) -> None:
    view = QListView()
    qtbot.addWidget(view)
    model = card_model()
    delegate = AgentCardDelegate(view)
    jayden = model.index(model.row_of_user(1), 0)
    first = _card_image(delegate, view, jayden)
    assert first.pixelColor(10, 10) == QColor("#808080")  # drawn where the option says
    again = _card_image(delegate, view, jayden)
    assert again == first and len(delegate._pixmaps) == 1  # blitted, not drawn again
    model.set_agents([replace(AGENTS[0], total_leads=9999)], "USD", NOW, 30)
    changed = _card_image(delegate, view, model.index(0, 0))  # new texts: drawn anew
    assert changed != first and len(delegate._pixmaps) == 2
    delegate.clear_cache()
    assert _card_image(delegate, view, model.index(0, 0)) == changed


def test_feed_and_week_models_pass_qtmodeltester(qtmodeltester) -> None:
    feed = FeedModel()
    feed.set_entries(FEED, "USD", NOW)
    qtmodeltester.check(feed)
    assert feed.index(0, 0).data() == "Jayden Metz opened an escrow"
    assert feed.index(0, 0).data(KIND_ROLE) == "escrows"
    assert feed.index(0, 0).data(RECORD_ID_ROLE) == 7
    assert feed.index(0, 0).data(ENTRY_ROLE) is FEED[0]
    assert "$450,000.00" in feed.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "Sarah Johnson · Referral" in feed.index(1, 0).data(Qt.ItemDataRole.ToolTipRole)
    week = WeekModel()
    week.set_appointments(WEEK)
    qtmodeltester.check(week)
    assert week.index(0, 0).data(APPOINTMENT_ROLE) is WEEK[0]
    assert "Buyer consultation" in week.index(1, 0).data()


def test_short_money_and_rates() -> None:
    assert short_money(Decimal("3200000")) == "$3.2M"
    assert short_money(Decimal("850000"), "SGD") == "SGD 850K"
    assert short_money(Decimal("999999")) == "$1M"
    assert short_money(Decimal("67613.75")) == "$67.6K"
    assert short_money(Decimal("950")) == "$950"
    assert percent(None) == "—" and percent(Decimal("2.30")) == "2.30%"
    assert initials("Mary-Ann O'Neil") == "MO" and initials("Cher") == "CH"


FEED = [
    ActivityEntry(
        RecordKind.ESCROWS, 7, 1, "Jayden Metz", "jayden.metz@office.example",
        "123 Main St, Bakersfield CA", Decimal("450000"), "Active", None,
        NOW - dt.timedelta(hours=2),
    ),
    ActivityEntry(
        RecordKind.CLIENTS, 8, 2, "Cole Rangel", "cole.rangel@office.example",
        "Sarah Johnson", None, "active", "Referral", NOW - dt.timedelta(hours=5),
    ),
    ActivityEntry(
        RecordKind.LISTINGS, 9, 3, "Lee Rangel", "lee.rangel@office.example",
        "456 Oak Ave, Tehachapi CA", Decimal("575000"), "active", None,
        NOW - dt.timedelta(days=1),
    ),
]  # fmt: skip

WEEK = [
    WeekAppointment(1, NOW - dt.timedelta(days=1), None, "Sarah: viewing 456 Oak St",
                    "456 Oak St", "completed", True),
    WeekAppointment(2, NOW + dt.timedelta(days=1), None, "Buyer consultation — Mike",
                    None, "scheduled", True),
    WeekAppointment(3, NOW + dt.timedelta(days=2), None, "Listing appointment",
                    "12 Elm St", "no_show", False),
]  # fmt: skip


# -- painting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_delegates_paint_every_state(qtbot, dark: bool) -> None:
    view = QListView()
    qtbot.addWidget(view)
    if dark:
        view.setPalette(dark_palette())
    image = QImage(500, 320, QImage.Format.Format_ARGB32)
    image.fill(QColor("#808080"))
    painter = QPainter(image)
    try:
        for delegate, model in (
            (AgentCardDelegate(view), card_model()),
            (FeedDelegate(view), _feed_model()),
            (WeekDelegate(view), _week_model()),
        ):
            for row in range(model.rowCount()):
                for state in (
                    QStyle.StateFlag.State_Enabled,
                    QStyle.StateFlag.State_Selected | QStyle.StateFlag.State_HasFocus,
                    QStyle.StateFlag.State_MouseOver | QStyle.StateFlag.State_HasFocus,
                ):
                    option = QStyleOptionViewItem()
                    option.initFrom(view)
                    option.state = state | QStyle.StateFlag.State_Enabled
                    index = model.index(row, 0)
                    size = delegate.sizeHint(option, index)
                    assert size.width() > 0 and size.height() > 0
                    option.rect = QRect(QPoint(0, 0), size)
                    delegate.paint(painter, option, index)
            delegate.paint(painter, QStyleOptionViewItem(), QModelIndex())  # nothing to paint
    finally:
        painter.end()
    assert image.pixelColor(20, 20) != QColor("#808080")  # something was drawn


def _feed_model() -> FeedModel:
    model = FeedModel()
    model.set_entries(FEED, "USD", NOW)
    return model


def _week_model() -> WeekModel:
    model = WeekModel()
    model.set_appointments(WEEK)
    return model


def test_card_grid_fits_columns_to_the_width(qtbot) -> None:
    section = TeamSection()
    qtbot.addWidget(section)
    section.set_cards(AGENTS * 5, "USD", NOW, 30)
    section.resize(1100, 600)
    section.show()
    qtbot.waitExposed(section)
    assert section.view.columns() == 3
    grid = section.view.gridSize()
    section.resize(500, 600)
    qtbot.waitUntil(lambda: section.view.columns() == 1)
    assert section.view.gridSize() != grid
    section.view.grab()  # paints the visible cards
    bars, figures = SourceBars(), FigureRow()
    qtbot.addWidget(bars)
    qtbot.addWidget(figures)
    bars.set_sources([SourceCount("Zillow", 12, 2, 12), SourceCount("Referral", 5, 0, 5)], "30 d")
    figures.set_groups((("PRODUCTION YTD", (Metric("2", "Escrows"), Metric("$850K", "Volume"))),))
    assert bars.sizeHint().height() > 0 and "Zillow 12" in bars.accessibleName()
    bars.resize(300, bars.sizeHint().height())
    figures.resize(300, figures.sizeHint().height())
    bars.grab()
    figures.grab()


# -- the page over a real database ------------------------------------------------------------

BOB, ANN, CAL, DEE = (
    "bob@office.example",
    "ann@office.example",
    "cal@office.example",
    "dee@office.example",
)


JAN_1 = dt.datetime(dt.datetime.now(dt.UTC).year, 1, 1, tzinfo=dt.UTC)


def ago(days: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)


@pytest.fixture
def office_db(prepared_db_path: Path) -> Path:
    """Broker Bob (private leads by source, this week's appointments, an escrow) with agents
    Ann (team North) and Cal (no team): Ann's leads 3 and 50 days old."""
    db = open_database(f"sqlite:///{prepared_db_path}")
    try:
        add_user(db, BOB, "broker", "Bob", "Broker")
        add_user(db, ANN, "agent", "Ann", "Lee", team="North", broker_email=BOB)
        add_user(db, CAL, "agent", "Cal", "Ray", broker_email=BOB)
        for days, source in ((1, "Zillow"), (2, "Zillow"), (40, "Referral")):
            records.create_lead(
                db, LeadFields(name="Private", owner_email=BOB, source=source, created_at=ago(days))
            )
        records.create_appointment(
            db,
            AppointmentFields(
                title="Sarah: viewing 456 Oak St",
                start_time=dt.datetime.now(dt.UTC).replace(microsecond=0),
                owner_email=BOB,
                location="456 Oak St",
            ),
        )
        for days in (3, 50):
            records.create_lead(
                db, LeadFields(name=f"Ann's {days}", owner_email=ANN, created_at=ago(days))
            )
        records.create_escrow(
            db,
            EscrowFields(
                property_address="123 Main St",
                purchase_price=Decimal(450000),
                my_commission=Decimal(13500),
                owner_email=ANN,
                created_at=max(ago(1), JAN_1),  # this year's, even on 1 January
            ),
        )
        records.create_client(
            db, ClientFields(name="Sarah Johnson", owner_email=CAL, created_at=ago(0.5))
        )
        records.create_listing(
            db,
            ListingFields(
                address="456 Oak Ave",
                list_price=Decimal(575000),
                owner_email=CAL,
                created_at=ago(2),
            ),
        )
    finally:
        db.dispose()
    return prepared_db_path


def open_dashboard(qtbot, make_window: WindowFactory, path: Path):
    window = make_window()
    window.open_database(ExplicitUrl(f"sqlite:///{path}"))
    wait_settled(qtbot, window)
    assert window.show_page("dashboard")
    page = window.page_widget("dashboard")
    assert isinstance(page, DashboardPage)
    wait_loaded(qtbot, page)
    return window, page


def wait_loaded(qtbot, page: DashboardPage) -> None:
    qtbot.waitUntil(
        lambda: page.data is not None and not page.is_loading() and not page.ctx.ops.active(),
        timeout=10_000,
    )


def card(page: DashboardPage, email: str) -> AgentKpis:
    model = page.team.model
    for row in range(model.rowCount()):
        agent = model.index(row, 0).data(AGENT_ROLE)
        if agent.email == email:
            return agent
    raise AssertionError(f"no card for {email}")


def test_the_dashboard_is_first_in_the_navigation(qtbot, make_window: WindowFactory) -> None:
    window = make_window()
    assert window.page_keys()[0] == "dashboard"
    assert window.current_page_key() == "dashboard"


def test_the_page_shows_every_part(qtbot, make_window: WindowFactory, office_db: Path) -> None:
    _window, page = open_dashboard(qtbot, make_window, office_db)
    assert page.team.count_label.text() == "2 agents"
    assert page.team.body.currentWidget() is page.team.view
    ann = card(page, ANN)
    assert (ann.total_leads, ann.new_leads, ann.escrows_ytd) == (2, 1, 1)
    assert card(page, CAL).conversion_rate_pct is None  # zeros included
    assert page.overview.volume.value.text() == "$450K"
    assert page.overview.escrows.value.text() == "1"
    assert page.overview.clients.value.text() == "1"
    assert page.overview.listings.value.text() == "1"
    # Ann's lead and escrow are recent; a client or listing is no "activity" (SPEC §2).
    assert page.overview.agents.value.text() == "1"
    assert [page.feed.model.index(r, 0).data() for r in range(3)] == [
        "Cal Ray added a client",
        "Ann Lee opened an escrow",
        "Cal Ray listed a property",
    ]
    business = page.business.business
    assert business is not None and business.person.email == BOB
    assert [(s.source, s.total) for s in business.sources] == [("Zillow", 2), ("Referral", 1)]
    assert page.business.leads_note.text() == "all private"
    assert page.business.week_model.rowCount() == 1
    assert not page.business.broker_combo.isVisible()  # the only broker: nothing to choose
    assert "Bob Broker" in page.business.who_label.text()
    page.grab()


def test_the_period_selector_changes_the_numbers(
    qtbot, make_window: WindowFactory, office_db: Path, ctx: AppContext
) -> None:
    _window, page = open_dashboard(qtbot, make_window, office_db)
    assert card(page, ANN).new_leads == 1  # 30 days: the lead of 3 days ago
    page.period_selector.choose(DAYS_90)
    wait_loaded(qtbot, page)
    assert page.data is not None and page.data.request.period_days == 90
    assert card(page, ANN).new_leads == 2
    assert page.overview.leads.caption.text() == "New leads · 90 d"
    page.period_selector.choose(DAYS_7)
    wait_loaded(qtbot, page)
    assert card(page, ANN).new_leads == 1
    page.period_selector.choose(YTD)
    wait_loaded(qtbot, page)
    assert (
        page.data is not None
        and page.data.request.period_days == page.period_selector.period().days
    )
    assert ctx.settings.qsettings.value("dashboard/period") == YTD


def test_a_result_for_an_earlier_period_is_dropped(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    _window, page = open_dashboard(qtbot, make_window, office_db)
    shown: list[int] = []
    page.loaded.connect(lambda: shown.append(page.data.request.period_days))
    page.period_selector.choose(DAYS_7)  # started…
    page.period_selector.choose(DAYS_90)  # …and asked again before it arrived
    wait_loaded(qtbot, page)
    qtbot.waitUntil(lambda: not page.ctx.ops.active())
    assert shown == [90]
    assert card(page, ANN).new_leads == 2


def test_a_custom_range_sets_the_end_and_the_days() -> None:
    day = dt.date(2026, 3, 4)
    assert period_for(CUSTOM, day, dt.date(2026, 2, 1), dt.date(2026, 2, 28)) == Period(
        CUSTOM, dt.date(2026, 2, 28), 28
    )
    assert period_for(CUSTOM, day, dt.date(2026, 2, 28), dt.date(2026, 2, 1)).days == 28
    assert period_for(YTD, day, day, day) == Period(YTD, day, 63)
    assert period_for("nonsense", day, day, day) == Period("30", day, 30)
    assert Period(CUSTOM, dt.date(2026, 2, 28), 28).describe() == "01 Feb – 28 Feb 2026"


def test_the_custom_range_drives_the_report(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    _window, page = open_dashboard(qtbot, make_window, office_db)
    selector = page.period_selector
    selector.choose(CUSTOM)
    assert selector.from_edit.isVisibleTo(page) and selector.to_edit.isVisibleTo(page)
    wait_loaded(qtbot, page)
    today = dt.datetime.now(dt.UTC).date()
    selector.to_edit.setDate(to_qdate(today - dt.timedelta(days=10)))
    selector.from_edit.setDate(to_qdate(today - dt.timedelta(days=60)))
    wait_loaded(qtbot, page)
    assert page.data is not None
    assert page.data.request.as_of == today - dt.timedelta(days=10)
    assert page.data.request.period_days == 51
    assert card(page, ANN).new_leads == 1  # the 50-day-old lead; the 3-day-old is after


def test_activating_a_feed_entry_opens_the_record(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    window, page = open_dashboard(qtbot, make_window, office_db)
    escrows = window.page_widget("escrows")
    assert isinstance(escrows, RecordPage)
    escrows.filter_edit.setText("nothing matches this")  # the record would be hidden
    row = next(
        r for r in range(page.feed.model.rowCount())
        if page.feed.model.index(r, 0).data(KIND_ROLE) == "escrows"
    )  # fmt: skip
    index = page.feed.model.index(row, 0)
    page.feed.view.setCurrentIndex(index)
    page.feed.view.setFocus()
    qtbot.keyClick(page.feed.view, Qt.Key.Key_Return)
    assert window.current_page_key() == "escrows"
    qtbot.waitUntil(lambda: escrows.current_id() == index.data(RECORD_ID_ROLE), timeout=5000)
    assert escrows.filter_edit.text() == ""  # the filter that hid it was cleared
    window.show_page("dashboard")
    client = page.feed.model.index(0, 0)
    page.feed.view.activated.emit(client)  # a double-click
    clients = window.page_widget("clients")
    assert isinstance(clients, RecordPage)
    assert window.current_page_key() == "clients"
    qtbot.waitUntil(lambda: clients.current_id() == client.data(RECORD_ID_ROLE), timeout=5000)


def test_a_card_menu_offers_the_full_report_then_message_agent(
    qtbot, make_window: WindowFactory, office_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[QUrl] = []
    shown: list[QPoint] = []
    monkeypatch.setattr(team_module, "open_url", lambda url: opened.append(url) or True)
    monkeypatch.setattr(team_module, "popup", lambda _menu, at: shown.append(at))
    _window, page = open_dashboard(qtbot, make_window, office_db)
    view = page.team.view
    view.setFocus()
    view.setCurrentIndex(page.team.proxy.index(0, 0))
    email = view.currentIndex().data(EMAIL_ROLE)
    page.team._context_menu(QPoint(-1, -1))  # the menu key: the current card
    menu = page.team.menu
    assert menu is not None and len(shown) == 1
    actions = [a.text() for a in menu.actions()]
    assert len(actions) == 2
    assert actions[0] == "&View full report…" and actions[1].startswith("&Message ")
    menu.actions()[1].trigger()
    assert [u.toString() for u in opened] == [f"mailto:{email}"]
    page.team._context_menu(view.visualRect(page.team.proxy.index(1, 0)).center())
    assert page.team.menu is not None and len(shown) == 2
    assert view.currentIndex().row() == 1


def test_search_team_and_sort_controls_are_remembered(
    qtbot, make_window: WindowFactory, office_db: Path, ctx: AppContext
) -> None:
    _window, page = open_dashboard(qtbot, make_window, office_db)
    team = page.team
    assert [team.team_combo.itemText(i) for i in range(team.team_combo.count())] == [
        "All teams",
        "North",
        "No team",
    ]
    team.team_combo.setCurrentIndex(team.team_combo.findData("North"))
    assert team.proxy.rowCount() == 1 and team.count_label.text() == "1 of 2 agents"
    team.team_combo.setCurrentIndex(0)
    qtbot.keyClicks(team.search_edit, "zz")
    assert team.body.currentWidget() is team.empty_label
    assert team.empty_label.text() == "No agents match “zz”."
    team.search_edit.setText("cal")
    team.sort_combo.setCurrentIndex(team.sort_combo.findData(SortKey.LAST_ACTIVITY.name))
    team.order_button.click()  # ascending
    page.period_selector.choose(DAYS_90)
    wait_loaded(qtbot, page)

    again = DashboardPage(ctx)
    qtbot.addWidget(again)
    assert again.team.search_edit.text() == "cal"
    assert again.team.sort_key() is SortKey.LAST_ACTIVITY and not again.team.descending()
    assert again.team.model.sort_key is SortKey.LAST_ACTIVITY
    assert not again.team.model.descending
    assert again.period_selector.choice() == DAYS_90


def test_the_page_follows_data_changes_only_while_shown(
    qtbot, make_window: WindowFactory, office_db: Path
) -> None:
    window, page = open_dashboard(qtbot, make_window, office_db)
    db = open_database(f"sqlite:///{office_db}")
    try:
        records.create_escrow(
            db,
            EscrowFields(
                property_address="9 Elm St", purchase_price=Decimal(100000), owner_email=CAL
            ),
        )
    finally:
        db.dispose()
    window.ctx.events.changed(events.ESCROWS)
    wait_loaded(qtbot, page)
    qtbot.waitUntil(lambda: page.overview.escrows.value.text() == "2", timeout=5000)
    assert page.feed.model.index(0, 0).data() == "Cal Ray opened an escrow"

    window.show_page("people")
    window.ctx.events.changed(events.LEADS)
    assert not page.is_loading() and page._stale
    window.ctx.events.changed("deals")  # not shown here: ignored
    window.show_page("dashboard")
    assert page.is_loading() or not page._stale
    wait_loaded(qtbot, page)


def test_several_brokers_are_offered_for_my_business(
    qtbot, make_window: WindowFactory, office_db: Path, ctx: AppContext
) -> None:
    db = open_database(f"sqlite:///{office_db}")
    try:
        add_user(db, DEE, "broker", "Dee", "Dolan")
    finally:
        db.dispose()
    _window, page = open_dashboard(qtbot, make_window, office_db)
    combo = page.business.broker_combo
    assert combo.isVisible() and combo.currentText() == "Choose a broker…"
    assert page.business.business is None
    assert page.business.empty_label.text().startswith("Choose a broker")
    assert page.business.choose_broker(BOB)
    wait_loaded(qtbot, page)
    assert page.business.business is not None and page.business.business.person.email == BOB
    assert ctx.settings.qsettings.value("dashboard/broker") == BOB
    assert combo.currentText() == "Bob Broker"
    assert combo.findData("") < 0  # chosen: no placeholder any more


def test_an_empty_office(qtbot, make_window: WindowFactory, prepared_db_path: Path) -> None:
    _window, page = open_dashboard(qtbot, make_window, prepared_db_path)
    assert page.team.body.currentWidget() is page.team.empty_label
    assert page.team.empty_label.text().startswith("No agents yet.")
    assert page.feed.body.currentWidget() is page.feed.empty_label
    assert page.feed.empty_label.text().startswith("Nothing yet.")
    assert page.business.empty_label.text().startswith("No broker in this office yet")
    assert page.overview.volume.value.text() == "$0"
    assert page.overview.agents.value.text() == "0"
    page.grab()


def test_without_a_database_the_page_says_so(qtbot, ctx: AppContext) -> None:
    page = DashboardPage(ctx)
    qtbot.addWidget(page)
    page.show()
    assert page.team.empty_label.text() == "Open a database to see the dashboard."
    assert page.overview.volume.value.text() == "—"
    page.reload()  # nothing to read
    assert not page.is_loading()


def test_a_refused_report_is_shown_in_place_of_the_cards(
    qtbot, ctx: AppContext, office_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionDenied("dana@office.example is a closer: the agent report is not theirs")

    monkeypatch.setattr(dashboard_service, "load", refuse)
    page = DashboardPage(ctx)
    qtbot.addWidget(page)
    page.show()
    db = open_database(f"sqlite:///{office_db}")
    try:
        page._on_opened(db, None)  # type: ignore[arg-type]
        qtbot.waitUntil(lambda: not page.is_loading(), timeout=5000)
        assert page.team.empty_label.text().startswith("dana@office.example is a closer")
    finally:
        qtbot.waitUntil(lambda: ctx.ops.active() == [], timeout=5000)
        db.dispose()


def test_keyboard_reaches_every_control(qtbot, ctx: AppContext) -> None:
    page = DashboardPage(ctx)
    qtbot.addWidget(page)
    for widget in (
        *page.period_selector.buttons.values(),
        page.team.search_edit,
        page.team.team_combo,
        page.team.sort_combo,
        page.team.order_button,
        page.team.view,
        page.feed.view,
    ):
        assert widget.focusPolicy() & Qt.FocusPolicy.TabFocus, widget.objectName()
    assert QApplication.instance() is not None


@pytest.mark.pg
def test_on_a_server_every_part_is_the_logins_own(
    qtbot, make_window: WindowFactory, pg_db, prompts
) -> None:
    pid = os.getpid()
    bob, ann = f"bob.d{pid}@office.example", f"ann.d{pid}@office.example"
    add_user(pg_db, bob, "broker", "Bob", "Broker", password="pw-bob-123")
    add_user(pg_db, ann, "agent", "Ann", "Lee", broker_email=bob, password="pw-ann-123")
    add_user(pg_db, DEE, "broker", "Dee", "Dolan")  # another brokerage
    records.create_lead(pg_db, LeadFields(name="Bob's own", source="Zillow"), acting=bob)
    records.create_lead(pg_db, LeadFields(name="Ann's", source="Web"), acting=ann)
    records.create_escrow(
        pg_db,
        EscrowFields(property_address="12 Oak St", purchase_price=Decimal(300000)),
        acting=ann,
    )
    records.create_client(pg_db, ClientFields(name="Dee's client"), acting=DEE)

    window = make_window()
    window.open_database(ExplicitUrl(make_url(pg_db.url).set(username=bob).render_as_string(False)))
    wait_settled(qtbot, window)
    page = window.page_widget("dashboard")
    assert isinstance(page, DashboardPage)
    wait_loaded(qtbot, page)
    assert [a.email for a in page.team.model.agents()] == [ann]
    assert card(page, ann).total_leads == 1
    business = page.business.business
    assert business is not None and business.person.email == bob  # the login, not a choice
    assert [s.source for s in business.sources] == ["Zillow"]  # never Ann's
    assert not page.business.broker_combo.isVisible()
    assert [e.subject for e in page.feed.model.entries()] == ["12 Oak St"]  # not Dee's client
    assert prompts.errors == []
    window.ctx.database.close()
