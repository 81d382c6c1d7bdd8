"""Reports: the numbers the screens show, also printed by ``report NAME --json`` (SPEC §12)."""

from app.services.reports.agents import agent_report

__all__ = ["agent_report"]
