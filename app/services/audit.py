"""Appending to and verifying the audit chains of SPEC §5.

Appending takes the chain's lock first (PostgreSQL: a transaction-level advisory lock on the
chain key; SQLite: the database's write lock), so two workstations appending to one chain get
consecutive seqs and each links to the other's hash; UNIQUE (chain_key, seq) is the backstop.

Verifying streams every entry in (chain_key, seq) order and recomputes each hash; the first
entry whose hash or link is wrong is named. A million entries take a few seconds: the payloads
are read as JSON text and hashed with the domain's canonical JSON.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models.audit import AuditEntry
from app.domain.audit import (
    GENESIS_HASH,
    ChainFault,
    canonical_dumps,
    entry_hash,
    entry_text,
    normalise_payload,
    plain_entry_hash,
    stored_time_text,
)
from app.domain.errors import PerfDeskError
from app.services.database import Database

ProgressFn = Callable[[int, int], None]  # (entries checked, entries in all)
CancelFn = Callable[[], bool]


class VerifyCancelled(PerfDeskError):
    """The person stopped the check before it finished."""


@dataclass(frozen=True)
class AuditEntryRow:
    id: int
    chain_key: str
    seq: int
    event_type: str
    entity_type: str
    entity_id: str
    actor_id: int | None
    payload: dict[str, Any]
    recorded_at: dt.datetime
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    chains: int
    fault: ChainFault | None

    @property
    def intact(self) -> bool:
        return self.fault is None

    def describe(self) -> str:
        if self.fault is None:
            return f"{self.entries} audit entries in {self.chains} chains verified: intact."
        return f"{self.fault}"


def _lock_chain(s: Session, chain_key: str) -> None:
    if s.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(chain_key.encode("utf-8"))
        s.execute(
            sa.text("SELECT pg_advisory_xact_lock(:k1, :k2)"), {"k1": 5150, "k2": key - 2**31}
        )
    else:
        # Any write statement takes SQLite's write lock for the rest of the transaction; this
        # one touches no row (the append-only triggers fire per row, so none fires).
        s.execute(sa.text("UPDATE audit_entries SET seq = seq WHERE 0"))


def _next_id(s: Session) -> int:
    if s.get_bind().dialect.name == "postgresql":
        return int(
            s.scalar(
                sa.text("SELECT nextval(pg_get_serial_sequence('public.audit_entries', 'id'))")
            )
        )
    return int(s.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEntry.id), 0) + 1)) or 1)


def append_entry(
    s: Session,
    chain_key: str,
    event_type: str,
    entity_type: str,
    entity_id: int | str,
    actor_id: int | None,
    payload: Mapping[str, Any],
    recorded_at: dt.datetime | None = None,
) -> AuditEntryRow:
    """Append one entry to ``chain_key`` inside the caller's transaction and return it."""
    _lock_chain(s, chain_key)
    last = s.execute(
        sa.select(AuditEntry.seq, AuditEntry.hash)
        .where(AuditEntry.chain_key == chain_key)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (1, GENESIS_HASH) if last is None else (last.seq + 1, last.hash)
    at = recorded_at or dt.datetime.now(dt.UTC)
    # Stored times keep microseconds; hash what will be read back.
    at = at.astimezone(dt.UTC)
    fields: dict[str, Any] = {
        "id": _next_id(s),
        "chain_key": chain_key,
        "seq": seq,
        "event_type": event_type,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "actor_id": actor_id,
        "payload": normalise_payload(payload),
        "recorded_at": at,
    }
    digest = entry_hash(prev, fields)
    s.add(AuditEntry(**fields, prev_hash=prev, hash=digest))
    s.flush()
    return AuditEntryRow(**fields, prev_hash=prev, hash=digest)


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded: dict[str, Any] = json.loads(value)
        return loaded
    return dict(value)


def _rows(s: Session, where: sa.ColumnElement[bool] | None) -> Iterator[sa.Row[Any]]:
    stmt = sa.select(
        AuditEntry.id,
        AuditEntry.chain_key,
        AuditEntry.seq,
        AuditEntry.event_type,
        AuditEntry.entity_type,
        AuditEntry.entity_id,
        AuditEntry.actor_id,
        AuditEntry.payload,
        AuditEntry.recorded_at,
        AuditEntry.prev_hash,
        AuditEntry.hash,
    ).order_by(AuditEntry.chain_key, AuditEntry.seq)
    if where is not None:
        stmt = stmt.where(where)
    result = s.execute(stmt.execution_options(yield_per=5000, stream_results=True))
    yield from result


def entry_is_intact(row: Any, prev_hash: str) -> bool:
    """True when the entry links to ``prev_hash`` and its hash matches its contents."""
    if row.prev_hash != prev_hash:
        return False
    fields = {
        "id": row.id,
        "chain_key": row.chain_key,
        "seq": row.seq,
        "event_type": row.event_type,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "actor_id": row.actor_id,
        "payload": _payload(row.payload),
        "recorded_at": row.recorded_at,
    }
    return bool(plain_entry_hash(prev_hash, fields) == row.hash)


_VERIFY_COLUMNS = "id, chain_key, seq, event_type, entity_type, entity_id, actor_id"
_PG_VERIFY = (
    f"SELECT {_VERIFY_COLUMNS}, payload::text, "
    "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), "
    "prev_hash, hash "
    "FROM audit_entries {where} ORDER BY chain_key, seq"
)
_SQLITE_VERIFY = (
    f"SELECT {_VERIFY_COLUMNS}, payload, recorded_at, prev_hash, hash "
    "FROM audit_entries {where} ORDER BY chain_key, seq"
)


def _digest(prev: str, row: Any, payload_text: str) -> str:
    text = entry_text(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], payload_text,
        stored_time_text(row[8]),
    )  # fmt: skip
    return hashlib.sha256(prev.encode("ascii") + text.encode("utf-8")).hexdigest()


