"""All models, imported so that ``Base.metadata`` knows every table."""

from app.db.models.people import AppSetting, Team, User
from app.db.models.records import Appointment, Client, Escrow, Lead, Listing

__all__ = [
    "AppSetting",
    "Appointment",
    "Client",
    "Escrow",
    "Lead",
    "Listing",
    "Team",
    "User",
]
