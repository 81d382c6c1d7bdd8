"""SPEC §10 snapshots rebuilt from history (app.domain.snapshots): deal and commission
timelines, the running tally and the day-by-day sweep."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.domain import snapshots as snap

UTC = dt.UTC
D = dt.date(2026, 11, 2)


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


def test_a_day_ends_at_the_next_midnight_utc() -> None:
    assert snap.day_end(D) == dt.datetime(2026, 11, 3, tzinfo=UTC)
    assert snap.days_between(D, dt.date(2026, 11, 4)) == [
        D,
        dt.date(2026, 11, 3),
        dt.date(2026, 11, 4),
    ]


def test_deal_timeline_follows_the_stage_events_and_ends_in_the_current_state() -> None:
    moves = [
        snap.StageMove(at(1), None, "lead_captured"),
        snap.StageMove(at(3), "lead_captured", "closed_won"),
        snap.StageMove(at(4), "closed_won", "negotiation"),
    ]
    current = snap.DealState("negotiation")
    timeline = snap.deal_timeline(at(1), moves, current)
    assert timeline == [
        (at(1), snap.DealState("lead_captured")),
        (at(3), snap.DealState("closed_won", dt.date(2026, 11, 3))),
        (at(4), current),
    ]


def test_a_deal_without_a_creation_event_starts_in_the_first_events_from_stage() -> None:
    moves = [snap.StageMove(at(5), "proposal", "agreement")]
    timeline = snap.deal_timeline(at(1), moves, snap.DealState("agreement"))
    assert timeline[0] == (at(1), snap.DealState("proposal"))
    assert snap.deal_timeline(at(1), [], snap.DealState("proposal")) == [
        (at(1), snap.DealState("proposal"))
    ]


def test_commission_status_is_read_from_its_stamps_and_resolve_gives_back_the_old_one() -> None:
    stamps = {
        "confirmed": at(2),
        "invoiced": None,
        "paid": at(6),
        "disputed": at(3),
        "resolved": at(4),
        "written_off": None,
    }
    assert snap.commission_timeline(at(1), stamps, "paid") == [
        (at(1), "pending"),
        (at(2), "confirmed"),
        (at(3), "disputed"),
        (at(4), "confirmed"),
        (at(6), "paid"),
    ]


def test_a_commission_resolved_before_any_confirmation_goes_back_to_pending() -> None:
    stamps = {"disputed": at(2), "resolved": at(3), "confirmed": at(5)}
    timeline = snap.commission_timeline(at(1), stamps, "confirmed")
    assert [s for _, s in timeline] == ["pending", "disputed", "pending", "confirmed"]


def test_a_commission_without_stamps_has_its_current_status_since_creation() -> None:
    assert snap.commission_timeline(at(1), {}, "paid") == [(at(1), "paid")]


def test_tally_figures_follow_spec_4_and_take_contributions_back() -> None:
    facts = snap.DealFacts(7, dt.date(2026, 11, 1), Decimal("100000"), Decimal("25000.00"))
    t = snap.Tally()
    t.deal(facts, snap.DealState("proposal"), 1)
    f = t.figures("USD")
    assert (f.deals_open, f.gross_pipeline_value, f.weighted_pipeline_value) == (
        1,
        Decimal("100000"),
        Decimal("25000.00"),
    )
    assert f.conversion_rate is None and f.avg_cycle_days is None
    t.deal(facts, snap.DealState("proposal"), -1)
    t.deal(facts, snap.DealState("closed_won", dt.date(2026, 11, 11)), 1)
    lost = snap.DealFacts(7, dt.date(2026, 11, 1), None, None)  # another currency
    t.deal(lost, snap.DealState("closed_lost"), 1)
    f = t.figures("USD")
    assert f.deals_open == 0 and f.gross_pipeline_value == 0
    assert (f.deals_closed_won, f.deals_closed_lost) == (1, 1)
    assert f.closed_won_volume == Decimal("100000")
    assert f.avg_cycle_days == Decimal(10) and f.conversion_rate == Decimal(50)
    assert f.ratios["other_currency_deals"] == 1
    assert f.ratios["deals_by_stage"]["closed_won"] == 1
    assert f.ratios["deals_by_stage"]["proposal"] == 0


def test_commission_amounts_go_to_confirmed_disputed_or_pending() -> None:
    t = snap.Tally()
    for status in ("confirmed", "invoiced", "paid", "disputed", "pending", "written_off"):
        t.commission(Decimal("10.005"), status, 1)
    f = t.figures("USD")
    assert f.confirmed_commission_amount == Decimal("30.015")
    assert f.disputed_commission_amount == Decimal("10.005")
    assert f.ratios["pending_commission_amount"] == "10.01"


def test_sweep_gives_each_days_state_at_its_end() -> None:
    facts = snap.DealFacts(1, dt.date(2026, 11, 1), Decimal("1000"), Decimal("500"))
    deal = snap.DealTrack(
        facts,
        snap.deal_timeline(
            at(1),
            [
                snap.StageMove(at(1), None, "proposal"),
                snap.StageMove(at(3, 23), "proposal", "closed_won"),
            ],
            snap.DealState("closed_won", dt.date(2026, 11, 3)),
        ),
    )
    commission = snap.CommissionTrack(
        1,
        Decimal("30"),
        snap.commission_timeline(at(2), {"confirmed": at(4, 0)}, "confirmed"),
    )
    constant = snap.Constant(1, "paid", Decimal("5"))
    group = snap.DealGroup(1, "closed_lost", 2, 0, Decimal("7"), Decimal("1"), 0)
    days = snap.days_between(dt.date(2026, 10, 31), dt.date(2026, 11, 4))
    seen: list[tuple[int, int, str]] = []
    out = dict(
        snap.sweep(
            days, [1, 2], [deal], [commission], [constant], [group], "USD",
            progress=lambda done, total, text: seen.append((done, total, text)),
        )
    )  # fmt: skip
    assert [out[d][1].deals_open for d in days] == [0, 1, 1, 0, 0]
    assert [out[d][1].deals_closed_won for d in days] == [0, 0, 0, 1, 1]
    assert [out[d][1].deals_closed_lost for d in days] == [2, 2, 2, 2, 2]
    assert out[days[3]][1].avg_cycle_days == Decimal(2)
    assert out[days[3]][1].conversion_rate == Decimal(1) * 100 / 3
    assert [out[d][1].confirmed_commission_amount for d in days] == [
        Decimal(5), Decimal(5), Decimal(5), Decimal(5), Decimal(35),
    ]  # fmt: skip
    assert out[days[2]][1].ratios["pending_commission_amount"] == "30.00"
    assert out[days[0]][2].deals_open == 0  # an agent with nothing gets zeros
    assert seen[-1] == (5, 5, "2026-11-04")


def test_sweep_stops_when_cancelled() -> None:
    days = snap.days_between(D, dt.date(2026, 11, 9))
    out = list(snap.sweep(days, [1], [], [], [], [], "USD", cancelled=lambda: True))
    assert out == []
