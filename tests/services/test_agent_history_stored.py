"""The agent report's history reads the ``agent-kpis`` job's final monthly rows (docs/rules.md,
Agent KPIs, Jobs, Agent full report), on both backends.

A whole calendar month of the range whose ``agent_monthly_kpis`` row was computed over the
whole month after the month ended is read from that row; every other month (the running
month, a month the range cuts, a month not stored or stored only to date) and the totals are
counted live. Every test pins its times: the history runs up to 2026-03-15 over records of
December 2025 to March 2026, and final rows are computed at 2026-03-02 00:00 UTC.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.models import AgentMonthlyKpi, Lead
from app.services.database import Database, open_database
from app.services.jobs.agent_kpis import (
    computed_stamp,
    is_final,
    month_end,
    month_windows,
    store_agent_kpis,
)
from app.services.reports.agent_history import AgentHistory, MonthFigures, agent_history
from app.services.users import add_user
from tests.services.test_agent_report import Office, day

START = dt.date(2026, 1, 1)
END = dt.date(2026, 3, 15)  # the history's as_of: March is the running month
FINAL_NOW = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)  # the job's clock for final rows
JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)
_serial = itertools.count()


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def store(db: Database, as_of: dt.date, now: dt.datetime, backfill_months: int = 0) -> int:
    """The ``agent-kpis`` job's work, run as the database owner with a pinned clock."""
    with db.session() as s:
        return store_agent_kpis(s, db.dialect, as_of, backfill_months, now=now)


def store_final(db: Database) -> None:
    """December 2025 to February 2026 stored whole after they ended, March to its 1st."""
    store(db, dt.date(2026, 3, 1), FINAL_NOW, backfill_months=3)


def history(db: Database, uid: int, start: dt.date = START, end: dt.date = END) -> AgentHistory:
    return agent_history(db, uid, start, end)


def by_month(h: AgentHistory) -> dict[dt.date, MonthFigures]:
    return {m.month: m for m in h.months}


def unstamped(m: MonthFigures) -> MonthFigures:
    return dataclasses.replace(m, stored_at=None)


def stored_row(db: Database, uid: int, first: dt.date) -> AgentMonthlyKpi:
    with db.read() as s:
        return s.scalars(
            sa.select(AgentMonthlyKpi).where(
                AgentMonthlyKpi.user_id == uid, AgentMonthlyKpi.period_start == first
            )
        ).one()


def add_lead(db: Database, owner: int, created: dt.datetime, status: str = "new") -> int:
    with db.session() as s:
        lead = Lead(owner_id=owner, name=f"Late {next(_serial)}", status=status, created_at=created)
        s.add(lead)
        s.flush()
        return int(lead.id)


def set_lead_status(db: Database, owner: int, created: dt.datetime, status: str) -> None:
    with db.session() as s:
        (lead,) = s.scalars(
            sa.select(Lead).where(Lead.owner_id == owner, Lead.created_at == created)
        ).all()
        lead.status = status


def fill(office: Office, ann: int) -> None:
    """Ann's records: something in every month, rates that need rounding."""
    office.lead(ann, day("2025-12-10"))
    office.lead(ann, day("2026-01-05"), status="converted")
    office.lead(ann, day("2026-01-20"))  # January: 3 leads, 1 converted -> 33.33 %
    office.lead(ann, day("2026-01-21"), private=True)  # counts nowhere
    office.lead(ann, day("2026-02-03"), status="converted")
    office.lead(ann, day("2026-02-25"))
    office.lead(ann, day("2026-03-05"))
    office.appointment(ann, day("2026-01-10"), status="completed")
    office.appointment(ann, day("2026-01-12"), status="no_show")
    office.appointment(ann, day("2026-01-13"), status="completed")  # 66.7 %
    office.appointment(ann, day("2026-01-14"), status="cancelled")
    office.appointment(ann, day("2026-02-10"), status="completed")
    office.appointment(ann, day("2026-02-11"), status="no_show")
    office.appointment(ann, day("2026-02-12"), status="no_show")  # 33.3 %
    office.appointment(ann, day("2026-02-13"), status="completed", private=True)
    office.appointment(ann, day("2026-03-06"), status="completed")
    office.escrow(ann, day("2026-01-15"), price="300000", commission="9000")
    office.escrow(ann, day("2026-02-20"), status="Closed", price="500000.50", commission="15000")
    office.escrow(ann, day("2026-02-21"), price="120000", commission=None)
    office.escrow(ann, day("2026-02-22"), status="Cancelled", price="999999")
    office.client(ann, created=day("2026-01-03"))
    office.client(ann, status="inactive", created=day("2026-01-04"))
    office.listing(ann, created=day("2026-01-08"))
    office.listing(ann, status="sold", created=day("2026-02-08"))


