"""How one cell of an imported CSV file becomes a value (SPEC §11).

Every parser takes the cell's text (already stripped; never empty — an empty cell is a
missing value, handled by the caller) and returns the value, or raises ``ValueError`` whose
message is the reason in plain words, written to follow the column name:
"created_at: '2024-13-01' is not a date (expected YYYY-MM-DD)".

Rules where SPEC.md is silent:
- enumeration values and true/false match regardless of case and are stored as SPEC spells
  them ("closed" → "Closed");
- emails are stored in lower case (people are referred to by email, case-insensitively);
- a date-only or naive timestamp is taken as UTC; one with an offset is converted to UTC;
- money accepts "$1,200.50" and "1200.5", must be ≥ 0 and fit NUMERIC(16,2); it is rounded
  half-up to cents only when stored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum

from app.domain.money import parse_decimal

Parser = Callable[[str], object]

_EMAIL = re.compile(r"^[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\"]+\.[^@\s,;<>()\[\]\".]{2,}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?")
MONEY_LIMIT = Decimal(10) ** 14  # NUMERIC(16,2): 14 digits before the point


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def text(max_length: int) -> Callable[[str], str]:
    """Any text up to ``max_length`` characters."""

    def parse(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"is {len(value)} characters long; at most {max_length} fit")
        return value

    return parse


def email(value: str) -> str:
    """An email address, stored in lower case."""
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(f"{_shown(value)} is not an email address")
    return value.lower()


def one_of(enum_cls: type[StrEnum]) -> Callable[[str], str]:
    """A value of ``enum_cls``, matched regardless of case, returned as SPEC spells it."""
    by_folded = {m.value.casefold(): m.value for m in enum_cls}
    allowed = "/".join(m.value for m in enum_cls)

    def parse(value: str) -> str:
        found = by_folded.get(value.casefold())
        if found is None:
            raise ValueError(f"{_shown(value)} is not one of {allowed}")
        return found

    return parse


def boolean(value: str) -> bool:
    """``true`` or ``false`` (any case)."""
    folded = value.casefold()
    if folded == "true":
        return True
    if folded == "false":
        return False
    raise ValueError(f"{_shown(value)} is not true or false")


def iso_date(value: str) -> dt.date:
    """A calendar date written YYYY-MM-DD."""
    if not _DATE.match(value):
        raise ValueError(f"{_shown(value)} is not a date (expected YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{_shown(value)} is not a valid date ({exc})") from None


def iso_datetime(value: str) -> dt.datetime:
    """An ISO 8601 date or date and time, returned timezone-aware in UTC.

    A date alone means midnight UTC; a time without an offset is taken as UTC;
    "Z" or "+02:00" are honoured and converted to UTC.
    """
    if not _DATETIME.match(value):
        raise ValueError(
            f"{_shown(value)} is not a date or time "
            "(expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM])"
        )
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{_shown(value)} is not a valid date or time ({exc})") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _number(value: str) -> Decimal:
    try:
        return parse_decimal(value)
    except ValueError:
        raise ValueError(f"{_shown(value)} is not a number") from None


def money(value: str) -> Decimal:
    """An amount of money, zero or more."""
    amount = _number(value)
    if amount < 0:
        raise ValueError(f"must not be negative (got {value})")
    if amount >= MONEY_LIMIT:
        raise ValueError(f"{value} is too large (at most 99,999,999,999,999.99)")
    return amount


def signed_money(value: str) -> Decimal:
    """An amount of money that may be negative (a variance, a cash flow, an adjustment)."""
    amount = _number(value)
    if abs(amount) >= MONEY_LIMIT:
        raise ValueError(f"{value} is too large (at most 99,999,999,999,999.99)")
    return amount


def decimal_between(
    low: Decimal | int | None, high: Decimal | int | None
) -> Callable[[str], Decimal]:
    """A number within [low, high] (either bound may be open-ended with ``None``)."""

    def parse(value: str) -> Decimal:
        number = _number(value)
        if low is not None and number < low:
            raise ValueError(f"{value} is below the minimum {low}")
        if high is not None and number > high:
            raise ValueError(f"{value} is above the maximum {high}")
        return number

    return parse


def integer(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """A whole number within [low, high]."""

    def parse(value: str) -> int:
        cleaned = value.replace(",", "").replace("_", "")
        try:
            number = int(cleaned)
        except ValueError:
            raise ValueError(f"{_shown(value)} is not a whole number") from None
        if low is not None and number < low:
            raise ValueError(f"{value} is below the minimum {low}")
        if high is not None and number > high:
            raise ValueError(f"{value} is above the maximum {high}")
        return number

    return parse
