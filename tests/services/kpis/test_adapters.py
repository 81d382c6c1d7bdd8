"""KPI data-source adapters against a local HTTP server that answers like Intercom, Aircall and a
plain JSON endpoint: pages, period boundaries, 429 with Retry-After, slow answers, garbage,
refused tokens and unknown people. Nothing leaves 127.0.0.1 and nothing really sleeps."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from app.domain.errors import ValidationError
from app.services.kpis.adapters import (
    PROVIDERS,
    AdapterError,
    check_source,
    fetch_value,
    load_token,
    save_token,
)
from app.services.kpis.adapters import base as adapters_base

START = dt.date(2024, 5, 1)
END = dt.date(2024, 5, 31)
FIRST = int(dt.datetime(2024, 5, 1, tzinfo=dt.UTC).timestamp())  # 2024-05-01 00:00:00 UTC
AFTER = int(dt.datetime(2024, 6, 1, tzinfo=dt.UTC).timestamp())  # 2024-06-01 00:00:00 UTC
MID = FIRST + 10 * 86400

INTERCOM_TOKEN = "tok-intercom"
AIRCALL_TOKEN = "aid:asecret"
AIRCALL_BASIC = "Basic " + base64.b64encode(b"aid:asecret").decode()
CONVERSATIONS_PER_PAGE = 3
CALLS_PER_PAGE = 2

ADMINS = [
    {"type": "admin", "id": "101", "email": "Ann@Example.com", "name": "Ann"},
    {"type": "admin", "id": "202", "email": "bob@example.com", "name": "Bob"},
    {"type": "admin", "id": "303", "email": "cy@example.com", "name": "Cy"},
]


def _conversation(n: int, admin: int, created: int, reply: int | None, stats: bool = True) -> Any:
    statistics = {"type": "conversation_statistics", "time_to_admin_reply": reply}
    return {
        "type": "conversation",
        "id": str(n),
        "created_at": created,
        "admin_assignee_id": admin,
        "statistics": statistics if stats else None,
    }


CONVERSATIONS = [
    _conversation(1, 101, FIRST, 240),  # the first second of the period counts
    _conversation(2, 101, FIRST + 3600, 60),
    _conversation(3, 101, MID, None),  # not replied: skipped
    _conversation(4, 101, MID, 120),
    _conversation(5, 101, MID, None, stats=False),
    _conversation(6, 101, MID + 1, 300),
    _conversation(7, 101, MID + 2, 600),
    _conversation(8, 101, AFTER - 1, 180),  # the last second of the period counts
    _conversation(9, 101, FIRST - 1, 1),  # before the period
    _conversation(10, 101, AFTER, 1),  # after the period
    _conversation(11, 202, MID, 100),
    _conversation(12, 202, MID, 50),
    _conversation(13, 202, MID, 400),
    _conversation(14, 202, AFTER + 5, 5000),
    _conversation(15, 303, MID, None),
]

USER_PAGES = [
    [{"id": 1, "email": "x@example.com"}, {"id": 2, "email": "y@example.com"}],
    [{"id": 42, "email": "Carl@Example.com"}],
]


def _call(n: int, user: int, direction: str, started: int, answered: bool, duration: int) -> Any:
    return {
        "id": n,
        "direction": direction,
        "status": "done",
        "started_at": started,
        "answered_at": started + 5 if answered else None,
        "ended_at": started + duration,
        "duration": duration,
        "user": {"id": user, "email": "whoever@example.com"},
    }


CALLS = [
    _call(1, 42, "outbound", FIRST, True, 120),  # first second of the period
    _call(2, 42, "outbound", MID, False, 30),  # dialled, not answered: counts, no talk time
    _call(3, 42, "inbound", MID, True, 300),
    _call(4, 42, "inbound", MID + 1, False, 20),  # missed
    _call(5, 42, "outbound", AFTER - 1, True, 90),  # last second of the period
    _call(6, 42, "outbound", AFTER, True, 1000),  # after
    _call(7, 42, "outbound", FIRST - 1, True, 2000),  # before
    _call(8, 7, "outbound", MID, True, 500),  # someone else
]

KPI_BODY = {"data": {"items": [{"value": 1}, {"value": "12.50"}], "total": 7}}


# -- the fake provider ------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    raw_query: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Fake:
    """What the server answers and what it was asked."""

    port: int = 0
    requests: list[Seen] = field(default_factory=list)
    queued: dict[str, list[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)
    bodies: dict[str, bytes] = field(default_factory=dict)  # path → a fixed 200 body
    slow: dict[str, float] = field(default_factory=dict)
    kpi_body: Any = field(default_factory=lambda: KPI_BODY)
    ignore_direction: bool = False  # like a search that does not filter on direction
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def queue(self, path: str, status: int, headers: dict[str, str] | None = None) -> None:
        reply = (status, headers or {}, b'{"type": "error.list"}')
        self.queued.setdefault(path, []).append(reply)

    def to(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]


def _json(status: int, body: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


UNAUTHORIZED = _json(401, {"type": "error.list", "errors": [{"code": "unauthorized"}]})


def _intercom(fake: Fake, seen: Seen) -> tuple[int, dict[str, str], bytes]:
    if seen.headers.get("authorization") != f"Bearer {INTERCOM_TOKEN}":
        return UNAUTHORIZED
    if seen.path == "/admins":
        return _json(200, {"type": "admin.list", "admins": ADMINS})
    query = seen.body["query"]
    assert query["operator"] == "AND"
    found = [c for c in CONVERSATIONS if all(_matches(c, f) for f in query["value"])]
    cursor = seen.body["pagination"].get("starting_after")
    offset = int(cursor.removeprefix("cur-")) if cursor else 0
    end = offset + CONVERSATIONS_PER_PAGE
    pages: dict[str, Any] = {"type": "pages", "per_page": CONVERSATIONS_PER_PAGE}
    if end < len(found):
        pages["next"] = {"page": end // CONVERSATIONS_PER_PAGE + 1, "starting_after": f"cur-{end}"}
    body = {"type": "conversation.list", "conversations": found[offset:end], "pages": pages}
    return _json(200, {**body, "total_count": len(found)})


def _matches(conversation: Mapping[str, Any], rule: Mapping[str, Any]) -> bool:
    actual, wanted = conversation[rule["field"]], rule["value"]
    if rule["operator"] == ">":
        return bool(actual > int(wanted))
    if rule["operator"] == "<":
        return bool(actual < int(wanted))
    assert rule["operator"] == "="
    return str(actual) == str(wanted)


def _aircall(fake: Fake, seen: Seen) -> tuple[int, dict[str, str], bytes]:
    if seen.headers.get("authorization") != AIRCALL_BASIC:
        return UNAUTHORIZED
    page = int(seen.query.get("page", ["1"])[0])
    if seen.path == "/v1/users":
        items, pages = USER_PAGES[page - 1], len(USER_PAGES)
        host = f"127.0.0.1:{fake.port}"  # the provider's own address, as Aircall does
    else:
        q = {k: v[0] for k, v in seen.query.items()}
        found = [
            c
            for c in CALLS
            if str(c["user"]["id"]) == q["user_id"]
            and int(q["from"]) <= c["started_at"] <= int(q["to"])
            and (fake.ignore_direction or c["direction"] == q.get("direction", c["direction"]))
        ]
        items = found[(page - 1) * CALLS_PER_PAGE : page * CALLS_PER_PAGE]
        pages = max(1, -(-len(found) // CALLS_PER_PAGE))
        # Another host: the adapter must use only the path and query (nothing listens there).
        host = f"127.0.0.2:{fake.port}"
    rest = {k: v[0] for k, v in seen.query.items() if k != "page"}
    link = None
    if page < pages:
        link = f"http://{host}{seen.path}?{urllib.parse.urlencode({**rest, 'page': page + 1})}"
    key = "users" if seen.path == "/v1/users" else "calls"
    meta = {"count": len(items), "current_page": page, "per_page": 50, "next_page_link": link}
    return _json(200, {key: items, "meta": meta})


def _answer(fake: Fake, seen: Seen) -> tuple[int, dict[str, str], bytes]:
    queued = fake.queued.get(seen.path)
    if queued:
        return queued.pop(0)
    if seen.path in fake.bodies:
        return 200, {"Content-Type": "application/json"}, fake.bodies[seen.path]
    if seen.path in ("/admins", "/conversations/search"):
        return _intercom(fake, seen)
    if seen.path in ("/v1/users", "/v1/calls/search"):
        return _aircall(fake, seen)
    if seen.path == "/kpi":
        return _json(200, fake.kpi_body)
    return _json(404, {"error": "not found"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: Fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (the timeout test) is not an error here


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        url = urllib.parse.urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        seen = Seen(
            method,
            url.path,
            url.query,
            urllib.parse.parse_qs(url.query),
            {k.lower(): v for k, v in self.headers.items()},
            json.loads(raw) if raw else None,
        )
        fake.requests.append(seen)
        if seen.path in fake.slow:
            fake.stop.wait(fake.slow[seen.path])
        status, headers, body = _answer(fake, seen)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake(server: _Server) -> Iterator[Fake]:
    """A fresh provider state for each test, on the module's server."""
    server.fake = Fake(port=int(server.server_address[1]))
    yield server.fake
    server.fake.stop.set()  # wakes a slow answer that nobody waits for any more


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The adapters' waits after HTTP 429, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr(adapters_base, "_sleep", waited.append)
    return waited