@pytest.fixture
def office(db: Database) -> Office:
    return Office(db)


@pytest.fixture
def ann(office: Office) -> int:
    bob = office.person("Bob Broker", role="broker")
    who = office.person("Ann Lee", broker=bob)
    fill(office, who)
    return who


# ---------------------------------------------------------------------------- the stamp


def test_a_pinned_replay_inside_a_month_never_passes_for_final(db: Database, ann: int) -> None:
    (to_the_10th,) = month_windows(dt.date(2026, 2, 10))
    (whole,) = month_windows(dt.date(2026, 2, 28))
    later = utc("2026-03-05T09:00")
    # A window that stops before the month's end is stamped at most with its own end...
    assert computed_stamp(to_the_10th, later) == utc("2026-02-11T00:00")
    assert not is_final(to_the_10th.as_of, computed_stamp(to_the_10th, later))
    assert computed_stamp(to_the_10th, utc("2026-02-10T08:00")) == utc("2026-02-10T08:00")
    # ...while a whole month keeps the clock: final only once the month has ended.
    assert month_end(dt.date(2026, 2, 28)) == utc("2026-03-01T00:00")
    assert computed_stamp(whole, later) == later and is_final(whole.as_of, later)
    assert is_final(whole.as_of, utc("2026-03-01T00:00"))
    assert not is_final(whole.as_of, computed_stamp(whole, utc("2026-02-28T23:59:59")))

    store_final(db)
    assert stored_row(db, ann, FEB).new_leads == 2
    # A replay pinned to 10 February, run later, overwrites February with its figures to
    # date (1 new lead): they must never be read as February's final figures.
    store(db, dt.date(2026, 2, 10), later)
    row = stored_row(db, ann, FEB)
    assert (row.period_end, row.new_leads, row.created_at) == (
        dt.date(2026, 2, 28),
        1,
        utc("2026-02-11T00:00"),
    )

    feb = by_month(history(db, ann))[FEB]
    assert feb.stored_at is None and feb.source == "live"
    assert (feb.new_leads, feb.converted_leads) == (2, 2)
    assert (feb.appointments_completed, feb.no_shows) == (1, 2)
    assert by_month(history(db, ann))[JAN].stored_at == FINAL_NOW  # untouched by the replay


# ---------------------------------------------------------------------------- stored months


def test_a_month_stored_after_it_ended_is_read_from_the_stored_row(db: Database, ann: int) -> None:
    before = history(db, ann)  # nothing stored: every month live
    assert all(m.stored_at is None and m.source == "live" for m in before.months)
    store_final(db)
    assert is_final(dt.date(2026, 2, 28), stored_row(db, ann, FEB).created_at)
    # The records change after the job counted them: a lead backdated into February, one
    # of January's leads converted since, a February appointment completed late.
    add_lead(db, ann, day("2026-02-14"))
    set_lead_status(db, ann, day("2026-01-20"), "converted")
    Office(db).appointment(ann, day("2026-02-15"), status="completed")

    after = history(db, ann)
    months = by_month(after)
    for first in (JAN, FEB):
        m = months[first]
        assert m.stored_at == FINAL_NOW
        assert m.source == "stored 2026-03-02"
        assert unstamped(m) == by_month(before)[first]  # the figures as the job counted them
    assert (months[JAN].converted_leads, months[JAN].conversion_rate_pct) == (1, Decimal("33.33"))
    assert (months[FEB].total_leads, months[FEB].new_leads) == (5, 2)
    assert (months[FEB].appointments_completed, months[FEB].show_rate_pct) == (1, Decimal("33.3"))
    # The running month and the totals see the change.
    assert months[MAR].stored_at is None
    assert months[MAR].total_leads == by_month(before)[MAR].total_leads + 1
    assert months[MAR].converted_leads == by_month(before)[MAR].converted_leads + 1
    t, t0 = after.totals, before.totals
    assert (t.new_leads, t.converted_leads) == (t0.new_leads + 1, t0.converted_leads + 1)
    assert t.appointments_completed == t0.appointments_completed + 1
    assert t.stored_at is None and t.source == "live"


