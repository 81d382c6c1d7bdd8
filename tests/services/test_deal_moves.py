"""Moving deals (SPEC §4) on SQLite and PostgreSQL: what one move writes (deal, stage event,
audit entry), what is refused with nothing written, stale versions, undo, who may move which
deal, ``deal move`` on the command line, and many writers on the same deals at once."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import threading
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app import cli
from app.db.models import AuditEntry, Deal, DealStageEvent, Team, User
from app.domain.audit import deal_chain_key
from app.domain.enums import DealStage, DealStatus
from app.domain.errors import ConflictError, PermissionDenied
from app.domain.pipeline import STAGES, PipelineError
from app.services.audit import verify_all
from app.services.database import Database, open_database
from app.services.pipeline import moves
from app.services.pipeline.common import DealNotFound
from app.services.pipeline.moves import EVENT_TYPE, move_deal, move_deal_by_ref

S = DealStage
UTC = dt.UTC
NOW = dt.datetime(2026, 5, 1, 15, 30, 0, 250000, tzinfo=UTC)
EARLIER = dt.date(2026, 3, 14)


@dataclass(frozen=True)
class Office:
    db: Database
    ids: dict[str, int]  # person key → user id
    deal: int  # ann's deal DL-1, in proposal
    won: int  # ann's deal DL-2, closed won on EARLIER
    cancelled: int  # ann's deal DL-3, cancelled in negotiation
    cals: int  # cal's deal DL-4, in qualification

    def email(self, key: str) -> str:
        return f"{key}@office.example"


def _person(s: Any, key: str, role: str, broker: int | None = None, team: int | None = None) -> int:
    u = User(
        email=f"{key}@office.example",
        first_name=key.title(),
        last_name="Lee",
        role=role,
        broker_id=broker,
        team_id=team,
    )
    s.add(u)
    s.flush()
    return u.id


def _deal(s: Any, ref: str, agent: int, stage: DealStage, **kw: Any) -> int:
    values: dict[str, Any] = {
        "ref": ref,
        "agent_id": agent,
        "title": f"Deal {ref}",
        "asset_type": "residential",
        "deal_type": "sale",
        "pipeline_stage": stage,
        "status": DealStatus.OPEN,
        "estimated_value_amount": Decimal("450000"),
        "estimated_value_currency": "USD",
        "confidence": Decimal("0.5"),
        "created_at": dt.datetime(2026, 1, 5, tzinfo=UTC),
    }
    values.update(kw)
    d = Deal(**values)
    s.add(d)
    s.flush()
    return d.id


def build_office(db: Database) -> Office:
    with db.session() as s:
        ids: dict[str, int] = {}
        ids["bob"] = _person(s, "bob", "broker")
        ids["zoe"] = _person(s, "zoe", "broker")
        north = Team(name="North", broker_id=ids["bob"])
        s.add(north)
        s.flush()
        ids["mia"] = _person(s, "mia", "manager", ids["bob"])
        north.manager_id = ids["mia"]
        ids["ann"] = _person(s, "ann", "agent", ids["bob"], north.id)
        ids["cal"] = _person(s, "cal", "agent", ids["bob"])
        ids["dee"] = _person(s, "dee", "agent", ids["zoe"])
        ids["ada"] = _person(s, "ada", "admin", ids["bob"])
        deal = _deal(s, "DL-1", ids["ann"], S.PROPOSAL)
        won = _deal(
            s,
            "DL-2",
            ids["ann"],
            S.CLOSED_WON,
            status=DealStatus.CLOSED_WON,
            actual_close_date=EARLIER,
        )
        cancelled = _deal(s, "DL-3", ids["ann"], S.NEGOTIATION, status=DealStatus.CANCELLED)
        cals = _deal(s, "DL-4", ids["cal"], S.QUALIFICATION)
    return Office(db, ids, deal, won, cancelled, cals)


@pytest.fixture
def office(db: Database) -> Office:
    return build_office(db)


def deal_row(db: Database, deal_id: int) -> Deal:
    with db.read() as s:
        d = s.get(Deal, deal_id)
        assert d is not None
        s.expunge(d)
        return d


def events(db: Database, deal_id: int | None = None) -> list[DealStageEvent]:
    with db.read() as s:
        stmt = sa.select(DealStageEvent).order_by(DealStageEvent.recorded_at, DealStageEvent.id)
        if deal_id is not None:
            stmt = stmt.where(DealStageEvent.deal_id == deal_id)
        rows = list(s.scalars(stmt))
        s.expunge_all()
        return rows


def audit(db: Database, deal_id: int | None = None) -> list[AuditEntry]:
    with db.read() as s:
        stmt = sa.select(AuditEntry).order_by(AuditEntry.chain_key, AuditEntry.seq)
        if deal_id is not None:
            stmt = stmt.where(AuditEntry.chain_key == deal_chain_key(deal_id))
        rows = list(s.scalars(stmt))
        s.expunge_all()
        return rows


def snapshot(db: Database) -> tuple[Any, ...]:
    """Everything a move may write: every deal's row, every event, every audit entry."""
    with db.read() as s:
        deals = s.execute(
            sa.select(
                Deal.id,
                Deal.pipeline_stage,
                Deal.status,
                Deal.actual_close_date,
                Deal.version,
                Deal.updated_at,
            ).order_by(Deal.id)
        ).all()
        n_events = s.scalar(sa.select(sa.func.count()).select_from(DealStageEvent))
        n_audit = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    return (tuple(deals), n_events, n_audit)


