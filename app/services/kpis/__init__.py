"""KPIs: definitions, assignments, measurements, the calculation engine, scorecards (SPEC §7–§8)."""
