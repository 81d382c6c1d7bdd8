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
    entry_hash,
    normalise_payload,
    plain_entry_hash,
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


def verify_all(
    db: Database,
    chain_key: str | None = None,
    *,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
) -> VerifyResult:
    """Recompute every chain (or one); the first bad entry, if any, is named."""
    where = None if chain_key is None else AuditEntry.chain_key == chain_key
    with db.read() as s:
        count_stmt = sa.select(sa.func.count()).select_from(AuditEntry)
        if where is not None:
            count_stmt = count_stmt.where(where)
        total = int(s.scalar(count_stmt) or 0)
        checked = chains = 0
        current: str | None = None
        prev = GENESIS_HASH
        expected = 1
        for row in _rows(s, where):
            if row.chain_key != current:
                current, prev, expected = row.chain_key, GENESIS_HASH, 1
                chains += 1
            fault = None
            if row.seq != expected:
                fault = f"expected seq {expected}, found {row.seq} (an entry is missing)"
            elif row.prev_hash != prev:
                fault = "prev_hash does not link to the entry before it"
            elif not entry_is_intact(row, prev):
                fault = "hash does not match its contents (the entry was changed)"
            if fault is not None:
                return VerifyResult(
                    checked, chains, ChainFault(row.id, row.chain_key, row.seq, fault)
                )
            prev = row.hash
            expected += 1
            checked += 1
            if checked % 20000 == 0:
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