@pytest.mark.parametrize(
    ("as_of", "now"),
    [
        (dt.date(2026, 2, 10), utc("2026-02-10T18:00")),  # the month to date
        (dt.date(2026, 2, 10), utc("2026-03-04T08:00")),  # a later replay to date
        (dt.date(2026, 2, 28), utc("2026-02-28T20:00")),  # whole window, before it ended
    ],
    ids=["month-to-date", "replay-to-date", "last-day-before-midnight"],
)
def test_a_month_stored_only_to_date_is_counted_live(
    db: Database, ann: int, as_of: dt.date, now: dt.datetime
) -> None:
    store(db, as_of, now)
    row = stored_row(db, ann, FEB)
    assert row.period_end == dt.date(2026, 2, 28)
    assert not is_final(row.period_end, row.created_at)
    add_lead(db, ann, day("2026-02-05"))  # so the stored row is out of date

    feb = by_month(history(db, ann))[FEB]
    assert feb.stored_at is None and feb.source == "live"
    assert (feb.total_leads, feb.new_leads, feb.converted_leads) == (6, 3, 2)
    assert feb.new_leads != row.new_leads


def test_a_month_not_stored_is_counted_live(db: Database, ann: int) -> None:
    store(db, dt.date(2026, 2, 28), FINAL_NOW)  # February only: January has no row
    months = by_month(history(db, ann))
    assert months[FEB].stored_at == FINAL_NOW
    assert months[JAN].stored_at is None
    assert (months[JAN].total_leads, months[JAN].new_leads) == (3, 2)


def test_the_running_month_and_cut_months_are_counted_live(db: Database, ann: int) -> None:
    store_final(db)
    # March stored over its whole window while it is still running (as_of its last day).
    store(db, dt.date(2026, 3, 31), utc("2026-03-31T12:00"))
    assert stored_row(db, ann, MAR).period_end == dt.date(2026, 3, 31)
    add_lead(db, ann, day("2026-03-20"))
    add_lead(db, ann, day("2026-01-25"))
    add_lead(db, ann, day("2026-02-26"))

    # The running month, whole in the range but not ended when stored.
    (mar,) = history(db, ann, MAR, dt.date(2026, 3, 31)).months
    assert mar.stored_at is None and (mar.new_leads, mar.total_leads) == (2, 9)
    # The running month cut at the history's as_of.
    mar_to_15 = by_month(history(db, ann))[MAR]
    assert mar_to_15.stored_at is None and mar_to_15.last_day == END
    assert (mar_to_15.new_leads, mar_to_15.total_leads) == (1, 8)

    # A first month the range cuts: from 10 January, so the 5 January lead is not new.
    jan, feb = history(db, ann, dt.date(2026, 1, 10), dt.date(2026, 2, 28)).months
    assert jan.stored_at is None and jan.first_day == dt.date(2026, 1, 10)
    assert (jan.total_leads, jan.new_leads, jan.appointments_scheduled) == (4, 2, 3)
    assert feb.stored_at == FINAL_NOW and feb.new_leads == 2  # whole: the stored row

    # A last month the range cuts: up to 20 February.
    jan, feb = history(db, ann, START, dt.date(2026, 2, 20)).months
    assert jan.stored_at == FINAL_NOW and jan.new_leads == 2  # the row, not the late lead
    assert feb.stored_at is None and feb.last_day == dt.date(2026, 2, 20)
    assert (feb.new_leads, feb.escrows, feb.volume) == (1, 1, Decimal("500000.50"))


# ---------------------------------------------------------------------------- rates, totals


