"""All models, imported so that ``Base.metadata`` knows every table."""

from app.db.models.analytics import (
    AgentMonthlyKpi,
    AgentPerformanceSnapshot,
    Benchmark,
    LeadSourceCost,
)
from app.db.models.audit import AuditEntry
from app.db.models.commissions import CommissionAdjustment, CommissionRecord
from app.db.models.deals import Deal, DealContact, DealDocument, DealStageEvent
from app.db.models.goals import AchievementDefinition, ActivityEntry, Goal, UserAchievement
from app.db.models.jobs import JobRun
from app.db.models.kpis import KpiAssignment, KpiDefinition, KpiMeasurement, KpiScoreSnapshot
from app.db.models.notifications import Notification, NotificationDelivery, NotificationSetting
from app.db.models.people import AppSetting, Team, User
from app.db.models.postclose import BuyBox, Buyer, DealPerformance, PerformancePeriod
from app.db.models.records import Appointment, Client, Escrow, Lead, Listing

__all__ = [
    "AchievementDefinition",
    "ActivityEntry",
    "AgentMonthlyKpi",
    "AgentPerformanceSnapshot",
    "AppSetting",
    "Appointment",
    "AuditEntry",
    "Benchmark",
    "BuyBox",
    "Buyer",
    "Client",
    "CommissionAdjustment",
    "CommissionRecord",
    "Deal",
    "DealContact",
    "DealDocument",
    "DealPerformance",
    "DealStageEvent",
    "Escrow",
    "Goal",
    "JobRun",
    "KpiAssignment",
    "KpiDefinition",
    "KpiMeasurement",
    "KpiScoreSnapshot",
    "Lead",
    "LeadSourceCost",
    "Listing",
    "Notification",
    "NotificationDelivery",
    "NotificationSetting",
    "PerformancePeriod",
    "Team",
    "User",
    "UserAchievement",
]
