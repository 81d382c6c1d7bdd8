"""PerfDesk: ``python main.py`` opens the window; ``python main.py COMMAND …`` runs headless."""

import sys

from app.cli import main


def open_window(db_url: str | None) -> int:
    """The window, on ``db_url`` or its own default. Qt is imported only here."""
    from app.gui.app import run_window

    return run_window(db_url)


if __name__ == "__main__":
    sys.exit(main(open_window=open_window))
