"""Brokerage overview: a row of compact stat tiles."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.gui.dashboard.format import count, full_money, plural, short_money
from app.services.dashboard import Dashboard


class StatTile(QFrame):
    """A caption, a big number and one line of context."""

    def __init__(self, key: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"tile_{key}")
        self.setProperty("role", "tile")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.caption = QLabel(caption)
        self.caption.setProperty("role", "tileCaption")
        self.value = QLabel("—")
        self.value.setProperty("role", "tileValue")
        self.note = QLabel(" ")
        self.note.setProperty("role", "hint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(1)
        for label in (self.caption, self.value, self.note):
            # Narrow windows cut a tile's words rather than push the page wider than the screen.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            layout.addWidget(label)
        self.setMinimumWidth(96)

    def set(self, value: str, note: str = "", tip: str = "") -> None:
        self.value.setText(value)
        self.note.setText(note or " ")
        self.setToolTip(tip)
        self.setAccessibleName(f"{self.caption.text()}: {value}. {note}".strip())

    def clear(self) -> None:
        self.set("—")


class OverviewBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overview")
        self.volume = StatTile("volume", "Volume YTD")
        self.escrows = StatTile("escrows", "Active escrows")
        self.clients = StatTile("clients", "Active clients")
        self.listings = StatTile("listings", "Active listings")
        self.agents = StatTile("agents", "Active agents")
        self.leads = StatTile("leads", "New leads")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        for tile in self.tiles():
            layout.addWidget(tile)

    def tiles(self) -> tuple[StatTile, ...]:
        return (self.volume, self.escrows, self.clients, self.listings, self.agents, self.leads)

    def clear(self) -> None:
        for tile in self.tiles():
            tile.clear()

    def show_dashboard(self, d: Dashboard) -> None:
        cur = d.currency
        totals = d.report.brokerage
        agents = d.report.agents
        self.volume.set(
            short_money(totals.volume_ytd, cur),
            plural(totals.escrows_ytd, "escrow"),
            f"{full_money(totals.volume_ytd, cur)}: purchase prices of the escrows opened "
            "this year (active, pending or closed), everyone's in view",
        )
        if d.open_escrows is None:
            self.escrows.set("—", "not available to this login")
        else:
            self.escrows.set(
                count(d.open_escrows.count),
                f"{short_money(d.open_escrows.volume, cur)} under way",
                f"Active or pending now: {full_money(d.open_escrows.volume, cur)} in all",
            )
        per_agent = f"across {plural(len(agents), 'agent')}" if agents else ""
        self.clients.set(count(totals.active_clients), per_agent, "Clients whose status is active")
        self.listings.set(
            count(totals.active_listings), per_agent, "Listings whose status is active"
        )
        self.agents.set(
            f"{d.agents_active:,}",
            f"of {len(agents):,} · last 7 days" if agents else "last 7 days",
            "Agents with a login, lead, appointment or escrow in the last 7 days",
        )
        days = d.report.period.period_days
        new = sum(a.new_leads for a in agents)
        shows = sum(a.appointments_completed for a in agents)
        no_shows = sum(a.no_shows for a in agents)
        rate = f"{shows * 100 / (shows + no_shows):.1f}% show rate" if shows + no_shows else ""
        self.leads.caption.setText(f"New leads · {days} d")
        self.leads.set(
            count(new),
            rate,
            f"Leads the agents created in the last {days} days (not private); the show rate "
            "of their appointments in that period",
        )
