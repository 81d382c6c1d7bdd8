"""How much data each demo scale holds."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import ValidationError


@dataclass(frozen=True)
class Scale:
    name: str
    agents: int
    teams: int
    #: Totals over the year, over every owner (the broker's private leads included).
    leads: int
    broker_leads: int
    appointments: int
    clients: int
    listings: int
    escrows: int
    deals: int
    stage_events: int
    commissions: int
    buyers: int
    buy_boxes: int
    rentals: int
    rent_months: int
    #: The seeds' office: Jayden Metz, Cole Rangel and Lee Rangel get the seeds' figures.
    seed_figures: bool = False
    #: Rows per chunk written to the database.
    chunk_rows: int = 50_000

    def planned_rows(self) -> int:
        """A rough total, for the progress bar (the exact count is known only at the end)."""
        audit = self.stage_events + self.commissions * 3
        return (
            self.leads
            + self.appointments
            + self.clients
            + self.listings
            + self.escrows
            + self.deals * 3
            + self.stage_events
            + self.commissions
            + audit
            + self.rentals * (self.rent_months + 1)
            + self.agents * 150
        )


SCALES: dict[str, Scale] = {
    "small": Scale(
        name="small",
        agents=6,
        teams=2,
        leads=420,
        broker_leads=20,
        appointments=160,
        clients=70,
        listings=36,
        escrows=42,
        deals=48,
        stage_events=400,
        commissions=110,
        buyers=4,
        buy_boxes=4,
        rentals=6,
        rent_months=12,
        chunk_rows=200,
    ),
    "brokerage": Scale(
        name="brokerage",
        agents=40,
        teams=4,
        leads=28_000,
        broker_leads=87,
        appointments=13_000,
        clients=1_450,
        listings=480,
        escrows=480,
        deals=600,
        stage_events=6_000,
        commissions=1_500,
        buyers=12,
        buy_boxes=10,
        rentals=60,
        rent_months=24,
        seed_figures=True,
        chunk_rows=5_000,
    ),
    "large": Scale(
        name="large",
        agents=500,
        teams=50,
        leads=2_000_000,
        broker_leads=1_200,
        appointments=500_000,
        clients=150_000,
        listings=50_000,
        escrows=100_000,
        deals=50_000,
        stage_events=500_000,
        commissions=200_000,
        buyers=400,
        buy_boxes=300,
        rentals=5_000,
        rent_months=60,
        chunk_rows=50_000,
    ),
}


def get_scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValidationError(
            f"Unknown demo scale {name!r}; choose one of {', '.join(SCALES)}."
        ) from None
