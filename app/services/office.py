"""Office-wide settings shared by every workstation: the currency amounts are shown in.

The currency is kept in the ``app_settings`` table under the key ``currency``; it is what
``format_money`` is given for display and the default currency of new records.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from app.db.models.people import AppSetting
from app.domain.errors import ConflictError, DatabaseProblem, ValidationError
from app.services.database import Database
from app.services.dberrors import explain

CURRENCY_KEY = "currency"
DEFAULT_CURRENCY = "USD"

# Offered first in the window; any code of ISO_4217 may be typed.
COMMON_CURRENCIES: tuple[str, ...] = (
    "USD",
    "SGD",
    "EUR",
    "GBP",
    "AUD",
    "CAD",
    "NZD",
    "HKD",
    "MYR",
    "IDR",
    "THB",
    "PHP",
    "INR",
    "JPY",
    "CNY",
    "CHF",
    "AED",
)

# ISO 4217 codes of currencies in use (funds, precious metals and testing codes left out).
ISO_4217: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER
    ZAR ZMW ZWG
    """.split()  # noqa: SIM905 - a table of codes reads better than 160 quoted strings
)


def normalize_currency(code: str) -> str:
    """' sgd ' -> 'SGD'; raises ValidationError for anything that is not an ISO 4217 code."""
    cleaned = code.strip().upper()
    if len(cleaned) != 3 or not cleaned.isascii() or not cleaned.isalpha():
        raise ValidationError(
            f"A currency is a three-letter ISO 4217 code such as USD or SGD; "
            f"{code.strip()!r} is not."
        )
    if cleaned not in ISO_4217:
        raise ValidationError(f"{cleaned} is not an ISO 4217 currency code.")
    return cleaned


def get_currency(db: Database) -> str:
    """The office's currency; USD until someone chooses another."""
    try:
        with db.read() as s:
            row = s.get(AppSetting, CURRENCY_KEY)
            return row.value if row is not None else DEFAULT_CURRENCY
    except DBAPIError as exc:
        raise DatabaseProblem(explain(exc, db.describe())) from exc


def set_currency(db: Database, code: str) -> str:
    """Store the office's currency (validated, upper-case) and return it."""
    currency = normalize_currency(code)
    try:
        with db.session() as s:
            row = s.get(AppSetting, CURRENCY_KEY)
            if row is None:
                s.add(AppSetting(key=CURRENCY_KEY, value=currency))
            else:
                row.value = currency
    except StaleDataError:
        raise ConflictError(
            "Another workstation changed the office currency at the same moment; "
            "nothing was saved. Look at the current value and try again."
        ) from None
    except DBAPIError as exc:
        raise DatabaseProblem(explain(exc, db.describe())) from exc
    return currency
