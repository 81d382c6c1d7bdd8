"""How record values read in the tables and forms: local times, status words, sort keys."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

#: Sort key of a missing time or amount: before every real one.
MISSING = -(2**62)


def local_time(value: dt.datetime | None) -> str:
    """'2026-03-04 14:05' in this computer's time zone; '' for None."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value is not None else ""


def local_date(value: dt.datetime | None) -> str:
    """'2026-03-04' in this computer's time zone; '' for None."""
    return value.astimezone().strftime("%Y-%m-%d") if value is not None else ""


def full_time(value: dt.datetime | None) -> str | None:
    """A tooltip: local time with its zone, e.g. '2026-03-04 14:05 CET'."""
    if value is None:
        return None
    return value.astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()


def time_key(value: dt.datetime | None) -> int:
    """Microseconds since the epoch, so that times sort as times."""
    if value is None:
        return MISSING
    return int(value.timestamp() * 1_000_000)


def money_key(value: Decimal | None) -> int:
    """Cents, so that amounts sort as numbers."""
    return MISSING if value is None else int(value.scaleb(2).to_integral_value())


def status_label(value: str) -> str:
    """'no_show' → 'No show'; 'Active' → 'Active'."""
    return value.replace("_", " ").capitalize()