# ------------------------------------------------------------------------------- one move


def test_a_move_writes_stage_status_close_date_and_version(office: Office) -> None:
    result = move_deal(office.db, office.deal, S.AGREEMENT, acting=office.email("ann"), now=NOW)

    d = deal_row(office.db, office.deal)
    assert (d.pipeline_stage, d.status, d.actual_close_date, d.version) == (
        S.AGREEMENT,
        DealStatus.OPEN,
        None,
        2,
    )
    assert d.updated_at == NOW
    assert (result.deal_id, result.ref, result.from_stage, result.to_stage) == (
        office.deal,
        "DL-1",
        S.PROPOSAL,
        S.AGREEMENT,
    )
    assert (result.status, result.version, result.recorded_at) == (DealStatus.OPEN, 2, NOW)
    assert result.describe() == "moved DL-1 'Deal DL-1' from Proposal to Agreement"


def test_a_move_appends_one_stage_event(office: Office) -> None:
    result = move_deal(
        office.db,
        office.deal,
        S.AGREEMENT,
        note=" LOI signed ",
        acting=office.email("ann"),
        now=NOW,
    )

    (e,) = events(office.db)
    assert (e.id, e.deal_id, e.from_stage, e.to_stage) == (
        result.stage_event_id,
        office.deal,
        S.PROPOSAL,
        S.AGREEMENT,
    )
    assert (e.changed_by_id, e.note, e.recorded_at) == (office.ids["ann"], "LOI signed", NOW)


def test_a_move_appends_one_deal_stage_transition_audit_entry(office: Office) -> None:
    result = move_deal(
        office.db, office.deal, S.AGREEMENT, note="LOI signed", acting=office.email("bob"), now=NOW
    )

    (entry,) = audit(office.db)
    assert entry.id == result.audit_entry_id
    assert (entry.chain_key, entry.seq, entry.event_type) == (f"deal:{office.deal}", 1, EVENT_TYPE)
    assert EVENT_TYPE == "deal_stage_transition"
    assert (entry.entity_type, entry.entity_id, entry.actor_id) == (
        "deal",
        str(office.deal),
        office.ids["bob"],
    )
    assert entry.payload == {
        "deal_id": office.deal,
        "stage_event_id": result.stage_event_id,
        "from_stage": "proposal",
        "to_stage": "agreement",
        "note": "LOI signed",
    }
    assert entry.recorded_at == NOW
    assert verify_all(office.db).intact


def test_a_move_without_a_note_stores_null(office: Office) -> None:
    move_deal(office.db, office.deal, S.NEGOTIATION, note="   ", acting=office.email("ann"))
    assert events(office.db)[0].note is None
    assert audit(office.db)[0].payload["note"] is None


