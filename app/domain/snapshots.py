"""SPEC §10: an agent's performance as of the end of a day, rebuilt from the records' history.

A snapshot is the agent's state at the end of ``as_of_date`` (UTC), not a tally of that day:

- ``deals_open``, ``gross_pipeline_value`` (Σ estimated value) and ``weighted_pipeline_value``
  (Σ value × confidence, SPEC §4) over the deals open then;
- ``deals_closed_won`` / ``deals_closed_lost``: every deal closed won / lost by then;
  ``closed_won_volume`` Σ the won ones' value; ``cycle_days_total`` Σ their days from creation
  (UTC date) to the day they were moved to closed won; ``avg_cycle_days`` = total / won and
  ``conversion_rate`` = won / (won + lost) × 100 (SPEC §4), null when there is nothing to divide;
- ``confirmed_commission_amount``: the agent's commission amounts then confirmed, invoiced or
  paid; ``disputed_commission_amount``: then disputed; the pending ones go in the ratios.

So today's snapshot equals what the board and the ledger show now, and a day in the past is
rebuilt from the deals' stage events (the stage a deal was in then, and the day it was moved
to closed won) and the commissions' status stamps (``confirmed_at`` … ``written_off_at``).
Rules chosen where SPEC is silent (docs/rules.md, Snapshots):

- A deal's estimated value and confidence are not kept in history: the current ones count.
- Cancelled deals count nowhere (a cancelled deal carries no stamp of when it was cancelled).
- Money is in the office's currency: deals in another currency count in the deal counts,
  conversion and cycle days but not in the sums (``other_currency_deals`` in the ratios);
  their commissions are left out too.
- A commission's status at a time is read from its stamps: the newest stamp before then says
  it (``resolved_at`` gives back the status it was disputed from: the newest of the
  confirmed/invoiced/paid stamps before it, else pending); after its newest stamp, the
  current status. A commission with no stamp has its current status since it was created.
- After a deal's last stage event it is in its current stage; before its first, in the
  first event's ``from_stage`` (a deal imported or created without a creation event).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.domain.enums import CommissionStatus, DealStage
from app.domain.money import quantize

ZERO = Decimal(0)
HUNDRED = Decimal(100)
WON = DealStage.CLOSED_WON.value
LOST = DealStage.CLOSED_LOST.value
EARNED = frozenset(
    {CommissionStatus.CONFIRMED.value, CommissionStatus.INVOICED.value, CommissionStatus.PAID.value}
)
DISPUTED = CommissionStatus.DISPUTED.value
PENDING = CommissionStatus.PENDING.value
#: The stamps of a commission, in the order the status machine sets them (SPEC §6).
STAMPS = ("confirmed", "invoiced", "paid", "disputed", "resolved", "written_off")
_EARNED_STAMPS = ("confirmed", "invoiced", "paid")


def day_end(day: dt.date) -> dt.datetime:
    """The first instant after ``day`` (UTC): a snapshot counts what happened before it."""
    nxt = day + dt.timedelta(days=1)
    return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=dt.UTC)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# ------------------------------------------------------------------------------ deals


@dataclass(frozen=True)
class DealFacts:
    agent_id: int
    created_day: dt.date
    #: The estimated value and value × confidence; None for a deal in another currency.
    value: Decimal | None
    weighted: Decimal | None


@dataclass(frozen=True)
class DealState:
    stage: str
    #: The UTC day the deal was moved to closed won (while it is there), else None.
    close_day: dt.date | None = None


#: A deal's states in time order: (from this instant, the state; None = not there yet).
DealTimeline = list[tuple[dt.datetime, DealState | None]]


@dataclass(frozen=True)
class StageMove:
    recorded_at: dt.datetime
    from_stage: str | None
    to_stage: str


def deal_timeline(
    created_at: dt.datetime,
    moves: Sequence[StageMove],
    current: DealState,
) -> DealTimeline:
    """The states a deal went through, from its stage events (oldest first). After the last
    event the deal is in its current state (which the last event normally says too)."""
    if not moves:
        return [(created_at, current)]
    first = moves[0]
    timeline: DealTimeline = []
    if first.from_stage is not None:
        timeline.append((created_at, DealState(first.from_stage)))
    for i, move in enumerate(moves):
        at = move.recorded_at
        if i == len(moves) - 1:
            state = current
        elif move.to_stage == WON:
            state = DealState(WON, at.astimezone(dt.UTC).date())
        else:
            state = DealState(move.to_stage)
        timeline.append((at, state))
    return timeline


# ------------------------------------------------------------------------------ commissions


def commission_timeline(
    created_at: dt.datetime,
    stamps: Mapping[str, dt.datetime | None],
    current: str,
) -> list[tuple[dt.datetime, str]]:
    """A commission's statuses in time order, read from its stamps (see the module's rules)."""
    dated = sorted(
        ((at, name) for name, at in stamps.items() if at is not None),
        key=lambda item: (item[0], STAMPS.index(item[1])),
    )
    if not dated:
        return [(created_at, current)]
    timeline: list[tuple[dt.datetime, str]] = [(created_at, PENDING)]
    for i, (at, name) in enumerate(dated):
        if i == len(dated) - 1:
            status = current
        elif name == "resolved":
            earlier = [
                (t, n) for t, n in dated[:i] if n in _EARNED_STAMPS and t <= at
            ]  # the status it was disputed from
            status = max(earlier)[1] if earlier else PENDING
        else:
            status = name
        timeline.append((at, status))
    return timeline


# ------------------------------------------------------------------------------ the tally


@dataclass(frozen=True)
class SnapshotFigures:
    deals_open: int
    deals_closed_won: int
    deals_closed_lost: int
    gross_pipeline_value: Decimal
    weighted_pipeline_value: Decimal
    closed_won_volume: Decimal
    cycle_days_total: int
    avg_cycle_days: Decimal | None
    conversion_rate: Decimal | None
    confirmed_commission_amount: Decimal
    disputed_commission_amount: Decimal
    ratios: dict[str, Any]


def _money(value: Decimal) -> str:
    return f"{quantize(value, 2):f}"


@dataclass
class Tally:
    """One agent's running figures; a deal's or a commission's contribution is added when it
    enters a state and taken away when it leaves it (exact: Decimals)."""

    deals_open: int = 0
    gross: Decimal = ZERO
    weighted: Decimal = ZERO
    won: int = 0
    lost: int = 0
    won_volume: Decimal = ZERO
    cycle_days_total: int = 0
    other_currency: int = 0
    stages: dict[str, int] = field(default_factory=dict)
    confirmed: Decimal = ZERO
    disputed: Decimal = ZERO
    pending: Decimal = ZERO

    def deal(self, facts: DealFacts, state: DealState, sign: int) -> None:
        self.stages[state.stage] = self.stages.get(state.stage, 0) + sign
        if facts.value is None:
            self.other_currency += sign
        if state.stage == WON:
            self.won += sign
            if facts.value is not None:
                self.won_volume += sign * facts.value
            if state.close_day is not None:
                self.cycle_days_total += sign * (state.close_day - facts.created_day).days
        elif state.stage == LOST:
            self.lost += sign
        else:
            self.deals_open += sign
            if facts.value is not None and facts.weighted is not None:
                self.gross += sign * facts.value
                self.weighted += sign * facts.weighted

    def group(self, g: DealGroup) -> None:
        self.stages[g.stage] = self.stages.get(g.stage, 0) + g.count
        self.other_currency += g.other_currency
        if g.stage == WON:
            self.won += g.count
            self.won_volume += g.value
            self.cycle_days_total += g.cycle_days
        elif g.stage == LOST:
            self.lost += g.count
        else:
            self.deals_open += g.count
            self.gross += g.value
            self.weighted += g.weighted

    def commission(self, amount: Decimal, status: str, sign: int) -> None:
        if status in EARNED:
            self.confirmed += sign * amount
        elif status == DISPUTED:
            self.disputed += sign * amount
        elif status == PENDING:
            self.pending += sign * amount

    def figures(self, currency: str) -> SnapshotFigures:
        avg = Decimal(self.cycle_days_total) / self.won if self.won else None
        closed = self.won + self.lost
        conversion = Decimal(self.won) * HUNDRED / closed if closed else None
        ratios: dict[str, Any] = {
            "currency": currency,
            "deals_by_stage": {s.value: self.stages.get(s.value, 0) for s in DealStage},
            "pending_commission_amount": _money(self.pending),
            "weighted_share_pct": (
                float(round(self.weighted * HUNDRED / self.gross, 2)) if self.gross else None
            ),
            "commission_per_won_deal": _money(self.confirmed / self.won) if self.won else None,
            "other_currency_deals": self.other_currency,
        }
        return SnapshotFigures(
            deals_open=self.deals_open,
            deals_closed_won=self.won,
            deals_closed_lost=self.lost,
            gross_pipeline_value=self.gross,
            weighted_pipeline_value=self.weighted,
            closed_won_volume=self.won_volume,
            cycle_days_total=self.cycle_days_total,
            avg_cycle_days=avg,
            conversion_rate=conversion,
            confirmed_commission_amount=self.confirmed,
            disputed_commission_amount=self.disputed,
            ratios=ratios,
        )


# ------------------------------------------------------------------------------ the sweep


@dataclass(frozen=True)
class DealTrack:
    facts: DealFacts
    timeline: DealTimeline


@dataclass(frozen=True)
class CommissionTrack:
    agent_id: int
    amount: Decimal
    timeline: list[tuple[dt.datetime, str]]


@dataclass(frozen=True)
class DealGroup:
    """Deals that stayed in one stage through the window, summed per agent and stage."""

    agent_id: int
    stage: str
    count: int
    #: Of them, deals in another currency (left out of the sums).
    other_currency: int
    value: Decimal
    weighted: Decimal
    #: Σ days from creation to close (closed won only).
    cycle_days: int


@dataclass(frozen=True)
class Constant:
    """Commissions whose status did not change in the window, summed per agent and status."""

    agent_id: int
    status: str
    amount: Decimal


Progress = Callable[[int, int, str], None]


def sweep(
    days: Sequence[dt.date],
    agents: Collection[int],
    deals: Iterable[DealTrack],
    commissions: Iterable[CommissionTrack],
    constants: Iterable[Constant],
    groups: Iterable[DealGroup],
    currency: str,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Iterator[tuple[dt.date, dict[int, SnapshotFigures]]]:
    """Each day's figures for ``agents``, oldest day first: every change before the end of
    the day applied, in time order, to the running tallies (one pass over the history)."""
    tallies: dict[int, Tally] = {}

    def tally(agent: int) -> Tally:
        found = tallies.get(agent)
        if found is None:
            found = tallies[agent] = Tally()
        return found

    for const in constants:
        tally(const.agent_id).commission(const.amount, const.status, 1)
    for g in groups:
        tally(g.agent_id).group(g)
    # (instant, order, kind, index, position in the timeline)
    changes: list[tuple[dt.datetime, int, int, int]] = []
    deal_list = list(deals)
    commission_list = list(commissions)
    for i, d in enumerate(deal_list):
        changes.extend((at, 0, i, n) for n, (at, _) in enumerate(d.timeline))
    for i, c in enumerate(commission_list):
        changes.extend((at, 1, i, n) for n, (at, _) in enumerate(c.timeline))
    changes.sort()
    next_change = 0

    total = len(days)
    for done, day in enumerate(sorted(days)):
        if cancelled is not None and cancelled():
            return
        end = day_end(day)
        while next_change < len(changes) and changes[next_change][0] < end:
            _, kind, i, n = changes[next_change]
            next_change += 1
            if kind == 0:
                track = deal_list[i]
                t = tally(track.facts.agent_id)
                before = track.timeline[n - 1][1] if n else None
                after = track.timeline[n][1]
                if before is not None:
                    t.deal(track.facts, before, -1)
                if after is not None:
                    t.deal(track.facts, after, 1)
            else:
                ctrack = commission_list[i]
                t = tally(ctrack.agent_id)
                if n:
                    t.commission(ctrack.amount, ctrack.timeline[n - 1][1], -1)
                t.commission(ctrack.amount, ctrack.timeline[n][1], 1)
        yield day, {a: tally(a).figures(currency) for a in agents}
        if progress is not None:
            progress(done + 1, total, day.isoformat())
