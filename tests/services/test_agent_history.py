"""The agent report's history: one agent's figures month by month, on both backends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.domain.errors import PermissionDenied, ValidationError
from app.services.database import Database
from app.services.reports.agent_history import (
    COLUMNS,
    agent_history,
    history_windows,
    money_format,
    to_xlsx,
)
from tests.services.test_agent_report import Office, day


@pytest.fixture
def office(db: Database) -> Office:
    return Office(db)


def test_windows_are_calendar_months_clipped_to_the_range() -> None:
    windows = history_windows(dt.date(2025, 8, 15), dt.date(2025, 10, 22))
    assert [(w.start.date(), w.end.date()) for w in windows] == [
        (dt.date(2025, 8, 15), dt.date(2025, 9, 1)),
        (dt.date(2025, 9, 1), dt.date(2025, 10, 1)),
        (dt.date(2025, 10, 1), dt.date(2025, 10, 23)),
    ]
    assert len(history_windows(dt.date(2025, 3, 3), dt.date(2025, 3, 9))) == 1
    with pytest.raises(ValidationError):
        history_windows(dt.date(2025, 3, 9), dt.date(2025, 3, 3))


def build(office: Office) -> tuple[int, int, int]:
    bob = office.person("Bob Broker", role="broker")
    ann = office.person("Ann Lee", broker=bob)
    cal = office.person("Cal Ray")  # nobody's agent
    office.lead(ann, day("2025-08-20"), status="converted")
    office.lead(ann, day("2025-09-05"))
    office.lead(ann, day("2025-09-06"), private=True)  # counts nowhere
    office.lead(ann, day("2025-10-02"), status="converted")
    office.lead(ann, day("2025-10-30"))  # after the range
    office.appointment(ann, day("2025-09-10"), status="completed")
    office.appointment(ann, day("2025-09-11"), status="no_show")
    office.appointment(ann, day("2025-10-11"), status="completed")
    office.appointment(ann, day("2025-10-12"), status="cancelled")
    office.escrow(ann, day("2025-09-15"), price="400000", commission="12000")
    office.escrow(ann, day("2025-10-01"), price="250000.50", commission="7500")
    office.escrow(ann, day("2025-10-03"), status="Cancelled", price="999999")
    office.client(ann, created=day("2025-09-01"))
    office.listing(ann, created=day("2025-10-05"))
    office.lead(cal, day("2025-09-05"))
    return bob, ann, cal


def test_one_row_per_month_with_the_spec_2_figures(db: Database, office: Office) -> None:
    _bob, ann, _cal = build(office)
    h = agent_history(db, ann, dt.date(2025, 8, 1), dt.date(2025, 10, 22))
    assert (h.email, h.name, h.currency) == ("ann.lee@example.com", "Ann Lee", "USD")
    assert [m.label for m in h.months] == ["Aug 2025", "Sep 2025", "Oct 2025"]
    aug, sep, oct_ = h.months
    assert (aug.total_leads, aug.new_leads, aug.converted_leads) == (1, 1, 1)
    assert aug.conversion_rate_pct == Decimal("100.00")
    assert (sep.total_leads, sep.new_leads, sep.converted_leads) == (2, 1, 1)
    assert sep.conversion_rate_pct == Decimal("50.00")
    assert (sep.appointments_scheduled, sep.appointments_completed, sep.no_shows) == (2, 1, 1)
    assert sep.show_rate_pct == Decimal("50.0")
    assert (sep.escrows, sep.volume, sep.commission) == (1, Decimal(400000), Decimal(12000))
    assert (sep.active_clients, sep.active_listings) == (1, 0)
    assert (oct_.total_leads, oct_.new_leads, oct_.converted_leads) == (3, 1, 2)
    assert (oct_.appointments_scheduled, oct_.appointments_completed) == (1, 1)
    assert oct_.show_rate_pct == Decimal("100.0")
    assert (oct_.escrows, oct_.volume) == (1, Decimal("250000.50"))
    assert (oct_.active_clients, oct_.active_listings) == (1, 1)
    assert oct_.last_day == dt.date(2025, 10, 22)
    t = h.totals
    assert (t.total_leads, t.new_leads, t.converted_leads) == (3, 3, 2)
    assert (t.appointments_scheduled, t.appointments_completed, t.no_shows) == (3, 2, 1)
    assert t.show_rate_pct == Decimal("66.7")
    assert (t.escrows, t.volume, t.commission) == (2, Decimal("650000.50"), Decimal(19500))


def test_a_range_with_no_data_is_zeros(db: Database, office: Office) -> None:
    _bob, ann, _cal = build(office)
    h = agent_history(db, ann, dt.date(2024, 1, 1), dt.date(2024, 2, 29))
    assert len(h.months) == 2
    assert all(m.new_leads == 0 and m.volume == 0 for m in h.months)
    assert h.totals.conversion_rate_pct is None and h.totals.show_rate_pct is None


def test_visibility_is_the_agent_reports(db: Database, office: Office) -> None:
    _bob, ann, cal = build(office)
    start, end = dt.date(2025, 9, 1), dt.date(2025, 9, 30)
    bob_mail, ann_mail = "bob.broker@example.com", "ann.lee@example.com"
    assert agent_history(db, ann, start, end, acting_email=bob_mail).months[0].new_leads == 1
    assert agent_history(db, ann, start, end, acting_email=ann_mail).user_id == ann
    with pytest.raises(PermissionDenied):
        agent_history(db, cal, start, end, acting_email=bob_mail)  # not Bob's agent
    with pytest.raises(PermissionDenied):
        agent_history(db, cal, start, end, acting_email=ann_mail)  # another agent
    with pytest.raises(ValidationError):
        agent_history(db, 99_999, start, end)
    assert agent_history(db, cal, start, end).months[0].new_leads == 1  # local mode


def test_xlsx_round_trip(db: Database, office: Office, tmp_path: Path) -> None:
    _bob, ann, _cal = build(office)
    h = agent_history(db, ann, dt.date(2025, 8, 1), dt.date(2025, 10, 22))
    path = tmp_path / "ann.xlsx"
    to_xlsx(h, path)
    ws = load_workbook(path).active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[1]) == [header for header, _, _ in COLUMNS]
    assert [r[0] for r in rows[2:]] == ["Aug 2025", "Sep 2025", "Oct 2025", "Total"]
    volume = [header for header, _, _ in COLUMNS].index("Volume")
    assert rows[3][volume] == 400000 and rows[5][volume] == pytest.approx(650000.50)
    assert rows[5][1:4] == (3, 3, 2)
    assert ws.cell(row=6, column=volume + 1).number_format == money_format("USD")
    assert money_format("USD") == '#,##0.00 "USD"'
