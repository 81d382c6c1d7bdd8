"""KPI rules (SPEC §7): achievement, the overall score, weights and targets.

Rules where SPEC.md is silent (also in docs/rules.md):
- ``t = 0`` is not scored for every target type, lower_better included (the "a = 0 → 100"
  case needs t > 0; a lower_better assignment with a target of 0 is refused when saved);
- lower_better with a < 0 or t < 0 has no meaningful ratio and is not scored either;
- the overall score leaves out measurements that are not scored (achievement null) and is
  null when no scored measurement carries weight;
- weights are 0–100 with at most two decimals; a person's weights that do not add up to 100
  are a warning, not an error (a manager may be part-way through re-weighting); weights that
  add up to 0 can never give a score and are refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from app.domain.enums import TargetType
from app.domain.errors import ValidationError
from app.domain.money import quantize

HUNDRED = Decimal(100)
WEIGHT_MAX = HUNDRED


def achievement_pct(actual: Decimal, target: Decimal, kind: TargetType | str) -> Decimal | None:
    """SPEC §7: achievement % of ``actual`` against ``target``, unrounded; None: not scored."""
    kind = TargetType(kind)
    if target == 0:
        return None
    if kind is TargetType.HIGHER_BETTER:
        return actual / target * HUNDRED
    if kind is TargetType.LOWER_BETTER:
        if actual == 0:
            return HUNDRED if target > 0 else None
        if actual < 0 or target < 0:
            return None
        return target / actual * HUNDRED
    return max(Decimal(0), HUNDRED - abs(actual - target) / abs(target) * HUNDRED)


def stored_pct(pct: Decimal | None) -> Decimal | None:
    """An achievement as stored and shown: 2 decimals, half-up."""
    return None if pct is None else quantize(pct, 2)


@dataclass(frozen=True)
class Scored:
    """One assignment's part of a score: its weight and its measurement's achievement."""

    weight: Decimal
    achievement: Decimal | None


def overall_score(parts: Iterable[Scored]) -> Decimal | None:
    """SPEC §7: Σ(weight × achievement) / Σ weight over the scored parts, 2 decimals."""
    total = Decimal(0)
    weights = Decimal(0)
    for part in parts:
        if part.achievement is None:
            continue
        total += part.weight * part.achievement
        weights += part.weight
    if weights == 0:
        return None
    return quantize(total / weights, 2)


def check_weight(weight: Decimal) -> None:
    if weight < 0:
        raise ValidationError("Weight cannot be negative.")
    if weight > WEIGHT_MAX:
        raise ValidationError("Weight cannot be more than 100.")
    if weight != quantize(weight, 2):
        raise ValidationError("Weight has at most two decimals.")


def weights_warning(weights: Iterable[Decimal]) -> str | None:
    """A warning when a person's active weights do not add up to 100 (None when they do)."""
    total = sum(weights, Decimal(0))
    if total == HUNDRED:
        return None
    return f"Weights add up to {total.normalize():f}, not 100."


def check_weights_total(weights: Iterable[Decimal]) -> None:
    """Weights that add up to 0 can never give an overall score."""
    values = list(weights)
    if values and sum(values, Decimal(0)) == 0:
        raise ValidationError("Weights add up to 0, so no overall score could be computed.")


def check_target(target: Decimal, kind: TargetType | str) -> None:
    kind = TargetType(kind)
    if target == 0:
        which = {
            TargetType.LOWER_BETTER: "lower-is-better",
            TargetType.HIGHER_BETTER: "higher-is-better",
            TargetType.EXACT: "exact",
        }[kind]
        raise ValidationError(f"A target of 0 cannot be scored for a {which} KPI.")
    if kind is TargetType.LOWER_BETTER and target < 0:
        raise ValidationError("A lower-is-better target must be more than 0.")


def check_in_range(value: Decimal, low: Decimal | None, high: Decimal | None) -> None:
    """A manually entered value within the KPI's allowed range."""
    if low is not None and value < low:
        raise ValidationError(f"{_plain(value)} is below the allowed minimum {_plain(low)}.")
    if high is not None and value > high:
        raise ValidationError(f"{_plain(value)} is above the allowed maximum {_plain(high)}.")


def _plain(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle in ``graph`` (name → names it depends on) as a closed path, or None."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in graph:
        if state.get(start) is None:
            found = visit(start)
            if found:
                return found
    return None
