"""SPEC §4 as pure functions: stages, moves, confidence and amounts, the board's figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.enums import DealStage, DealStatus
from app.domain.errors import ValidationError
from app.domain.pipeline import (
    CLOSED_STAGES,
    MONEY_LIMIT,
    OPEN_STAGES,
    STAGE_LABELS,
    STAGES,
    PipelineError,
    average_cycle_days,
    check_amount,
    check_confidence,
    conversion_rate,
    cycle_days,
    durations,
    format_duration,
    neighbour,
    parse_stage,
    plan_move,
    stage_index,
    status_for,
    weighted_value,
)

S = DealStage
TODAY = dt.date(2026, 5, 1)
EARLIER = dt.date(2026, 3, 14)
UTC = dt.UTC

SPEC_ORDER = (
    "lead_captured",
    "qualification",
    "needs_analysis",
    "proposal",
    "negotiation",
    "agreement",
    "due_diligence",
    "awaiting_closure",
    "closed_won",
    "closed_lost",
)


def refused(call: object, *args: object, **kw: object) -> PipelineError:
    with pytest.raises(PipelineError) as info:
        call(*args, **kw)  # type: ignore[operator]
    return info.value


# ------------------------------------------------------------------------------- stages


def test_stages_are_in_spec_order() -> None:
    assert tuple(s.value for s in STAGES) == SPEC_ORDER
    assert [stage_index(s) for s in STAGES] == list(range(10))


def test_closed_stages_are_won_and_lost_and_every_other_stage_is_open() -> None:
    assert frozenset({S.CLOSED_WON, S.CLOSED_LOST}) == CLOSED_STAGES
    assert tuple(STAGES[:8]) == OPEN_STAGES


def test_neighbour_steps_left_and_right_and_stops_at_the_ends() -> None:
    assert neighbour(S.QUALIFICATION, 1) is S.NEEDS_ANALYSIS
    assert neighbour(S.QUALIFICATION, -1) is S.LEAD_CAPTURED
    assert neighbour(S.LEAD_CAPTURED, -1) is None
    assert neighbour(S.CLOSED_LOST, 1) is None


def test_status_follows_the_stage() -> None:
    assert status_for(S.CLOSED_WON) is DealStatus.CLOSED_WON
    assert status_for(S.CLOSED_LOST) is DealStatus.CLOSED_LOST
    assert {status_for(s) for s in OPEN_STAGES} == {DealStatus.OPEN}


@pytest.mark.parametrize("stage", list(DealStage))
def test_parse_stage_takes_the_stored_value_or_the_label(stage: DealStage) -> None:
    assert parse_stage(stage.value) is stage
    assert parse_stage(STAGE_LABELS[stage]) is stage
    assert parse_stage(f"  {STAGE_LABELS[stage].upper()} ") is stage
    assert parse_stage(stage.value.upper()) is stage


@pytest.mark.parametrize("text", ["", "won", "closed", "closed-won", "stage 9", "proposals"])
def test_parse_stage_refuses_anything_else_naming_the_field(text: str) -> None:
    err = refused(parse_stage, text, "STAGE")
    assert err.field == "STAGE"
    assert str(err).startswith(f"STAGE: {text.strip()!r} is not a stage")
    assert "lead_captured" in str(err) and "closed_lost" in str(err)
    assert isinstance(err, ValidationError)


def test_parse_stage_names_pipeline_stage_by_default() -> None:
    assert refused(parse_stage, "nope").field == "pipeline_stage"


# ------------------------------------------------------------------------------- moves


@pytest.mark.parametrize("stage", list(DealStage))
def test_move_to_the_same_stage_is_refused(stage: DealStage) -> None:
    status = status_for(stage)
    err = refused(plan_move, stage, stage, status, None, TODAY, "why")
    assert err.field == "to_stage"
    assert "already in" in str(err)


@pytest.mark.parametrize("from_stage", OPEN_STAGES)
def test_move_into_closed_won_sets_status_and_close_date(from_stage: DealStage) -> None:
    plan = plan_move(from_stage, S.CLOSED_WON, DealStatus.OPEN, None, TODAY)
    assert (plan.from_stage, plan.to_stage) == (from_stage, S.CLOSED_WON)
    assert plan.status is DealStatus.CLOSED_WON
    assert plan.actual_close_date == TODAY


@pytest.mark.parametrize("from_stage", OPEN_STAGES)
def test_move_into_closed_lost_sets_status_and_close_date(from_stage: DealStage) -> None:
    plan = plan_move(from_stage, S.CLOSED_LOST, DealStatus.OPEN, None, TODAY, "went cash")
    assert plan.status is DealStatus.CLOSED_LOST
    assert plan.actual_close_date == TODAY
    assert plan.note == "went cash"


def test_move_from_won_to_lost_takes_the_new_close_date() -> None:
    plan = plan_move(S.CLOSED_WON, S.CLOSED_LOST, DealStatus.CLOSED_WON, EARLIER, TODAY, "fell")
    assert (plan.status, plan.actual_close_date) == (DealStatus.CLOSED_LOST, TODAY)


@pytest.mark.parametrize("closed", sorted(CLOSED_STAGES))
@pytest.mark.parametrize("to_stage", OPEN_STAGES)
def test_move_out_of_a_closed_stage_reopens_with_the_date_cleared(
    closed: DealStage, to_stage: DealStage
) -> None:
    plan = plan_move(closed, to_stage, status_for(closed), EARLIER, TODAY)
    assert plan.status is DealStatus.OPEN
    assert plan.actual_close_date is None


def test_move_between_open_stages_keeps_the_deal_open_without_a_close_date() -> None:
    plan = plan_move(S.PROPOSAL, S.QUALIFICATION, DealStatus.OPEN, None, TODAY)
    assert (plan.status, plan.actual_close_date, plan.note) == (DealStatus.OPEN, None, None)


@pytest.mark.parametrize("to_stage", [S.PROPOSAL, S.CLOSED_WON, S.CLOSED_LOST])
def test_a_cancelled_deal_does_not_move(to_stage: DealStage) -> None:
    err = refused(plan_move, S.NEGOTIATION, to_stage, DealStatus.CANCELLED, None, TODAY, "x")
    assert err.field == "status"
    assert "cancelled" in str(err)


@pytest.mark.parametrize("note", [None, "", "   \n\t"])
def test_closed_lost_needs_a_note(note: str | None) -> None:
    err = refused(plan_move, S.PROPOSAL, S.CLOSED_LOST, DealStatus.OPEN, None, TODAY, note)
    assert err.field == "note"
    assert "reason" in str(err)


def test_closed_won_and_open_moves_need_no_note() -> None:
    assert plan_move(S.PROPOSAL, S.CLOSED_WON, DealStatus.OPEN, None, TODAY).note is None
    assert plan_move(S.PROPOSAL, S.AGREEMENT, DealStatus.OPEN, None, TODAY, "  ").note is None


def test_the_note_is_stripped() -> None:
    plan = plan_move(S.PROPOSAL, S.AGREEMENT, DealStatus.OPEN, None, TODAY, "  signed LOI \n")
    assert plan.note == "signed LOI"


def test_note_length_is_at_most_2000_characters() -> None:
    ok = plan_move(S.PROPOSAL, S.CLOSED_LOST, DealStatus.OPEN, None, TODAY, "x" * 2000)
    assert ok.note == "x" * 2000
    # Surrounding blanks do not count against the limit.
    padded = plan_move(S.PROPOSAL, S.AGREEMENT, DealStatus.OPEN, None, TODAY, f" {'y' * 2000} ")
    assert padded.note == "y" * 2000
    err = refused(plan_move, S.PROPOSAL, S.AGREEMENT, DealStatus.OPEN, None, TODAY, "x" * 2001)
    assert err.field == "note"
    assert "2,000" in str(err)


# ------------------------------------------------------------------------------- confidence


@pytest.mark.parametrize("value", ["0", "1", "0.5", "0.0001", "0.9999", "1.0000", "0E-10"])
def test_check_confidence_accepts_0_to_1_with_4_decimals(value: str) -> None:
    assert check_confidence(D(value)) == D(value)


@pytest.mark.parametrize("value", ["-0.0001", "1.0001", "2", "-1", "1E+26", "-1E+26"])
def test_check_confidence_refuses_values_outside_0_to_1(value: str) -> None:
    err = refused(check_confidence, D(value))
    assert err.field == "confidence"
    assert "between 0 and 1" in str(err)


@pytest.mark.parametrize("value", ["0.00001", "0.12345", "0.99999", "0.5000000001"])
def test_check_confidence_refuses_more_than_4_decimals(value: str) -> None:
    err = refused(check_confidence, D(value))
    assert err.field == "confidence"
    assert "4 decimals" in str(err)


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_check_confidence_refuses_nan_and_infinity(value: str) -> None:
    assert refused(check_confidence, D(value)).field == "confidence"


def test_check_confidence_names_the_field_it_is_given() -> None:
    assert refused(check_confidence, D(2), "row 3 confidence").field == "row 3 confidence"


# ------------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("0", "0.00"),
        ("450000", "450000.00"),
        ("1.005", "1.01"),  # half-up
        ("1.004", "1.00"),
        ("2.675", "2.68"),
        ("99999999999999.99", "99999999999999.99"),
    ],
)
def test_check_amount_rounds_half_up_to_cents(value: str, stored: str) -> None:
    result = check_amount(D(value))
    assert result == D(stored)
    assert result.as_tuple().exponent == -2


def test_check_amount_refuses_a_negative_amount() -> None:
    err = refused(check_amount, D("-0.01"))
    assert err.field == "estimated_value_amount"
    assert "negative" in str(err)


@pytest.mark.parametrize("value", ["100000000000000", "99999999999999.995", "1E+26", "1E+400"])
def test_check_amount_refuses_what_numeric_16_2_cannot_hold(value: str) -> None:
    err = refused(check_amount, D(value), "price")
    assert err.field == "price"
    assert f"{MONEY_LIMIT:,}" in str(err)


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_check_amount_refuses_nan_and_infinity(value: str) -> None:
    assert refused(check_amount, D(value)).field == "estimated_value_amount"


# ------------------------------------------------------------------------------- figures


def test_weighted_value_is_estimated_times_confidence_unrounded() -> None:
    assert weighted_value(D("450000"), D("0.35")) == D("157500")
    assert weighted_value(D("0.05"), D("0.5")) == D("0.025")  # not rounded to cents here
    assert weighted_value(D("123.45"), D("0")) == 0


@given(
    estimated=st.decimals(min_value=0, max_value=MONEY_LIMIT, places=2),
    confidence=st.decimals(min_value=0, max_value=1, places=4),
)
def test_weighted_value_never_exceeds_the_estimate(estimated: D, confidence: D) -> None:
    weighted = weighted_value(estimated, confidence)
    assert 0 <= weighted <= estimated
    assert weighted == estimated * confidence  # exact: 16 + 5 digits fit the context


def test_cycle_days_count_from_the_utc_date_of_creation() -> None:
    late_evening_la = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    assert cycle_days(late_evening_la, dt.date(2026, 3, 12)) == 10  # created 2 March UTC
    assert cycle_days(dt.datetime(2026, 3, 12, 9, tzinfo=UTC), dt.date(2026, 3, 12)) == 0


def test_average_cycle_days_is_the_mean_over_closed_won_deals() -> None:
    pairs = [
        (dt.datetime(2026, 1, 1, 10, tzinfo=UTC), dt.date(2026, 1, 11)),  # 10
        (dt.datetime(2026, 1, 1, 10, tzinfo=UTC), dt.date(2026, 1, 21)),  # 20
        (dt.datetime(2026, 2, 1, 23, tzinfo=UTC), dt.date(2026, 2, 2)),  # 1
    ]
    assert average_cycle_days(pairs) == D(31) / D(3)
    assert average_cycle_days(iter(pairs[:2])) == D(15)


def test_average_cycle_days_of_no_deal_is_undefined() -> None:
    assert average_cycle_days([]) is None


def test_conversion_rate_is_won_over_won_plus_lost_times_100() -> None:
    assert conversion_rate(3, 1) == D(75)
    assert conversion_rate(1, 2) == D(100) / D(3)
    assert conversion_rate(0, 4) == 0
    assert conversion_rate(5, 0) == 100


def test_conversion_rate_with_nothing_closed_is_undefined() -> None:
    assert conversion_rate(0, 0) is None


def test_conversion_rate_refuses_negative_counts() -> None:
    with pytest.raises(ValueError):
        conversion_rate(-1, 3)
    with pytest.raises(ValueError):
        conversion_rate(3, -1)


@given(won=st.integers(0, 10**9), lost=st.integers(0, 10**9))
def test_conversion_rate_is_between_0_and_100(won: int, lost: int) -> None:
    rate = conversion_rate(won, lost)
    if won + lost == 0:
        assert rate is None
    else:
        assert rate is not None and 0 <= rate <= 100


def test_durations_run_until_the_next_event_and_the_last_until_now() -> None:
    t0 = dt.datetime(2026, 4, 1, 9, tzinfo=UTC)
    events = [t0, t0 + dt.timedelta(hours=2), t0 + dt.timedelta(days=3, seconds=5)]
    now = t0 + dt.timedelta(days=4)
    assert durations(events, now) == [7200, 3 * 86400 + 5 - 7200, 86400 - 5]


def test_durations_of_no_event_is_empty_and_a_lone_event_runs_until_now() -> None:
    t0 = dt.datetime(2026, 4, 1, 9, tzinfo=UTC)
    assert durations([], t0) == []
    assert durations([t0], t0 + dt.timedelta(minutes=1, seconds=30)) == [90]


def test_durations_never_go_negative() -> None:
    t0 = dt.datetime(2026, 4, 1, 9, tzinfo=UTC)
    assert durations([t0], t0 - dt.timedelta(hours=1)) == [0]


@given(
    gaps=st.lists(st.integers(0, 10**7), min_size=1, max_size=20),
    tail=st.integers(0, 10**7),
)
def test_durations_add_up_to_the_time_from_the_first_event_until_now(
    gaps: list[int], tail: int
) -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    times = [t0]
    for g in gaps:
        times.append(times[-1] + dt.timedelta(seconds=g))
    now = times[-1] + dt.timedelta(seconds=tail)
    out = durations(times, now)
    assert len(out) == len(times)
    assert out == [*gaps, tail]
    assert sum(out) == int((now - t0).total_seconds())


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "just now"),
        (0, "just now"),
        (59, "just now"),
        (60, "1m"),
        (8 * 60 + 59, "8m"),
        (3599, "59m"),
        (3600, "1h"),
        (5 * 3600 + 12 * 60, "5h 12m"),
        (23 * 3600 + 59 * 60 + 59, "23h 59m"),
        (86400, "1d"),
        (3 * 86400 + 4 * 3600 + 59 * 60, "3d 4h"),
        (400 * 86400, "400d"),
    ],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text
