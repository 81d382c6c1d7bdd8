"""Application-wide signals: what kind of data changed, and short messages for the status bar."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

# Kinds of data, as carried by AppEvents.data_changed. Pages refresh only what they show.
ALL = "*"
PEOPLE = "people"
OFFICE = "office"
LEADS = "leads"
APPOINTMENTS = "appointments"
CLIENTS = "clients"
LISTINGS = "listings"
ESCROWS = "escrows"
DEALS = "deals"
COMMISSIONS = "commissions"


class AppEvents(QObject):
    """One hub per window. Local changes and (later) remote NOTIFYs both come through here."""

    data_changed = Signal(str)
    status_message = Signal(str)
    page_requested = Signal(str)
    #: A record page's key ("escrows", …) and the id of the record to select on it.
    record_requested = Signal(str, object)

    def changed(self, kind: str) -> None:
        self.data_changed.emit(kind)

    def say(self, text: str) -> None:
        self.status_message.emit(text)

    def open_record(self, kind: str, record_id: int) -> None:
        """Select the record on its page, then show that page."""
        self.record_requested.emit(kind, record_id)
        self.page_requested.emit(kind)


def concerns(kind: str, *mine: str) -> bool:
    """True when a data_changed ``kind`` touches any of the kinds a page shows."""
    return kind == ALL or kind in mine
