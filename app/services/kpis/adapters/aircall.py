"""Aircall (public API v1): a user's outbound call count or talk time.

Rules:
- Auth is HTTP Basic with the saved token written ``api_id:api_token``.
- The user is the one in ``GET /v1/users`` (pages of 50) whose ``email`` equals the person's
  email, compared without regard to case; none → AdapterError.
- Calls come from ``GET /v1/calls/search`` (Aircall's documented way to filter calls by
  ``user_id`` and ``direction``; ``/v1/calls`` lists the whole company's calls) with
  ``from`` = start 00:00:00 and ``to`` = end 23:59:59 UTC (unix seconds), ``per_page=50``,
  ``order=asc``.
- Pages: follow ``meta.next_page_link`` until it is null. Only its path and query are used,
  against the configured address, so the credentials never go to another host.
- ``call_count``: calls the user made, i.e. ``direction == "outbound"``, answered or not (a
  dial is work done; ``direction=outbound`` is also sent to the search). Inbound calls do not
  count.
- ``talk_time``: minutes of ``duration`` (seconds, Aircall's ``ended_at − started_at``) summed
  over the user's answered calls (``answered_at`` set), inbound and outbound; missed and
  unanswered calls add nothing.
- Zero calls is a value (0), not an error. Default address https://api.aircall.io.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import httpx

from app.services.kpis.adapters.base import (
    MAX_PAGES,
    Adapter,
    AdapterError,
    Api,
    Query,
    base_url,
    expect_dict,
    expect_list,
    garbage,
    join,
    minutes,
    number,
    split_aircall_token,
    stored_value,
)

DEFAULT_BASE = "https://api.aircall.io"
PER_PAGE = 50
LABEL = "Aircall"

METRICS: Mapping[str, str] = {
    "call_count": "Outbound calls made, count",
    "talk_time": "Talk time of answered calls, minutes",
}


def _auth(token: str | None) -> httpx.BasicAuth:
    halves = split_aircall_token(token or "")
    if halves is None:
        raise AdapterError(
            "The saved Aircall token is not written as api_id:api_token; save it again with "
            "Save token… in the KPI's definition (KPI definitions page)."
        )
    return httpx.BasicAuth(*halves)


def fetch(api: Api, source: Mapping[str, Any], query: Query) -> Decimal:
    """The person's outbound call count, or talk time in minutes, in the period."""
    base = base_url(source, DEFAULT_BASE)
    auth = _auth(query.token)
    metric = str(source.get("metric"))
    user_id = find_user(api, base, auth, query.person_email)
    params = call_params(user_id, query, outbound_only=metric == "call_count")
    calls = pages(api, base, join(base, "/v1/calls/search"), auth, params, "calls")
    if metric == "call_count":
        return Decimal(sum(1 for call in calls if _direction(call) == "outbound"))
    talk = sum((_talk_seconds(call) for call in calls), Decimal(0))
    return stored_value(minutes(talk), LABEL)


def find_user(api: Api, base: str, auth: httpx.BasicAuth, email: str) -> str:
    """The id of the Aircall user with ``email``; AdapterError when there is none."""
    wanted = email.strip().casefold()
    url = join(base, "/v1/users")
    for user in pages(api, base, url, auth, {"per_page": PER_PAGE}, "users"):
        if str(user.get("email") or "").strip().casefold() == wanted:
            user_id = user.get("id")
            if user_id is None or user_id == "":
                raise garbage(LABEL, f"the user {email} has no id")
            return str(user_id)
    raise AdapterError(f"Aircall has no user with the email {email}.")


def call_params(user_id: str, query: Query, *, outbound_only: bool) -> dict[str, Any]:
    """The first page's query string for the person's calls in the period."""
    params: dict[str, Any] = {
        "user_id": user_id,
        "from": query.period.first_second,
        "to": query.period.last_second,
        "per_page": PER_PAGE,
        "order": "asc",
    }
    if outbound_only:
        params["direction"] = "outbound"
    return params


def pages(
    api: Api,
    base: str,
    url: str,
    auth: httpx.BasicAuth,
    params: Mapping[str, Any],
    key: str,
) -> Iterator[Mapping[str, Any]]:
    """Every item under ``key`` over all pages, following ``meta.next_page_link``."""
    next_url: str | httpx.URL = url
    first = True
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        body = expect_dict(
            api.get(next_url, auth=auth, params=params if first else None),
            LABEL,
            f"the {key} page",
        )
        for item in expect_list(body.get(key), LABEL, repr(key)):
            yield expect_dict(item, LABEL, f"an item of {key!r}")
        link = _next_link(body)
        if link is None:
            return
        if link in seen:
            raise garbage(LABEL, "the same page came back twice")
        seen.add(link)
        next_url, first = rebase(base, link), False
    raise garbage(LABEL, f"more than {MAX_PAGES} pages of {key}")


def _next_link(body: Mapping[str, Any]) -> str | None:
    meta = body.get("meta")
    if meta is None:
        return None
    link = expect_dict(meta, LABEL, "'meta'").get("next_page_link")
    if link is None or link == "":
        return None
    if not isinstance(link, str):
        raise garbage(LABEL, "meta.next_page_link is not a link")
    return link


def rebase(base: str, link: str) -> httpx.URL:
    """``link``'s path and query on the configured address ``base``."""
    try:
        target = httpx.URL(link)
    except httpx.InvalidURL:
        raise garbage(LABEL, f"meta.next_page_link {link!r} is not a link") from None
    return httpx.URL(base).copy_with(raw_path=target.raw_path)


def _direction(call: Mapping[str, Any]) -> str:
    return str(call.get("direction") or "").lower()


def _talk_seconds(call: Mapping[str, Any]) -> Decimal:
    if call.get("answered_at") is None:
        return Decimal(0)
    raw = call.get("duration")
    seconds = number(raw)
    if seconds is None or seconds < 0:
        raise garbage(LABEL, f"a call's duration is {raw!r}, not a number of seconds")
    return seconds


ADAPTER = Adapter(provider="aircall", metrics=METRICS, needs_token=True, fetch=fetch)
