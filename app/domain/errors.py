"""Errors that carry a message meant for a person, not a traceback."""

from __future__ import annotations


class PerfDeskError(Exception):
    """A rule or data error: the message says what is wrong and where, in plain words."""


class ValidationError(PerfDeskError):
    """Input that breaks a rule; nothing was written."""


class ConflictError(PerfDeskError):
    """Another workstation changed the record first; nothing was overwritten."""


class PermissionDenied(PerfDeskError):
    """The acting person may not do or see this (SPEC §1)."""


class DatabaseProblem(PerfDeskError):
    """The database cannot be opened, reached or upgraded."""


class SchemaTooNew(DatabaseProblem):
    """The database was written by a newer PerfDesk; it is left untouched."""