def intercom(fake: Fake, **extra: Any) -> dict[str, Any]:
    src = {"type": "api", "provider": "intercom", "metric": "first_response_time"}
    return {**src, "base_url": fake.base, **extra}


def aircall(fake: Fake, metric: str) -> dict[str, Any]:
    return {"type": "api", "provider": "aircall", "metric": metric, "base_url": fake.base}


def http_json(fake: Fake, path: str = "data.items[1].value", **extra: Any) -> dict[str, Any]:
    url = fake.base + "/kpi?email={user_email}&from={start_date}&to={end_date}"
    return {"type": "api", "provider": "http_json", "url": url, "json_path": path, **extra}


def fetch(source: Mapping[str, Any], email: str, token: str | None, **kwargs: Any) -> Decimal:
    return fetch_value(source, person_email=email, start=START, end=END, token=token, **kwargs)


# -- Intercom ---------------------------------------------------------------------------------


def test_intercom_median_minutes_over_pages_and_period_bounds(fake: Fake) -> None:
    # Ann's replied conversations in May: 240, 60, 120, 300, 600, 180 s → median 210 s.
    value = fetch(intercom(fake), "ann@example.com", INTERCOM_TOKEN)
    assert value == Decimal("3.5")

    (admins,) = fake.to("/admins")
    searches = fake.to("/conversations/search")
    assert len(searches) == 3  # 8 conversations, 3 to a page
    for request in (admins, *searches):
        assert request.headers["authorization"] == f"Bearer {INTERCOM_TOKEN}"
        assert request.headers["intercom-version"] == "2.11"
        assert request.headers["accept"] == "application/json"
    assert [s.body["pagination"] for s in searches] == [
        {"per_page": 150},
        {"per_page": 150, "starting_after": "cur-3"},
        {"per_page": 150, "starting_after": "cur-6"},
    ]
    assert searches[0].body["query"]["value"] == [
        {"field": "created_at", "operator": ">", "value": FIRST - 1},
        {"field": "created_at", "operator": "<", "value": AFTER},
        {"field": "admin_assignee_id", "operator": "=", "value": "101"},
    ]


