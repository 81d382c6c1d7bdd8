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
import os
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
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


#: The advisory-lock class of audit chains (PostgreSQL); the key is the chain's CRC-32.
CHAIN_LOCK_CLASS = 5150
#: Chains looked up per statement, rows inserted per statement (``append_entries``).
BULK_CHUNK = 500
WRITE_BLOCK = 5000


def _chain_lock_key(chain_key: str) -> int:
    return zlib.crc32(chain_key.encode("utf-8")) - 2**31


def _lock_chain(s: Session, chain_key: str) -> None:
    if s.get_bind().dialect.name == "postgresql":
        s.execute(
            sa.text("SELECT pg_advisory_xact_lock(:k1, :k2)"),
            {"k1": CHAIN_LOCK_CLASS, "k2": _chain_lock_key(chain_key)},
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
    if recorded_at is not None and recorded_at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
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


@dataclass(frozen=True)
class AuditItem:
    """One audit entry to append (``app.services.audit.append_entry``'s arguments)."""

    chain_key: str
    event_type: str
    entity_type: str
    entity_id: int
    actor_id: int | None
    payload: Mapping[str, Any]


def append_entries(s: Session, items: Sequence[AuditItem], at: dt.datetime) -> None:
    """``append_entry`` for many entries in a few statements: each chain is locked the same way
    (PostgreSQL: the same advisory lock; SQLite: the write lock), each entry follows its chain's
    last one (and the earlier ``items`` of that chain, in order) and is hashed by the domain
    (``plain_entry_hash``, checked against ``entry_hash``), so ``audit verify`` reads them as
    if appended one by one (imports of thousands of KPI rows use it)."""
    if not items:
        return
    postgres = s.get_bind().dialect.name == "postgresql"
    keys = sorted({item.chain_key for item in items})
    if postgres:
        # _lock_chain's lock, every chain in one statement, in key order.
        s.execute(
            sa.text(
                f"SELECT pg_advisory_xact_lock({CHAIN_LOCK_CLASS}, k) "
                "FROM unnest(CAST(:keys AS integer[])) AS k"
            ),
            {"keys": [_chain_lock_key(k) for k in keys]},
        ).all()
        ids = sorted(
            int(i)
            for i in s.scalars(
                sa.text(
                    "SELECT nextval(pg_get_serial_sequence('public.audit_entries', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": len(items)},
            )
        )
    else:
        s.execute(sa.text("UPDATE audit_entries SET seq = seq WHERE 0"))  # the write lock
        first = int(s.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEntry.id), 0))) or 0)
        ids = list(range(first + 1, first + 1 + len(items)))
    tails: dict[str, tuple[int, str]] = {}
    for start in range(0, len(keys), BULK_CHUNK):
        last = (
            sa.select(AuditEntry.chain_key, sa.func.max(AuditEntry.seq).label("seq"))
            .where(AuditEntry.chain_key.in_(keys[start : start + BULK_CHUNK]))
            .group_by(AuditEntry.chain_key)
            .subquery()
        )
        stmt = sa.select(AuditEntry.chain_key, AuditEntry.seq, AuditEntry.hash).join(
            last, sa.and_(AuditEntry.chain_key == last.c.chain_key, AuditEntry.seq == last.c.seq)
        )
        for key, seq, digest in s.execute(stmt):
            tails[str(key)] = (int(seq), str(digest))
    at = at.astimezone(dt.UTC)
    rows: list[dict[str, Any]] = []
    for n, (entry_id, item) in enumerate(zip(ids, items, strict=True)):
        seq, prev = tails.get(item.chain_key, (0, GENESIS_HASH))
        fields: dict[str, Any] = {
            "id": entry_id,
            "chain_key": item.chain_key,
            "seq": seq + 1,
            "event_type": item.event_type,
            "entity_type": item.entity_type,
            "entity_id": str(item.entity_id),
            "actor_id": item.actor_id,
            "payload": _plain(item.payload),
            "recorded_at": at,
        }
        digest = plain_entry_hash(prev, fields)
        if n == 0 and digest != entry_hash(prev, {**fields, "payload": item.payload}):
            raise AssertionError("the fast audit hash differs from the domain's")
        rows.append({**fields, "prev_hash": prev, "hash": digest})
        tails[item.chain_key] = (seq + 1, digest)
    table: sa.Table = AuditEntry.__table__  # type: ignore[assignment]
    connection = s.connection()
    for start in range(0, len(rows), WRITE_BLOCK):
        connection.execute(table.insert(), rows[start : start + WRITE_BLOCK])


