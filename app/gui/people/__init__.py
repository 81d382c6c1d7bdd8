"""People: who works in the office, and adding a person (admins)."""
