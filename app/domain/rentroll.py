"""Rent-roll and pro-forma entry: the text a person types (form, month-end grid, CSV) made
into checked values, with one message per field that says what is wrong (SPEC §9, §11).

Rules where SPEC.md is silent:
- vacancy is a fraction ("0.05"), a percentage with a sign ("5%") or a bare number above 1,
  read as a percentage ("5" = 5 %); "1" is 100 %. After reading it must lie in 0–1;
- rent collected and the expense parts are never negative; NOI, cash flow and DSCR may be
  (a negative NOI gives a negative DSCR);
- the expenses total is the sum of the breakdown when any part is given; a typed total that
  differs from that sum is refused (which one is right cannot be guessed); with no part
  given the total is required;
- a DSCR of zero is refused when the property has a loan (a DSCR of zero means no income,
  which is then entered as a negative cash flow, not as "no debt service");
- a month after the current one is refused: actuals are entered once the month has begun.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.enums import LoanType, Strategy
from app.domain.errors import ValidationError
from app.domain.money import parse_decimal, quantize
from app.domain.postclose import Actuals, Projection

MONEY_LIMIT = Decimal(10) ** 14  # NUMERIC(16,2)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DSCR_LIMIT = Decimal("9999.99")  # NUMERIC(6,2)
EXPENSE_PARTS = ("maintenance", "property_management", "taxes", "insurance", "other")

LABELS: dict[str, str] = {
    "year": "Year",
    "month": "Month",
    "actual_rent_collected": "Rent collected",
    "actual_vacancy_rate": "Vacancy",
    "maintenance": "Maintenance",
    "property_management": "Property management",
    "taxes": "Taxes",
    "insurance": "Insurance",
    "other": "Other expenses",
    "expenses_total": "Expenses total",
    "actual_noi": "NOI",
    "actual_monthly_cash_flow": "Cash flow",
    "actual_dscr": "DSCR",
    "notes": "Notes",
    "ref": "Reference",
    "market_key": "Market",
    "strategy": "Strategy",
    "closed_date": "Closed on",
    "purchase_price": "Purchase price",
    "rehab_cost_actual": "Rehab cost",
    "loan_type": "Loan type",
    "interest_rate": "Interest rate",
    "ltv": "LTV",
    "amortization_years": "Amortisation (years)",
    "projected_rent": "Projected rent",
    "projected_noi": "Projected NOI",
    "projected_monthly_cash_flow": "Projected cash flow",
    "projected_dscr": "Projected DSCR",
    "assumptions": "Assumptions",
}


class FieldErrors(ValidationError):
    """Fields that break a rule; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str], subject: str = "") -> None:
        self.errors = dict(errors)
        self.subject = subject
        parts = "; ".join(f"{LABELS.get(k, k)}: {v}" for k, v in self.errors.items())
        super().__init__(f"{subject}: {parts}" if subject else parts)


# ---------------------------------------------------------------------------- cell parsers


def _number(text: str) -> Decimal:
    return parse_decimal(text)


def signed_money(text: str) -> Decimal:
    value = _number(text)
    if abs(value) >= MONEY_LIMIT:  # before rounding: a huge exponent cannot be quantized
        raise ValueError(f"{text.strip()} is too large")
    value = quantize(value)
    if abs(value) >= MONEY_LIMIT:
        raise ValueError(f"{text.strip()} is too large")
    return value


def money(text: str) -> Decimal:
    value = signed_money(text)
    if value < 0:
        raise ValueError(f"must not be negative (got {text.strip()})")
    return value


def vacancy(text: str) -> Decimal:
    raw = text.strip()
    percent = raw.endswith("%")
    value = _number(raw[:-1] if percent else raw)
    if percent or value > 1:
        value = value / 100
    if value < 0 or value > 1:
        raise ValueError(f"{raw} is outside 0–1 (or 0–100 %)")
    return quantize(value, 4)


def dscr(text: str) -> Decimal:
    """A debt-service coverage ratio; negative when the NOI is (it is NOI ÷ debt service)."""
    value = _number(text)
    if abs(value) > DSCR_LIMIT:
        raise ValueError(f"{text.strip()} is too large (at most {DSCR_LIMIT})")
    return quantize(value)


def rate(text: str) -> Decimal:
    """An interest rate or LTV: a fraction, or a percentage ("6.5%" or "6.5")."""
    raw = text.strip()
    percent = raw.endswith("%")
    value = _number(raw[:-1] if percent else raw)
    if percent or value > 1:
        value = value / 100
    if value < 0 or value > 1:
        raise ValueError(f"{raw} is outside 0–1 (or 0–100 %)")
    return quantize(value, 4)