def test_intercom_odd_count_is_the_middle_value_rounded(fake: Fake) -> None:
    value = fetch(intercom(fake), "BOB@example.com", INTERCOM_TOKEN)  # 50, 100, 400 s
    assert str(value) == "1.6667"


def test_intercom_unknown_email(fake: Fake) -> None:
    with pytest.raises(AdapterError, match=r"Intercom has no teammate with the email zed@x\.com"):
        fetch(intercom(fake), "zed@x.com", INTERCOM_TOKEN)
    assert not fake.to("/conversations/search")


def test_intercom_without_replies_has_no_value(fake: Fake) -> None:
    with pytest.raises(AdapterError, match="no replied conversations in the period"):
        fetch(intercom(fake), "cy@example.com", INTERCOM_TOKEN)


def test_refused_token(fake: Fake) -> None:
    with pytest.raises(AdapterError, match=r"^Intercom refused the token \(HTTP 401\)\.$"):
        fetch(intercom(fake), "ann@example.com", "wrong")
    with pytest.raises(AdapterError, match=r"^Aircall refused the token \(HTTP 401\)\.$"):
        fetch(aircall(fake, "call_count"), "carl@example.com", "aid:wrong")


@pytest.mark.parametrize("token", [None, "", "   "])
@pytest.mark.parametrize(("provider", "label"), [("intercom", "Intercom"), ("aircall", "Aircall")])
def test_missing_token_asks_nothing(
    fake: Fake, token: str | None, provider: str, label: str
) -> None:
    source = intercom(fake) if provider == "intercom" else aircall(fake, "talk_time")
    message = (
        f"No {label} token is saved on this computer; save it with Save token… in the KPI's "
        "definition (KPI definitions page)."
    )
    with pytest.raises(AdapterError) as caught:
        fetch(source, "ann@example.com", token)
    assert str(caught.value) == message
    assert fake.requests == []


