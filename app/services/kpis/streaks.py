"""A member who misses a KPI's target three periods running (SPEC §7, issue item 4): their
team's manager is told in-app (and by email where set).

Rule: an assignment whose three newest measurements, the newest being of the period just
computed, each have an achievement below 100 (a measurement not scored breaks the run).
Said once per assignment and period (the alert's title names the period). Every type of KPI
counts, entered ones too; the ``kpis`` job looks after each run at the newest whole period
of each type.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import KpiAssignment, KpiDefinition, KpiMeasurement, User
from app.domain.enums import NotificationType, PeriodType
from app.services.kpis.alerts import notify, team_manager

RUN = 3


def missed_streaks(s: Session, period: PeriodType, period_start: dt.date) -> list[int]:
    """The assignments (of KPIs of ``period``) missing their target ``RUN`` periods running,
    ending with the one starting ``period_start``."""
    below = (
        sa.select(KpiMeasurement.assignment_id)
        .join(KpiAssignment, KpiAssignment.id == KpiMeasurement.assignment_id)
        .join(KpiDefinition, KpiDefinition.id == KpiAssignment.kpi_definition_id)
        .where(
            KpiDefinition.aggregation_period == period,
            KpiAssignment.is_active.is_(True),
            KpiMeasurement.period_start == period_start,
            KpiMeasurement.achievement_pct < Decimal(100),
        )
    )
    rank = (
        sa.func.row_number()
        .over(
            partition_by=KpiMeasurement.assignment_id,
            order_by=KpiMeasurement.period_start.desc(),
        )
        .label("rank")
    )
    ranked = (
        sa.select(KpiMeasurement.assignment_id, KpiMeasurement.achievement_pct, rank)
        .where(
            KpiMeasurement.assignment_id.in_(below),
            KpiMeasurement.period_start <= period_start,
        )
        .subquery()
    )
    rows = s.execute(
        sa.select(ranked.c.assignment_id, ranked.c.achievement_pct).where(ranked.c.rank <= RUN)
    )
    runs: dict[int, list[Decimal | None]] = defaultdict(list)
    for aid, pct in rows:
        runs[int(aid)].append(pct)
    return sorted(
        aid
        for aid, pcts in runs.items()
        if len(pcts) == RUN and all(p is not None and p < 100 for p in pcts)
    )


def alert_missed_streaks(s: Session, period: PeriodType, period_start: dt.date) -> int:
    """Tell the managers; how many notifications were raised."""
    raised = 0
    for aid in missed_streaks(s, period, period_start):
        a = s.get_one(KpiAssignment, aid)
        if a.user_id is None:
            continue
        manager = team_manager(s, a.user_id)
        if manager is None:
            continue
        user = s.get_one(User, a.user_id)
        kpi = s.get_one(KpiDefinition, a.kpi_definition_id)
        name = f"{user.first_name} {user.last_name}".strip()
        title = (
            f"{name} missed the {kpi.name} target {RUN} {period.value} periods running "
            f"(to {period_start.isoformat()})"
        )
        body = (
            f"Target {a.target_value.normalize():f}; the last {RUN} {period.value} "
            "measurements were all below it."
        )
        raised += notify(s, NotificationType.KPI_TARGET_MISSED, aid, [manager], title, body,
                         agent_id=a.user_id)  # fmt: skip
    return raised
