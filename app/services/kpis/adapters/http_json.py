"""HTTP JSON: one number read from any JSON endpoint (the source's ``metric`` is not used).

Rules:
- ``url`` is an http(s) URL; ``{user_email}``, ``{start_date}`` and ``{end_date}`` in it are
  replaced by the person's email and the period's first and last day (ISO dates), each
  URL-encoded (``@`` becomes ``%40``). Other text in the URL is sent as written.
- GET, with ``Accept: application/json`` and, when a token is saved, ``Authorization: Bearer
  <token>``. No token is needed: public endpoints work without one.
- ``json_path`` is a dotted path with list indices, e.g. ``data.items[0].value``; a leading
  ``$.`` is allowed (``$.data.total``) and ``$`` alone is the whole answer. Keys are any text
  without ``.``, ``[``, ``]`` or spaces; indices are whole numbers from 0.
- The value there must be a JSON number or a text holding a number (``"12.5"``, spaces
  around it allowed); anything else, or nothing at the path, is an AdapterError naming the
  path and what was found.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.errors import ValidationError
from app.services.kpis.adapters.base import (
    Adapter,
    AdapterError,
    Api,
    Query,
    is_web_url,
    number,
    stored_value,
)

LABEL = "HTTP JSON"
PLACEHOLDERS = ("{user_email}", "{start_date}", "{end_date}")

Step = str | int

_NAME = re.compile(r"[^.\[\]\s]+")
_INDEX = re.compile(r"\[(\d+)\]")


# -- checking ---------------------------------------------------------------------------------


def check(source: Mapping[str, Any]) -> None:
    """ValidationError when the URL or the JSON path is missing or malformed."""
    url = source.get("url")
    sample = (
        fill(url, "person@example.com", "2000-01-01", "2000-01-31") if isinstance(url, str) else url
    )
    if not is_web_url(sample):
        raise ValidationError(
            "An HTTP JSON source needs the URL to read, starting with https:// or http://."
        )
    parse_path(source.get("json_path"))


def parse_path(text: Any) -> tuple[Step, ...]:
    """The steps of a JSON path (keys and list indices); ValidationError when malformed."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("An HTTP JSON source needs the JSON path of the number to read.")
    rest = text.strip()
    if rest == "$":
        return ()
    if rest.startswith("$."):
        rest = rest[2:]
    elif rest.startswith("$["):
        rest = rest[1:]
    steps: list[Step] = []
    at = 0
    while at < len(rest):
        index = _INDEX.match(rest, at)
        if index:
            steps.append(int(index.group(1)))
            at = index.end()
            continue
        if steps:
            if rest[at] != ".":
                raise _bad_path(text)
            at += 1
        name = _NAME.match(rest, at)
        if not name:
            raise _bad_path(text)
        steps.append(name.group())
        at = name.end()
    if not steps:
        raise _bad_path(text)
    return tuple(steps)


def _bad_path(text: str) -> ValidationError:
    return ValidationError(
        f"The JSON path {text!r} is not valid; write it like data.items[0].value or $.data.total."
    )


# -- fetching ---------------------------------------------------------------------------------


def fill(url: str, email: str, start: str, end: str) -> str:
    """``url`` with the placeholders replaced, each value URL-encoded."""
    values = (email, start, end)
    for placeholder, value in zip(PLACEHOLDERS, values, strict=True):
        url = url.replace(placeholder, urllib.parse.quote(value, safe=""))
    return url.strip()


def fetch(api: Api, source: Mapping[str, Any], query: Query) -> Decimal:
    """The number at ``json_path`` in the answer of ``url``."""
    period = query.period
    url = fill(
        str(source["url"]), query.person_email, period.start.isoformat(), period.end.isoformat()
    )
    headers = {"Accept": "application/json"}
    if query.token:
        headers["Authorization"] = f"Bearer {query.token}"
    path_text = str(source["json_path"]).strip()
    found = resolve(api.get(url, headers=headers), parse_path(path_text), path_text)
    return stored_value(to_number(found, path_text), LABEL)


def resolve(document: Any, steps: tuple[Step, ...], path_text: str) -> Any:
    """The value at ``steps`` in ``document``; AdapterError saying where the path ends."""
    current = document
    for n, step in enumerate(steps):
        where = render(steps[:n])
        if isinstance(step, int):
            if not isinstance(current, list):
                raise _nothing(path_text, f"{where} is {describe(current)}, not a list")
            if step >= len(current):
                raise _nothing(path_text, f"{where} is {describe(current)}")
            current = current[step]
        else:
            if not isinstance(current, Mapping):
                raise _nothing(path_text, f"{where} is {describe(current)}, not an object")
            if step not in current:
                raise _nothing(path_text, f"{where} has no key {step!r}")
            current = current[step]
    return current


def to_number(value: Any, path_text: str) -> Decimal:
    """A JSON number, or a text holding one, as a Decimal; else AdapterError."""
    result = number(value)
    if result is None and isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            result = None
        if result is not None and not result.is_finite():
            result = None
    if result is None:
        raise AdapterError(f"HTTP JSON answered no number at {path_text}: found {describe(value)}.")
    return result


def _nothing(path_text: str, why: str) -> AdapterError:
    return AdapterError(f"HTTP JSON answered no number at {path_text}: {why}.")


def render(steps: tuple[Step, ...]) -> str:
    """Steps written back as a path; the empty path is "the answer"."""
    if not steps:
        return "the answer"
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def describe(value: Any) -> str:
    """What a JSON value is, in a few words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    return f"the number {value}"


ADAPTER = Adapter(provider="http_json", metrics={}, needs_token=False, fetch=fetch, check=check)
