"""ROI by lead source (issue 7): what each source cost over a date range and what it brought in.

Rules (SPEC §10/§12 name the figures; where SPEC is silent, decided here and in
docs/rules.md):
- The range is ``[start, end]``, whole UTC days, both included.
- A cost row is a month's spend (``month`` is its 1st). What it counts in a range is
  ``cost × (days of its month inside the range) / (days in the month)``, exact Decimal,
  rounded half-up to cents only when shown; a whole month in the range counts its whole cost.
- Sources are matched ignoring case and surrounding blanks ("zillow " is "Zillow"). The name
  shown is the cost rows' spelling when the source has cost rows in the range (the most
  frequent, ties by alphabet), else the most frequent spelling of its leads and deals. Leads
  and deals without a source form the ``(no source)`` row, which never has a cost.
- ``cost_per_lead = cost / leads``, ``cost_per_closed = cost / closed``,
  ``commission_per_dollar = commission / cost``; each is None (null, "—") when its divisor is 0.
- A source is listed when it has a cost row in the range (even of 0), leads or closed deals;
  sources are sorted by cost, highest first, then by name.
- By agent: one row per (person, source) with the person's leads, closed deals, commission on
  those deals, and the spend bought for that person alone (``agent_id`` = the person).
  Office-wide spend is not shared out to people, so a person's ratios use only their own
  spend. People are sorted by name, then email; a person's sources as the sources are.
- Totals are the sums over the sources listed; their ratios are computed from the sums.
- Spend is entered per (source, month, person or whole office): the source is required, at
  most 80 characters and not "(no source)"; the cost is a number ≥ 0 with at most 2
  decimals that fits NUMERIC(16,2) ("$1,200.50" and "1200.5" are read as typed).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from app.domain.money import CENT, parse_decimal, quantize
from app.domain.periods import month_end

NO_SOURCE = "(no source)"
MAX_SOURCE_LENGTH = 80
#: NUMERIC(16,2): fourteen digits before the point.
MONEY_LIMIT = Decimal(10) ** 14
ZERO = Decimal(0)
ONE_DAY = dt.timedelta(days=1)
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


# -- months and ranges --------------------------------------------------------------------------


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The 1st of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_label(month: dt.date) -> str:
    """'November 2026'."""
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


def days_in_month(month: dt.date) -> int:
    return month_end(month.year, month.month).day


def days_inside(month: dt.date, start: dt.date, end: dt.date) -> int:
    """How many days of ``month`` lie in ``[start, end]``."""
    first = max(first_of_month(month), start)
    last = min(month_end(month.year, month.month), end)
    return max(0, (last - first).days + 1)


def prorated(cost: Decimal, month: dt.date, start: dt.date, end: dt.date) -> Decimal:
    """What a month's ``cost`` counts in ``[start, end]``: its share by days, not rounded."""
    days = days_inside(month, start, end)
    whole = days_in_month(month)
    if days == whole:
        return cost
    return cost * days / whole


def check_range(start: dt.date, end: dt.date) -> None:
    """ValueError when the range is backwards."""
    if start > end:
        raise ValueError(
            f"the first day ({start.isoformat()}) is after the last ({end.isoformat()})"
        )


#: Range presets: key → label (the page's combo).
THIS_MONTH, LAST_MONTH, THIS_QUARTER, YEAR_TO_DATE, LAST_12_MONTHS, CUSTOM = (
    "this_month", "last_month", "this_quarter", "year_to_date", "last_12_months", "custom",
)  # fmt: skip
PRESETS: tuple[tuple[str, str], ...] = (
    (THIS_MONTH, "This month"),
    (LAST_MONTH, "Last month"),
    (THIS_QUARTER, "This quarter"),
    (YEAR_TO_DATE, "Year to date"),
    (LAST_12_MONTHS, "Last 12 months"),
    (CUSTOM, "Custom…"),
)


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The range a preset names as of ``today`` (None: custom, or unknown).

    This month, last month and this quarter are whole calendar periods; year to date runs
    from 1 January to today; the last 12 months are the year of days ending today."""
    month = first_of_month(today)
    if preset == THIS_MONTH:
        return month, month_end(month.year, month.month)
    if preset == LAST_MONTH:
        last = add_months(month, -1)
        return last, month_end(last.year, last.month)
    if preset == THIS_QUARTER:
        first = add_months(month, -((month.month - 1) % 3))
        last = add_months(first, 2)
        return first, month_end(last.year, last.month)
    if preset == YEAR_TO_DATE:
        return dt.date(today.year, 1, 1), today
    if preset == LAST_12_MONTHS:
        try:
            year_ago = today.replace(year=today.year - 1)
        except ValueError:  # 29 February
            year_ago = dt.date(today.year - 1, 2, 28)
        return year_ago + ONE_DAY, today
    return None


# -- what is typed ------------------------------------------------------------------------------


def source_key(text: str | None) -> str | None:
    """How sources are matched: trimmed, ignoring case; None for no source at all."""
    if text is None:
        return None
    cleaned = text.strip()
    return cleaned.casefold() if cleaned else None


def clean_source(text: str | None) -> str:
    """A source as typed for a cost row, trimmed; ValueError with the reason."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValueError("required")
    if len(cleaned) > MAX_SOURCE_LENGTH:
        raise ValueError(f"at most {MAX_SOURCE_LENGTH} characters (got {len(cleaned)})")
    if cleaned.casefold() == NO_SOURCE.casefold():
        raise ValueError(f"{NO_SOURCE} is the row of leads and deals without a source")
    return cleaned


