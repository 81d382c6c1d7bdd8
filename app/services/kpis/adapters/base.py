"""What every KPI data-source adapter shares: errors, tokens, the period, HTTP with its rules.

Rules:
- Every failure to get a value is an ``AdapterError`` whose message says, in plain words, which
  provider and what went wrong; the engine records it and stores no measurement.
- The period is ``start`` (first day) to ``end`` (last day, inclusive), read as UTC: from
  ``start`` 00:00:00 to ``end`` 23:59:59, i.e. before ``end`` + 1 day 00:00:00.
- HTTP answers: 401/403 → the token was refused; any other non-2xx → "answered HTTP n for
  <path>"; a body that is not JSON (NaN and Infinity included) or JSON of the wrong shape →
  "answered something that is not the expected JSON (…)". Redirects are not followed, so a
  token is only ever sent to the address configured.
- HTTP 429: wait ``Retry-After`` seconds (whole seconds or an HTTP date); without it wait 1, 2,
  then 4 s. At most ``MAX_RETRIES`` tries again per request, and never more than ``max_wait``
  seconds of waiting over the whole fetch: a wait that would pass it is not started and the
  fetch fails with "<Provider> is rate-limiting; tried again for N s".
- A timeout → "<Provider> did not answer within N s"; no connection → "Could not reach
  <Provider> at <host>: …".
- Values are rounded half-up to 4 decimals (the scale of ``kpi_measurements.actual_value``);
  a value of 10¹² or more does not fit there and is refused.
- Tokens live only in the system keyring, under ``kpi-api:<provider>`` (the same keyring and
  rules as the sending settings, app/services/delivery/settings.py).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from app.domain.errors import PerfDeskError, ValidationError
from app.domain.money import quantize
from app.services.delivery import settings as delivery_settings

#: Provider key → the name people see.
PROVIDERS: Mapping[str, str] = {
    "intercom": "Intercom",
    "aircall": "Aircall",
    "http_json": "HTTP JSON",
}

TOKEN_KEY_PREFIX = "kpi-api:"
MAX_RETRIES = 3
VALUE_SCALE = 4
VALUE_LIMIT = Decimal(10) ** 12
MAX_PAGES = 1000

#: How the adapters wait after HTTP 429; tests replace it so they never really sleep.
_sleep: Callable[[float], None] = time.sleep


class AdapterError(PerfDeskError):
    """A KPI value could not be fetched; the message says which provider and why."""


# -- tokens -----------------------------------------------------------------------------------


def token_key(provider: str) -> str:
    """The keyring key a provider's token is kept under."""
    return f"{TOKEN_KEY_PREFIX}{provider}"


def _known(provider: str) -> str:
    if provider not in PROVIDERS:
        names = ", ".join(PROVIDERS.values())
        raise ValidationError(f"Unknown data-source provider {provider!r}; choose {names}.")
    return provider


def load_token(provider: str) -> str | None:
    """The provider's token from the keyring, or None (also for an unknown provider, and
    without a safe keyring): fetching then says what is missing."""
    if provider not in PROVIDERS:
        return None
    return delivery_settings.load_secret(token_key(provider))


def save_token(provider: str, token: str) -> None:
    """Keep the provider's token in the keyring; KeyringUnavailable when there is none."""
    label = PROVIDERS[_known(provider)]
    token = token.strip()
    if not token:
        raise ValidationError(f"Enter the {label} token.")
    if provider == "aircall" and not split_aircall_token(token):
        raise ValidationError("An Aircall token is written as api_id:api_token.")
    delivery_settings.save_secret(token_key(provider), token)


def split_aircall_token(token: str) -> tuple[str, str] | None:
    """``api_id:api_token`` as its two halves, or None when it is not written that way."""
    api_id, sep, api_token = token.strip().partition(":")
    if not (sep and api_id and api_token):
        return None
    return api_id, api_token


# -- the period -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end``, both included, as UTC unix seconds."""

    start: dt.date
    end: dt.date

    @property
    def first_second(self) -> int:
        """Unix time of ``start`` 00:00:00 UTC."""
        return _unix(self.start)

    @property
    def after_last(self) -> int:
        """Unix time of ``end`` + 1 day 00:00:00 UTC: the first second after the period."""
        return _unix(self.end + dt.timedelta(days=1))

    @property
    def last_second(self) -> int:
        """Unix time of ``end`` 23:59:59 UTC."""
        return self.after_last - 1

    def describe(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def _unix(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC).timestamp())


# -- values -----------------------------------------------------------------------------------


def stored_value(value: Decimal, label: str) -> Decimal:
    """``value`` rounded to the stored scale; AdapterError when it cannot be stored."""
    if not value.is_finite() or abs(value) >= VALUE_LIMIT:
        raise AdapterError(f"{label} gave {value}, which is too large to store as a KPI value.")
    return quantize(value, VALUE_SCALE)


def minutes(seconds: Decimal) -> Decimal:
    return seconds / Decimal(60)


