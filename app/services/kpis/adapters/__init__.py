"""KPI data-source adapters (SPEC §7, calculation type "api"): a person's value from a service.

The source document is a KPI definition's ``data_source``::

    {"type": "api", "provider": "intercom" | "aircall" | "http_json", "metric": …,
     "base_url": optional address override, "url": … (http_json), "json_path": … (http_json)}

Rules:
- ``check_source`` raises ValidationError for a document that cannot work: not an object, a
  type other than "api", an unknown provider, a metric the provider does not have (Intercom:
  first_response_time; Aircall: call_count, talk_time; HTTP JSON ignores it), a ``base_url``
  that is not an http(s) URL, or, for http_json, no http(s) ``url`` or an empty or malformed
  ``json_path``.
- ``fetch_value`` raises only AdapterError (a bad document too, with the same words), so the
  engine can record the reason and store no measurement. Intercom and Aircall need a token
  (``load_token``); HTTP JSON sends one only when given.
- ``start`` is the first day of the period and ``end`` the last, both included, in UTC.
- Without ``client`` a new ``httpx.Client`` is made for the one fetch and closed after it.
The HTTP rules (429, timeouts, errors) are in base.py; each provider's in its own module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from app.domain.errors import ValidationError
from app.services.kpis.adapters import aircall, http_json, intercom
from app.services.kpis.adapters.base import (
    PROVIDERS,
    Adapter,
    AdapterError,
    Api,
    Period,
    Query,
    WaitBudget,
    is_web_url,
    load_token,
    open_client,
    save_token,
)

__all__ = [
    "ADAPTERS",
    "PROVIDERS",
    "AdapterError",
    "check_source",
    "fetch_value",
    "load_token",
    "save_token",
]

ADAPTERS: Mapping[str, Adapter] = {
    a.provider: a for a in (intercom.ADAPTER, aircall.ADAPTER, http_json.ADAPTER)
}


def _adapter(provider: Any) -> Adapter:
    adapter = ADAPTERS.get(provider) if isinstance(provider, str) else None
    if adapter is None:
        names = ", ".join(PROVIDERS.values())
        raise ValidationError(f"Unknown data-source provider {provider!r}; choose {names}.")
    return adapter


def _check_metric(adapter: Adapter, metric: Any) -> None:
    if not adapter.metrics or metric in adapter.metrics:
        return
    names = ", ".join(adapter.metrics)
    if metric is None or metric == "":
        raise ValidationError(f"An {adapter.label} source needs a metric: {names}.")
    raise ValidationError(f"{adapter.label} has no metric {metric!r}; choose {names}.")


def check_source(source: Mapping[str, Any]) -> None:
    """ValidationError, in plain words, when ``source`` cannot be fetched as written."""
    if not isinstance(source, Mapping):
        raise ValidationError("An API data source must be a JSON object.")
    kind = source.get("type", "api")
    if kind != "api":
        raise ValidationError(f"This data source is of type {kind!r}, not 'api'.")
    adapter = _adapter(source.get("provider"))
    _check_metric(adapter, source.get("metric"))
    override = source.get("base_url")
    if override not in (None, "") and not is_web_url(override):
        raise ValidationError(
            f"The {adapter.label} address {override!r} must start with https:// or http://."
        )
    adapter.check(source)


def fetch_value(
    source: Mapping[str, Any],
    *,
    person_email: str,
    start: dt.date,
    end: dt.date,
    token: str | None,
    client: httpx.Client | None = None,
    timeout: float = 10.0,
    max_wait: float = 30.0,
) -> Decimal:
    """The person's value for the period from the source's provider; AdapterError if none."""
    try:
        check_source(source)
    except ValidationError as exc:
        raise AdapterError(f"The data source is not set up right: {exc}") from None
    adapter = ADAPTERS[source["provider"]]
    if end < start:
        raise AdapterError(f"The period ends ({end}) before it starts ({start}).")
    token = token.strip() if token and token.strip() else None
    if adapter.needs_token and token is None:
        raise AdapterError(
            f"No {adapter.label} token is saved on this computer; save it with Save token… in "
            "the KPI's definition (KPI definitions page)."
        )
    if adapter.needs_token and not person_email.strip():
        raise AdapterError(f"The person has no email, which {adapter.label} needs to find them.")
    query = Query(person_email.strip(), Period(start, end), token)
    with open_client(client, timeout) as http:
        api = Api(adapter.label, http, timeout, WaitBudget(max_wait), token_saved=bool(token))
        return adapter.fetch(api, source, query)
