"""Live updates in shared mode: a connection that LISTENs on ``perfdesk_changes`` and does
nothing else (DESIGN "Two ways to run"; STACK-NOTES: a NOTIFY arriving while the same
connection runs another query is swallowed by that query).

Migration 0006 sends, after each change, the kind of data that changed ("escrows", "people",
…) or ``notifications:<recipient id>``. ``Listener.drain`` turns what arrived into the distinct
``AppEvents.data_changed`` kinds that concern this login: notifications of another recipient
are dropped. The window watches ``fileno()`` with a QSocketNotifier (app/gui/live.py); nothing
here knows Qt.
"""

from __future__ import annotations

import contextlib
import logging

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from app.db.engine import describe
from app.domain.errors import DatabaseProblem
from app.services.dberrors import explain

log = logging.getLogger(__name__)

CHANNEL = "perfdesk_changes"
NOTIFICATIONS = "notifications"
CONNECT_TIMEOUT_S = 5
#: On connecting, before LISTEN: the person this login is (None: the office owner's login,
#: who sees every notification, as app/services/notifications.py does).
_WHO_AM_I = "SELECT id FROM public.users WHERE db_role = current_user"


def conninfo(url: str) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (``postgresql+psycopg://…``)."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        raise ValueError(f"live updates need PostgreSQL, not {u.get_backend_name()}")
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def kinds_of(payloads: list[str], me: int | None) -> list[str]:
    """The distinct data_changed kinds in ``payloads``, in order of arrival.

    ``notifications:<id>`` becomes ``notifications`` when ``id`` is ``me`` (or ``me`` is None,
    the owner's login that reads every notification) and is dropped otherwise.
    """
    kinds: list[str] = []
    for payload in payloads:
        kind, _, recipient = payload.partition(":")
        if kind == NOTIFICATIONS and recipient and me is not None and recipient != str(me):
            continue
        if kind and kind not in kinds:
            kinds.append(kind)
    return kinds


class Listener:
    """A dedicated autocommit connection running ``LISTEN perfdesk_changes`` and nothing else.

    ``fileno()`` becomes readable when a notification (or the server hanging up) arrives;
    ``drain()`` then reads without blocking. A lost connection is opened again inside
    ``drain()``; if that fails, ``DatabaseProblem`` says so in plain words and ``reconnect()``
    may be tried later. After a reconnect ``fileno()`` may differ, and ``reconnected`` is True
    until read: changes made while the connection was down were missed.
    """

    def __init__(self, url: str, *, channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self.me: int | None = None
        self.reconnected = False
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._connect()

    def _describe(self) -> str:
        return describe(self.url)

    def _connect(self) -> None:
        try:
            conn = psycopg.connect(
                conninfo(self.url),
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name="PerfDesk live updates",
            )
        except psycopg.Error as exc:
            raise DatabaseProblem(
                "Live updates stopped: " + explain(exc, self._describe())
            ) from exc
        try:
            row = conn.execute(_WHO_AM_I).fetchone()
            self.me = row[0] if row is not None and isinstance(row[0], int) else None
            # From here on the connection runs nothing but this LISTEN.
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except psycopg.Error as exc:
            conn.close()
            raise DatabaseProblem(
                "Live updates stopped: " + explain(exc, self._describe())
            ) from exc
        self._conn = conn

    @property
    def is_open(self) -> bool:
        return self._conn is not None and not self._conn.closed

    def fileno(self) -> int:
        if self._conn is None or self._conn.closed:
            raise DatabaseProblem("Live updates are not connected.")
        return self._conn.fileno()

    def drain(self, *, reconnect: bool = True) -> list[str]:
        """The kinds that arrived since the last call (never blocks); [] when none did.

        A lost connection is opened again at once (DatabaseProblem if that fails); with
        ``reconnect=False`` it is only closed (``is_open`` turns False) and [] returned, for a
        caller that reconnects elsewhere (the window does it on a worker).
        """
        if self._conn is None or self._conn.closed:
            if not reconnect:
                return []
            self.reconnect()
        assert self._conn is not None
        try:
            payloads = [n.payload for n in self._conn.notifies(timeout=0)]
        except psycopg.Error as exc:
            log.info("The live-updates connection was lost: %s", exc)
            self._close_conn()
            if reconnect:
                self.reconnect()
            return []
        return kinds_of(payloads, self.me)

    def reconnect(self) -> None:
        """Open the connection again (DatabaseProblem when the server cannot be reached)."""
        self._close_conn()
        self._connect()
        self.reconnected = True

    def _close_conn(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):  # already gone
                conn.close()

    def close(self) -> None:
        self._close_conn()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