def test_stored_show_rate_has_one_decimal_like_the_live_rule(db: Database, ann: int) -> None:
    live = by_month(history(db, ann, dt.date(2025, 12, 1)))
    store_final(db)
    assert stored_row(db, ann, JAN).show_rate == Decimal("66.7")  # NUMERIC(5,2): 66.70
    stored = by_month(history(db, ann, dt.date(2025, 12, 1)))
    for first, show, conversion in (
        (JAN, "66.7", "33.33"),
        (FEB, "33.3", "40.00"),
    ):
        assert stored[first].stored_at == FINAL_NOW
        assert str(stored[first].show_rate_pct) == show == str(live[first].show_rate_pct)
        assert str(stored[first].conversion_rate_pct) == conversion
        assert str(live[first].conversion_rate_pct) == conversion
    dec = stored[dt.date(2025, 12, 1)]  # no appointments: no rate, as live
    assert dec.stored_at == FINAL_NOW
    assert dec.show_rate_pct is None and str(dec.conversion_rate_pct) == "0.00"


def test_totals_are_counted_live_not_summed(db: Database, ann: int) -> None:
    store_final(db)
    add_lead(db, ann, day("2026-01-25"), status="converted")
    set_lead_status(db, ann, day("2026-02-25"), "lost")

    with_rows = history(db, ann)
    assert [m.stored_at for m in with_rows.months] == [FINAL_NOW, FINAL_NOW, None]
    t = with_rows.totals
    # Counted over the whole range now: the late lead and the status change are in.
    assert (t.total_leads, t.new_leads, t.converted_leads) == (7, 6, 3)
    assert t.conversion_rate_pct == Decimal("42.86")
    assert (t.appointments_scheduled, t.appointments_completed, t.no_shows) == (7, 4, 3)
    assert t.show_rate_pct == Decimal("57.1")
    assert (t.escrows, t.volume, t.commission) == (
        3,
        Decimal("920000.50"),
        Decimal("24000"),
    )
    # Counts as at the range's end, not sums of the months.
    assert (t.active_clients, t.active_listings) == (1, 1)
    assert t.total_leads != sum(m.total_leads for m in with_rows.months)
    assert t.new_leads != sum(m.new_leads for m in with_rows.months)
    assert t.stored_at is None and (t.month, t.first_day, t.last_day) == (START, START, END)

    with db.session() as s:  # the same history with no stored rows at all
        s.execute(sa.delete(AgentMonthlyKpi))
    all_live = history(db, ann)
    assert all(m.stored_at is None for m in all_live.months)
    assert all_live.totals == t


def test_stored_and_live_figures_agree_when_nothing_changed(
    db: Database, office: Office, ann: int
) -> None:
    idle = office.person("Ida Idle")  # no records at all: zeros and no rates
    first_day = dt.date(2025, 12, 1)
    live = {uid: history(db, uid, first_day) for uid in (ann, idle)}
    assert all(m.stored_at is None for h in live.values() for m in h.months)
    store_final(db)

    for uid in (ann, idle):
        stored = history(db, uid, first_day)
        was_months = live[uid].months
        assert [m.month for m in stored.months] == [dt.date(2025, 12, 1), JAN, FEB, MAR]
        for was, now in zip(was_months[:3], stored.months[:3], strict=True):
            assert now.stored_at == FINAL_NOW, now.label
            assert unstamped(now) == was, now.label
            for name in ("conversion_rate_pct", "show_rate_pct", "volume", "commission"):
                assert str(getattr(now, name)) == str(getattr(was, name)), (now.label, name)
        assert stored.months[3] == was_months[3]  # March to date: counted live both times
        assert stored.totals == live[uid].totals
    feb = by_month(history(db, ann))[FEB]
    assert (feb.escrows, feb.commission) == (2, Decimal(15000))  # not the Cancelled one
    (idle_jan,) = history(db, idle, JAN, dt.date(2026, 1, 31)).months
    assert idle_jan.stored_at == FINAL_NOW
    assert (idle_jan.conversion_rate_pct, idle_jan.show_rate_pct, idle_jan.volume) == (
        None,
        None,
        Decimal(0),
    )


# ---------------------------------------------------------------------------- shared mode


@dataclass
class Shared:
    db: Database  # the database owner's connection (no policy applies)
    emails: dict[str, str]
    ids: dict[str, int]
    _logins: dict[str, Database]

    def login(self, who: str) -> Database:
        if who not in self._logins:
            url = make_url(self.db.url).set(username=self.emails[who], password=None)
            self._logins[who] = open_database(url.render_as_string(hide_password=False))
        return self._logins[who]