# -- Aircall ----------------------------------------------------------------------------------


def test_aircall_counts_outbound_calls_over_pages(fake: Fake) -> None:
    assert fetch(aircall(fake, "call_count"), "carl@example.com", AIRCALL_TOKEN) == 3

    users = fake.to("/v1/users")
    assert [u.query.get("page") for u in users] == [None, ["2"]]
    assert users[0].query["per_page"] == ["50"]
    calls = fake.to("/v1/calls/search")
    assert len(calls) == 2  # 3 outbound calls in May, 2 to a page; page 2 came here too
    first = {k: v[0] for k, v in calls[0].query.items()}
    assert first == {
        "user_id": "42",
        "from": str(FIRST),
        "to": str(AFTER - 1),
        "per_page": "50",
        "order": "asc",
        "direction": "outbound",
    }
    assert calls[1].query["page"] == ["2"] and calls[1].query["user_id"] == ["42"]
    assert all(r.headers["authorization"] == AIRCALL_BASIC for r in fake.requests)


def test_aircall_counts_only_outbound_calls_whatever_the_search_returns(fake: Fake) -> None:
    fake.ignore_direction = True
    assert fetch(aircall(fake, "call_count"), "carl@example.com", AIRCALL_TOKEN) == 3


def test_aircall_talk_time_sums_answered_calls(fake: Fake) -> None:
    # Answered in May: 120 s out, 300 s in, 90 s out → 510 s.
    assert fetch(aircall(fake, "talk_time"), "carl@example.com", AIRCALL_TOKEN) == Decimal("8.5")
    calls = fake.to("/v1/calls/search")
    assert len(calls) == 3  # 5 calls, 2 to a page
    assert "direction" not in calls[0].query


def test_aircall_unknown_email(fake: Fake) -> None:
    with pytest.raises(AdapterError, match=r"Aircall has no user with the email zed@x\.com"):
        fetch(aircall(fake, "call_count"), "zed@x.com", AIRCALL_TOKEN)
    assert len(fake.to("/v1/users")) == 2  # looked at every page
    assert not fake.to("/v1/calls/search")


def test_aircall_token_must_have_both_halves(fake: Fake) -> None:
    with pytest.raises(AdapterError, match="api_id:api_token"):
        fetch(aircall(fake, "call_count"), "carl@example.com", "only-a-token")
    assert fake.requests == []


# -- HTTP JSON --------------------------------------------------------------------------------


def test_http_json_fills_the_url_and_reads_the_path(fake: Fake) -> None:
    assert fetch(http_json(fake), "ann+x@example.com", "tok-h") == Decimal("12.5")
    (request,) = fake.to("/kpi")
    assert request.raw_query == "email=ann%2Bx%40example.com&from=2024-05-01&to=2024-05-31"
    assert request.headers["authorization"] == "Bearer tok-h"


