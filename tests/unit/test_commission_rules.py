"""SPEC §6 as pure functions: the status machine, its stamps, amounts, adjustments, the net."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.commissions import (
    MONEY_LIMIT,
    CommissionError,
    allowed_targets,
    check_adjustment,
    check_money,
    check_rate,
    commission_amount,
    net_amount,
    parse_status,
    plan_transition,
)
from app.domain.enums import AdjustmentType, CommissionStatus
from app.domain.errors import ValidationError

S = CommissionStatus
A = AdjustmentType
AT = dt.datetime(2026, 5, 1, 12, 30, tzinfo=dt.UTC)

#: SPEC §6, written out: every transition a record outside ``disputed`` may make.
SPEC_ALLOWED: dict[CommissionStatus, set[CommissionStatus]] = {
    S.PENDING: {S.CONFIRMED, S.DISPUTED},
    S.CONFIRMED: {S.INVOICED, S.DISPUTED},
    S.INVOICED: {S.PAID, S.DISPUTED},
    S.PAID: set(),
    S.WRITTEN_OFF: set(),
}
DISPUTABLE = (S.PENDING, S.CONFIRMED, S.INVOICED)
#: What entering each status stamps on the forward path and on disputing.
SPEC_STAMP = {
    S.CONFIRMED: "confirmed_at",
    S.INVOICED: "invoiced_at",
    S.PAID: "paid_at",
    S.DISPUTED: "disputed_at",
}

UNDISPUTED_PAIRS = [
    (a, b) for a, b in itertools.product(CommissionStatus, CommissionStatus) if a is not S.DISPUTED
]
DISPUTED_PAIRS = list(itertools.product(DISPUTABLE, CommissionStatus))


def plan(status: CommissionStatus, to: CommissionStatus, **kw: object):  # type: ignore[no-untyped-def]
    if to is S.DISPUTED:
        kw.setdefault("reason", "rate was agreed at 2%")
    return plan_transition(status, to, AT, **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------- the machine


@pytest.mark.parametrize(("from_status", "to_status"), UNDISPUTED_PAIRS)
def test_status_machine_allows_exactly_the_spec_transitions(
    from_status: CommissionStatus, to_status: CommissionStatus
) -> None:
    if to_status in SPEC_ALLOWED[from_status]:
        t = plan(from_status, to_status)
        assert (t.from_status, t.to_status) == (from_status, to_status)
    else:
        with pytest.raises(CommissionError) as info:
            plan(from_status, to_status)
        assert info.value.field == "status"
    assert set(allowed_targets(from_status, None)) == SPEC_ALLOWED[from_status]


@pytest.mark.parametrize(("origin", "to_status"), DISPUTED_PAIRS)
def test_disputed_goes_back_to_its_origin_or_to_written_off_only(
    origin: CommissionStatus, to_status: CommissionStatus
) -> None:
    allowed = {origin, S.WRITTEN_OFF}
    if to_status in allowed:
        t = plan(S.DISPUTED, to_status, disputed_from=origin)
        assert (t.from_status, t.to_status) == (S.DISPUTED, to_status)
    else:
        with pytest.raises(CommissionError) as info:
            plan(S.DISPUTED, to_status, disputed_from=origin)
        assert info.value.field == "status"
    assert set(allowed_targets(S.DISPUTED, origin)) == allowed


def test_allowed_targets_list_the_forward_step_first() -> None:
    assert allowed_targets(S.PENDING, None) == [S.CONFIRMED, S.DISPUTED]
    assert allowed_targets(S.CONFIRMED, None) == [S.INVOICED, S.DISPUTED]
    assert allowed_targets(S.INVOICED, None) == [S.PAID, S.DISPUTED]
    assert allowed_targets(S.DISPUTED, S.CONFIRMED) == [S.CONFIRMED, S.WRITTEN_OFF]


@pytest.mark.parametrize("origin", [None, S.PAID, S.WRITTEN_OFF, S.DISPUTED])
def test_a_dispute_of_unknown_or_impossible_origin_can_only_be_written_off(
    origin: CommissionStatus | None,
) -> None:
    assert allowed_targets(S.DISPUTED, origin) == [S.WRITTEN_OFF]
    for to in (S.PENDING, S.CONFIRMED, S.INVOICED, S.PAID):
        with pytest.raises(CommissionError):
            plan(S.DISPUTED, to, disputed_from=origin)


@pytest.mark.parametrize("final", [S.PAID, S.WRITTEN_OFF])
@pytest.mark.parametrize("to_status", list(CommissionStatus))
def test_paid_and_written_off_are_final(
    final: CommissionStatus, to_status: CommissionStatus
) -> None:
    assert allowed_targets(final, S.PENDING) == []
    with pytest.raises(CommissionError) as info:
        plan(final, to_status, disputed_from=S.PENDING)
    assert info.value.field == "status"
    assert "final" in str(info.value)


def test_a_refusal_says_what_the_record_may_become() -> None:
    with pytest.raises(CommissionError) as info:
        plan(S.PENDING, S.PAID)
    assert str(info.value) == (
        "status: a pending commission cannot become paid (it may become: confirmed, disputed)."
    )
    assert isinstance(info.value, ValidationError)


# ------------------------------------------------------------------------------- stamps


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [(S.PENDING, S.CONFIRMED), (S.CONFIRMED, S.INVOICED), (S.INVOICED, S.PAID)],
)
def test_each_forward_step_stamps_its_own_time(
    from_status: CommissionStatus, to_status: CommissionStatus
) -> None:
    t = plan(from_status, to_status)
    assert t.stamps == {SPEC_STAMP[to_status]: AT}
    assert t.event == to_status.value
    assert (t.disputed_from, t.dispute_reason, t.dispute_document_uri) == (None, None, None)


@pytest.mark.parametrize("origin", DISPUTABLE)
def test_disputing_stamps_disputed_at_and_keeps_origin_and_reason(
    origin: CommissionStatus,
) -> None:
    t = plan_transition(
        origin, S.DISPUTED, AT, reason="  split was 60/40  ", document_uri=" file:///a.pdf "
    )
    assert t.stamps == {"disputed_at": AT}
    assert t.event == "disputed"
    assert t.disputed_from is origin
    assert t.dispute_reason == "split was 60/40"
    assert t.dispute_document_uri == "file:///a.pdf"


@pytest.mark.parametrize("origin", DISPUTABLE)
def test_resolving_returns_to_the_origin_and_stamps_only_resolved_at(
    origin: CommissionStatus,
) -> None:
    t = plan(S.DISPUTED, origin, disputed_from=origin)
    assert t.to_status is origin
    assert t.event == "resolved"
    # The origin's own time (e.g. confirmed_at) is when it was first reached; it is kept.
    assert t.stamps == {"resolved_at": AT}
    assert (t.disputed_from, t.dispute_reason) == (None, None)


@pytest.mark.parametrize("origin", DISPUTABLE)
def test_writing_off_stamps_resolved_at_and_written_off_at(origin: CommissionStatus) -> None:
    t = plan(S.DISPUTED, S.WRITTEN_OFF, disputed_from=origin)
    assert t.event == "written_off"
    assert t.stamps == {"resolved_at": AT, "written_off_at": AT}
    assert t.disputed_from is None


def test_transition_times_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError):
        plan_transition(S.PENDING, S.CONFIRMED, dt.datetime(2026, 5, 1, 12))


# ------------------------------------------------------------------------------- disputes


@pytest.mark.parametrize("reason", [None, "", "  \n "])
@pytest.mark.parametrize("origin", DISPUTABLE)
def test_a_dispute_needs_a_reason(origin: CommissionStatus, reason: str | None) -> None:
    with pytest.raises(CommissionError) as info:
        plan_transition(origin, S.DISPUTED, AT, reason=reason)
    assert info.value.field == "dispute_reason"


def test_a_dispute_reason_is_at_most_2000_characters() -> None:
    assert plan_transition(S.PENDING, S.DISPUTED, AT, reason="r" * 2000).dispute_reason
    with pytest.raises(CommissionError) as info:
        plan_transition(S.PENDING, S.DISPUTED, AT, reason="r" * 2001)
    assert info.value.field == "dispute_reason"


def test_a_dispute_document_is_optional_and_at_most_2000_characters() -> None:
    blank = plan_transition(S.PENDING, S.DISPUTED, AT, reason="why", document_uri="  ")
    assert blank.dispute_document_uri is None
    with pytest.raises(CommissionError) as info:
        plan_transition(S.PENDING, S.DISPUTED, AT, reason="why", document_uri="u" * 2001)
    assert info.value.field == "dispute_document_uri"


def test_a_refused_transition_is_refused_before_the_reason_is_looked_at() -> None:
    with pytest.raises(CommissionError) as info:
        plan_transition(S.PAID, S.DISPUTED, AT)
    assert info.value.field == "status"


# ------------------------------------------------------------------------------- parse_status


@pytest.mark.parametrize("status", list(CommissionStatus))
def test_parse_status_takes_the_value_any_case_or_with_spaces(status: CommissionStatus) -> None:
    assert parse_status(status.value) is status
    assert parse_status(f" {status.value.upper().replace('_', ' ')} ") is status


def test_parse_status_refuses_an_unknown_status_naming_the_field() -> None:
    with pytest.raises(CommissionError) as info:
        parse_status(" settled ", "row 4 status")
    assert info.value.field == "row 4 status"
    assert "'settled' is not a status" in str(info.value)


# ------------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("basis", "rate", "amount"),
    [
        ("10000.00", "0.0250", "250.00"),
        ("1.00", "0.0050", "0.01"),  # 0.005: half-up, not half-even (0.00)
        ("3.00", "0.0025", "0.01"),  # 0.0075
        ("1.00", "0.0049", "0.00"),  # 0.0049
        ("333.33", "0.0150", "5.00"),  # 4.99995
        ("450000.00", "0.0275", "12375.00"),
        ("99999999999999.99", "1", "99999999999999.99"),
        ("0", "0.5", "0.00"),
    ],
)
def test_commission_amount_is_basis_times_rate_rounded_half_up(
    basis: str, rate: str, amount: str
) -> None:
    result = commission_amount(D(basis), D(rate))
    assert result == D(amount)
    assert result.as_tuple().exponent == -2


@given(
    basis=st.decimals(min_value=0, max_value=MONEY_LIMIT, places=2),
    rate=st.decimals(min_value=0, max_value=1, places=4),
)
def test_commission_amount_is_within_half_a_cent_and_never_above_the_basis(
    basis: D, rate: D
) -> None:
    amount = commission_amount(basis, rate)
    assert 0 <= amount <= basis
    assert abs(amount - basis * rate) <= D("0.005")


@pytest.mark.parametrize(
    ("basis", "rate", "field"),
    [
        ("1E+26", "0.5", "basis_amount"),
        ("100000000000000", "0.5", "basis_amount"),
        ("-1.00", "0.5", "basis_amount"),
        ("1.001", "0.5", "basis_amount"),
        ("100.00", "1.5", "commission_rate"),
        ("100.00", "1E+26", "commission_rate"),
        ("100.00", "0.00001", "commission_rate"),
    ],
)
def test_commission_amount_checks_basis_and_rate(basis: str, rate: str, field: str) -> None:
    with pytest.raises(CommissionError) as info:
        commission_amount(D(basis), D(rate))
    assert info.value.field == field


@pytest.mark.parametrize("value", ["0", "1", "0.5", "0.0001", "0.9999"])
def test_check_rate_accepts_0_to_1_with_4_decimals(value: str) -> None:
    assert check_rate(D(value)) == D(value)


@pytest.mark.parametrize(
    "value",
    ["-0.0001", "1.0001", "1E+26", "-1E+26", "9" * 40, "1E+999999", "NaN", "sNaN", "Infinity"],
)
def test_check_rate_refuses_values_outside_0_to_1(value: str) -> None:
    with pytest.raises(CommissionError) as info:
        check_rate(D(value), "rate")
    assert info.value.field == "rate"


@pytest.mark.parametrize("value", ["0.00001", "0.12345", "1E-30"])
def test_check_rate_refuses_more_than_4_decimals(value: str) -> None:
    with pytest.raises(CommissionError) as info:
        check_rate(D(value))
    assert info.value.field == "commission_rate"
    assert "4 decimals" in str(info.value)


@pytest.mark.parametrize("value", ["0", "0.01", "12.5", "450000.00", "99999999999999.99"])
def test_check_money_accepts_cents_up_to_numeric_16_2(value: str) -> None:
    assert check_money(D(value), "basis_amount") == D(value)


@pytest.mark.parametrize(
    "value",
    [
        "100000000000000",
        "99999999999999.991",
        "1E+26",
        "1E+27",
        "9" * 40,
        "1E+999999",
        "-1E+26",
    ],
)
@pytest.mark.parametrize("signed", [False, True])
def test_check_money_refuses_huge_values_naming_the_field(value: str, signed: bool) -> None:
    with pytest.raises(CommissionError) as info:
        check_money(D(value), "basis_amount", signed=signed)
    assert info.value.field == "basis_amount"


@pytest.mark.parametrize("value", ["1.001", "0.005", "-2.345", "1E-30"])
def test_check_money_refuses_more_than_2_decimals(value: str) -> None:
    with pytest.raises(CommissionError) as info:
        check_money(D(value), "amount", signed=True)
    assert info.value.field == "amount"
    assert "2 decimals" in str(info.value)


def test_check_money_refuses_a_negative_amount_unless_signed() -> None:
    with pytest.raises(CommissionError) as info:
        check_money(D("-0.01"), "basis_amount")
    assert "negative" in str(info.value)
    assert check_money(D("-0.01"), "amount", signed=True) == D("-0.01")
    assert check_money(D("-99999999999999.99"), "amount", signed=True)


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_check_money_refuses_nan_and_infinity(value: str) -> None:
    with pytest.raises(CommissionError) as info:
        check_money(D(value), "basis_amount", signed=True)
    assert info.value.field == "basis_amount"


# ------------------------------------------------------------------------------- adjustments


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        (A.CLAWBACK, "-250.00"),
        (A.BONUS, "100.00"),
        (A.CORRECTION, "-0.01"),
        (A.CORRECTION, "12.34"),
    ],
)
def test_check_adjustment_accepts_the_right_sign(kind: AdjustmentType, amount: str) -> None:
    assert check_adjustment(kind, D(amount), "  agreed with broker ") == (
        D(amount),
        "agreed with broker",
    )


def test_check_adjustment_clawback_is_negative() -> None:
    with pytest.raises(CommissionError) as info:
        check_adjustment(A.CLAWBACK, D("250.00"), "why")
    assert info.value.field == "amount"
    assert "negative" in str(info.value)


def test_check_adjustment_bonus_is_positive() -> None:
    with pytest.raises(CommissionError) as info:
        check_adjustment(A.BONUS, D("-1.00"), "why")
    assert info.value.field == "amount"
    assert "positive" in str(info.value)


@pytest.mark.parametrize("kind", list(AdjustmentType))
@pytest.mark.parametrize("zero", ["0", "0.00", "-0"])
def test_check_adjustment_of_zero_is_refused(kind: AdjustmentType, zero: str) -> None:
    with pytest.raises(CommissionError) as info:
        check_adjustment(kind, D(zero), "why")
    assert info.value.field == "amount"


@pytest.mark.parametrize("kind", list(AdjustmentType))
@pytest.mark.parametrize("note", [None, "", "   "])
def test_check_adjustment_needs_a_note(kind: AdjustmentType, note: str | None) -> None:
    amount = D("-5.00") if kind is A.CLAWBACK else D("5.00")
    with pytest.raises(CommissionError) as info:
        check_adjustment(kind, amount, note)
    assert info.value.field == "note"


def test_check_adjustment_note_is_at_most_2000_characters() -> None:
    assert check_adjustment(A.BONUS, D("1.00"), "n" * 2000)[1] == "n" * 2000
    with pytest.raises(CommissionError) as info:
        check_adjustment(A.BONUS, D("1.00"), "n" * 2001)
    assert info.value.field == "note"


@pytest.mark.parametrize("amount", ["1E+26", "-1E+26", "1.001", "NaN"])
def test_check_adjustment_checks_the_amount_as_money(amount: str) -> None:
    with pytest.raises(CommissionError) as info:
        check_adjustment(A.CORRECTION, D(amount), "why")
    assert info.value.field == "amount"


def test_net_amount_is_amount_plus_all_adjustments() -> None:
    assert net_amount(D("1000.00"), [D("-250.00"), D("100.00"), D("0.01")]) == D("850.01")
    assert net_amount(D("1000.00"), iter([D("-1000.00")])) == 0


def test_net_amount_without_adjustments_is_the_amount() -> None:
    assert net_amount(D("12.34"), []) == D("12.34")


@given(
    amount=st.decimals(min_value=0, max_value=MONEY_LIMIT, places=2),
    adjustments=st.lists(st.decimals(min_value=-(10**6), max_value=10**6, places=2), max_size=8),
)
def test_net_amount_is_exact(amount: D, adjustments: list[D]) -> None:
    net = net_amount(amount, adjustments)
    assert net - sum(adjustments, D(0)) == amount
    assert net.as_tuple().exponent >= -2
