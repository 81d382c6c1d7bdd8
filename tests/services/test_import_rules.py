"""How cells and files are read for an import (no database needed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.domain import csvrules as cr
from app.domain.enums import EscrowStatus
from app.services.importing.csvfile import decode, parse_text
from app.services.importing.errors import ImportFailed

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-06", dt.datetime(2025, 1, 6, tzinfo=UTC)),
        ("2025-01-06T09:15", dt.datetime(2025, 1, 6, 9, 15, tzinfo=UTC)),
        ("2025-01-06 09:15:30", dt.datetime(2025, 1, 6, 9, 15, 30, tzinfo=UTC)),
        ("2025-01-06T09:15:00Z", dt.datetime(2025, 1, 6, 9, 15, tzinfo=UTC)),
        ("2025-01-06T09:15:00+02:00", dt.datetime(2025, 1, 6, 7, 15, tzinfo=UTC)),
        ("2025-01-06T23:30:00-08:00", dt.datetime(2025, 1, 7, 7, 30, tzinfo=UTC)),
    ],
)
def test_datetimes_are_utc_and_timezone_aware(text: str, expected: dt.datetime) -> None:
    parsed = cr.iso_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("06/01/2025", "'06/01/2025' is not a date or time (expected YYYY-MM-DD"),
        ("2025-02-30", "'2025-02-30' is not a valid date or time (day is out of range"),
        ("2025-01-06T9:15", "'2025-01-06T9:15' is not a valid date or time"),
        ("yesterday", "'yesterday' is not a date or time"),
    ],
)
def test_bad_datetimes_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        cr.iso_datetime(text)
    assert str(info.value).startswith(message)


def test_dates() -> None:
    assert cr.iso_date("2025-03-31") == dt.date(2025, 3, 31)
    with pytest.raises(ValueError, match="expected YYYY-MM-DD"):
        cr.iso_date("2025-03-31T10:00")
    with pytest.raises(ValueError, match="is not a valid date"):
        cr.iso_date("2025-04-31")


def test_money() -> None:
    assert cr.money("$1,200.50") == Decimal("1200.50")
    assert cr.money("0") == Decimal(0)
    with pytest.raises(ValueError, match=r"^must not be negative \(got -0.01\)$"):
        cr.money("-0.01")
    with pytest.raises(ValueError, match="is not a number"):
        cr.money("12k")
    with pytest.raises(ValueError, match="is too large"):
        cr.money("100000000000000")
    assert cr.signed_money("-250.5") == Decimal("-250.5")


def test_numbers_in_a_range() -> None:
    assert cr.integer(1, 12)("12") == 12
    with pytest.raises(ValueError, match="13 is above the maximum 12"):
        cr.integer(1, 12)("13")
    with pytest.raises(ValueError, match="is not a whole number"):
        cr.integer()("1.5")
    assert cr.decimal_between(0, 1)("0.35") == Decimal("0.35")
    with pytest.raises(ValueError, match=r"1\.2 is above the maximum 1"):
        cr.decimal_between(0, 1)("1.2")


def test_enums_booleans_emails_text() -> None:
    parse = cr.one_of(EscrowStatus)
    assert parse("closed") == "Closed"
    assert parse("PENDING") == "Pending"
    with pytest.raises(ValueError, match="'Open' is not one of Active/Pending/Closed/Cancelled"):
        parse("Open")
    assert cr.boolean("TRUE") is True and cr.boolean("false") is False
    with pytest.raises(ValueError, match="'yes' is not true or false"):
        cr.boolean("yes")
    assert cr.email("Ann.Lee@Example.COM") == "ann.lee@example.com"
    for bad in ("ann", "ann@example", "ann lee@example.com", "a@b@c.com"):
        with pytest.raises(ValueError, match="is not an email address"):
            cr.email(bad)
    assert cr.text(3)("abc") == "abc"
    with pytest.raises(ValueError, match="is 4 characters long; at most 3 fit"):
        cr.text(3)("abcd")


def test_the_bom_is_dropped() -> None:
    assert decode("\ufeffemail\n".encode(), "f.csv") == "email\n"


def test_header_problems_are_all_named_at_once() -> None:
    with pytest.raises(ImportFailed) as info:
        parse_text("a,,b,a,zz\n", "f.csv", ["a", "b", "c"], ["a", "c"])
    assert [str(e) for e in info.value.errors] == [
        "f.csv, row 1: column 2 of the header has no name",
        "f.csv, row 1, column a: is named twice in the header",
        "f.csv, row 1, column zz: unknown column (expected: a, b, c)",
        "f.csv, row 1, column c: required column is missing",
    ]


def test_rows_are_numbered_by_record_and_header_names_are_normalised() -> None:
    table = parse_text(' A , b\r\n1,"two\r\nlines"\r\n\r\n,\r\n3,4\r\n', "f.csv", ["a", "b"], ["a"])
    assert table.columns == ("a", "b")
    assert [(r.number, r.cells) for r in table.records] == [
        (2, {"a": "1", "b": "two\r\nlines"}),
        (5, {"a": "3", "b": "4"}),
    ]
    assert table.problems == ()


def test_broken_quoting_is_not_csv() -> None:
    with pytest.raises(ImportFailed, match=r"f.csv, row 2: is not valid CSV"):
        parse_text('a,b\n1,"x"y\n', "f.csv", ["a", "b"], [])
