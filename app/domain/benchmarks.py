"""SPEC §10 benchmarks: reference figures (an industry average, the top quartile, the office's
own average) for a metric, optionally narrowed to an asset type and a deal type, each in force
from its effective date; and how one cell of a benchmarks file (SPEC §11) becomes a value.

Which row applies (``applicable``), where SPEC.md says only "the newest effective row per key
wins in comparisons" (also in docs/rules.md):
- a row with no asset type (or no deal type) applies to any; one that names them applies
  only to that asset type (deal type), compared regardless of case. Asked for no asset type
  (the figure is over every asset type), only rows naming none apply;
- a row applies from its effective date on (rows effective after the day asked for wait);
- per cohort the most specific row wins: asset and deal type both named, then asset type
  only, then deal type only, then neither; among rows as specific, the newest effective date;
  then the highest id (the row imported last).

The file's cells (``parse_*``; each raises ValueError with the reason, as ``csvrules``):
- ``metric_key``: lower-cased, letters, digits and ``_`` only, at most 80 characters;
- ``asset_type`` / ``deal_type``: lower-cased, at most 40 characters; empty means any;
- ``cohort``: industry_avg, top_quartile or internal_avg, any case;
- ``value_numeric``: a number (signed; "1,250" and "$1,250" are read as 1250) with at most 4
  decimals, less than 10^14 in size (NUMERIC(18,4) holds it as given); ``value_text`` at most
  200 characters; a row gives one or both;
- ``source``: at most 200 characters;
- ``effective_date``: YYYY-MM-DD, at most 365 days after the day of the import (a figure
  announced for next year may be loaded ahead; one further out is a typing error).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from app.domain.enums import BenchmarkCohort
from app.domain.money import parse_decimal, quantize

COHORTS: tuple[str, ...] = tuple(c.value for c in BenchmarkCohort)
#: How each cohort is called on screen.
COHORT_LABELS: Mapping[str, str] = {
    BenchmarkCohort.INDUSTRY_AVG.value: "Industry average",
    BenchmarkCohort.TOP_QUARTILE.value: "Top quartile",
    BenchmarkCohort.INTERNAL_AVG.value: "Internal average",
}

METRIC_KEY_MAX = 80
DIMENSION_MAX = 40  # asset_type, deal_type
VALUE_TEXT_MAX = 200
SOURCE_MAX = 200
VALUE_SCALE = 4
VALUE_LIMIT = Decimal(10) ** 14  # NUMERIC(18,4): 14 digits before the point
#: How far ahead of the day of the import an effective date may be.
MAX_DAYS_AHEAD = 365

_METRIC_KEY = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class BenchmarkRow:
    id: int
    metric_key: str
    asset_type: str | None  # None = any asset type
    deal_type: str | None  # None = any deal type
    cohort: str
    value_numeric: Decimal | None
    value_text: str | None
    source: str
    effective_date: dt.date


def _fold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


def specificity(row: BenchmarkRow) -> int:
    """3: asset and deal type named; 2: asset type only; 1: deal type only; 0: neither."""
    if row.asset_type is not None:
        return 3 if row.deal_type is not None else 2
    return 1 if row.deal_type is not None else 0


def applicable(
    rows: Iterable[BenchmarkRow],
    metric_key: str,
    asset_type: str | None,
    deal_type: str | None,
    as_of: dt.date,
) -> dict[str, BenchmarkRow]:
    """cohort -> the row that applies. Candidates: same metric_key, effective_date <= as_of,
    row.asset_type None or equal (case-insensitive), row.deal_type None or equal. Per cohort the
    most specific wins (asset and deal type both given > asset type only > deal type only >
    neither), then the newest effective_date (SPEC §10), then the highest id."""
    metric = metric_key.casefold()
    asset, deal = _fold(asset_type), _fold(deal_type)
    best: dict[str, BenchmarkRow] = {}
    for row in rows:
        if row.metric_key.casefold() != metric or row.effective_date > as_of:
            continue
        if row.asset_type is not None and row.asset_type.casefold() != asset:
            continue
        if row.deal_type is not None and row.deal_type.casefold() != deal:
            continue
        held = best.get(row.cohort)
        if held is None or _rank(row) > _rank(held):
            best[row.cohort] = row
    return best


def _rank(row: BenchmarkRow) -> tuple[int, dt.date, int]:
    return specificity(row), row.effective_date, row.id


def series_key(row: BenchmarkRow) -> tuple[str, str | None, str | None, str]:
    """What rows replacing one another share: metric, asset type, deal type, cohort (case
    folded); the newest effective row of a series is the one in force."""
    return row.metric_key.casefold(), _fold(row.asset_type), _fold(row.deal_type), row.cohort


# -- the cells of a benchmarks file ----------------------------------------------------------


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def parse_metric_key(text: str) -> str:
    key = text.strip().lower()
    if len(key) > METRIC_KEY_MAX:
        raise ValueError(f"is {len(key)} characters long; at most {METRIC_KEY_MAX} fit")
    if not _METRIC_KEY.match(key):
        raise ValueError(
            f"{_shown(text.strip())} is not a metric key (letters, digits and _ only, "
            "e.g. avg_cycle_days)"
        )
    return key


def parse_dimension(text: str) -> str | None:
    """An asset type or a deal type; empty means any."""
    value = text.strip().lower()
    if not value:
        return None
    if len(value) > DIMENSION_MAX:
        raise ValueError(f"is {len(value)} characters long; at most {DIMENSION_MAX} fit")
    return value


def parse_cohort(text: str) -> str:
    value = text.strip().lower()
    if value not in COHORTS:
        raise ValueError(
            f"unknown cohort {text.strip()!r} (expected industry_avg, top_quartile or internal_avg)"
        )
    return value


def parse_value_numeric(text: str) -> Decimal:
    try:
        number = parse_decimal(text)
    except ValueError:
        raise ValueError(f"{_shown(text.strip())} is not a number") from None
    if abs(number) >= VALUE_LIMIT:
        raise ValueError(f"{text.strip()} is too large (at most 99,999,999,999,999.9999)")
    if quantize(number, VALUE_SCALE) != number:
        raise ValueError(f"{text.strip()} has more than four decimals")
    return number


def parse_value_text(text: str) -> str:
    value = text.strip()
    if len(value) > VALUE_TEXT_MAX:
        raise ValueError(f"is {len(value)} characters long; at most {VALUE_TEXT_MAX} fit")
    return value


def parse_source(text: str) -> str:
    value = text.strip()
    if len(value) > SOURCE_MAX:
        raise ValueError(f"is {len(value)} characters long; at most {SOURCE_MAX} fit")
    return value


def latest_effective(as_of: dt.date) -> dt.date:
    """The last effective date a file imported on ``as_of`` may give."""
    return as_of + dt.timedelta(days=MAX_DAYS_AHEAD)


def effective_date_problem(effective: dt.date, as_of: dt.date) -> str | None:
    """Why ``effective`` may not be imported on ``as_of`` (too far ahead), or None."""
    last = latest_effective(as_of)
    if effective > last:
        return (
            f"{effective.isoformat()} is more than a year after {as_of.isoformat()} "
            f"(at most {last.isoformat()})"
        )
    return None


def value_problem(numeric: Decimal | None, text: str | None) -> str | None:
    """A row must give a number, a text, or both."""
    if numeric is None and not text:
        return "give value_numeric, value_text or both"
    return None