def parse_cost(value: str | Decimal | int | None) -> Decimal:
    """A month's cost as typed ("1,200.50", "$800", 800); ValueError with the reason."""
    if value is None:
        raise ValueError("required")
    if isinstance(value, Decimal | int):
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        shown = str(value)
    else:
        shown = value.strip()
        if not shown:
            raise ValueError("required")
        amount = parse_decimal(shown)
    if amount < 0:
        raise ValueError(f"must not be negative (got {shown})")
    if amount >= MONEY_LIMIT:
        raise ValueError(f"must be less than {MONEY_LIMIT:,} (got {shown})")
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise ValueError(f"at most 2 decimals (got {shown})")
    return quantize(amount) + ZERO


# -- figures ------------------------------------------------------------------------------------


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part / whole``, exact to Decimal's precision; None when ``whole`` is 0."""
    if not whole:
        return None
    return Decimal(part) / Decimal(whole)


@dataclass(frozen=True)
class Figures:
    """What a source (or a person's use of it, or everything) cost and brought in."""

    cost: Decimal = ZERO
    leads: int = 0
    closed: int = 0
    commission: Decimal = ZERO

    @property
    def cost_per_lead(self) -> Decimal | None:
        return ratio(self.cost, self.leads)

    @property
    def cost_per_closed(self) -> Decimal | None:
        return ratio(self.cost, self.closed)

    @property
    def commission_per_dollar(self) -> Decimal | None:
        return ratio(self.commission, self.cost)

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.cost + other.cost,
            self.leads + other.leads,
            self.closed + other.closed,
            self.commission + other.commission,
        )


NOTHING = Figures()


@dataclass(frozen=True)
class SourceRoi:
    key: str | None  # source_key(); None: the (no source) row
    source: str  # the name shown
    figures: Figures
    has_cost_rows: bool = False


@dataclass(frozen=True)
class AgentRoi:
    agent_id: int
    email: str
    name: str
    key: str | None
    source: str
    figures: Figures  # cost: only the spend bought for this person


@dataclass(frozen=True)
class RoiReport:
    start: dt.date
    end: dt.date
    currency: str
    sources: tuple[SourceRoi, ...]
    agents: tuple[AgentRoi, ...]
    totals: Figures
    #: Closed deals counted whose currency is not the office's: their commission is left out.
    other_currency_closed: int = 0

    @property
    def is_empty(self) -> bool:
        return not self.sources


# -- putting a report together ----------------------------------------------------------------


@dataclass(frozen=True)
class CostEntry:
    """A stored cost row: a month's spend on a source, for one person or (None) the office."""

    source: str
    month: dt.date
    agent_id: int | None
    cost: Decimal


@dataclass(frozen=True)
class Counted:
    """What a person's records of one source spelling count in the range."""

    agent_id: int
    source: str | None
    leads: int = 0
    closed: int = 0
    commission: Decimal = ZERO


def _pick(spellings: Counter[str]) -> str:
    return min(spellings.items(), key=lambda item: (-item[1], item[0].casefold(), item[0]))[0]


def _source_order(row: SourceRoi) -> tuple[Decimal, str, str]:
    return (-row.figures.cost, row.source.casefold(), row.source)


