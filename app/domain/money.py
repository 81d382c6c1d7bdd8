"""Exact money and rates: Decimal throughout, rounded half-up only when stored or shown."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


_EXPONENTS = {scale: Decimal(1).scaleb(-scale) for scale in range(9)}


def quantize(value: Decimal, scale: int = 2) -> Decimal:
    """Round half-up to ``scale`` decimals (cents by default)."""
    exponent = _EXPONENTS.get(scale)
    if exponent is None:
        exponent = Decimal(1).scaleb(-scale)
    return value.quantize(exponent, rounding=ROUND_HALF_UP)


def parse_decimal(text: str) -> Decimal:
    """Parse a number as typed by a person: '450,000', '$1,200.50', ' 3.5 '.

    Raises ValueError with a plain message when it is not a number.
    """
    cleaned = text.strip().replace(",", "").replace("$", "").replace("_", "")
    if not cleaned:
        raise ValueError("is empty")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text.strip()!r} is not a finite number")
    return value


def format_money(value: Decimal | None, currency: str = "USD") -> str:
    """'$1,234.50' for USD, 'SGD 1,234.50' otherwise; '—' for None."""
    if value is None:
        return "—"
    amount = quantize(value)
    sign = "-" if amount < 0 else ""
    body = f"{abs(amount):,.2f}"
    if currency == "USD":
        return f"{sign}${body}"
    return f"{sign}{currency} {body}"
