"""`import deals` (SPEC §11) on SQLite and PostgreSQL: every row checked first, all written or
none, the status and close date following the stage, and each deal's creation event."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db.models import Deal, DealStageEvent, User
from app.domain.enums import DealStage, DealStatus
from app.services import office
from app.services.database import Database
from app.services.importing import ImportFailed, import_file, kind_names
from app.services.importing.kinds import users as users_kind
from app.services.pipeline.detail import Integrity, TimelineKind, deal_detail
from app.services.pipeline.moves import move_deal_by_ref

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples"
HEADER = (
    "ref,agent_email,title,asset_type,deal_type,pipeline_stage,lead_source,"
    "estimated_value_amount,estimated_value_currency,expected_close_date,confidence,created_at"
)


@pytest.fixture(autouse=True)
def no_login_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample users get no server-wide login roles in these tests."""
    monkeypatch.setattr(users_kind, "find_ensure_db_roles", lambda: None)


@pytest.fixture
def office_db(db: Database) -> Database:
    import_file(db, "users", SAMPLES / "users.csv")
    return db


def write(tmp_path: Path, *lines: str, name: str = "deals.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *lines)) + "\n", encoding="utf-8")
    return path


def deals(db: Database) -> dict[str, Deal]:
    with db.read() as s:
        return {d.ref or "": d for d in s.scalars(sa.select(Deal))}


def count(db: Database, model: type[Deal] | type[DealStageEvent]) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def failure(db: Database, path: Path) -> ImportFailed:
    with pytest.raises(ImportFailed) as info:
        import_file(db, "deals", path, label=path.name)
    return info.value


def test_deals_is_a_kind_after_the_records() -> None:
    names = kind_names()
    assert names.index("deals") == names.index("escrows") + 1


def test_the_sample_imports_with_status_close_date_and_creation_events(office_db: Database) -> None:
    db = office_db
    result = import_file(db, "deals", SAMPLES / "deals.csv")

    assert result.rows == 6
    stored = deals(db)
    assert set(stored) == {f"DL-100{i}" for i in range(1, 7)}
    open_deal, won, lost = stored["DL-1002"], stored["DL-1004"], stored["DL-1005"]
    assert open_deal.pipeline_stage is DealStage.PROPOSAL
    assert open_deal.status is DealStatus.OPEN and open_deal.actual_close_date is None
    assert open_deal.estimated_value_amount == Decimal("1235000.50")
    assert open_deal.created_at == dt.datetime(2024, 12, 20, 9, 30, tzinfo=dt.UTC)
    assert open_deal.expected_close_date == dt.date(2025, 5, 15)
    assert open_deal.confidence == Decimal("0.45")
    assert open_deal.version == 1
    assert won.pipeline_stage is DealStage.CLOSED_WON  # given as its label, "Closed won"
    assert (won.status, won.actual_close_date) == (DealStatus.CLOSED_WON, dt.date(2024, 10, 1))
    assert (lost.status, lost.actual_close_date) == (DealStatus.CLOSED_LOST, dt.date(2024, 7, 1))
    assert stored["DL-1001"].estimated_value_currency == "USD"  # the office's, by default
    with db.read() as s:
        ann = s.scalars(sa.select(User).where(User.email == "ann.lee@example.com")).one()
        events = s.scalars(
            sa.select(DealStageEvent).where(DealStageEvent.deal_id == stored["DL-1002"].id)
        ).all()
    assert stored["DL-1002"].agent_id == ann.id
    assert [(e.from_stage, e.to_stage, e.changed_by_id, e.recorded_at) for e in events] == [
        (None, DealStage.PROPOSAL, ann.id, open_deal.created_at)
    ]
    assert count(db, DealStageEvent) == 6


def test_an_imported_deal_shows_its_creation_and_can_be_moved(office_db: Database) -> None:
    db = office_db
    import_file(db, "deals", SAMPLES / "deals.csv")
    move_deal_by_ref(db, "DL-1001", "needs_analysis", acting="morgan.reyes@example.com")

    deal_id = deals(db)["DL-1001"].id
    timeline = deal_detail(db, deal_id, acting="morgan.reyes@example.com").timeline

    assert [i.kind for i in timeline] == [TimelineKind.CREATED, TimelineKind.STAGE]
    assert timeline[0].integrity is Integrity.NO_ENTRY
    assert timeline[1].verified


def test_the_default_currency_is_the_offices(office_db: Database, tmp_path: Path) -> None:
    office.set_currency(office_db, "SGD")
    path = write(
        tmp_path,
        "R-1,ann.lee@example.com,Condo,residential,buy_side,proposal,,100,,,0.5,2025-01-01",
        "R-2,ann.lee@example.com,Shop,retail,lease,proposal,,100,eur,,0.5,2025-01-01",
    )
    import_file(office_db, "deals", path)
    stored = deals(office_db)
    assert stored["R-1"].estimated_value_currency == "SGD"
    assert stored["R-2"].estimated_value_currency == "EUR"


def test_every_bad_row_is_named_and_nothing_is_written(office_db: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "B-1,ann.lee@example.com,Good one,residential,buy_side,proposal,,100,,,0.5,2025-01-01",
        "B-2,ann.lee@example.com,Bad stage,residential,buy_side,signed,,100,,,0.5,2025-01-01",
        "B-3,ann.lee@example.com,Too sure,residential,buy_side,proposal,,100,,,1.2,2025-01-01",
        "B-4,ann.lee@example.com,Negative,residential,buy_side,proposal,,-5,,,0.5,2025-01-01",
        "B-5,nobody@example.com,Stranger,residential,buy_side,proposal,,100,,,0.5,2025-01-01",
        "B-1,ben.ortiz@example.com,Again,residential,buy_side,proposal,,100,,,0.5,2025-01-01",
        "B-7,ann.lee@example.com,Unsure,residential,buy_side,proposal,,100,,,-0.1,2025-01-01",
        "B-8,ann.lee@example.com,,residential,buy_side,proposal,,100,XX,2025-02-30,,",
    )

    exc = failure(office_db, path)

    where = {(e.row, e.column): e.reason for e in exc.errors}
    assert set(where) == {
        (3, "pipeline_stage"),
        (4, "confidence"),
        (5, "estimated_value_amount"),
        (6, "agent_email"),
        (7, "ref"),
        (8, "confidence"),
        (9, "title"),
        (9, "estimated_value_currency"),
        (9, "expected_close_date"),
        (9, "confidence"),
        (9, "created_at"),
    }
    assert "'signed' is not a stage" in where[(3, "pipeline_stage")]
    assert where[(4, "confidence")] == "must be between 0 and 1 (got 1.2)"
    assert where[(5, "estimated_value_amount")] == "must not be negative (got -5)"
    assert where[(6, "agent_email")] == "no user with email nobody@example.com"
    assert where[(7, "ref")] == "ref B-1 already appears on row 2"
    assert where[(9, "title")] == "is required"
    assert all(e.file == "deals.csv" for e in exc.errors)
    assert "deals.csv, row 4, column confidence: must be between 0 and 1" in str(exc)
    assert count(office_db, Deal) == 0
    assert count(office_db, DealStageEvent) == 0


def test_a_ref_already_in_the_database_is_refused(office_db: Database, tmp_path: Path) -> None:
    import_file(office_db, "deals", SAMPLES / "deals.csv")
    path = write(
        tmp_path,
        "N-1,ann.lee@example.com,New,residential,buy_side,proposal,,100,,,0.5,2025-01-01",
        "DL-1003,ann.lee@example.com,Old,retail,lease,proposal,,100,,,0.5,2025-01-01",
    )

    exc = failure(office_db, path)

    assert [(e.row, e.column) for e in exc.errors] == [(3, "ref")]
    assert "a deal with ref DL-1003 is already in the database" in exc.errors[0].reason
    assert count(office_db, Deal) == 6
    assert "N-1" not in deals(office_db)


def test_importing_the_same_file_twice_is_refused(office_db: Database) -> None:
    import_file(office_db, "deals", SAMPLES / "deals.csv")
    exc = failure(office_db, SAMPLES / "deals.csv")
    assert len(exc.errors) == 6
    assert {e.column for e in exc.errors} == {"ref"}
    assert count(office_db, DealStageEvent) == 6


def test_unknown_and_missing_columns_are_errors(office_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("ref,agent_email,title,colour\nX,ann.lee@example.com,T,red\n", encoding="utf-8")
    exc = failure(office_db, path)
    text = str(exc)
    assert "colour" in text
    assert "pipeline_stage" in text and "confidence" in text and "created_at" in text
    assert count(office_db, Deal) == 0