def number(value: Any) -> Decimal | None:
    """A JSON number as a Decimal (booleans are not numbers), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return result if result.is_finite() else None


def garbage(label: str, what: str) -> AdapterError:
    return AdapterError(f"{label} answered something that is not the expected JSON ({what}).")


def expect_dict(value: Any, label: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise garbage(label, f"{what} is not an object")
    return value


def expect_list(value: Any, label: str, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise garbage(label, f"no {what} list")
    return value


# -- HTTP -------------------------------------------------------------------------------------


@dataclass
class WaitBudget:
    """Seconds waited for rate limits so far in one fetch (the only mutable piece)."""

    limit: float
    waited: float = 0.0


@dataclass(frozen=True)
class Api:
    """One fetch's way to a provider: its name, the client, the timeout, the wait budget."""

    label: str
    client: httpx.Client
    timeout: float
    budget: WaitBudget
    token_saved: bool = True

    def get(self, url: str | httpx.URL, **kwargs: Any) -> Any:
        """GET ``url`` and return its JSON body, by the rules above."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str | httpx.URL, **kwargs: Any) -> Any:
        """POST to ``url`` and return its JSON body, by the rules above."""
        return self.request("POST", url, **kwargs)

    def request(self, method: str, url: str | httpx.URL, **kwargs: Any) -> Any:
        return self._json(self._send(method, url, **kwargs))

    def _send(self, method: str, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        tries = 0
        while True:
            response = self._once(method, url, **kwargs)
            if response.status_code != 429:
                return response
            wait = retry_wait(response.headers.get("Retry-After"), tries, _utcnow())
            self._wait_or_fail(wait, tries)
            tries += 1

    def _once(self, method: str, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(
                method, url, timeout=self.timeout, follow_redirects=False, **kwargs
            )
        except httpx.TimeoutException:
            raise AdapterError(f"{self.label} did not answer within {self.timeout:g} s.") from None
        except httpx.TransportError as exc:
            where = host_of(url)
            raise AdapterError(f"Could not reach {self.label} at {where}: {exc}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise AdapterError(f"{self.label} could not be asked ({exc}).") from None

    def _wait_or_fail(self, wait: float, tries: int) -> None:
        budget = self.budget
        if tries >= MAX_RETRIES or budget.waited + wait > budget.limit:
            waited = f"{round(budget.waited, 1):g}"
            raise AdapterError(
                f"{self.label} is rate-limiting; tried again for {waited} s (at most "
                f"{MAX_RETRIES} times and {budget.limit:g} s in all) and gave up."
            )
        _sleep(wait)
        budget.waited += wait

    def _json(self, response: httpx.Response) -> Any:
        code = response.status_code
        if code in (401, 403):
            if not self.token_saved:
                raise AdapterError(
                    f"{self.label} wants a token (HTTP {code}) and none is saved on this "
                    "computer; save it with Save token… in the KPI's definition (KPI "
                    "definitions page)."
                )
            raise AdapterError(f"{self.label} refused the token (HTTP {code}).")
        if not 200 <= code < 300:
            raise AdapterError(f"{self.label} answered HTTP {code} for {response.url.path}.")
        try:
            return response.json(parse_float=Decimal, parse_constant=_no_constant)
        except ValueError:
            raise garbage(self.label, f"the answer to {response.url.path} is not JSON") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def retry_wait(header: str | None, tries: int, now: dt.datetime) -> float:
    """Seconds to wait after the ``tries``-th 429 in a row (0-based), from ``Retry-After``."""
    backoff = float(2**tries)
    text = (header or "").strip()
    if not text:
        return backoff
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return backoff
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def host_of(url: str | httpx.URL) -> str:
    """``host`` or ``host:port`` of a URL, for messages."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return str(url)
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host


@contextmanager
def open_client(client: httpx.Client | None, timeout: float) -> Iterator[httpx.Client]:
    """``client`` as given (left open), or a new one for this fetch, closed afterwards."""
    if client is not None:
        yield client
        return
    with httpx.Client(timeout=timeout, follow_redirects=False) as own:
        yield own


def join(base: str, path: str) -> str:
    """``base`` (no trailing slash needed) followed by ``path`` (starting with /)."""
    return base.rstrip("/") + path


# -- what an adapter is -----------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """Whose value, for which period, with which token."""

    person_email: str
    period: Period
    token: str | None


def _no_check(source: Mapping[str, Any]) -> None:
    return None


@dataclass(frozen=True)
class Adapter:
    """One provider: its metrics (empty: the metric is not used), and how to fetch a value."""

    provider: str
    metrics: Mapping[str, str]
    needs_token: bool
    fetch: Callable[[Api, Mapping[str, Any], Query], Decimal]
    check: Callable[[Mapping[str, Any]], None] = _no_check

    @property
    def label(self) -> str:
        return PROVIDERS[self.provider]


def is_web_url(text: Any) -> bool:
    """True for an ``http://`` or ``https://`` URL with a host."""
    if not isinstance(text, str) or not text.strip().lower().startswith(("http://", "https://")):
        return False
    try:
        return bool(httpx.URL(text.strip()).host)
    except httpx.InvalidURL:
        return False


def base_url(source: Mapping[str, Any], default: str) -> str:
    """The source's ``base_url`` override, or the provider's address; no trailing slash."""
    override = source.get("base_url")
    if isinstance(override, str) and override.strip():
        return override.strip().rstrip("/")
    return default