def test_http_json_without_token_sends_no_authorization(fake: Fake) -> None:
    assert fetch(http_json(fake, "$.data.total"), "ann@example.com", None) == 7
    (request,) = fake.to("/kpi")
    assert "authorization" not in request.headers


def test_http_json_whole_answer_and_numeric_text(fake: Fake) -> None:
    fake.kpi_body = " 41.25 "
    assert fetch(http_json(fake, "$"), "ann@example.com", None) == Decimal("41.25")
    fake.kpi_body = [{"v": 3}]
    assert fetch(http_json(fake, "$[0].v"), "ann@example.com", None) == 3


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ({"data": {"total": "abc"}}, "data.total", "at data.total: found the text 'abc'"),
        ({"data": {"total": None}}, "data.total", "at data.total: found null"),
        ({"data": {"total": True}}, "data.total", "at data.total: found true"),
        ({"data": {"total": {}}}, "data.total", "at data.total: found an object"),
        ({"data": {}}, "$.data.total", "at $.data.total: data has no key 'total'"),
        ({"data": [1, 2]}, "data.total", "data is a list of 2 items, not an object"),
        ({"data": {"items": [1]}}, "data.items[3]", "data.items is a list of 1 item"),
        ({"data": 5}, "data[0]", "data is the number 5, not a list"),
    ],
)
def test_http_json_no_number_names_the_path(fake: Fake, body: Any, path: str, message: str) -> None:
    fake.kpi_body = body
    with pytest.raises(AdapterError, match=r"^HTTP JSON answered no number ") as caught:
        fetch(http_json(fake, path), "ann@example.com", None)
    assert message in str(caught.value)


def test_http_json_refused_without_token(fake: Fake) -> None:
    fake.queue("/kpi", 401)
    with pytest.raises(AdapterError, match=r"wants a token \(HTTP 401\) and none is saved"):
        fetch(http_json(fake), "ann@example.com", None)


# -- rate limits, timeouts, errors ------------------------------------------------------------


def test_429_waits_retry_after_then_succeeds(fake: Fake, sleeps: list[float]) -> None:
    fake.queue("/conversations/search", 429, {"Retry-After": "2"})
    assert fetch(intercom(fake), "ann@example.com", INTERCOM_TOKEN) == Decimal("3.5")
    assert sleeps == [2.0]
    assert len(fake.to("/conversations/search")) == 4  # the refused try, then 3 pages


def test_429_without_retry_after_backs_off_then_gives_up(fake: Fake, sleeps: list[float]) -> None:
    for _ in range(5):
        fake.queue("/v1/users", 429)
    with pytest.raises(AdapterError, match=r"^Aircall is rate-limiting; tried again for 7 s"):
        fetch(aircall(fake, "call_count"), "carl@example.com", AIRCALL_TOKEN)
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(fake.to("/v1/users")) == 4


def test_429_never_waits_past_max_wait(fake: Fake, sleeps: list[float]) -> None:
    fake.queue("/admins", 429, {"Retry-After": "20"})
    fake.queue("/conversations/search", 429, {"Retry-After": "20"})
    with pytest.raises(AdapterError, match=r"^Intercom is rate-limiting; tried again for 20 s"):
        fetch(intercom(fake), "ann@example.com", INTERCOM_TOKEN, max_wait=30)
    assert sleeps == [20.0]  # the budget is for the whole fetch, not per request

    sleeps.clear()
    fake.queue("/admins", 429, {"Retry-After": "60"})
    with pytest.raises(AdapterError, match="tried again for 0 s"):
        fetch(intercom(fake), "ann@example.com", INTERCOM_TOKEN, max_wait=30)
    assert sleeps == []