def whole(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        raw = text.strip()
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a whole number") from None
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}–{high}")
        return value

    return parse


def notes(text: str) -> str:
    if len(text) > 4000:
        raise ValueError(f"is {len(text)} characters long; at most 4000 fit")
    return text


def market_key(text: str) -> str:
    raw = text.strip()
    if len(raw) > 60:
        raise ValueError(f"is {len(raw)} characters long; at most 60 fit")
    return raw


def ref(text: str) -> str:
    raw = text.strip()
    if len(raw) > 64:
        raise ValueError(f"is {len(raw)} characters long; at most 64 fit")
    return raw


def _choice(values: tuple[str, ...]) -> Callable[[str], str]:
    by_folded = {v.casefold(): v for v in values}

    def parse(text: str) -> str:
        found = by_folded.get(text.strip().casefold())
        if found is None:
            raise ValueError(f"{text.strip()!r} is not one of {'/'.join(values)}")
        return found

    return parse


strategy = _choice(tuple(s.value for s in Strategy))
loan_type = _choice(tuple(t.value for t in LoanType))


def iso_date(text: str) -> dt.date:
    raw = text.strip()
    if not _DATE.match(raw):
        raise ValueError(f"{raw!r} is not a date (expected YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a date (expected YYYY-MM-DD)") from None


def assumptions(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ";").split(";") if part.strip()]


def check_month(year: int, month: int, today: dt.date) -> str | None:
    """Why (year, month) cannot be entered yet, or None."""
    if (year, month) > (today.year, today.month):
        return f"{year}-{month:02d} has not begun yet (today is {today.isoformat()})"
    return None


def has_loan(loan: str | None) -> bool:
    return loan is not None and loan != LoanType.CASH.value


# ---------------------------------------------------------------------------- one period


PERIOD_PARSERS: dict[str, Callable[[str], object]] = {
    "actual_rent_collected": money,
    "actual_vacancy_rate": vacancy,
    "maintenance": money,
    "property_management": money,
    "taxes": money,
    "insurance": money,
    "other": money,
    "expenses_total": money,
    "actual_noi": signed_money,
    "actual_monthly_cash_flow": signed_money,
    "actual_dscr": dscr,
    "notes": notes,
}
PERIOD_REQUIRED = (
    "actual_rent_collected",
    "actual_vacancy_rate",
    "actual_noi",
    "actual_monthly_cash_flow",
    "actual_dscr",
)
PERIOD_FIELDS = tuple(PERIOD_PARSERS)


@dataclass(frozen=True)
class PeriodValues:
    actual_rent_collected: Decimal
    actual_vacancy_rate: Decimal
    expenses_total: Decimal
    actual_noi: Decimal
    actual_monthly_cash_flow: Decimal
    actual_dscr: Decimal
    maintenance: Decimal | None = None
    property_management: Decimal | None = None
    taxes: Decimal | None = None
    insurance: Decimal | None = None
    other: Decimal | None = None
    notes: str | None = None

    def actuals(self) -> Actuals:
        return Actuals(
            rent=self.actual_rent_collected,
            vacancy=self.actual_vacancy_rate,
            expenses=self.expenses_total,
            cash_flow=self.actual_monthly_cash_flow,
            dscr=self.actual_dscr,
        )

    def columns(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in PERIOD_FIELDS}


def parse_fields(
    texts: Mapping[str, str | None],
    parsers: Mapping[str, Callable[[str], object]],
    required: tuple[str, ...],
) -> tuple[dict[str, object], dict[str, str]]:
    """Each field's value (None when empty) and each bad field's message."""
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for name, parse in parsers.items():
        text = (texts.get(name) or "").strip()
        if not text:
            values[name] = None
            if name in required:
                errors[name] = "required"
            continue
        try:
            values[name] = parse(text)
        except ValueError as exc:
            errors[name] = str(exc)
    return values, errors


