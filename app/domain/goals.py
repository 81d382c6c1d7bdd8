"""Goals and leaderboards (SPEC §8): a goal's status, ranks that ties share, medals.

Rules where SPEC.md is silent (also in docs/rules.md):
- a goal with no achievement (a target of 0, or a rate with nothing to divide by) counts as
  0 % while open and is missed when its period ends;
- leaderboard ranks are competition ranks: equal values share the rank, the next rank skips
  (1, 1, 3); ranks 1–3 get gold, silver and bronze, ties included (two golds, then bronze).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

from app.domain.enums import GoalStatus

T = TypeVar("T")

MEDALS = {1: "gold", 2: "silver", 3: "bronze"}


def goal_status(achievement: Decimal | None, ended: bool) -> GoalStatus:
    """Open: achieved (≥ 100), on_track (75–<100), behind (50–<75), at_risk (< 50);
    ended: achieved or missed."""
    pct = achievement if achievement is not None else Decimal(0)
    if ended:
        return GoalStatus.ACHIEVED if pct >= 100 else GoalStatus.MISSED
    if pct >= 100:
        return GoalStatus.ACHIEVED
    if pct >= 75:
        return GoalStatus.ON_TRACK
    if pct >= 50:
        return GoalStatus.BEHIND
    return GoalStatus.AT_RISK


def competition_ranks(values: Sequence[Decimal]) -> list[int]:
    """The rank of each value (highest first), equal values sharing it: 1, 1, 3."""
    order = sorted(range(len(values)), key=lambda i: values[i], reverse=True)
    ranks = [0] * len(values)
    for position, i in enumerate(order):
        if position and values[i] == values[order[position - 1]]:
            ranks[i] = ranks[order[position - 1]]
        else:
            ranks[i] = position + 1
    return ranks


def medal(rank: int) -> str | None:
    return MEDALS.get(rank)
