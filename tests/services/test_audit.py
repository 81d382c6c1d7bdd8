"""The audit chain of SPEC §5 on SQLite and PostgreSQL: appending links entries, verifying
recomputes every chain, and tampering (with the append-only triggers dropped by hand) is
found and the first bad entry named — by ``verify_all``, ``chain_entries`` and
``audit verify``."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app import cli
from app.db.models import AuditEntry, User
from app.domain.audit import GENESIS_HASH, entry_hash
from app.domain.enums import DealStage
from app.services.audit import (
    AuditEntryRow,
    VerifyResult,
    append_entry,
    chain_entries,
    verify_all,
)
from app.services.database import Database, open_database

UTC = dt.UTC
T0 = dt.datetime(2026, 5, 1, 9, 0, tzinfo=UTC)  # whole seconds: no microseconds stored
HASHED = (
    "id", "chain_key", "seq", "event_type", "entity_type", "entity_id", "actor_id", "payload",
    "recorded_at",
)  # fmt: skip


# ------------------------------------------------------------------------------- helpers


def add_person(db: Database, email: str = "bob@office.example", role: str = "broker") -> int:
    with db.session() as s:
        u = User(email=email, first_name="Bob", last_name="Broker", role=role)
        s.add(u)
        s.flush()
        return u.id


def append(
    db: Database,
    chain_key: str,
    actor_id: int | None,
    payload: dict[str, Any],
    at: dt.datetime,
    event_type: str = "deal_stage_transition",
) -> AuditEntryRow:
    entity_id = chain_key.split(":", 1)[1]
    with db.session() as s:
        return append_entry(s, chain_key, event_type, "deal", entity_id, actor_id, payload, at)


def stored(db: Database) -> list[AuditEntry]:
    with db.read() as s:
        rows = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.chain_key, AuditEntry.seq))
        entries = list(rows)
        s.expunge_all()
        return entries


def entry_id(db: Database, chain_key: str, seq: int) -> int:
    with db.read() as s:
        found = s.scalar(
            sa.select(AuditEntry.id).where(AuditEntry.chain_key == chain_key, AuditEntry.seq == seq)
        )
    assert found is not None
    return int(found)


def drop_append_only_triggers(db: Database) -> None:
    """What someone with the database file or owner login could do (migration 0002)."""
    with db.session() as s:
        if db.dialect == "postgresql":
            s.execute(sa.text("DROP TRIGGER trg_audit_entries_append_only ON audit_entries"))
        else:
            s.execute(sa.text("DROP TRIGGER trg_audit_entries_no_update"))
            s.execute(sa.text("DROP TRIGGER trg_audit_entries_no_delete"))


def tamper(db: Database, sql: str, **params: Any) -> None:
    with db.session() as s:
        changed = s.execute(sa.text(sql), params)
        assert changed.rowcount == 1  # type: ignore[attr-defined]


def set_payload(db: Database, ident: int, payload_text: str) -> None:
    value = "CAST(:p AS JSONB)" if db.dialect == "postgresql" else ":p"
    tamper(db, f"UPDATE audit_entries SET payload = {value} WHERE id = :i", p=payload_text, i=ident)


@pytest.fixture
def chains(db: Database) -> Database:
    """deal:1 with 3 entries and deal:2 with 2, appended interleaved."""
    bob = add_person(db)
    moves = [
        ("deal:1", "lead_captured", "qualification"),
        ("deal:2", "lead_captured", "proposal"),
        ("deal:1", "qualification", "proposal"),
        ("deal:2", "proposal", "closed_won"),
        ("deal:1", "proposal", "closed_lost"),
    ]
    for i, (key, a, b) in enumerate(moves):
        payload = {"deal_id": int(key[5:]), "from_stage": a, "to_stage": b, "note": f"move {i}"}
        append(db, key, bob, payload, T0 + dt.timedelta(hours=i, microseconds=i * 1001))
    return db


# ------------------------------------------------------------------------------- appending


def test_append_entry_builds_a_linked_chain(chains: Database) -> None:
    rows = stored(chains)
    assert [(r.chain_key, r.seq) for r in rows] == [
        ("deal:1", 1),
        ("deal:1", 2),
        ("deal:1", 3),
        ("deal:2", 1),
        ("deal:2", 2),
    ]
    by_chain: dict[str, list[AuditEntry]] = {}
    for r in rows:
        by_chain.setdefault(r.chain_key, []).append(r)
    for entries in by_chain.values():
        assert entries[0].prev_hash == GENESIS_HASH == "0" * 64
        for before, after in itertools.pairwise(entries):
            assert after.prev_hash == before.hash
    assert len({r.id for r in rows}) == 5
    assert len({r.hash for r in rows}) == 5


def test_append_entry_hash_is_the_domain_entry_hash_of_what_is_stored(chains: Database) -> None:
    for r in stored(chains):
        fields = {f: getattr(r, f) for f in HASHED}
        assert len(r.hash) == 64
        assert r.hash == entry_hash(r.prev_hash, fields)
        assert r.recorded_at.tzinfo is not None


def test_append_entry_returns_the_row_it_stored(db: Database) -> None:
    bob = add_person(db)
    at = dt.datetime(2026, 5, 1, 11, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    row = append(db, "deal:7", bob, {"note": "x"}, at)
    (r,) = stored(db)
    assert (row.id, row.chain_key, row.seq, row.prev_hash, row.hash) == (
        r.id,
        "deal:7",
        1,
        GENESIS_HASH,
        r.hash,
    )
    assert (row.entity_type, row.entity_id, row.actor_id) == ("deal", "7", bob)
    assert row.recorded_at == r.recorded_at == at  # kept to the microsecond, as UTC
    assert r.recorded_at.utcoffset() == dt.timedelta(0)


def test_append_entry_writes_payload_decimals_times_and_enums_as_strings(db: Database) -> None:
    bob = add_person(db)
    payload = {
        "amount": Decimal("1250.50"),
        "at": dt.datetime(2026, 5, 1, 12, tzinfo=UTC),
        "day": dt.date(2026, 5, 1),
        "stage": DealStage.PROPOSAL,
        "nested": {"list": [Decimal("0.0250"), None, True, 3]},
        "note": "café — 東京",
    }
    append(db, "deal:1", bob, payload, T0)
    (r,) = stored(db)
    assert r.payload == {
        "amount": "1250.50",
        "at": "2026-05-01T12:00:00Z",
        "day": "2026-05-01",
        "stage": "proposal",
        "nested": {"list": ["0.0250", None, True, 3]},
        "note": "café — 東京",
    }
    assert verify_all(db).intact


def test_append_entry_refuses_a_float_in_the_payload_and_writes_nothing(db: Database) -> None:
    bob = add_person(db)
    with pytest.raises(ValueError, match="float"):
        append(db, "deal:1", bob, {"amount": 12.5}, T0)
    assert stored(db) == []


def test_an_entry_without_an_actor_verifies(db: Database) -> None:
    append(db, "system:jobs", None, {"job": "snapshots"}, T0, event_type="job_ran")
    assert verify_all(db).intact
    assert [ok for _, ok in chain_entries(db, "system:jobs")] == [True]


def test_concurrent_appends_to_one_chain_get_consecutive_seqs(db: Database) -> None:
    """Writers on their own connections append to the same two chains at once (no deal row
    serialises them here: only the chain's lock does)."""
    bob = add_person(db)
    writers, each = 6, 25
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def writer(n: int) -> None:
        own = open_database(db.url)
        try:
            start.wait()
            for k in range(each):
                key = f"deal:{1 + (n + k) % 2}"
                append(own, key, bob, {"writer": n, "k": k}, T0 + dt.timedelta(seconds=k))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    rows = stored(db)
    assert len(rows) == writers * each
    for key in ("deal:1", "deal:2"):
        seqs = [r.seq for r in rows if r.chain_key == key]
        assert seqs == list(range(1, len(seqs) + 1))
    assert verify_all(db) == VerifyResult(writers * each, 2, None)


# ------------------------------------------------------------------------------- verifying


def test_verify_all_on_intact_data(chains: Database) -> None:
    result = verify_all(chains)
    assert result == VerifyResult(entries=5, chains=2, fault=None)
    assert result.intact
    assert result.describe() == "5 audit entries in 2 chains verified: intact."


def test_verify_all_of_one_chain(chains: Database) -> None:
    assert verify_all(chains, "deal:2").describe() == (
        "2 audit entries in 1 chains verified: intact."
    )
    assert verify_all(chains, "deal:404") == VerifyResult(0, 0, None)


def test_verify_all_of_an_empty_database(db: Database) -> None:
    assert verify_all(db).describe() == "0 audit entries in 0 chains verified: intact."


def test_verify_all_reports_progress_up_to_the_total(chains: Database) -> None:
    calls: list[tuple[int, int]] = []
    verify_all(chains, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (5, 5)
    assert all(total == 5 and 0 <= done <= 5 for done, total in calls)


def test_a_payload_stored_with_other_spacing_or_key_order_still_verifies(
    chains: Database,
) -> None:
    """Verification hashes the canonical JSON of the payload, not the bytes as stored."""
    drop_append_only_triggers(chains)
    ident = entry_id(chains, "deal:1", 2)
    (row,) = [r for r in stored(chains) if r.id == ident]
    reordered = dict(reversed(list(row.payload.items())))
    set_payload(chains, ident, json.dumps(reordered, indent=2))
    assert verify_all(chains).intact


# ------------------------------------------------------------------------------- tampering


Tamper = Callable[[Database, int], None]
TAMPERING: dict[str, tuple[Tamper, str]] = {
    "payload changed": (
        lambda db, i: set_payload(
            db,
            i,
            '{"deal_id":1,"from_stage":"qualification","note":"move 2","to_stage":"agreement"}',
        ),
        "hash does not match",
    ),
    "hash changed": (
        lambda db, i: tamper(
            db, "UPDATE audit_entries SET hash = :h WHERE id = :i", h="a" * 64, i=i
        ),
        "hash does not match",
    ),
    "actor changed": (
        lambda db, i: tamper(db, "UPDATE audit_entries SET actor_id = NULL WHERE id = :i", i=i),
        "hash does not match",
    ),
    "event type changed": (
        lambda db, i: tamper(db, "UPDATE audit_entries SET event_type = 'x' WHERE id = :i", i=i),
        "hash does not match",
    ),
    "time changed": (
        lambda db, i: tamper(
            db,
            "UPDATE audit_entries SET recorded_at = :t WHERE id = :i",
            t=dt.datetime(2026, 5, 1, 10, 0, 1),
            i=i,
        ),
        "hash does not match",
    ),
    "prev_hash changed": (
        lambda db, i: tamper(
            db, "UPDATE audit_entries SET prev_hash = :h WHERE id = :i", h="0" * 64, i=i
        ),
        "prev_hash does not link",
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_is_detected_and_the_entry_named(chains: Database, kind: str) -> None:
    change, reason = TAMPERING[kind]
    drop_append_only_triggers(chains)
    ident = entry_id(chains, "deal:1", 2)
    change(chains, ident)

    result = verify_all(chains)

    assert not result.intact and result.fault is not None
    assert (result.fault.entry_id, result.fault.chain_key, result.fault.seq) == (ident, "deal:1", 2)
    assert reason in result.fault.reason
    assert result.entries == 1  # deal:1 #1 verified before it
    assert result.describe().startswith(f"audit entry {ident} (deal:1 #2): {reason}")
    # The other chain is untouched and still verifies on its own.
    assert verify_all(chains, "deal:2").intact


def test_a_deleted_entry_is_detected_and_the_next_entry_named(chains: Database) -> None:
    drop_append_only_triggers(chains)
    tamper(chains, "DELETE FROM audit_entries WHERE id = :i", i=entry_id(chains, "deal:1", 2))
    third = entry_id(chains, "deal:1", 3)

    fault = verify_all(chains).fault

    assert fault is not None
    assert (fault.entry_id, fault.chain_key, fault.seq) == (third, "deal:1", 3)
    assert "expected seq 2" in fault.reason


def test_a_deleted_first_entry_is_detected(chains: Database) -> None:
    drop_append_only_triggers(chains)
    tamper(chains, "DELETE FROM audit_entries WHERE id = :i", i=entry_id(chains, "deal:2", 1))
    fault = verify_all(chains).fault
    assert fault is not None
    assert (fault.entry_id, fault.chain_key, fault.seq) == (
        entry_id(chains, "deal:2", 2),
        "deal:2",
        2,
    )


def test_a_changed_entry_with_its_hash_recomputed_breaks_the_next_link(chains: Database) -> None:
    """Re-hashing a rewritten entry does not hide it: the next entry no longer links."""
    drop_append_only_triggers(chains)
    (row,) = [r for r in stored(chains) if (r.chain_key, r.seq) == ("deal:1", 2)]
    fields = {f: getattr(row, f) for f in HASHED}
    fields["payload"] = {**row.payload, "note": "nothing to see"}
    set_payload(chains, row.id, json.dumps(fields["payload"]))
    tamper(
        chains,
        "UPDATE audit_entries SET hash = :h WHERE id = :i",
        h=entry_hash(row.prev_hash, fields),
        i=row.id,
    )

    fault = verify_all(chains).fault

    assert fault is not None
    assert (fault.entry_id, fault.chain_key, fault.seq) == (
        entry_id(chains, "deal:1", 3),
        "deal:1",
        3,
    )
    assert "prev_hash does not link" in fault.reason


def test_verify_names_the_first_bad_entry_in_chain_order(chains: Database) -> None:
    drop_append_only_triggers(chains)
    later = entry_id(chains, "deal:2", 1)  # appended before deal:1 #3, but later in chain order
    first = entry_id(chains, "deal:1", 3)
    tamper(chains, "UPDATE audit_entries SET event_type = 'x' WHERE id = :i", i=later)
    tamper(chains, "UPDATE audit_entries SET event_type = 'x' WHERE id = :i", i=first)

    fault = verify_all(chains).fault

    assert fault is not None and (fault.chain_key, fault.seq, fault.entry_id) == (
        "deal:1",
        3,
        first,
    )
    only_two = verify_all(chains, "deal:2").fault
    assert only_two is not None and only_two.entry_id == later


def test_the_append_only_triggers_stop_tampering_unless_dropped(chains: Database) -> None:
    with pytest.raises(sa.exc.DBAPIError), chains.session() as s:
        s.execute(sa.text("UPDATE audit_entries SET event_type = 'x'"))
    assert verify_all(chains).intact


# ------------------------------------------------------------------------------- chain_entries


def test_chain_entries_lists_one_chain_in_order_all_intact(chains: Database) -> None:
    listed = chain_entries(chains, "deal:1")
    assert [(e.seq, ok) for e, ok in listed] == [(1, True), (2, True), (3, True)]
    assert listed[0][0].prev_hash == GENESIS_HASH
    assert listed[2][0].payload == {
        "deal_id": 1,
        "from_stage": "proposal",
        "to_stage": "closed_lost",
        "note": "move 4",
    }
    assert chain_entries(chains, "deal:404") == []


def test_chain_entries_marks_only_the_changed_entry_as_not_intact(chains: Database) -> None:
    drop_append_only_triggers(chains)
    set_payload(chains, entry_id(chains, "deal:1", 2), '{"note":"rewritten"}')

    assert [(e.seq, ok) for e, ok in chain_entries(chains, "deal:1")] == [
        (1, True),
        (2, False),
        (3, True),
    ]
    assert all(ok for _, ok in chain_entries(chains, "deal:2"))


def test_chain_entries_with_a_changed_hash_marks_it_and_the_broken_link_after_it(
    chains: Database,
) -> None:
    drop_append_only_triggers(chains)
    tamper(
        chains,
        "UPDATE audit_entries SET hash = :h WHERE id = :i",
        h="b" * 64,
        i=entry_id(chains, "deal:1", 2),
    )
    assert [ok for _, ok in chain_entries(chains, "deal:1")] == [True, False, False]


# ------------------------------------------------------------------------------- the command


def test_cli_audit_verify_intact(chains: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--db", chains.url, "audit", "verify"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("5 audit entries in 2 chains verified: intact.\n", "")

    assert cli.main(["audit", "verify", "--chain", "deal:1", "--db", chains.url]) == 0
    assert capsys.readouterr().out == "3 audit entries in 1 chains verified: intact.\n"


def test_cli_audit_verify_names_the_bad_entry_and_exits_1(
    chains: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    drop_append_only_triggers(chains)
    ident = entry_id(chains, "deal:1", 2)
    set_payload(chains, ident, '{"note":"rewritten"}')

    code = cli.main(["--db", chains.url, "audit", "verify"])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"audit entry {ident} (deal:1 #2): hash does not match")
    assert "1 entries before it verified" in err
    # The untouched chain still verifies alone.
    assert cli.main(["--db", chains.url, "audit", "verify", "--chain", "deal:2"]) == 0


def test_cli_audit_verify_bad_usage_exits_2(
    chains: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--db", chains.url, "audit", "verify", "--chains", "x"]) == 2
    assert cli.main(["--db", chains.url, "audit"]) == 2
    capsys.readouterr()


# ------------------------------------------------------------------------------- demo data


def test_verify_all_on_a_small_demo_is_intact(db: Database) -> None:
    from app.services.demo import generate

    generate(db, scale="small", seed=7, as_of=dt.date(2025, 10, 22))
    with db.read() as s:
        entries = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        keys = s.scalar(sa.select(sa.func.count(sa.distinct(AuditEntry.chain_key))))

    result = verify_all(db)

    assert entries and entries > 100
    assert result == VerifyResult(entries=entries, chains=keys, fault=None)
    one = verify_all(db, "deal:1")
    assert one.intact and one.chains == 1


# ------------------------------------------------------------------ split between processes


def test_verify_split_between_processes_gives_the_same_result(
    chains: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import audit as audit_service

    monkeypatch.setattr(audit_service, "PARALLEL_FROM", 1)
    calls: list[tuple[int, int]] = []
    split = verify_all(chains, workers=2, progress=lambda d, t: calls.append((d, t)))
    assert split == verify_all(chains, workers=1) == VerifyResult(entries=5, chains=2, fault=None)
    assert calls and calls[-1] == (5, 5)


def test_verify_split_between_processes_names_the_first_bad_entry_in_chain_order(
    chains: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import audit as audit_service

    monkeypatch.setattr(audit_service, "PARALLEL_FROM", 1)
    drop_append_only_triggers(chains)
    later = entry_id(chains, "deal:2", 2)  # in the second run of chains
    tamper(chains, "UPDATE audit_entries SET event_type = 'x' WHERE id = :i", i=later)
    split = verify_all(chains, workers=2)
    assert split == verify_all(chains, workers=1)
    assert split.fault is not None and split.fault.entry_id == later
    assert (split.entries, split.chains) == (4, 2)  # deal:1's three and deal:2 #1 before it
    earlier = entry_id(chains, "deal:1", 3)
    tamper(chains, "UPDATE audit_entries SET event_type = 'x' WHERE id = :i", i=earlier)
    first = verify_all(chains, workers=2)
    assert first.fault is not None and first.fault.entry_id == earlier
    assert (first.entries, first.chains) == (2, 1)


def test_append_entry_refuses_a_naive_time(db: Database) -> None:
    with pytest.raises(ValueError, match="timezone-aware"), db.session() as s:
        append_entry(s, "system:jobs", "x", "job", 1, None, {}, dt.datetime(2026, 1, 1, 12))
    assert verify_all(db) == VerifyResult(0, 0, None)
