"""Turn driver exceptions into sentences a person can act on."""

from __future__ import annotations


def explain(exc: BaseException, where: str) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    low = text.lower()
    if "file is not a database" in low or "malformed" in low:
        return f"{where} is not a PerfDesk database or is damaged (SQLite: {text.strip()})."
    if "readonly" in low or "read-only" in low:
        return f"{where} is read-only: PerfDesk cannot save changes to it."
    if "unable to open database file" in low:
        return f"{where} cannot be opened: the folder is missing or not writable."
    if "password authentication failed" in low:
        return f"The server rejected the password for {where}."
    if "no password supplied" in low:
        return f"The server at {where} asks for a password and none was given."
    if "does not exist" in low and "database" in low:
        return f"The database in {where} does not exist on the server."
    if "role" in low and "does not exist" in low:
        return f"The user in {where} does not exist on the server."
    if (
        "connection refused" in low
        or "could not connect" in low
        or "timeout" in low
        or "name or service not known" in low
        or "could not translate host name" in low
    ):
        return f"The PostgreSQL server at {where} cannot be reached ({_first_line(text)})."
    if "permission denied" in low:
        return f"Permission denied on {where}: {_first_line(text)}"
    return f"{where}: {_first_line(text)}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