def verify_all(
    db: Database,
    chain_key: str | None = None,
    *,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
) -> VerifyResult:
    """Recompute every chain (or one); the first bad entry, if any, is named.

    Rows are read as plain text (no ORM, no type processing) and each entry's canonical JSON is
    put together from its parts (``app.domain.audit.entry_text``). On SQLite the stored payload
    is stored as canonical text on both backends (the engine's JSON serializer; JSON, not JSONB,
    on PostgreSQL) and is hashed as read; a payload stored otherwise (written before 0008, or by
    hand) is parsed and written canonically before concluding that the entry changed.
    """
    postgres = db.dialect == "postgresql"
    where = "" if chain_key is None else f"WHERE chain_key = {'%s' if postgres else '?'}"
    sql = (_PG_VERIFY if postgres else _SQLITE_VERIFY).replace("{where}", where)
    params: tuple[str, ...] = () if chain_key is None else (chain_key,)
    with db.read() as s:
        count_stmt = sa.select(sa.func.count()).select_from(AuditEntry)
        if chain_key is not None:
            count_stmt = count_stmt.where(AuditEntry.chain_key == chain_key)
        total = int(s.scalar(count_stmt) or 0)
        checked = chains = 0
        current: str | None = None
        prev = GENESIS_HASH
        expected = 1
        # The driver's own cursor: SQLAlchemy's Row objects cost as much as the hashing here.
        # On PostgreSQL a named (server-side) cursor streams the rows.
        raw = s.connection().connection
        cursor = raw.cursor(name="perfdesk_audit_verify") if postgres else raw.cursor()
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(10000):
            for row in batch:
                if row[1] != current:
                    current, prev, expected = row[1], GENESIS_HASH, 1
                    chains += 1
                fault = None
                if row[2] != expected:
                    fault = f"expected seq {expected}, found {row[2]} (an entry is missing)"
                elif row[9] != prev:
                    fault = "prev_hash does not link to the entry before it"
                else:
                    digest = _digest(prev, row, row[7])
                    if digest != row[10]:  # a payload not stored as canonical text
                        digest = _digest(prev, row, canonical_dumps(json.loads(row[7])))
                    if digest != row[10]:
                        fault = "hash does not match its contents (the entry was changed)"
                if fault is not None:
                    return VerifyResult(checked, chains, ChainFault(row[0], row[1], row[2], fault))
                prev = row[10]
                expected += 1
                checked += 1
            if progress is not None:
                progress(checked, total)
            if cancelled is not None and cancelled():
                raise VerifyCancelled(f"Stopped after {checked:,} of {total:,} entries.")
        if progress is not None:
            progress(checked, total)
        return VerifyResult(checked, chains, None)


def chain_entries(db: Database, chain_key: str) -> list[tuple[AuditEntryRow, bool]]:
    """One chain's entries in order, each with whether it verifies (hash and link)."""
    out: list[tuple[AuditEntryRow, bool]] = []
    with db.read() as s:
        prev = GENESIS_HASH
        for row in _rows(s, AuditEntry.chain_key == chain_key):
            ok = entry_is_intact(row, prev)
            entry = AuditEntryRow(
                row.id, row.chain_key, row.seq, row.event_type, row.entity_type,
                row.entity_id, row.actor_id, _payload(row.payload), row.recorded_at,
                row.prev_hash, row.hash,
            )  # fmt: skip
            out.append((entry, ok))
            prev = row.hash
    return out