@pytest.fixture
def shared(pg_db: Database) -> Iterator[Shared]:
    """A broker; a manager managing Central (Ann's team); Mona, a manager who is a member of
    South (Ben's team) without managing it, so the agent report shows her Ben while the
    row-level security of ``agent_monthly_kpis`` does not."""
    tag = f"{os.getpid()}h{next(_serial)}"
    emails = {
        key: f"{key}.{tag}@example.com" for key in ("broker", "manager", "mona", "ann", "ben")
    }
    people = {
        "broker": ("broker", None, None),
        "manager": ("manager", "Central", "broker"),
        "mona": ("manager", "South", "broker"),
        "ann": ("agent", "Central", "broker"),
        "ben": ("agent", "South", "broker"),
    }
    ids = {}
    for key, (role, team, broker) in people.items():
        ids[key] = add_user(
            pg_db,
            emails[key],
            role,
            first_name=key.capitalize(),
            last_name="Shared",
            team=team,
            broker_email=emails[broker] if broker else None,
        ).id
    with pg_db.session() as s:
        s.execute(
            sa.text("UPDATE teams SET manager_id = :m WHERE name = 'Central'"),
            {"m": ids["manager"]},
        )
    office = Office(pg_db)
    for key in ("ann", "ben"):
        fill(office, ids[key])
    result = Shared(pg_db, emails, ids, {})
    yield result
    for login in result._logins.values():
        login.dispose()


def change_february(db: Database, uid: int) -> None:
    add_lead(db, uid, day("2026-02-14"))


@pytest.mark.pg
@pytest.mark.parametrize("who", ["ann", "broker", "manager"])
def test_a_login_that_may_read_the_row_gets_the_stored_month(shared: Shared, who: str) -> None:
    ann = shared.ids["ann"]
    before = history(shared.db, ann)
    store_final(shared.db)
    change_february(shared.db, ann)

    h = history(shared.login(who), ann)
    feb = by_month(h)[FEB]
    assert feb.stored_at == FINAL_NOW
    assert unstamped(feb) == by_month(before)[FEB]
    assert h.totals.new_leads == before.totals.new_leads + 1


@pytest.mark.pg
def test_a_manager_login_that_may_not_read_the_row_counts_the_month_live(
    shared: Shared,
) -> None:
    ben = shared.ids["ben"]
    store_final(shared.db)
    change_february(shared.db, ben)
    mona = shared.login("mona")
    with mona.engine.connect() as conn:  # the policy hides Ben's rows from her
        rows = conn.execute(sa.select(AgentMonthlyKpi.id).where(AgentMonthlyKpi.user_id == ben))
        assert rows.all() == []

    h = history(mona, ben)
    assert [m.stored_at for m in h.months] == [None, None, None]
    feb = by_month(h)[FEB]
    # Lead and appointment counts through the server's functions, with the late lead; no
    # escrows, which her login does not see (Ben's team is not one she manages).
    assert (feb.total_leads, feb.new_leads, feb.converted_leads) == (6, 3, 2)
    assert (feb.appointments_completed, feb.no_shows) == (1, 2)
    assert by_month(history(shared.db, ben))[FEB].stored_at == FINAL_NOW  # the row is there


@pytest.mark.pg
def test_an_agent_login_that_cannot_read_the_table_counts_every_month_live(
    shared: Shared, caplog: pytest.LogCaptureFixture
) -> None:
    ann = shared.ids["ann"]
    store_final(shared.db)
    change_february(shared.db, ann)
    with shared.db.session() as s:  # this scratch database only
        s.execute(sa.text("REVOKE SELECT ON agent_monthly_kpis FROM perfdesk_user"))

    with caplog.at_level("WARNING"):
        h = history(shared.login("ann"), ann)
    assert [m.stored_at for m in h.months] == [None, None, None]
    assert by_month(h)[FEB].new_leads == 3  # counted now, with the late lead
    assert h.totals.new_leads == 6  # the report's transaction went on after the refusal
    assert "counting every month live" in caplog.text
