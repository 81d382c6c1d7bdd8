"""The deal pipeline of SPEC §4: stages, moves and the figures of the board.

Pure functions over plain values; the services apply them to stored deals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.domain.enums import DealStage, DealStatus
from app.domain.errors import ValidationError
from app.domain.money import quantize

STAGES: tuple[DealStage, ...] = tuple(DealStage)
CLOSED_STAGES: frozenset[DealStage] = frozenset({DealStage.CLOSED_WON, DealStage.CLOSED_LOST})
OPEN_STAGES: tuple[DealStage, ...] = tuple(s for s in STAGES if s not in CLOSED_STAGES)
#: The largest amount NUMERIC(16,2) holds.
MONEY_LIMIT = Decimal("99999999999999.99")

STAGE_LABELS: dict[DealStage, str] = {
    DealStage.LEAD_CAPTURED: "Lead captured",
    DealStage.QUALIFICATION: "Qualification",
    DealStage.NEEDS_ANALYSIS: "Needs analysis",
    DealStage.PROPOSAL: "Proposal",
    DealStage.NEGOTIATION: "Negotiation",
    DealStage.AGREEMENT: "Agreement",
    DealStage.DUE_DILIGENCE: "Due diligence",
    DealStage.AWAITING_CLOSURE: "Awaiting closure",
    DealStage.CLOSED_WON: "Closed won",
    DealStage.CLOSED_LOST: "Closed lost",
}


class PipelineError(ValidationError):
    """A move or a deal's values break a rule of SPEC §4; ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_stage(text: str, field: str = "pipeline_stage") -> DealStage:
    """A stage from its stored value (``closed_won``) or its label (``Closed won``)."""
    cleaned = text.strip()
    for stage in STAGES:
        if cleaned.lower() in (stage.value, STAGE_LABELS[stage].lower()):
            return stage
    known = ", ".join(s.value for s in STAGES)
    raise PipelineError(field, f"{field}: {cleaned!r} is not a stage (stages: {known})")


def stage_index(stage: DealStage) -> int:
    return STAGES.index(stage)


def neighbour(stage: DealStage, step: int) -> DealStage | None:
    """The stage ``step`` columns to the right (negative: left), or None past either end."""
    i = STAGES.index(stage) + step
    return STAGES[i] if 0 <= i < len(STAGES) else None


def status_for(stage: DealStage) -> DealStatus:
    if stage is DealStage.CLOSED_WON:
        return DealStatus.CLOSED_WON
    if stage is DealStage.CLOSED_LOST:
        return DealStatus.CLOSED_LOST
    return DealStatus.OPEN


@dataclass(frozen=True)
class MovePlan:
    """What a move changes on the deal besides its stage."""

    from_stage: DealStage
    to_stage: DealStage
    status: DealStatus
    actual_close_date: dt.date | None
    note: str | None


def plan_move(
    from_stage: DealStage,
    to_stage: DealStage,
    status: DealStatus,
    actual_close_date: dt.date | None,
    today: dt.date,
    note: str | None = None,
) -> MovePlan:
    """The move of SPEC §4: into a closed stage sets status and close date, out of one reopens.

    Refused: the same stage, a cancelled deal, a move into ``closed_lost`` without a reason
    (the note), a note longer than 2,000 characters.
    """
    if from_stage is to_stage:
        raise PipelineError(
            "to_stage", f"The deal is already in {STAGE_LABELS[to_stage]}; nothing was moved."
        )
    if status is DealStatus.CANCELLED:
        raise PipelineError("status", "The deal is cancelled; a cancelled deal does not move.")
    cleaned = (note or "").strip() or None
    if cleaned is not None and len(cleaned) > 2000:
        raise PipelineError("note", "note: at most 2,000 characters.")
    if to_stage is DealStage.CLOSED_LOST and cleaned is None:
        raise PipelineError("note", "note: say why the deal was lost (a reason is required).")
    new_status = status_for(to_stage)
    if to_stage in CLOSED_STAGES:
        close_date: dt.date | None = today
    else:
        close_date = None
    del actual_close_date  # replaced either way: set on closing, cleared on reopening
    return MovePlan(from_stage, to_stage, new_status, close_date, cleaned)


def check_confidence(value: Decimal, field: str = "confidence") -> Decimal:
    """Confidence is 0–1 with at most 4 decimals (NUMERIC(5,4))."""
    if not value.is_finite() or value < 0 or value > 1:
        raise PipelineError(field, f"{field}: must be between 0 and 1 (got {value}).")
    if value != value.quantize(Decimal("0.0001")):
        raise PipelineError(field, f"{field}: at most 4 decimals (got {value}).")
    return value


def check_amount(value: Decimal, field: str = "estimated_value_amount") -> Decimal:
    """A money amount that is finite, not negative and fits NUMERIC(16,2)."""
    if not value.is_finite():
        raise PipelineError(field, f"{field}: {value} is not a number.")
    if value < 0:
        raise PipelineError(field, f"{field}: must not be negative (got {value}).")
    if value > MONEY_LIMIT:
        raise PipelineError(field, f"{field}: at most {MONEY_LIMIT:,} (got {value}).")
    try:
        return quantize(value)
    except InvalidOperation:  # pragma: no cover - guarded by the limit above
        raise PipelineError(field, f"{field}: {value} is too large.") from None


def weighted_value(estimated: Decimal, confidence: Decimal) -> Decimal:
    """Estimated value × confidence, unrounded (rounded only when shown or stored)."""
    return estimated * confidence


def cycle_days(created_at: dt.datetime, actual_close_date: dt.date) -> int:
    """Days from creation (its UTC date) to the close date."""
    return (actual_close_date - created_at.astimezone(dt.UTC).date()).days


def average_cycle_days(pairs: Iterable[tuple[dt.datetime, dt.date]]) -> Decimal | None:
    """``avg_cycle_days`` of SPEC §4 over (created_at, actual_close_date) of closed-won deals."""
    days = [cycle_days(c, d) for c, d in pairs]
    if not days:
        return None
    return Decimal(sum(days)) / Decimal(len(days))


def conversion_rate(won: int, lost: int) -> Decimal | None:
    """closed_won / (closed_won + closed_lost) × 100; None when nothing has closed."""
    if won < 0 or lost < 0:
        raise ValueError("counts cannot be negative")
    if won + lost == 0:
        return None
    return Decimal(won) * 100 / Decimal(won + lost)


def durations(recorded: Sequence[dt.datetime], now: dt.datetime) -> list[int]:
    """``duration_seconds`` of each event: until the deal's next event, the last until ``now``."""
    out: list[int] = []
    for i, at in enumerate(recorded):
        end = recorded[i + 1] if i + 1 < len(recorded) else now
        out.append(max(0, int((end - at).total_seconds())))
    return out


def format_duration(seconds: int) -> str:
    """'3d 4h', '5h 12m', '8m', 'just now' — the card's 'time since the last move'."""
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"
