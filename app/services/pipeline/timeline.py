"""A deal's timeline: its stage events merged with every entry of its audit chain (SPEC §5).

A stage event is matched to its ``deal_stage_transition`` entry by ``stage_event_id``; the
other entries (commissions created, moved between statuses, adjusted; the panel's edits) are
items of their own. Each item says whether its entry verifies: its hash and link are
recomputed (``audit.chain_entries``) and, for a stage event, the event must also say what
its entry says (from, to, who, note, when) — a stage event changed behind the chain's back
does not verify either. The deal's creation event (the first, ``from_stage`` NULL) has no
audit entry by design; it is shown as such, not as a fault.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from app.domain.enums import DealStage
from app.domain.pipeline import STAGE_LABELS, durations
from app.services.audit import AuditEntryRow
from app.services.pipeline.detail_events import DEAL_CREATED, STAGE_TRANSITION
from app.services.pipeline.detail_rows import Integrity, TimelineItem, TimelineKind
from app.services.pipeline.timeline_text import Commissions, describe

BROKEN_HASH = "hash does not verify"
MISMATCH = "the stage event differs from its audit entry"
NO_ENTRY = "no audit entry"
MISSING_ENTRY = "this move has no audit entry"

#: An audit entry and whether its hash and link verify.
Entry = tuple[AuditEntryRow, bool]
_Key = tuple[dt.datetime, int, int]


@dataclass(frozen=True)
class StageEvent:
    id: int
    from_stage: DealStage | None
    to_stage: DealStage
    changed_by_id: int
    note: str | None
    recorded_at: dt.datetime


def build_timeline(
    events: list[StageEvent],
    entries: list[Entry],
    names: Mapping[int, str],
    commissions: Commissions,
    currency: str,
    at: dt.datetime,
) -> tuple[TimelineItem, ...]:
    """The items, oldest first; a stage event before the entries recorded at its time."""
    by_event, others = _match(events, entries)
    keyed: list[tuple[_Key, TimelineItem]] = []
    spans = durations([e.recorded_at for e in events], at)
    for event, seconds in zip(events, spans, strict=True):
        item = _stage_item(event, seconds, by_event.get(event.id), names)
        keyed.append(((event.recorded_at, 0, item.audit_seq or 0), item))
    for entry, ok in others:
        item = _entry_item(entry, ok, names, commissions, currency)
        keyed.append(((entry.recorded_at, 1, entry.seq), item))
    keyed.sort(key=lambda pair: pair[0])
    return tuple(item for _key, item in keyed)


def _match(events: list[StageEvent], entries: list[Entry]) -> tuple[dict[int, Entry], list[Entry]]:
    """The first entry of each stage event, by event id; and the entries of their own."""
    by_event: dict[int, Entry] = {}
    others: list[Entry] = []
    newest_event = max((e.id for e in events), default=0)
    for entry, ok in entries:
        sid = entry.payload.get("stage_event_id")
        if entry.event_type == STAGE_TRANSITION and isinstance(sid, int):
            if sid > newest_event and ok:
                continue  # a move committed after the deal was read (shown next time)
            if sid not in by_event:
                by_event[sid] = (entry, ok)
                continue
        others.append((entry, ok))
    return by_event, others


def _stage_payload_matches(event: StageEvent, entry: AuditEntryRow) -> bool:
    p = entry.payload
    return bool(
        p.get("stage_event_id") == event.id
        and p.get("from_stage") == (event.from_stage.value if event.from_stage else None)
        and p.get("to_stage") == event.to_stage.value
        and (p.get("note") or None) == (event.note or None)
        and entry.actor_id == event.changed_by_id
        and entry.recorded_at == event.recorded_at
    )


def _stage_integrity(event: StageEvent, found: Entry | None) -> tuple[Integrity, str | None]:
    if found is None:
        # A move and its entry are written in one transaction and the entries are read
        # after the events: a move without one was added behind PerfDesk's back.
        if event.from_stage is None:
            return Integrity.NO_ENTRY, NO_ENTRY
        return Integrity.BROKEN, MISSING_ENTRY
    entry, ok = found
    if not ok:
        return Integrity.BROKEN, BROKEN_HASH
    if not _stage_payload_matches(event, entry):
        return Integrity.BROKEN, MISMATCH
    return Integrity.VERIFIED, None


def _stage_item(
    event: StageEvent, seconds: int, found: Entry | None, names: Mapping[int, str]
) -> TimelineItem:
    if event.from_stage is None:
        kind, event_type = TimelineKind.CREATED, DEAL_CREATED
        summary = f"Created in {STAGE_LABELS[event.to_stage]}"
    else:
        kind, event_type = TimelineKind.STAGE, STAGE_TRANSITION
        summary = f"{STAGE_LABELS[event.from_stage]} → {STAGE_LABELS[event.to_stage]}"
    integrity, problem = _stage_integrity(event, found)
    entry = found[0] if found is not None else None
    return TimelineItem(
        kind=kind,
        event_type=event_type,
        recorded_at=event.recorded_at,
        who=names.get(event.changed_by_id),
        summary=summary,
        note=event.note,
        from_stage=event.from_stage,
        to_stage=event.to_stage,
        duration_seconds=seconds,
        stage_event_id=event.id,
        audit_entry_id=entry.id if entry is not None else None,
        audit_seq=entry.seq if entry is not None else None,
        verified=integrity is Integrity.VERIFIED,
        integrity=integrity,
        problem=problem,
    )


def _entry_item(
    entry: AuditEntryRow,
    ok: bool,
    names: Mapping[int, str],
    commissions: Commissions,
    currency: str,
) -> TimelineItem:
    kind, summary, note = describe(entry, commissions, currency)
    return TimelineItem(
        kind=kind,
        event_type=entry.event_type,
        recorded_at=entry.recorded_at,
        who=names.get(entry.actor_id) if entry.actor_id is not None else None,
        summary=summary,
        note=note,
        from_stage=None,
        to_stage=None,
        duration_seconds=None,
        stage_event_id=None,
        audit_entry_id=entry.id,
        audit_seq=entry.seq,
        verified=ok,
        integrity=Integrity.VERIFIED if ok else Integrity.BROKEN,
        problem=None if ok else BROKEN_HASH,
    )
