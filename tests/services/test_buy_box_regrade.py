"""A buy box's minimum DSCR is its properties' required DSCR (SPEC §9): changing it grades
their months again in the same transaction, and only a period writer may change it."""

from __future__ import annotations

import pytest

from app.domain.errors import ValidationError
from app.services.database import Database
from app.services.postclose import catalog, periods, records
from tests.services.test_rent_roll_entry import TODAY, build_office, month, new_record


def test_raising_the_minimum_regrades_the_box_properties(db: Database) -> None:
    o = build_office(db)  # box minimum 1.10
    rid = new_record(o)  # projected cash flow 350, DSCR 1.30
    saved = periods.add_period(
        db, rid, 2026, 2, month("2400", "0", "700", "1700", "360", "1.20"),
        acting=o.bob, today=TODAY,
    )  # fmt: skip
    assert saved.grade == "A"  # cash flow ≥ projected, DSCR 1.20 ≥ 1.10
    version = catalog.get_buy_box(db, o.box).version
    result = catalog.save_buy_box(db, {"min_dscr": "1.30"}, o.box, version, acting=o.mia)
    assert result.min_dscr_changed
    row = periods.get_period(db, saved.period_id)
    assert row.grade == "B"  # 1.20 < 1.30 but ≥ 0.9 × 1.30
    assert "dscr_below_minimum" in row.flags
    assert records.record_info(db, rid).current_grade == "B"
    assert str(records.record_info(db, rid).required_dscr) == "1.30"


def test_a_closer_may_not_change_the_minimum(db: Database) -> None:
    o = build_office(db)
    rid = new_record(o)
    saved = periods.add_period(
        db, rid, 2026, 2, month("2400", "0", "700", "1700", "360", "1.20"),
        acting=o.bob, today=TODAY,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="only brokers, managers and admins"):
        catalog.save_buy_box(db, {"min_dscr": "1.30"}, o.box, 1, acting=o.cleo)
    assert periods.get_period(db, saved.period_id).grade == "A"  # nothing changed
    catalog.save_buy_box(db, {"name": "Bakersfield houses"}, o.box, 1, acting=o.cleo)