def test_moving_into_closed_won_sets_status_and_the_utc_date_of_the_move(office: Office) -> None:
    late_in_la = dt.datetime(2026, 5, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    move_deal(office.db, office.deal, S.CLOSED_WON, acting=office.email("ann"), now=late_in_la)

    d = deal_row(office.db, office.deal)
    assert (d.pipeline_stage, d.status) == (S.CLOSED_WON, DealStatus.CLOSED_WON)
    assert d.actual_close_date == dt.date(2026, 5, 2)  # 06:30 UTC on the 2nd
    assert events(office.db)[0].recorded_at == late_in_la


def test_moving_into_closed_lost_keeps_the_reason(office: Office) -> None:
    move_deal(
        office.db,
        office.deal,
        S.CLOSED_LOST,
        note="buyer went with cash offer",
        acting=office.email("ann"),
        now=NOW,
    )
    d = deal_row(office.db, office.deal)
    assert (d.status, d.actual_close_date) == (DealStatus.CLOSED_LOST, NOW.date())
    assert events(office.db)[0].note == "buyer went with cash offer"
    assert audit(office.db)[0].payload["note"] == "buyer went with cash offer"


def test_closed_lost_without_a_reason_is_refused_and_nothing_written(office: Office) -> None:
    before = snapshot(office.db)
    with pytest.raises(PipelineError) as info:
        move_deal(office.db, office.deal, S.CLOSED_LOST, acting=office.email("ann"))
    assert info.value.field == "note"
    assert snapshot(office.db) == before


def test_moving_out_of_a_closed_stage_reopens_and_clears_the_date(office: Office) -> None:
    move_deal(office.db, office.won, S.NEGOTIATION, acting=office.email("ann"), now=NOW)

    d = deal_row(office.db, office.won)
    assert (d.pipeline_stage, d.status, d.actual_close_date, d.version) == (
        S.NEGOTIATION,
        DealStatus.OPEN,
        None,
        2,
    )
    (e,) = events(office.db, office.won)
    assert (e.from_stage, e.to_stage) == (S.CLOSED_WON, S.NEGOTIATION)


def test_won_to_lost_takes_the_new_date(office: Office) -> None:
    move_deal(
        office.db, office.won, S.CLOSED_LOST, note="fell", acting=office.email("ann"), now=NOW
    )
    d = deal_row(office.db, office.won)
    assert (d.status, d.actual_close_date) == (DealStatus.CLOSED_LOST, NOW.date())


def test_same_stage_is_refused_with_nothing_written(office: Office) -> None:
    before = snapshot(office.db)
    with pytest.raises(PipelineError) as info:
        move_deal(office.db, office.deal, S.PROPOSAL, acting=office.email("ann"))
    assert "already in Proposal" in str(info.value)
    assert snapshot(office.db) == before


def test_a_cancelled_deal_does_not_move_and_nothing_is_written(office: Office) -> None:
    before = snapshot(office.db)
    with pytest.raises(PipelineError) as info:
        move_deal(office.db, office.cancelled, S.AGREEMENT, acting=office.email("ann"))
    assert info.value.field == "status"
    assert snapshot(office.db) == before


# ------------------------------------------------------------------------------- versions


def test_a_stale_expected_version_is_a_conflict_and_nothing_is_written(office: Office) -> None:
    move_deal(office.db, office.deal, S.AGREEMENT, expected_version=1, acting=office.email("ann"))
    before = snapshot(office.db)

    with pytest.raises(ConflictError) as info:
        move_deal(
            office.db, office.deal, S.DUE_DILIGENCE, expected_version=1, acting=office.email("bob")
        )

    assert "Nothing was moved" in str(info.value)
    assert snapshot(office.db) == before
    assert deal_row(office.db, office.deal).version == 2
    assert len(events(office.db)) == len(audit(office.db)) == 1


def test_the_current_expected_version_moves(office: Office) -> None:
    move_deal(office.db, office.deal, S.AGREEMENT, expected_version=1, acting=office.email("ann"))
    result = move_deal(
        office.db, office.deal, S.DUE_DILIGENCE, expected_version=2, acting=office.email("ann")
    )
    assert result.version == 3 == deal_row(office.db, office.deal).version


def test_a_move_committed_meanwhile_is_never_timed_after_the_later_move(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another workstation moves the deal while this move is starting (no version given):
    this move is applied after it, so its event and audit entry must not be timed before it
    (the timeline orders events by recorded_at)."""
    real_session = office.db.session
    other = open_database(office.db.url)
    interleaved: list[int] = []

    def session_after_another_move() -> Any:
        if not interleaved:
            interleaved.append(1)
            move_deal(other, office.deal, S.NEGOTIATION, acting=office.email("bob"))
        return real_session()

    monkeypatch.setattr(office.db, "session", session_after_another_move)
    try:
        move_deal(office.db, office.deal, S.AGREEMENT, acting=office.email("ann"))
    finally:
        other.dispose()

    assert interleaved == [1]
    first, second = events(office.db)  # in timeline order
    assert (first.to_stage, second.from_stage, second.to_stage) == (
        S.NEGOTIATION,
        S.NEGOTIATION,
        S.AGREEMENT,
    )
    assert deal_row(office.db, office.deal).pipeline_stage is second.to_stage
    entries = audit(office.db)
    assert [e.payload["to_stage"] for e in entries] == ["negotiation", "agreement"]
    assert entries[0].recorded_at <= entries[1].recorded_at
    assert verify_all(office.db).intact


def test_two_moves_interleaved_one_wins_the_other_is_a_conflict(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second workstation moves the same deal (from the version both read) after this move
    has read the deal and before it writes. Exactly one of the two moves is written; the other
    is a ConflictError, not a database error, and writes nothing. (PostgreSQL: the first to
    write wins; SQLite: a move holds the write lock from its read, so the other waits.)"""
    real_plan = moves.plan_move
    other = open_database(office.db.url)
    outcome: dict[str, BaseException | None] = {}

    def other_move() -> None:
        try:
            move_deal(
                other, office.deal, S.NEGOTIATION, expected_version=1, acting=office.email("bob")
            )
            outcome["other"] = None
        except BaseException as exc:
            outcome["other"] = exc

    thread = threading.Thread(target=other_move)

    def plan_while_another_moves(*args: Any, **kw: Any) -> Any:
        if not thread.is_alive() and "other" not in outcome:
            thread.start()
            # PostgreSQL: it commits at once. SQLite: it waits for this move's lock.
            thread.join(timeout=10 if office.db.dialect == "postgresql" else 0.5)
        return real_plan(*args, **kw)

    monkeypatch.setattr(moves, "plan_move", plan_while_another_moves)
    try:
        try:
            move_deal(
                office.db, office.deal, S.AGREEMENT, expected_version=1, acting=office.email("ann")
            )
            outcome["this"] = None
        except BaseException as exc:
            outcome["this"] = exc
        thread.join(timeout=30)
    finally:
        other.dispose()

    assert not thread.is_alive()
    failed = {k: v for k, v in outcome.items() if v is not None}
    assert len(outcome) == 2 and len(failed) == 1, outcome
    (loser,) = failed.values()
    assert isinstance(loser, ConflictError)
    winner = S.AGREEMENT if "other" in failed else S.NEGOTIATION
    (e,) = events(office.db)
    assert e.to_stage is winner
    d = deal_row(office.db, office.deal)
    assert (d.pipeline_stage, d.version) == (winner, 2)
    assert len(audit(office.db)) == 1
    assert verify_all(office.db).intact


# ------------------------------------------------------------------------------- undo


def test_undo_is_a_reverse_move_appended(office: Office) -> None:
    t1 = NOW
    t2 = NOW + dt.timedelta(minutes=1)
    done = move_deal(office.db, office.deal, S.CLOSED_WON, acting=office.email("ann"), now=t1)
    undone = move_deal(
        office.db,
        office.deal,
        done.from_stage,
        expected_version=done.version,
        acting=office.email("ann"),
        now=t2,
    )

    d = deal_row(office.db, office.deal)
    assert (d.pipeline_stage, d.status, d.actual_close_date, d.version) == (
        S.PROPOSAL,
        DealStatus.OPEN,
        None,
        3,
    )
    assert [(e.from_stage, e.to_stage, e.recorded_at) for e in events(office.db)] == [
        (S.PROPOSAL, S.CLOSED_WON, t1),
        (S.CLOSED_WON, S.PROPOSAL, t2),
    ]
    entries = audit(office.db)
    assert [(e.seq, e.payload["stage_event_id"]) for e in entries] == [
        (1, done.stage_event_id),
        (2, undone.stage_event_id),
    ]
    assert entries[1].prev_hash == entries[0].hash
    assert verify_all(office.db).describe() == "2 audit entries in 1 chains verified: intact."


# ------------------------------------------------------------------------------- who


def test_an_agent_cannot_move_another_agents_deal(office: Office) -> None:
    before = snapshot(office.db)
    for outsider in ("cal", "dee", "zoe"):
        with pytest.raises(DealNotFound):
            move_deal(office.db, office.deal, S.AGREEMENT, acting=office.email(outsider))
    assert snapshot(office.db) == before


@pytest.mark.parametrize("who", ["ann", "bob", "mia", "ada"])
def test_the_owner_their_broker_team_manager_and_admins_can_move_it(
    office: Office, who: str
) -> None:
    move_deal(office.db, office.deal, S.AGREEMENT, acting=office.email(who))
    (e,) = events(office.db)
    assert e.changed_by_id == office.ids[who]
    assert audit(office.db)[0].actor_id == office.ids[who]


def test_the_team_manager_cannot_move_a_deal_outside_the_team(office: Office) -> None:
    with pytest.raises(DealNotFound):
        move_deal(office.db, office.cals, S.PROPOSAL, acting=office.email("mia"))


def test_an_unknown_deal_is_not_found(office: Office) -> None:
    with pytest.raises(DealNotFound):
        move_deal(office.db, 999_999, S.AGREEMENT, acting=office.email("bob"))


def test_an_unknown_person_cannot_move(office: Office) -> None:
    with pytest.raises(PermissionDenied):
        move_deal(office.db, office.deal, S.AGREEMENT, acting="nobody@office.example")


def test_a_deactivated_person_cannot_move(office: Office) -> None:
    with office.db.session() as s:
        s.execute(sa.update(User).where(User.id == office.ids["ann"]).values(is_active=False))
    with pytest.raises(PermissionDenied):
        move_deal(office.db, office.deal, S.AGREEMENT, acting=office.email("ann"))


def test_local_mode_with_nobody_named_records_the_first_broker(sqlite_db: Database) -> None:
    o = build_office(sqlite_db)
    move_deal(sqlite_db, o.deal, S.AGREEMENT)
    assert events(sqlite_db)[0].changed_by_id == o.ids["bob"]
    assert audit(sqlite_db)[0].actor_id == o.ids["bob"]


def test_local_mode_without_a_broker_records_the_first_admin(sqlite_db: Database) -> None:
    o = build_office(sqlite_db)
    with sqlite_db.session() as s:
        s.execute(sa.update(User).where(User.role == "broker").values(is_active=False))
    move_deal(sqlite_db, o.deal, S.AGREEMENT)
    assert events(sqlite_db)[0].changed_by_id == o.ids["ada"]


@pytest.mark.pg
def test_shared_mode_with_nobody_named_is_refused(pg_db: Database) -> None:
    o = build_office(pg_db)
    with pytest.raises(PermissionDenied):
        move_deal(pg_db, o.deal, S.AGREEMENT)
    assert events(pg_db) == []


# ------------------------------------------------------------------------------- by ref


def test_move_by_ref_takes_the_stage_value_or_label(office: Office) -> None:
    first = move_deal_by_ref(office.db, " DL-1 ", "Due diligence", acting=office.email("ann"))
    second = move_deal_by_ref(office.db, "DL-1", "AWAITING_CLOSURE", acting=office.email("ann"))
    assert (first.to_stage, second.to_stage) == (S.DUE_DILIGENCE, S.AWAITING_CLOSURE)


def test_move_by_ref_of_a_deal_one_may_not_see_reads_as_an_unknown_ref(office: Office) -> None:
    with pytest.raises(DealNotFound) as hidden:
        move_deal_by_ref(office.db, "DL-1", "agreement", acting=office.email("cal"))
    with pytest.raises(DealNotFound) as unknown:
        move_deal_by_ref(office.db, "DL-404", "agreement", acting=office.email("cal"))
    assert str(hidden.value) == "There is no deal with the ref 'DL-1'."
    assert str(unknown.value) == "There is no deal with the ref 'DL-404'."


# ------------------------------------------------------------------------------- command line


def run_cli(office: Office, *args: str, who: str | None = "ann") -> int:
    acting = ["--as", office.email(who)] if who else []
    return cli.main(["--db", office.db.url, *acting, "deal", "move", *args])


def test_cli_deal_move_exits_0_and_says_what_moved(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(office, "DL-1", "agreement", "--note", "LOI signed") == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("moved DL-1 'Deal DL-1' from Proposal to Agreement\n", "")
    (e,) = events(office.db)
    assert (e.to_stage, e.note, e.changed_by_id) == (S.AGREEMENT, "LOI signed", office.ids["ann"])
    assert len(audit(office.db)) == 1


def test_cli_deal_move_unknown_stage_exits_1_naming_stage(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(office, "DL-1", "nowhere") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("STAGE: 'nowhere' is not a stage (stages: lead_captured, ")
    assert events(office.db) == []


def test_cli_deal_move_unknown_ref_exits_1(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(office, "DL-404", "agreement") == 1
    assert capsys.readouterr().err == "There is no deal with the ref 'DL-404'.\n"


@pytest.mark.parametrize(
    ("args", "who", "says"),
    [
        (("DL-1", "closed_lost"), "ann", "note: say why the deal was lost"),
        (("DL-1", "proposal"), "ann", "already in Proposal"),
        (("DL-3", "agreement"), "ann", "cancelled"),
        (("DL-1", "agreement"), "cal", "There is no deal with the ref 'DL-1'."),
        (("DL-1", "agreement"), "nobody", "No one with the email"),
    ],
)
def test_cli_deal_move_rule_errors_exit_1_with_one_line(
    office: Office, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], who: str, says: str
) -> None:
    before = snapshot(office.db)
    assert run_cli(office, *args, who=who) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and says in err
    assert "Traceback" not in err
    assert snapshot(office.db) == before


@pytest.mark.parametrize(
    "args",
    [(), ("DL-1",), ("DL-1", "agreement", "extra"), ("DL-1", "agreement", "--note")],
)
def test_cli_deal_move_bad_usage_exits_2(
    office: Office, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    before = snapshot(office.db)
    assert run_cli(office, *args) == 2
    assert "usage:" in capsys.readouterr().err
    assert snapshot(office.db) == before


# ------------------------------------------------------------------------------- many writers

WRITERS = 8
MOVES_EACH = 200


@pytest.mark.pg
def test_concurrent_writers_on_the_same_deals_keep_history_and_chains_whole(
    pg_db: Database,
) -> None:
    """8 writers, each with its own connection, make 200 moves each over 3 shared deals
    (so writers collide): half pass the version they read (and retry on a conflict), half
    move "the current" version as ``deal move`` does. Afterwards every successful move is one
    stage event and one audit entry, the chains verify, and each deal stands where its last
    event put it."""
    o = build_office(pg_db)
    deals = [o.deal, o.won, o.cals]
    successes: Counter[int] = Counter()
    conflicts = Counter[int]()
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        rng = random.Random(n)
        own = open_database(pg_db.url)  # its own engine: its own connection
        pinned = n % 2 == 0
        try:
            start.wait()
            done = 0
            while done < MOVES_EACH:
                deal_id = rng.choice(deals)
                with own.read() as s:
                    stage, version = s.execute(
                        sa.select(Deal.pipeline_stage, Deal.version).where(Deal.id == deal_id)
                    ).one()
                target = rng.choice([x for x in STAGES if x is not stage])
                try:
                    move_deal(
                        own,
                        deal_id,
                        target,
                        expected_version=version if pinned else None,
                        note=f"writer {n} move {done}",
                        acting="bob@office.example",
                    )
                except ConflictError:
                    conflicts[n] += 1  # reload the version and try again
                    continue
                except PipelineError as exc:
                    # Unpinned: the deal reached ``target`` meanwhile; pick again.
                    assert not pinned and exc.field == "to_stage", exc
                    conflicts[n] += 1
                    continue
                successes[deal_id] += 1
                done += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert sum(successes.values()) == WRITERS * MOVES_EACH
    assert sum(conflicts.values()) > 0, "the writers never collided: the test proves nothing"

    with pg_db.read() as s:
        n_events = s.scalar(sa.select(sa.func.count()).select_from(DealStageEvent))
        dup_seq = s.execute(
            sa.select(AuditEntry.chain_key, AuditEntry.seq)
            .group_by(AuditEntry.chain_key, AuditEntry.seq)
            .having(sa.func.count() > 1)
        ).all()
    assert n_events == WRITERS * MOVES_EACH
    assert dup_seq == []

    for deal_id in deals:
        history = events(pg_db, deal_id)
        chain = audit(pg_db, deal_id)
        assert len(history) == len(chain) == successes[deal_id]
        assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
        assert {e.payload["stage_event_id"] for e in chain} == {e.id for e in history}
        assert all(e.event_type == EVENT_TYPE for e in chain)
        # In timeline order each move starts where the one before it ended ...
        for before, after in itertools.pairwise(history):
            assert after.from_stage is before.to_stage, (before.id, after.id)
        # ... and the audit chain appends in the same order.
        assert [e.payload["stage_event_id"] for e in chain] == [e.id for e in history]
        d = deal_row(pg_db, deal_id)
        assert d.pipeline_stage is history[-1].to_stage
        assert d.version == 1 + len(history)
        assert d.status is DealStatus(
            d.pipeline_stage if d.pipeline_stage in ("closed_won", "closed_lost") else "open"
        )

    result = verify_all(pg_db)
    assert result.intact, result.describe()
    assert result.entries == WRITERS * MOVES_EACH
    assert result.chains == len(deals)
