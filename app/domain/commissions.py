"""Commissions of SPEC §6: the amount, the status machine, adjustments and the net."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.domain.enums import AdjustmentType, CommissionStatus
from app.domain.errors import ValidationError
from app.domain.money import quantize

S = CommissionStatus
#: The forward path pending → confirmed → invoiced → paid.
FORWARD: dict[CommissionStatus, CommissionStatus] = {
    S.PENDING: S.CONFIRMED,
    S.CONFIRMED: S.INVOICED,
    S.INVOICED: S.PAID,
}
DISPUTABLE: frozenset[CommissionStatus] = frozenset({S.PENDING, S.CONFIRMED, S.INVOICED})
FINAL: frozenset[CommissionStatus] = frozenset({S.PAID, S.WRITTEN_OFF})
#: The time column each status stamps when a record enters it (resolved_at: leaving disputed).
STAMPS: dict[CommissionStatus, str] = {
    S.CONFIRMED: "confirmed_at",
    S.INVOICED: "invoiced_at",
    S.PAID: "paid_at",
    S.DISPUTED: "disputed_at",
    S.WRITTEN_OFF: "written_off_at",
}
MONEY_LIMIT = Decimal("99999999999999.99")
STATUS_LABELS: dict[CommissionStatus, str] = {
    S.PENDING: "Pending",
    S.CONFIRMED: "Confirmed",
    S.INVOICED: "Invoiced",
    S.PAID: "Paid",
    S.DISPUTED: "Disputed",
    S.WRITTEN_OFF: "Written off",
}


class CommissionError(ValidationError):
    """A commission value or transition breaks SPEC §6; ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_status(text: str, field: str = "status") -> CommissionStatus:
    cleaned = text.strip().lower().replace(" ", "_")
    try:
        return CommissionStatus(cleaned)
    except ValueError:
        known = ", ".join(s.value for s in CommissionStatus)
        raise CommissionError(
            field, f"{field}: {text.strip()!r} is not a status ({known})"
        ) from None


def allowed_targets(
    status: CommissionStatus, disputed_from: CommissionStatus | None
) -> list[CommissionStatus]:
    """Every status SPEC §6 lets a record in ``status`` move to, forward path first."""
    if status in FINAL:
        return []
    if status is S.DISPUTED:
        back = [disputed_from] if disputed_from in DISPUTABLE and disputed_from else []
        return [*back, S.WRITTEN_OFF]
    return [FORWARD[status], S.DISPUTED]


@dataclass(frozen=True)
class Transition:
    """What a transition writes on the record."""

    from_status: CommissionStatus
    to_status: CommissionStatus
    stamps: dict[str, dt.datetime]
    disputed_from: CommissionStatus | None
    dispute_reason: str | None
    dispute_document_uri: str | None
    event: str  # "confirmed", "disputed", "resolved", "written_off", …


