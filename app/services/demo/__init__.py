"""Demo data: a plausible office with a year of history, loaded fast (SPEC §12 ``demo``)."""

from app.services.demo.bulk import DemoCancelled
from app.services.demo.generator import DemoSummary, generate
from app.services.demo.scales import SCALES, Scale

__all__ = ["SCALES", "DemoCancelled", "DemoSummary", "Scale", "generate"]
