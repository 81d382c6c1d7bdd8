"""How the dashboard writes its numbers: short money ("$3.2M"), rates ("73.1%", "—"), counts."""

from __future__ import annotations

from decimal import Decimal

from app.domain.money import format_money

DASH = "—"

_UNITS = ((Decimal("1e3"), "K"), (Decimal("1e6"), "M"), (Decimal("1e9"), "B"))
_ROUNDS_UP = Decimal("0.9995")  # 999,600 reads as $1M, not $1000K


def _symbol(currency: str) -> str:
    return "$" if currency == "USD" else f"{currency} "


def short_money(value: Decimal | None, currency: str = "USD") -> str:
    """'$3.2M', '$850K', '$48.1K', '$950'; three significant digits at most; '—' for None.

    The full amount belongs in a tooltip (``format_money``).
    """
    if value is None:
        return DASH
    sign = "-" if value < 0 else ""
    amount = abs(value)
    scaled, unit = amount, ""
    for size, name in _UNITS:
        if amount >= size * _ROUNDS_UP:
            scaled, unit = amount / size, name
    if not unit:
        return f"{sign}{_symbol(currency)}{amount:,.0f}"
    places = 0 if scaled >= 100 else 1 if scaled >= 10 else 2
    text = f"{scaled:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{sign}{_symbol(currency)}{text}{unit}"


def full_money(value: Decimal | None, currency: str = "USD") -> str:
    return format_money(value, currency)


def percent(value: Decimal | None) -> str:
    """A rate as computed (its decimals kept): '2.33%'; '—' when undefined."""
    return DASH if value is None else f"{value}%"


def count(value: int) -> str:
    return f"{value:,}"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else (nouns or noun + 's')}"
