"""What the Portfolio page reads on a refresh, in one background task, and how its figures
are written (money, ratio points, rates, months, flags)."""

from __future__ import annotations

import datetime as dt
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from app.domain.money import format_money, quantize
from app.gui.postclose.record_view import STRATEGY_WORDS, flag_words
from app.services.office import get_currency
from app.services.postclose import catalog
from app.services.postclose.portfolio import (
    MonthlyCashFlow,
    PortfolioFilters,
    PortfolioReport,
    monthly_cash_flow,
    portfolio_report,
    report_dscr_values,
)

if TYPE_CHECKING:
    from app.services.database import Database

DASH = "—"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Choices:
    """What the filter bar offers: markets, buyers (id, name), buy boxes (id, label)."""

    markets: tuple[str, ...]
    buyers: tuple[tuple[int, str], ...]
    buy_boxes: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class PageData:
    report: PortfolioReport
    monthly: list[MonthlyCashFlow]
    #: The latest actual DSCR of each graded record, ascending (the distribution chart).
    dscr: list[float]
    currency: str
    choices: Choices | None  # read only when asked for (first load, buyers or boxes changed)
    read_ms: float


def box_label(ref: str | None, name: str) -> str:
    return f"{ref} · {name}" if ref else name


def read_choices(db: Database) -> Choices:
    return Choices(
        markets=tuple(catalog.market_keys(db)),
        buyers=tuple((b.id, b.name) for b in catalog.list_buyers(db)),
        buy_boxes=tuple((b.id, box_label(b.ref, b.name)) for b in catalog.list_buy_boxes(db)),
    )


def read_page(db: Database, filters: PortfolioFilters, with_choices: bool) -> PageData:
    """Runs on a worker: the report, the cash flow by month and the DSCRs of one refresh.

    The cash flow by month is summed by the database (≈100 ms over 300,000 periods, the GIL
    released) while the report is read and built in Python, on a second connection: a
    refresh then takes about as long as the slower of the two rather than their sum.
    """
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="portfolio-monthly") as pool:
        monthly_future = pool.submit(monthly_cash_flow, db, filters)
        report = portfolio_report(db, filters)
        monthly = monthly_future.result()
    dscr = [float(v) for v in report_dscr_values(report)]
    currency = get_currency(db)
    choices = read_choices(db) if with_choices else None
    read_ms = (time.perf_counter() - started) * 1000
    return PageData(report, monthly, dscr, currency, choices, read_ms)


def filter_lines(report: PortfolioReport) -> list[tuple[str, str]]:
    """The filters a report was read with, in words ([] for every record)."""
    f = report.filters
    buyer = next((b.name for b in report.buyers if b.id == f.buyer_id), None)
    box = next((box_label(b.ref, b.name) for b in report.buy_boxes if b.id == f.buy_box_id), None)
    pairs = (
        ("Market", f.market),
        ("Strategy", strategy_text(f.strategy) if f.strategy else None),
        ("Buyer", buyer or (f"#{f.buyer_id}" if f.buyer_id is not None else None)),
        ("Buy box", box or (f"#{f.buy_box_id}" if f.buy_box_id is not None else None)),
        ("Closed from", day_text(f.closed_from) if f.closed_from else None),
        ("Closed to", day_text(f.closed_to) if f.closed_to else None),
    )
    return [(name, value) for name, value in pairs if value]


def filters_sentence(report: PortfolioReport) -> str:
    lines = filter_lines(report)
    if not lines:
        return "All properties"
    return "; ".join(f"{name}: {value}" for name, value in lines)


# -- texts -------------------------------------------------------------------------------------


def day_text(day: dt.date) -> str:
    """'6 Nov 2025'."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def month_text(year: int, month: int) -> str:
    """'Jan 26'."""
    return f"{MONTHS[month - 1]} {year % 100:02d}"


def strategy_text(strategy: str) -> str:
    return STRATEGY_WORDS.get(strategy, strategy)


def money(value: Decimal | None, currency: str) -> str:
    return format_money(value, currency)


def signed_money(value: Decimal | None, currency: str) -> str:
    """A variance: '+$206.46', '-$30.46', '$0.00', '—'."""
    text = format_money(value, currency)
    return f"+{text}" if value is not None and quantize(value) > 0 else text


def ratio(value: Decimal | None) -> str:
    """DSCR points with a sign: '+0.14', '-0.24'."""
    return DASH if value is None else f"{quantize(value):+.2f}"


def rate(value: Decimal | None) -> str:
    return DASH if value is None else f"{quantize(value):.2f}%"


@functools.lru_cache(maxsize=512)
def flags_text(flags: tuple[str, ...]) -> str:
    """The flags in words, comma separated (a portfolio has few distinct sets)."""
    return ", ".join(flag_words(f) for f in flags)