def period_rules(values: dict[str, object], errors: dict[str, str], loan: str | None) -> None:
    """Cross-field rules: the expenses total, a DSCR of zero with a loan."""
    parts = [values.get(p) for p in EXPENSE_PARTS]
    if not any(p in errors for p in EXPENSE_PARTS) and "expenses_total" not in errors:
        given = [p for p in parts if isinstance(p, Decimal)]
        typed = values.get("expenses_total")
        if given:
            total = sum(given, Decimal(0))
            if isinstance(typed, Decimal) and typed != total:
                errors["expenses_total"] = (
                    f"{typed:,.2f} differs from the breakdown's sum {total:,.2f}; "
                    "correct one or leave the total empty"
                )
            elif total >= MONEY_LIMIT:
                errors["expenses_total"] = f"the breakdown's sum {total:,.2f} is too large"
            else:
                values["expenses_total"] = total
        elif typed is None:
            errors["expenses_total"] = "required (or give the breakdown)"
    if values.get("actual_dscr") == 0 and has_loan(loan):
        errors["actual_dscr"] = "a DSCR of 0 is not possible with a loan"


def parse_period(
    texts: Mapping[str, str | None], loan: str | None, subject: str = ""
) -> PeriodValues:
    """The checked values of one month, or FieldErrors naming every bad field."""
    values, errors = parse_fields(texts, PERIOD_PARSERS, PERIOD_REQUIRED)
    period_rules(values, errors, loan)
    if errors:
        raise FieldErrors(errors, subject)
    return PeriodValues(**values)  # type: ignore[arg-type]


def period_texts(values: Mapping[str, object]) -> dict[str, str]:
    """A stored period shown back as the text a person would type."""
    out: dict[str, str] = {}
    for name in PERIOD_FIELDS:
        value = values.get(name)
        if value is None:
            out[name] = ""
        elif name == "actual_vacancy_rate" and isinstance(value, Decimal):
            out[name] = f"{(value * 100).normalize():f}%"
        else:
            out[name] = str(value)
    return out


# ---------------------------------------------------------------------------- a record


RECORD_PARSERS: dict[str, Callable[[str], object]] = {
    "ref": ref,
    "market_key": market_key,
    "strategy": strategy,
    "closed_date": iso_date,
    "purchase_price": money,
    "rehab_cost_actual": money,
    "loan_type": loan_type,
    "interest_rate": rate,
    "ltv": rate,
    "amortization_years": whole(1, 50),
    "projected_rent": money,
    "projected_noi": signed_money,
    "projected_monthly_cash_flow": signed_money,
    "projected_dscr": dscr,
    "assumptions": assumptions,
}
RECORD_REQUIRED = (
    "market_key",
    "strategy",
    "closed_date",
    "purchase_price",
    "projected_rent",
    "projected_noi",
    "projected_monthly_cash_flow",
    "projected_dscr",
)


@dataclass(frozen=True)
class RecordValues:
    market_key: str
    strategy: str
    closed_date: dt.date
    purchase_price: Decimal
    projected_rent: Decimal
    projected_noi: Decimal
    projected_monthly_cash_flow: Decimal
    projected_dscr: Decimal
    ref: str | None = None
    rehab_cost_actual: Decimal | None = None
    loan_type: str | None = None
    interest_rate: Decimal | None = None
    ltv: Decimal | None = None
    amortization_years: int | None = None
    assumptions: list[str] = field(default_factory=list)

    def projection(self) -> Projection:
        return Projection(
            self.projected_rent,
            self.projected_noi,
            self.projected_monthly_cash_flow,
            self.projected_dscr,
        )


def record_rules(values: dict[str, object], errors: dict[str, str], today: dt.date) -> None:
    closed = values.get("closed_date")
    if isinstance(closed, dt.date) and closed > today:
        errors["closed_date"] = f"{closed.isoformat()} is after today; record it at close"
    loan = values.get("loan_type")
    if has_loan(loan if isinstance(loan, str) else None):
        if values.get("projected_dscr") == 0 and "projected_dscr" not in errors:
            errors["projected_dscr"] = "a DSCR of 0 is not possible with a loan"
    elif loan == LoanType.CASH.value:
        for name in ("interest_rate", "ltv", "amortization_years"):
            if values.get(name) is not None and name not in errors:
                errors[name] = "a cash purchase has no loan; leave it empty"
    if values.get("assumptions") is None:
        values["assumptions"] = []


def parse_record(
    texts: Mapping[str, str | None], today: dt.date, subject: str = ""
) -> RecordValues:
    values, errors = parse_fields(texts, RECORD_PARSERS, RECORD_REQUIRED)
    record_rules(values, errors, today)
    if errors:
        raise FieldErrors(errors, subject)
    return RecordValues(**values)  # type: ignore[arg-type]