def build_report(
    start: dt.date,
    end: dt.date,
    currency: str,
    costs: Iterable[CostEntry],
    counted: Iterable[Counted],
    people: Mapping[int, tuple[str, str]],
    other_currency_closed: int = 0,
) -> RoiReport:
    """The report from the cost rows the person may read and what their records count.

    ``people`` maps a person's id to (email, name). Cost rows outside the range are ignored;
    a person's row appears only when ``people`` knows them."""
    check_range(start, end)
    cost_of: dict[str | None, Decimal] = {}
    cost_spellings: dict[str | None, Counter[str]] = {}
    agent_cost: dict[tuple[int, str | None], Decimal] = {}
    for row in costs:
        if not days_inside(row.month, start, end):
            continue
        key = source_key(row.source)
        if key is None:
            continue  # a cost row always names its source; nothing to match otherwise
        share = prorated(row.cost, row.month, start, end)
        cost_of[key] = cost_of.get(key, ZERO) + share
        cost_spellings.setdefault(key, Counter())[row.source.strip()] += 1
        if row.agent_id is not None:
            mine = (row.agent_id, key)
            agent_cost[mine] = agent_cost.get(mine, ZERO) + share

    # Summed in lists (leads, closed, commission): thousands of rows on a large office.
    totals: dict[str | None, list[Any]] = {}
    by_agent: dict[tuple[int, str | None], list[Any]] = {}
    spellings: defaultdict[str | None, Counter[str]] = defaultdict(Counter)
    keys: dict[str | None, str | None] = {}
    for c in counted:
        if c.source in keys:
            key = keys[c.source]
        else:
            key = keys[c.source] = source_key(c.source)
        for sums in (totals.get(key), by_agent.get((c.agent_id, key))):
            if sums is not None:
                sums[0] += c.leads
                sums[1] += c.closed
                sums[2] += c.commission
        if key not in totals:
            totals[key] = [c.leads, c.closed, c.commission]
        if (c.agent_id, key) not in by_agent:
            by_agent[(c.agent_id, key)] = [c.leads, c.closed, c.commission]
        if key is not None and c.source is not None and (c.leads or c.closed):
            spellings[key][c.source.strip()] += c.leads + c.closed

    names: dict[str | None, str] = {None: NO_SOURCE}
    for key in set(cost_of) | set(totals):
        if key in cost_spellings:
            names[key] = _pick(cost_spellings[key])
        elif key in spellings:
            names[key] = _pick(spellings[key])
        elif key is not None:
            names[key] = key

    sources: list[SourceRoi] = []
    for key in set(cost_of) | set(totals):
        leads, closed, commission = totals.get(key, (0, 0, ZERO))
        if key not in cost_of and not leads and not closed:
            continue
        figures = Figures(cost_of.get(key, ZERO), leads, closed, commission + ZERO)
        sources.append(SourceRoi(key, names[key], figures, key in cost_of))
    sources.sort(key=_source_order)
    rank = {row.key: i for i, row in enumerate(sources)}

    agents: list[AgentRoi] = []
    for agent_id, key in set(agent_cost) | set(by_agent):
        if agent_id not in people or key not in rank:
            continue
        leads, closed, commission = by_agent.get((agent_id, key), (0, 0, ZERO))
        own_cost = agent_cost.get((agent_id, key))
        if own_cost is None and not leads and not closed:
            continue
        email, person = people[agent_id]
        figures = Figures(own_cost or ZERO, leads, closed, commission + ZERO)
        agents.append(AgentRoi(agent_id, email, person, key, names[key], figures))
    folded = {uid: name.casefold() for uid, (_email, name) in people.items()}
    agents.sort(key=lambda a: (folded[a.agent_id], a.email, rank[a.key]))

    total = NOTHING
    for source_row in sources:
        total = total + source_row.figures
    return RoiReport(
        start, end, currency, tuple(sources), tuple(agents), total, other_currency_closed
    )


# -- JSON (``report roi --json``) ---------------------------------------------------------------


def money_text(value: Decimal | None) -> str | None:
    """Money in JSON: a string with 2 decimals, rounded half-up; None stays None."""
    return None if value is None else str(quantize(value) + ZERO)


def per_dollar(value: Decimal | None) -> float | None:
    """A ratio in JSON: a number rounded half-up to 4 places; None stays None."""
    return None if value is None else float(quantize(value, 4))


def figures_json(f: Figures) -> dict[str, object]:
    return {
        "cost": money_text(f.cost),
        "leads": f.leads,
        "closed": f.closed,
        "commission": money_text(f.commission),
        "cost_per_lead": money_text(f.cost_per_lead),
        "cost_per_closed": money_text(f.cost_per_closed),
        "commission_per_dollar": per_dollar(f.commission_per_dollar),
    }


def roi_json(report: RoiReport) -> dict[str, object]:
    """``report roi --json``: SPEC §12's ``sources``, with the range, the currency, the rows
    by person and the totals beside it (money as strings with 2 decimals, ratios as numbers,
    null where a divisor is 0)."""
    return {
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "currency": report.currency,
        "sources": [{"source": s.source, **figures_json(s.figures)} for s in report.sources],
        "agents": [
            {"email": a.email, "name": a.name, "source": a.source, **figures_json(a.figures)}
            for a in report.agents
        ],
        "totals": figures_json(report.totals),
        "other_currency_closed": report.other_currency_closed,
    }