def test_retry_after_reads_seconds_dates_and_backs_off() -> None:
    now = dt.datetime(2015, 10, 21, 7, 27, 55, tzinfo=dt.UTC)
    assert adapters_base.retry_wait("Wed, 21 Oct 2015 07:28:00 GMT", 0, now) == 5.0
    assert adapters_base.retry_wait("Wed, 21 Oct 2015 07:00:00 GMT", 0, now) == 0.0
    assert adapters_base.retry_wait(" 3 ", 2, now) == 3.0
    assert [adapters_base.retry_wait(None, n, now) for n in range(3)] == [1.0, 2.0, 4.0]
    assert adapters_base.retry_wait("soon", 1, now) == 2.0


def test_slow_provider_times_out(fake: Fake) -> None:
    fake.slow["/admins"] = 5.0
    began = time.monotonic()
    with pytest.raises(AdapterError, match=r"^Intercom did not answer within 0\.2 s\.$"):
        fetch(intercom(fake), "ann@example.com", INTERCOM_TOKEN, timeout=0.2)
    assert time.monotonic() - began < 2


def test_unreachable_provider() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = {"type": "api", "provider": "intercom", "metric": "first_response_time"}
    source["base_url"] = f"http://127.0.0.1:{port}"
    with pytest.raises(AdapterError, match=rf"^Could not reach Intercom at 127\.0\.0\.1:{port}: "):
        fetch(source, "ann@example.com", INTERCOM_TOKEN)


def test_server_error_names_the_path(fake: Fake) -> None:
    fake.queue("/conversations/search", 500)
    with pytest.raises(
        AdapterError, match=r"^Intercom answered HTTP 500 for /conversations/search"
    ):
        fetch(intercom(fake), "ann@example.com", INTERCOM_TOKEN)


@pytest.mark.parametrize(
    ("provider", "path", "body", "detail"),
    [
        ("intercom", "/admins", b"<html>oops</html>", "the answer to /admins is not JSON"),
        ("intercom", "/admins", b'{"type": "admin.list"}', "no 'admins' list"),
        ("intercom", "/admins", b"[1, 2]", "the admin list is not an object"),
        (
            "intercom",
            "/conversations/search",
            b'{"conversations": [{"statistics": {"time_to_admin_reply": "soon"}}]}',
            "time_to_admin_reply is 'soon'",
        ),
        (
            "intercom",
            "/conversations/search",
            b'{"conversations": [], "pages": {"next": {"starting_after": "x"}}}',
            "the same page came back twice",
        ),
        ("aircall", "/v1/users", b'{"users": "nobody"}', "no 'users' list"),
        (
            "aircall",
            "/v1/users",
            b'{"users": [], "meta": {"next_page_link": "https://api.aircall.io/v1/users?page=2"}}',
            "the same page came back twice",
        ),
        ("aircall", "/v1/users", b'{"users": [], "meta": {"next_page_link": 5}}', "not a link"),
        ("http_json", "/kpi", b'{"data": {"items": [1, {"value": NaN}]}}', "is not JSON"),
    ],
)
def test_garbage_answers(fake: Fake, provider: str, path: str, body: bytes, detail: str) -> None:
    fake.bodies[path] = body
    source = {
        "intercom": lambda: intercom(fake),
        "aircall": lambda: aircall(fake, "call_count"),
        "http_json": lambda: http_json(fake),
    }[provider]()
    token = {"intercom": INTERCOM_TOKEN, "aircall": AIRCALL_TOKEN, "http_json": None}[provider]
    label = PROVIDERS[provider]
    with pytest.raises(AdapterError) as caught:
        fetch(source, "ann@example.com", token)
    text = str(caught.value)
    assert text.startswith(f"{label} answered something that is not the expected JSON (")
    assert detail in text


def test_redirects_are_not_followed(fake: Fake) -> None:
    fake.queued["/kpi"] = [(302, {"Location": fake.base + "/elsewhere"}, b"")]
    with pytest.raises(AdapterError, match=r"^HTTP JSON answered HTTP 302 for /kpi\.$"):
        fetch(http_json(fake), "ann@example.com", "tok-h")
    assert not fake.to("/elsewhere")


def test_a_given_client_is_used_and_left_open(fake: Fake) -> None:
    with httpx.Client(headers={"X-Test": "given"}) as client:
        fetch(http_json(fake), "ann@example.com", None, client=client)
        assert not client.is_closed
    assert fake.to("/kpi")[0].headers["x-test"] == "given"


