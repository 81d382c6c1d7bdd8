"""``import commissions`` (SPEC §11) on SQLite and PostgreSQL: the sample imports with its
audit entries; every bad row is reported (row, column, reason) and nothing is written."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db.models import AuditEntry, CommissionRecord, Deal, User
from app.domain.enums import CommissionStatus
from app.services.audit import verify_all
from app.services.database import Database
from app.services.importing.errors import ImportFailed
from app.services.importing.registry import kind_names
from app.services.importing.runner import import_file

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples"
HEADER = "deal_ref,agent_email,commission_type,basis_amount,commission_rate,status,introduced_at\n"


@pytest.fixture(autouse=True)
def no_login_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing users on a server would create cluster-wide login roles: not here."""
    from app.services.importing.kinds import users as users_kind

    monkeypatch.setattr(users_kind, "find_ensure_db_roles", lambda: lambda _db, _emails: None)


@pytest.fixture
def office(db: Database) -> Database:
    import_file(db, "users", SAMPLES / "users.csv")
    import_file(db, "deals", SAMPLES / "deals.csv")
    return db


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "commissions.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def count(db: Database, model: type) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def failure(db: Database, path: Path) -> ImportFailed:
    with pytest.raises(ImportFailed) as info:
        import_file(db, "commissions", path, label=path.name)
    return info.value


def test_commissions_follow_deals_among_the_kinds() -> None:
    names = kind_names()
    assert names.index("commissions") > names.index("deals") > names.index("users")


def test_the_sample_imports_with_amounts_statuses_and_audit_entries(office: Database) -> None:
    before = count(office, AuditEntry)
    result = import_file(office, "commissions", SAMPLES / "commissions.csv")
    assert result.rows == 7 and count(office, CommissionRecord) == 7
    with office.read() as s:
        rows = s.execute(
            sa.select(Deal.ref, User.email, CommissionRecord)
            .join(Deal, Deal.id == CommissionRecord.deal_id)
            .join(User, User.id == CommissionRecord.agent_id)
            .order_by(CommissionRecord.id)
        ).all()
        by_key = {(ref, email): c for ref, email, c in rows}
        first = by_key[("DL-1002", "ann.lee@example.com")]
        # 1,235,000.50 × 0.025 = 30,875.0125 → 30,875.01
        assert (first.basis_amount, first.commission_rate, first.commission_amount) == (
            Decimal("1235000.50"), Decimal("0.0250"), Decimal("30875.01"),
        )  # fmt: skip
        assert first.status == CommissionStatus.CONFIRMED and first.confirmed_at is None
        assert first.introduced_at is not None and first.introduced_at.hour == 9
        co_broke = by_key[("DL-1002", "ben.ortiz@example.com")]
        assert co_broke.status == CommissionStatus.PENDING  # empty status: pending
        assert co_broke.commission_amount == Decimal("15437.51")  # 15,437.50625
        assert by_key[("DL-1005", "cara.kim@example.com")].status == CommissionStatus.WRITTEN_OFF
        entries = s.execute(
            sa.select(AuditEntry.chain_key, AuditEntry.event_type, AuditEntry.payload)
            .where(AuditEntry.event_type == "commission_created")
            .order_by(AuditEntry.id)
        ).all()
    assert count(office, AuditEntry) == before + 7
    chain, kind, payload = entries[0]
    assert (chain, kind) == (f"deal:{first.deal_id}", "commission_created")
    assert payload == {
        "commission_id": first.id,
        "deal_id": first.deal_id,
        "agent_id": first.agent_id,
        "commission_type": "exclusive",
        "basis_amount": "1235000.50",
        "commission_rate": "0.0250",
        "commission_amount": "30875.01",
        "status": "confirmed",
    }
    assert verify_all(office).intact


