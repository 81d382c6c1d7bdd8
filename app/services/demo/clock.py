"""The demo's year: which days things happen on, at what local time, stored as UTC."""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_right
from itertools import accumulate
from zoneinfo import ZoneInfo

from app.services.demo.vocab import MONTH_WEIGHT, WEEKDAY_WEIGHT

OFFICE_TZ = ZoneInfo("America/Los_Angeles")
UTC = dt.UTC


class Clock:
    """The ``days`` days before ``as_of`` (``as_of`` itself is not in the past yet).

    Times are chosen in the office's local time (Pacific) and returned as aware UTC datetimes.
    """

    def __init__(self, as_of: dt.date, days: int = 365) -> None:
        self.as_of = as_of
        self.days = days
        self.start = as_of - dt.timedelta(days=days)
        #: The moment the history ends: midnight at the start of ``as_of``, office time.
        self.now = self.local_midnight(as_of)
        self.day_dates = [self.start + dt.timedelta(days=i) for i in range(days)]
        self.midnights = [self.local_midnight(d) for d in self.day_dates]
        weights = [MONTH_WEIGHT[d.month] * WEEKDAY_WEIGHT[d.weekday()] for d in self.day_dates]
        self.cum_weights = list(accumulate(weights))

    @staticmethod
    def local_midnight(day: dt.date) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, tzinfo=OFFICE_TZ).astimezone(UTC)

    def at(self, day: dt.date, seconds: float) -> dt.datetime:
        """``seconds`` after local midnight of ``day``, as UTC (microsecond precision)."""
        return self.local_midnight(day) + dt.timedelta(seconds=round(seconds, 6))

    def day_at(self, index: int, seconds: float) -> dt.datetime:
        return self.midnights[index] + dt.timedelta(seconds=round(seconds, 6))

    def spread(self, rng: random.Random, n: int) -> list[int]:
        """How many of ``n`` events fall on each day, following the seasons."""
        counts = [0] * self.days
        if n <= 0:
            return counts
        for i in rng.choices(range(self.days), cum_weights=self.cum_weights, k=n):
            counts[i] += 1
        return counts

    def seasonal_day(self, rng: random.Random, lo: int = 0, hi: int | None = None) -> int:
        """One day index in [lo, hi), weighted by season."""
        hi = self.days if hi is None else hi
        base = self.cum_weights[lo - 1] if lo > 0 else 0.0
        top = self.cum_weights[hi - 1]
        x = base + rng.random() * (top - base)
        return min(bisect_right(self.cum_weights, x), hi - 1)

    def local_date(self, when: dt.datetime) -> dt.date:
        return when.astimezone(OFFICE_TZ).date()


def business_seconds(rng: random.Random, start_hour: float = 8.0, end_hour: float = 19.0) -> float:
    """A time of day in office hours, busiest around midday."""
    return rng.triangular(start_hour, end_hour, 12.5) * 3600.0


def lead_seconds(rng: random.Random) -> float:
    """When online leads arrive: early morning to late evening, busiest at lunch and evening."""
    if rng.random() < 0.55:
        return rng.triangular(6.5, 15.0, 12.0) * 3600.0
    return rng.triangular(15.0, 23.5, 19.5) * 3600.0
