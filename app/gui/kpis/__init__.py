"""KPI management: definitions, assignments, measurements, scorecards."""
