"""Every enumeration of SPEC.md, stored by value."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    BROKER = "broker"
    MANAGER = "manager"
    ADMIN = "admin"
    AGENT = "agent"
    CLOSER = "closer"
    DIALER = "dialer"


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    CONVERTED = "converted"
    LOST = "lost"


class AppointmentStatus(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class ClientStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class ListingStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    SOLD = "sold"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class EscrowStatus(StrEnum):
    ACTIVE = "Active"
    PENDING = "Pending"
    CLOSED = "Closed"
    CANCELLED = "Cancelled"


class NotificationType(StrEnum):
    ESCROW_CREATED = "escrow.created"
    ESCROW_CLOSED = "escrow.closed"
    CLIENT_CREATED = "client.created"
    LISTING_CREATED = "listing.created"
    # The managers' post-close alerts (SPEC §9; app/services/postclose/alerts.py).
    BUY_BOX_WARNING = "buy_box.warning"
    BUYER_SCORE_DROP = "buyer.score_drop"
    # KPI and goal alerts (SPEC §7–§8; app/services/kpis/alerts.py), raised by the jobs.
    KPI_TARGET_MISSED = "kpi.target_missed"
    GOAL_ACHIEVED = "goal.achieved"
    ACHIEVEMENT_EARNED = "achievement.earned"


class NotificationChannel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    SMS = "sms"


class DealStage(StrEnum):
    LEAD_CAPTURED = "lead_captured"
    QUALIFICATION = "qualification"
    NEEDS_ANALYSIS = "needs_analysis"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    AGREEMENT = "agreement"
    DUE_DILIGENCE = "due_diligence"
    AWAITING_CLOSURE = "awaiting_closure"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"


class DealStatus(StrEnum):
    OPEN = "open"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"
    CANCELLED = "cancelled"


class ContactRole(StrEnum):
    PRINCIPAL = "principal"
    CO_BROKE = "co_broke"
    LEGAL = "legal"
    FINANCE = "finance"
    OTHER = "other"


class CommissionType(StrEnum):
    INTRODUCER = "introducer"
    EXCLUSIVE = "exclusive"
    CO_BROKE = "co_broke"
    REFERRAL = "referral"
    BONUS = "bonus"


class CommissionStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    INVOICED = "invoiced"
    PAID = "paid"
    DISPUTED = "disputed"
    WRITTEN_OFF = "written_off"


class AdjustmentType(StrEnum):
    CLAWBACK = "clawback"
    BONUS = "bonus"
    CORRECTION = "correction"


class CalculationType(StrEnum):
    MANUAL = "manual"
    QUERY = "query"
    FORMULA = "formula"
    API = "api"


class TargetType(StrEnum):
    HIGHER_BETTER = "higher_better"
    LOWER_BETTER = "lower_better"
    EXACT = "exact"


class PeriodType(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class GoalType(StrEnum):
    REVENUE = "revenue"
    ORDERS = "orders"
    LEADS = "leads"
    OPPORTUNITIES = "opportunities"
    CONVERSION_RATE = "conversion_rate"
    CUSTOM = "custom"


class GoalStatus(StrEnum):
    ON_TRACK = "on_track"
    BEHIND = "behind"
    AT_RISK = "at_risk"
    ACHIEVED = "achieved"
    MISSED = "missed"


class ActivityType(StrEnum):
    CALLS = "calls"
    EMAILS = "emails"
    MEETINGS = "meetings"


class Strategy(StrEnum):
    BUY_HOLD = "buy_hold"
    COMMERCIAL = "commercial"


class LoanType(StrEnum):
    DSCR = "DSCR"
    CONVENTIONAL = "conventional"
    COMMERCIAL = "commercial"
    CASH = "cash"


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class BenchmarkCohort(StrEnum):
    INDUSTRY_AVG = "industry_avg"
    TOP_QUARTILE = "top_quartile"
    INTERNAL_AVG = "internal_avg"


class JobStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class WarningLevel(StrEnum):
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


class JobTrigger(StrEnum):
    SCHEDULER = "scheduler"
    CLI = "cli"
    WINDOW = "window"
