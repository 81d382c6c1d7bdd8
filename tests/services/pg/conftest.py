"""Shared-mode (PostgreSQL) security tests: a tally of the privacy cases tried, printed at the
end of the run (issue 3, item 4: "the count of cases tried is printed")."""

from __future__ import annotations

from collections import Counter

import pytest

#: Filled by test_privacy.py: "forbidden" and "allowed" cases run, and "refused" (forbidden
#: cases that got no rows, no effect or a permission error, as they must).
TALLY: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY:
        return
    terminalreporter.write_sep("-", "privacy held by PostgreSQL (tests/services/pg)")
    terminalreporter.write_line(
        f"{TALLY['forbidden'] + TALLY['allowed']} cases tried with raw SQL as "
        f"{TALLY['logins']} logins: {TALLY['forbidden']} forbidden by SPEC §1 "
        f"({TALLY['refused']} refused), {TALLY['allowed']} allowed (and allowed)"
    )
