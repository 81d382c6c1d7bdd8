"""The tamper-evident audit chain of SPEC §5.

hash = SHA-256(prev_hash + canonical JSON of the other fields), canonical = sorted keys,
no spaces, UTF-8, decimals as strings, times in UTC ISO 8601. The first entry of a chain
has prev_hash = 64 zeros.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

GENESIS_HASH = "0" * 64

#: The fields hashed besides prev_hash (id is included: it is part of the entry).
HASHED_FIELDS = (
    "id",
    "chain_key",
    "seq",
    "event_type",
    "entity_type",
    "entity_id",
    "actor_id",
    "payload",
    "recorded_at",
)


def _normalise(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("audit times must be timezone-aware")
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _normalise(value.value)
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if isinstance(value, float):
        raise ValueError("audit payloads hold decimals as Decimal, never float")
    return value


def canonical_dumps(value: Any) -> str:
    """JSON text as the chain hashes it: sorted keys, no spaces, non-ASCII kept as is.

    SQLite stores JSON documents with this serializer, so a stored payload is already the
    canonical text of its (normalised) payload and verifying need not parse it again.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(
        _normalise(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def normalise_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as it will be stored in JSON (decimals and times as strings)."""
    result: dict[str, Any] = _normalise(payload)
    return result


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    missing = [f for f in HASHED_FIELDS if f not in fields]
    if missing:
        raise KeyError(f"audit entry lacks {', '.join(missing)}")
    body = canonical_json({f: fields[f] for f in HASHED_FIELDS})
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()


def deal_chain_key(deal_id: int) -> str:
    return f"deal:{deal_id}"


@dataclass(frozen=True)
class ChainFault:
    entry_id: int
    chain_key: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"audit entry {self.entry_id} ({self.chain_key} #{self.seq}): {self.reason}"


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> ChainFault | None:
    """Check one chain's entries, in seq order; the first wrong hash or link, or None."""
    prev = GENESIS_HASH
    expected_seq = 1
    for e in entries:
        if e["seq"] != expected_seq:
            return ChainFault(e["id"], e["chain_key"], e["seq"], f"expected seq {expected_seq}")
        if e["prev_hash"] != prev:
            return ChainFault(e["id"], e["chain_key"], e["seq"], "prev_hash does not link")
        if entry_hash(prev, e) != e["hash"]:
            return ChainFault(e["id"], e["chain_key"], e["seq"], "hash does not match contents")
        prev = e["hash"]
        expected_seq += 1
    return None


def utc_text(at: dt.datetime) -> str:
    """A time as the canonical JSON writes it (UTC ISO 8601 with a Z)."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def plain_entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """``entry_hash`` for an entry whose payload is already plain JSON (as stored: strings,
    integers, booleans, None, lists and objects of them) — the same bytes without the generic
    normalising walk, which dominates the cost of verifying a million entries."""
    body = {f: fields[f] for f in HASHED_FIELDS}
    body["recorded_at"] = utc_text(fields["recorded_at"])
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev_hash.encode("ascii") + text.encode("utf-8")).hexdigest()


_quote = json.encoder.encode_basestring  # the C encoder when available, as json.dumps uses


def entry_text(
    entry_id: int,
    chain_key: str,
    seq: int,
    event_type: str,
    entity_type: str,
    entity_id: str,
    actor_id: int | None,
    payload_text: str,
    recorded_at_text: str,
) -> str:
    """The canonical JSON of an entry's hashed fields from its parts, ``payload_text`` being
    the payload's canonical JSON and ``recorded_at_text`` its ``utc_text``. The same text as
    ``canonical_json`` (the keys in sorted order, spelled out), without building a dict and
    sorting it for each of a million entries."""
    actor = "null" if actor_id is None else str(int(actor_id))
    return (
        f'{{"actor_id":{actor},"chain_key":{_quote(chain_key)},'
        f'"entity_id":{_quote(entity_id)},"entity_type":{_quote(entity_type)},'
        f'"event_type":{_quote(event_type)},"id":{int(entry_id)},"payload":{payload_text},'
        f'"recorded_at":"{recorded_at_text}","seq":{int(seq)}}}'
    )


def stored_time_text(stored: str) -> str:
    """``utc_text`` of a UTC time read as text ('2025-12-12 20:21:35.445838' or with a T):
    ISO 8601 with a Z, microseconds dropped when zero as ``datetime.isoformat`` drops them."""
    text = stored.replace(" ", "T", 1)
    if text.endswith(".000000"):
        text = text[:-7]
    return text + "Z"