# -- checking a source ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("intercom", "must be a JSON object"),
        ({"type": "manual", "provider": "intercom"}, "of type 'manual', not 'api'"),
        ({"type": "api", "provider": "zendesk"}, "Unknown data-source provider 'zendesk'"),
        ({"type": "api"}, "Unknown data-source provider None"),
        ({"type": "api", "provider": "intercom"}, "needs a metric: first_response_time"),
        (
            {"type": "api", "provider": "intercom", "metric": "csat"},
            "Intercom has no metric 'csat'; choose first_response_time",
        ),
        (
            {"type": "api", "provider": "aircall", "metric": "first_response_time"},
            "Aircall has no metric 'first_response_time'; choose call_count, talk_time",
        ),
        (
            {"provider": "aircall", "metric": "talk_time", "base_url": "ftp://x"},
            "must start with https://",
        ),
        ({"provider": "http_json", "json_path": "a"}, "needs the URL"),
        ({"provider": "http_json", "url": "example.com/x", "json_path": "a"}, "needs the URL"),
        ({"provider": "http_json", "url": "https:///x", "json_path": "a"}, "needs the URL"),
        ({"provider": "http_json", "url": "https://x.io/k"}, "needs the JSON path"),
        ({"provider": "http_json", "url": "https://x.io/k", "json_path": " "}, "needs the JSON"),
        ({"provider": "http_json", "url": "https://x.io", "json_path": "a..b"}, "is not valid"),
        ({"provider": "http_json", "url": "https://x.io", "json_path": "a[x]"}, "is not valid"),
        ({"provider": "http_json", "url": "https://x.io", "json_path": "$."}, "is not valid"),
        ({"provider": "http_json", "url": "https://x.io", "json_path": "a[-1]"}, "is not valid"),
        ({"provider": "http_json", "url": "https://x.io", "json_path": "a b"}, "is not valid"),
    ],
)
def test_bad_sources_are_refused(source: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        check_source(source)


@pytest.mark.parametrize(
    "source",
    [
        {"type": "api", "provider": "intercom", "metric": "first_response_time"},
        {"provider": "aircall", "metric": "call_count", "base_url": "https://api.aircall.io"},
        {"provider": "http_json", "url": "https://x.io/k?e={user_email}", "json_path": "$.a[0].b"},
        {"provider": "http_json", "url": "http://x.io/{start_date}/{end_date}", "json_path": "t"},
    ],
)
def test_good_sources_pass(source: dict[str, Any]) -> None:
    check_source(source)


def test_fetching_a_bad_source_is_an_adapter_error(fake: Fake) -> None:
    source = {"type": "api", "provider": "intercom", "metric": "csat", "base_url": fake.base}
    with pytest.raises(AdapterError, match="not set up right: Intercom has no metric 'csat'"):
        fetch(source, "ann@example.com", INTERCOM_TOKEN)
    assert fake.requests == []


# -- tokens -----------------------------------------------------------------------------------


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_tokens_live_in_the_keyring(memory_keyring: MemoryKeyring) -> None:
    assert load_token("intercom") is None
    save_token("intercom", "  tok-1 ")
    save_token("aircall", "aid:asecret")
    assert memory_keyring.passwords == {
        ("PerfDesk", "kpi-api:intercom"): "tok-1",
        ("PerfDesk", "kpi-api:aircall"): "aid:asecret",
    }
    assert load_token("intercom") == "tok-1"
    assert load_token("aircall") == "aid:asecret"
    assert load_token("http_json") is None
    assert load_token("zendesk") is None


def test_bad_tokens_are_refused(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(ValidationError, match="Enter the Intercom token"):
        save_token("intercom", "  ")
    with pytest.raises(ValidationError, match="api_id:api_token"):
        save_token("aircall", "just-a-token")
    with pytest.raises(ValidationError, match="Unknown data-source provider 'zendesk'"):
        save_token("zendesk", "x")
    assert memory_keyring.passwords == {}