def _plain(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``normalise_payload`` of a flat payload (decimals as strings), without its generic walk,
    which would dominate the cost of 50,000 entries; anything else takes the generic way."""
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if isinstance(value, Decimal):
            value = str(value)
        elif not (value is None or type(value) in (int, str, bool)):
            return normalise_payload(payload)
        out[key] = value
    return out


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
_PG_TIME = "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"


def _entry_text_sql(postgres: bool) -> str:
    """The server's (or SQLite's) guess at ``app.domain.audit.entry_text`` for each row, so the
    only work left per entry in Python is one SHA-256. A guess: an entry whose hash does not
    match it is put together again in Python (``_python_digest``) before it is called changed,
    so a difference in escaping between SQL and Python can never pass for tampering."""
    if postgres:

        def q(col: str) -> str:
            return f"to_json({col})::text"

        time = f"replace({_PG_TIME}, '.000000', '')"
        actor, entry_id, seq = "actor_id::text", "id::text", "seq::text"
        payload = "payload::text"
    else:

        def q(col: str) -> str:
            return f"json_quote({col})"

        time = "replace(replace(recorded_at, ' ', 'T'), '.000000', '')"
        actor, entry_id, seq = "CAST(actor_id AS TEXT)", "CAST(id AS TEXT)", "CAST(seq AS TEXT)"
        payload = "payload"
    return (
        f"""'{{"actor_id":' || coalesce({actor}, 'null') || ',"chain_key":' || {q("chain_key")}"""
        f""" || ',"entity_id":' || {q("entity_id")} || ',"entity_type":' || {q("entity_type")}"""
        f""" || ',"event_type":' || {q("event_type")} || ',"id":' || {entry_id}"""
        f""" || ',"payload":' || {payload} || ',"recorded_at":"' || {time}"""
        f""" || 'Z","seq":' || {seq} || '}}'"""
    )


def _verify_sql(postgres: bool, one_chain: bool, low: bool, high: bool) -> str:
    mark = "%s" if postgres else "?"
    conds = [f"chain_key = {mark}"] if one_chain else []
    if low:
        conds.append(f"chain_key >= {mark}")
    if high:
        conds.append(f"chain_key < {mark}")
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    return (
        f"SELECT id, chain_key, seq, {_entry_text_sql(postgres)}, prev_hash, hash "
        f"FROM audit_entries {where} ORDER BY chain_key, seq"
    )


def _python_digest(raw: Any, postgres: bool, entry_id: int, prev: str) -> str:
    """The entry's hash put together by the domain's rules from its stored fields: the payload
    as stored, then (if that differs) parsed and written canonically."""
    time = _PG_TIME if postgres else "recorded_at"
    payload = "payload::text" if postgres else "payload"
    mark = "%s" if postgres else "?"
    cursor = raw.cursor()
    cursor.execute(
        f"SELECT {_VERIFY_COLUMNS}, {payload}, {time}, hash FROM audit_entries WHERE id = {mark}",
        (entry_id,),
    )
    row = cursor.fetchone()
    cursor.close()

    def digest(payload_text: str) -> str:
        text = entry_text(
            row[0], row[1], row[2], row[3], row[4], row[5], row[6], payload_text,
            stored_time_text(row[8]),
        )  # fmt: skip
        return hashlib.sha256(prev.encode("ascii") + text.encode("utf-8")).hexdigest()

    first = digest(row[7])
    if first == row[9]:
        return first
    return digest(canonical_dumps(json.loads(row[7])))


#: Below this many entries one process verifies; above, the chains are split between processes.
PARALLEL_FROM = 200_000
MAX_WORKERS = 4


def _count(db: Database, chain_key: str | None) -> int:
    with db.read() as s:
        stmt = sa.select(sa.func.count()).select_from(AuditEntry)
        if chain_key is not None:
            stmt = stmt.where(AuditEntry.chain_key == chain_key)
        return int(s.scalar(stmt) or 0)


def _verify_range(
    db: Database,
    chain_key: str | None,
    low: str | None,
    high: str | None,
    total: int,
    progress: ProgressFn | None,
    cancelled: CancelFn | None,
) -> VerifyResult:
    """Verify one chain, or the chains with low <= chain_key < high (None: no bound)."""
    postgres = db.dialect == "postgresql"
    sql = _verify_sql(postgres, chain_key is not None, low is not None, high is not None)
    params = tuple(v for v in (chain_key, low, high) if v is not None)
    sha256 = hashlib.sha256
    with db.read() as s:
        checked = chains = 0
        current: str | None = None
        prev = GENESIS_HASH
        expected = 1
        # The driver's own cursor (SQLAlchemy's rows cost as much as the hashing); on
        # PostgreSQL a named, server-side one that streams.
        raw = s.connection().connection
        cursor = raw.cursor(name="perfdesk_audit_verify") if postgres else raw.cursor()
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(10000):
            for entry_id, key, seq, text, prev_hash, stored in batch:
                if key != current:
                    current, prev, expected = key, GENESIS_HASH, 1
                    chains += 1
                fault = None
                if seq != expected:
                    fault = f"expected seq {expected}, found {seq} (an entry is missing)"
                elif prev_hash != prev:
                    fault = "prev_hash does not link to the entry before it"
                elif (
                    text is None or sha256((prev + text).encode("utf-8")).hexdigest() != stored
                ) and _python_digest(raw, postgres, entry_id, prev) != stored:
                    fault = "hash does not match its contents (the entry was changed)"
                if fault is not None:
                    return VerifyResult(checked, chains, ChainFault(entry_id, key, seq, fault))
                prev = stored
                expected += 1
                checked += 1
            if progress is not None:
                progress(checked, total)
            if cancelled is not None and cancelled():
                raise VerifyCancelled(f"Stopped after {checked:,} of {total:,} entries.")
        if progress is not None:
            progress(checked, total)
        return VerifyResult(checked, chains, None)


def _split_points(db: Database, parts: int) -> list[str]:
    """Chain keys splitting the chains into ``parts`` runs of about equal entries."""
    with db.read() as s:
        sizes = s.execute(
            sa.select(AuditEntry.chain_key, sa.func.count())
            .group_by(AuditEntry.chain_key)
            .order_by(AuditEntry.chain_key)
        ).all()
    total = sum(n for _, n in sizes)
    points: list[str] = []
    running = 0
    for key, n in sizes:
        if running >= total * (len(points) + 1) / parts and len(points) < parts - 1:
            points.append(key)
        running += n
    return points


_worker_done: Any = None


def _worker_start(done: Any) -> None:
    global _worker_done
    _worker_done = done


def _worker_verify(url: str, low: str | None, high: str | None) -> VerifyResult:
    from app.services.database import open_database

    db = open_database(url)
    last = [0]

    def report(checked: int, _total: int) -> None:
        with _worker_done.get_lock():
            _worker_done.value += checked - last[0]
        last[0] = checked

    try:
        return _verify_range(db, None, low, high, 0, report, None)
    finally:
        db.dispose()


def _verify_parallel(
    db: Database,
    workers: int,
    total: int,
    progress: ProgressFn | None,
    cancelled: CancelFn | None,
) -> VerifyResult:
    import multiprocessing

    points = _split_points(db, workers)
    bounds = list(zip([None, *points], [*points, None], strict=True))
    ctx = multiprocessing.get_context("spawn")  # never fork a process holding Qt or a pool
    done = ctx.Value("q", 0)
    url = db.engine.url.render_as_string(hide_password=False)
    with ctx.Pool(len(bounds), initializer=_worker_start, initargs=(done,)) as pool:
        pending = [pool.apply_async(_worker_verify, (url, lo, hi)) for lo, hi in bounds]
        while not all(p.ready() for p in pending):
            next(p for p in pending if not p.ready()).wait(0.1)
            if progress is not None:
                progress(int(done.value), total)
            if cancelled is not None and cancelled():
                pool.terminate()
                raise VerifyCancelled(f"Stopped after {int(done.value):,} of {total:,} entries.")
        results = [p.get() for p in pending]
    entries = chains = 0
    for r in results:  # in chain order: the first fault of the first range that has one
        if r.fault is not None:
            return VerifyResult(entries + r.entries, chains + r.chains, r.fault)
        entries += r.entries
        chains += r.chains
    if progress is not None:
        progress(entries, total)
    return VerifyResult(entries, chains, None)


def verify_all(
    db: Database,
    chain_key: str | None = None,
    *,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
    workers: int | None = None,
) -> VerifyResult:
    """Recompute every chain (or one); the first bad entry (in chain_key, seq order) is named.

    Payloads are stored as the canonical text that was hashed (the engines' JSON serializer;
    JSON, not JSONB, on PostgreSQL), so the database puts each entry's canonical text together
    and Python only hashes it, reading through the driver's own cursor. An entry that does not
    match is checked again by the domain's rules (a payload stored otherwise, written before
    0008 or by hand, is parsed and re-written) before it is named. From ``PARALLEL_FROM``
    entries the chains are split by key between processes (``workers``, default: the cores,
    at most ``MAX_WORKERS``), each reading its own run of chains.
    """
    total = _count(db, chain_key)
    if workers is None:
        workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if chain_key is not None or workers <= 1 or total < PARALLEL_FROM:
        return _verify_range(db, chain_key, None, None, total, progress, cancelled)
    return _verify_parallel(db, workers, total, progress, cancelled)


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