def plan_transition(
    status: CommissionStatus,
    to: CommissionStatus,
    at: dt.datetime,
    *,
    disputed_from: CommissionStatus | None = None,
    reason: str | None = None,
    document_uri: str | None = None,
) -> Transition:
    """Check a transition against SPEC §6 and say what it stamps.

    Disputing needs a reason (kept with the record); resolving returns to the status the dispute
    came from and stamps only ``resolved_at`` (the origin keeps its first ``*_at``); writing
    off stamps ``resolved_at`` and ``written_off_at``.
    """
    if at.tzinfo is None:
        raise ValueError("transition times must be timezone-aware")
    if status in FINAL:
        raise CommissionError(
            "status",
            f"status: a {STATUS_LABELS[status].lower()} commission is final; it cannot become "
            f"{STATUS_LABELS[to].lower()}.",
        )
    if to not in allowed_targets(status, disputed_from):
        allowed = ", ".join(
            STATUS_LABELS[t].lower() for t in allowed_targets(status, disputed_from)
        )
        raise CommissionError(
            "status",
            f"status: a {STATUS_LABELS[status].lower()} commission cannot become "
            f"{STATUS_LABELS[to].lower()} (it may become: {allowed}).",
        )
    stamps: dict[str, dt.datetime] = {}
    if to is S.DISPUTED:
        cleaned = (reason or "").strip()
        if not cleaned:
            raise CommissionError("dispute_reason", "dispute_reason: a dispute needs a reason.")
        if len(cleaned) > 2000:
            raise CommissionError("dispute_reason", "dispute_reason: at most 2,000 characters.")
        uri = (document_uri or "").strip() or None
        if uri is not None and len(uri) > 2000:
            raise CommissionError("dispute_document_uri", "dispute_document_uri: too long.")
        stamps["disputed_at"] = at
        return Transition(status, to, stamps, status, cleaned, uri, "disputed")
    if status is S.DISPUTED:
        stamps["resolved_at"] = at
        if to is S.WRITTEN_OFF:
            stamps["written_off_at"] = at
            return Transition(status, to, stamps, None, None, None, "written_off")
        # Only resolved_at: the origin's own time (confirmed_at, invoiced_at) stays when it
        # was first reached, as SPEC §6 stamps ``resolved_at`` on leaving disputed.
        return Transition(status, to, stamps, None, None, None, "resolved")
    stamps[STAMPS[to]] = at
    return Transition(status, to, stamps, None, None, None, to.value)


def check_rate(value: Decimal, field: str = "commission_rate") -> Decimal:
    """A rate 0–1 with at most 4 decimals (NUMERIC(5,4))."""
    if not value.is_finite() or value < 0 or value > 1:
        raise CommissionError(field, f"{field}: must be between 0 and 1 (got {value}).")
    if value != value.quantize(Decimal("0.0001")):
        raise CommissionError(field, f"{field}: at most 4 decimals (got {value}).")
    return value


def check_money(value: Decimal, field: str, *, signed: bool = False) -> Decimal:
    """An amount that is finite, fits NUMERIC(16,2) and (unless ``signed``) is not negative."""
    if not value.is_finite():
        raise CommissionError(field, f"{field}: {value} is not a number.")
    if not signed and value < 0:
        raise CommissionError(field, f"{field}: must not be negative (got {value}).")
    if abs(value) > MONEY_LIMIT:
        raise CommissionError(field, f"{field}: at most {MONEY_LIMIT:,} (got {value}).")
    if value != quantize(value):
        raise CommissionError(field, f"{field}: at most 2 decimals (got {value}).")
    return value


def commission_amount(basis: Decimal, rate: Decimal) -> Decimal:
    """basis × rate, rounded half-up to cents when stored (SPEC §6)."""
    check_money(basis, "basis_amount")
    check_rate(rate)
    return quantize(basis * rate)


def check_adjustment(
    kind: AdjustmentType, amount: Decimal, note: str | None
) -> tuple[Decimal, str]:
    """clawback negative, bonus positive, correction either sign but not zero; a note always."""
    check_money(amount, "amount", signed=True)
    if amount == 0:
        raise CommissionError("amount", "amount: an adjustment of 0 changes nothing.")
    if kind is AdjustmentType.CLAWBACK and amount > 0:
        raise CommissionError("amount", "amount: a clawback is negative (e.g. -250.00).")
    if kind is AdjustmentType.BONUS and amount < 0:
        raise CommissionError("amount", "amount: a bonus is positive.")
    cleaned = (note or "").strip()
    if not cleaned:
        raise CommissionError("note", "note: say why (an adjustment needs a note).")
    if len(cleaned) > 2000:
        raise CommissionError("note", "note: at most 2,000 characters.")
    return amount, cleaned


def net_amount(amount: Decimal, adjustments: Iterable[Decimal]) -> Decimal:
    """net = amount + Σ adjustments."""
    return amount + sum(adjustments, Decimal(0))
