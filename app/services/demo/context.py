"""What every part of the generator shares: the clock, random streams, ids, the writer."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.services.demo.bulk import Writer
from app.services.demo.clock import Clock
from app.services.demo.scales import Scale
from app.services.demo.vocab import Town


@dataclass
class Person:
    id: int
    email: str
    first_name: str
    last_name: str
    role: str
    team_id: int | None
    town: Town
    #: How busy this person is compared with the office's average agent.
    productivity: float = 1.0
    conversion_rate: float = 0.024
    show_rate: float = 0.76
    buys_zillow_leads: bool = True
    manager_id: int | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class Office:
    broker: Person
    agents: list[Person]  # everyone who produces: role agent (the broker is separate)
    managers: dict[int, Person]  # team id -> manager
    admin: Person
    closer: Person
    dialer: Person
    teams: dict[int, str]  # team id -> name
    staff: list[Person] = field(default_factory=list)  # everyone, broker first

    @property
    def producers(self) -> list[Person]:
        """The people with a pipeline of their own: the broker first, then the agents."""
        return [self.broker, *self.agents]


class Ids:
    """Primary keys assigned here, so children can name parents without a round trip."""

    def __init__(self) -> None:
        self._last: dict[str, int] = defaultdict(int)

    def next(self, table: str) -> int:
        self._last[table] += 1
        return self._last[table]

    def last(self, table: str) -> int:
        return self._last[table]

    def skip_to(self, table: str, last: int) -> None:
        """Continue after ``last`` (rows the migrations wrote, such as the built-in KPIs)."""
        self._last[table] = max(self._last[table], last)


class MonthlyStats:
    """Per person and calendar month, the figures KPI measurements and goals are scored on."""

    def __init__(self) -> None:
        self.counts: dict[tuple[int, int, int], dict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.money: dict[tuple[int, int, int], dict[str, Decimal]] = defaultdict(
            lambda: defaultdict(Decimal)
        )

    def add(self, user_id: int, when: dt.date, key: str, n: int = 1) -> None:
        self.counts[(user_id, when.year, when.month)][key] += n

    def add_money(self, user_id: int, when: dt.date, key: str, amount: Decimal) -> None:
        self.money[(user_id, when.year, when.month)][key] += amount

    def count(self, user_id: int, months: Sequence[tuple[int, int]], key: str) -> int:
        return sum(self.counts[(user_id, y, m)].get(key, 0) for y, m in months)

    def total(self, user_id: int, months: Sequence[tuple[int, int]], key: str) -> Decimal:
        return sum(
            (self.money[(user_id, y, m)].get(key, Decimal(0)) for y, m in months), Decimal(0)
        )


@dataclass
class Context:
    scale: Scale
    seed: int
    clock: Clock
    writer: Writer
    ids: Ids = field(default_factory=Ids)
    stats: MonthlyStats = field(default_factory=MonthlyStats)
    office: Office | None = None

    def rng(self, stream: str) -> random.Random:
        """An independent random stream per part, so one part's changes leave others alone."""
        return random.Random(f"perfdesk-demo:{self.seed}:{self.scale.name}:{stream}")

    @property
    def the_office(self) -> Office:
        if self.office is None:
            raise RuntimeError("people are generated first")
        return self.office

    @property
    def as_of(self) -> dt.date:
        return self.clock.as_of

    @property
    def now(self) -> dt.datetime:
        return self.clock.now


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    short = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[:short]:
        out[i] += 1
    return out


def weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]