def test_every_bad_row_is_named_and_nothing_is_written(office: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "DL-1001,ann.lee@example.com,exclusive,520000,0.025,,\n"  # row 2: fine
        "DL-9999,ann.lee@example.com,exclusive,520000,0.025,,\n"  # 3: unknown deal
        "DL-1001,nobody@example.com,referral,520000,0.025,,\n"  # 4: unknown person
        "DL-1001,ben.ortiz@example.com,finder,520000,0.025,,\n"  # 5: unknown type
        "DL-1001,ben.ortiz@example.com,co_broke,-5,0.025,,\n"  # 6: negative basis
        "DL-1001,ben.ortiz@example.com,referral,520000,1.5,,\n"  # 7: rate above 1
        "DL-1001,cara.kim@example.com,referral,520000,0.02555,,\n"  # 8: 5 decimals
        "DL-1001,cara.kim@example.com,co_broke,520000,0.02,disputed,\n"  # 9: disputed
        "DL-1001,cara.kim@example.com,bonus,520000,0.02,lost,\n"  # 10: unknown status
        "DL-1001,ann.lee@example.com,exclusive,100,0.01,,\n"  # 11: repeats row 2
        "DL-1001,ann.lee@example.com,bonus,10.005,0.01,,\n"  # 12: 3 decimals
        "DL-1001,ann.lee@example.com,introducer,100,0.01,,yesterday\n"  # 13: bad time
        ",ann.lee@example.com,introducer,,0.01,,\n",  # 14: two required cells empty
    )
    error = failure(office, path)
    got = {(e.row, e.column): e.reason for e in error.errors}
    assert set(got) == {
        (3, "deal_ref"), (4, "agent_email"), (5, "commission_type"), (6, "basis_amount"),
        (7, "commission_rate"), (8, "commission_rate"), (9, "status"), (10, "status"),
        (11, None), (12, "basis_amount"), (13, "introduced_at"), (14, "deal_ref"),
        (14, "basis_amount"),
    }  # fmt: skip
    assert got[(3, "deal_ref")] == "no deal with ref 'DL-9999'"
    assert got[(4, "agent_email")] == "no user with email nobody@example.com"
    assert "between 0 and 1" in got[(7, "commission_rate")]
    assert "at most 4 decimals" in got[(8, "commission_rate")]
    assert "needs its reason" in got[(9, "status")]
    assert got[(11, None)] == "is the same commission as row 2"
    assert "at most 2 decimals" in got[(12, "basis_amount")]
    assert str(error).startswith("commissions.csv: 13 errors, nothing imported")
    assert "commissions.csv, row 3, column deal_ref: no deal with ref 'DL-9999'" in str(error)
    assert count(office, CommissionRecord) == 0
    assert count(office, AuditEntry) == 0


def test_a_commission_already_in_the_database_is_refused(office: Database, tmp_path: Path) -> None:
    first = write(tmp_path, "DL-1003,ben.ortiz@example.com,exclusive,880000,0.03,,\n")
    assert import_file(office, "commissions", first).rows == 1
    again = write(
        tmp_path,
        "DL-1003,ben.ortiz@example.com,bonus,880000,0.001,,\n"
        "DL-1003,ben.ortiz@example.com,exclusive,900000,0.02,,\n",
    )
    error = failure(office, again)
    assert [(e.row, e.column) for e in error.errors] == [(3, None)]
    assert "already has an exclusive commission on deal DL-1003" in error.errors[0].reason
    assert count(office, CommissionRecord) == 1


def test_a_deactivated_person_earns_no_new_commission(office: Database, tmp_path: Path) -> None:
    with office.session() as s:
        s.execute(
            sa.update(User).where(User.email == "ben.ortiz@example.com").values(is_active=False)
        )
    error = failure(office, write(tmp_path, "DL-1003,ben.ortiz@example.com,bonus,1,0.1,,\n"))
    assert [(e.row, e.column, e.reason) for e in error.errors] == [
        (2, "agent_email", "ben.ortiz@example.com has been deactivated")
    ]
