"""Intercom (REST API 2.11): a teammate's median first response time, in minutes.

Rules:
- The teammate is the admin in ``GET /admins`` whose ``email`` equals the person's email,
  compared without regard to case; none → AdapterError.
- Conversations: ``POST /conversations/search`` with ``created_at > start − 1 s`` and
  ``created_at < end + 1 day`` (Intercom's operators are strict, so this is start 00:00:00 to
  end 23:59:59 UTC) and ``admin_assignee_id = <admin id>``: the conversations created in the
  period and assigned to the teammate now. Pages of 150, following
  ``pages.next.starting_after`` until there is none.
- Each conversation's ``statistics.time_to_admin_reply`` (seconds; Intercom leaves out office
  hours) counts; null (not replied yet) is skipped. The value is the median of those seconds
  (the mean of the middle two for an even count) / 60. No replied conversation → AdapterError
  ("no replied conversations in the period"): there is nothing to measure.
- Headers: ``Authorization: Bearer <token>``, ``Accept: application/json``,
  ``Intercom-Version: 2.11``. Default address https://api.intercom.io (``base_url`` overrides
  it, e.g. https://api.eu.intercom.io).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

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
    stored_value,
)

DEFAULT_BASE = "https://api.intercom.io"
API_VERSION = "2.11"
PER_PAGE = 150
LABEL = "Intercom"

METRICS: Mapping[str, str] = {
    "first_response_time": "Median first response time, minutes",
}


def _headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "Intercom-Version": API_VERSION,
    }


def fetch(api: Api, source: Mapping[str, Any], query: Query) -> Decimal:
    """The person's median first response time in the period, in minutes."""
    base = base_url(source, DEFAULT_BASE)
    headers = _headers(query.token or "")
    admin_id = find_admin(api, base, headers, query.person_email)
    seconds = list(reply_seconds(api, base, headers, admin_id, query))
    if not seconds:
        raise AdapterError(
            f"Intercom has no replied conversations in the period {query.period.describe()} "
            f"for {query.person_email}; there is nothing to measure."
        )
    return stored_value(minutes(median(seconds)), LABEL)


def find_admin(api: Api, base: str, headers: Mapping[str, str], email: str) -> str:
    """The id of the teammate with ``email``; AdapterError when there is none."""
    body = expect_dict(api.get(join(base, "/admins"), headers=headers), LABEL, "the admin list")
    wanted = email.strip().casefold()
    for raw in expect_list(body.get("admins"), LABEL, "'admins'"):
        admin = expect_dict(raw, LABEL, "an admin")
        if str(admin.get("email") or "").strip().casefold() == wanted:
            admin_id = admin.get("id")
            if admin_id is None or admin_id == "":
                raise garbage(LABEL, f"the admin {email} has no id")
            return str(admin_id)
    raise AdapterError(f"Intercom has no teammate with the email {email}.")


def search_body(admin_id: str, query: Query, starting_after: str | None) -> dict[str, Any]:
    """The ``/conversations/search`` request for one page."""
    pagination: dict[str, Any] = {"per_page": PER_PAGE}
    if starting_after is not None:
        pagination["starting_after"] = starting_after
    period = query.period
    return {
        "query": {
            "operator": "AND",
            "value": [
                {"field": "created_at", "operator": ">", "value": period.first_second - 1},
                {"field": "created_at", "operator": "<", "value": period.after_last},
                {"field": "admin_assignee_id", "operator": "=", "value": admin_id},
            ],
        },
        "pagination": pagination,
    }


def reply_seconds(
    api: Api, base: str, headers: Mapping[str, str], admin_id: str, query: Query
) -> Iterator[Decimal]:
    """``time_to_admin_reply`` of every replied conversation, over all pages."""
    url = join(base, "/conversations/search")
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page = expect_dict(
            api.post(url, headers=headers, json=search_body(admin_id, query, cursor)),
            LABEL,
            "the search answer",
        )
        for raw in expect_list(page.get("conversations"), LABEL, "'conversations'"):
            value = _reply_time(raw)
            if value is not None:
                yield value
        cursor = _next_cursor(page)
        if cursor is None:
            return
        if cursor in seen:
            raise garbage(LABEL, "the same page came back twice")
        seen.add(cursor)
    raise garbage(LABEL, f"more than {MAX_PAGES} pages of conversations")


def _reply_time(raw: Any) -> Decimal | None:
    conversation = expect_dict(raw, LABEL, "a conversation")
    statistics = conversation.get("statistics")
    if statistics is None:
        return None
    value = expect_dict(statistics, LABEL, "a conversation's statistics").get("time_to_admin_reply")
    if value is None:
        return None
    seconds = number(value)
    if seconds is None or seconds < 0:
        raise garbage(LABEL, f"time_to_admin_reply is {value!r}, not a number of seconds")
    return seconds


def _next_cursor(page: Mapping[str, Any]) -> str | None:
    pages = page.get("pages")
    if pages is None:
        return None
    following = expect_dict(pages, LABEL, "'pages'").get("next")
    if following is None:
        return None
    cursor = expect_dict(following, LABEL, "'pages.next'").get("starting_after")
    if cursor is None or cursor == "":
        return None
    return str(cursor)


def median(values: list[Decimal]) -> Decimal:
    """The middle value; the mean of the middle two for an even count (``values`` not empty)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


ADAPTER = Adapter(provider="intercom", metrics=METRICS, needs_token=True, fetch=fetch)
