"""The rules of SPEC.md as pure functions and small dataclasses (no Qt, no SQLAlchemy)."""
