"""Words the demo data is made of: people's names, California towns, streets, sources."""

from __future__ import annotations

from dataclasses import dataclass


def _names(text: str) -> tuple[str, ...]:
    """Whitespace-separated words."""
    return tuple(text.split())


def _list(text: str) -> tuple[str, ...]:
    """Comma-separated items (street names have spaces)."""
    return tuple(" ".join(item.split()) for item in text.split(",") if item.strip())


FIRST_NAMES = _names(
    """
    James Maria Michael Jennifer Robert Linda David Elizabeth William Patricia Richard Susan
    Joseph Jessica Thomas Sarah Christopher Karen Daniel Nancy Matthew Lisa Anthony Betty Mark
    Sandra Donald Ashley Steven Kimberly Andrew Emily Joshua Donna Kevin Michelle Brian Carol
    George Amanda Timothy Melissa Ronald Deborah Jason Stephanie Ryan Rebecca Jacob Laura Gary
    Cynthia Nicholas Kathleen Eric Amy Jonathan Angela Larry Shirley Justin Brenda Scott Emma
    Brandon Anna Benjamin Pamela Samuel Nicole Gregory Samantha Alexander Katherine Patrick
    Christine Frank Debra Raymond Rachel Jose Carolyn Juan Janet Luis Guadalupe Carlos Rosa
    Jesus Alejandra Miguel Veronica Antonio Yesenia Francisco Adriana Alejandro Claudia Manuel
    Leticia Ricardo Gabriela Eduardo Sofia Javier Isabella Fernando Camila Diego Valeria Oscar
    Daniela Mei Wei Priya Raj Anil Sunita Hiroshi Yuki Minh Linh Tuan Jasmine Harpreet Gurpreet
    Manpreet Tyler Austin Dylan Hannah Olivia Ava Mia Chloe Ethan Noah Liam Logan Caleb Hunter
    Madison Brooke Taylor Morgan Dakota Shelby
    """
)
LAST_NAMES = _names(
    """
    Garcia Hernandez Martinez Lopez Gonzalez Rodriguez Perez Sanchez Ramirez Torres Flores
    Rivera Gomez Diaz Reyes Morales Cruz Ortiz Gutierrez Chavez Ramos Ruiz Alvarez Mendoza
    Castillo Jimenez Moreno Romero Herrera Medina Aguilar Vargas Castro Smith Johnson Williams
    Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson Martin Lee Thompson
    White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Green Baker Adams
    Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner Parker Collins Edwards
    Stewart Morris Murphy Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Kelly Howard Ward
    Cox Richardson Wood Watson Brooks Bennett Gray James Hughes Price Sanders Myers Long Foster
    Powell Jenkins Perry Russell Sullivan Fisher Henderson Nguyen Tran Pham Le Chen Wang Li
    Zhang Liu Huang Wong Kim Park Patel Shah Singh Sandhu Gill Dhillon Tanaka Sato Vang Xiong
    Thao Her Lor Dutra Souza Silva Costa Avila Hansen Olsen Larsen Schmidt Mueller Weber Becker
    Wagner
    """
)
#: Weighted by repetition: most people's mail is at Gmail.
EMAIL_DOMAINS = _names(
    """
    gmail.com gmail.com gmail.com gmail.com yahoo.com yahoo.com outlook.com hotmail.com
    icloud.com aol.com sbcglobal.net att.net
    """
)

#: The office's own mail domain (a reserved name, so that nothing is ever sent to it).
OFFICE_DOMAIN = "rileyrealty.example"


@dataclass(frozen=True)
class Town:
    name: str
    area_code: str
    zips: tuple[str, ...]
    median_price: int  # typical single-family sale price, USD
    median_rent: int  # typical single-family rent, USD per month
    weight: float  # share of the office's business
    streets: tuple[str, ...]

    @property
    def market_key(self) -> str:
        return "CA-" + self.name.upper().replace(" ", "-")


_COMMON_STREETS = _list(
    """
    Main St, Oak Ave, Maple St, Cedar St, Pine St, Walnut Ave, Elm St, Sycamore Dr, Willow
    Ln, Olive Ave, Orange St, Magnolia Ave, Park Ave, Lincoln Ave, Washington Blvd,
    Jefferson St, Sunset Dr, Valley View Dr
    """
)

TOWNS: tuple[Town, ...] = (
    Town(
        "Bakersfield",
        "661",
        _names("93301 93304 93305 93306 93307 93308 93309 93311 93312 93313 93314"),
        395_000,
        2_050,
        0.42,
        _list(
            """
            Truxtun Ave, Chester Ave, Ming Ave, Stockdale Hwy, Panama Ln, Rosedale Hwy,
            Brimhall Rd, Calloway Dr, Coffee Rd, Olive Dr, Niles St, Columbus St, Hosking
            Ave, White Ln, Gosford Rd, Buena Vista Rd, Allen Rd, Hageman Rd, Snow Rd, Harris
            Rd, Planz Rd, Auburn St, University Ave, Mount Vernon Ave, Oswell St, Fairfax
            Rd, Wible Rd
            """
        ),
    ),
    Town(
        "Tehachapi",
        "661",
        _names("93561"),
        385_000,
        2_000,
        0.14,
        _list(
            """
            Tucker Rd, Valley Blvd, Curry St, Mill St, Green St, Highline Rd, Cummings
            Valley Rd, Pinon St, Dennison Rd, Red Apple Ave, Alder Ave, Bear Valley Rd,
            Golden Hills Blvd, Woodford-Tehachapi Rd, Snyder Ave
            """
        ),
    ),
    Town(
        "Fresno",
        "559",
        _names("93701 93702 93704 93705 93706 93710 93711 93720 93722 93726 93727 93730"),
        390_000,
        1_950,
        0.08,
        _list(
            """
            Blackstone Ave, Shaw Ave, Herndon Ave, Shields Ave, Cedar Ave, First St, Palm
            Ave, Ashlan Ave, Bullard Ave, Kings Canyon Rd, Van Ness Blvd
            """
        ),
    ),
    Town(
        "Visalia",
        "559",
        _names("93277 93291 93292"),
        375_000,
        1_900,
        0.06,
        _list(
            """
            Mooney Blvd, Caldwell Ave, Demaree St, Akers St, Walnut Ave, Noble Ave, Mineral
            King Ave, Ben Maddox Way, Houston Ave
            """
        ),
    ),
    Town(
        "Lancaster",
        "661",
        _names("93534 93535 93536"),
        455_000,
        2_300,
        0.06,
        _list(
            """
            Avenue J, Avenue K, Avenue L, 10th St W, 20th St W, Lancaster Blvd, Division St,
            Sierra Hwy, 30th St W, Challenger Way
            """
        ),
    ),
    Town(
        "Palmdale",
        "661",
        _names("93550 93551 93552"),
        470_000,
        2_350,
        0.06,
        _list(
            """
            Palmdale Blvd, Rancho Vista Blvd, Avenue S, Tierra Subida Ave, 10th St E, 25th
            St E, Elizabeth Lake Rd, Avenue R
            """
        ),
    ),
    Town(
        "Sacramento",
        "916",
        _names("95814 95816 95818 95819 95820 95822 95825 95826 95831 95834 95835 95838"),
        485_000,
        2_400,
        0.05,
        _list(
            """
            J St, Folsom Blvd, Freeport Blvd, Fair Oaks Blvd, Riverside Blvd, Stockton Blvd,
            Florin Rd, Franklin Blvd, Arden Way, Del Paso Blvd
            """
        ),
    ),
    Town(
        "Stockton",
        "209",
        _names("95202 95203 95204 95205 95206 95207 95209 95210 95212"),
        415_000,
        2_100,
        0.05,
        _list(
            """
            Pacific Ave, March Ln, Hammer Ln, El Dorado St, Pershing Ave, Benjamin Holt Dr,
            Airport Way, Harding Way, Mariposa Rd
            """
        ),
    ),
    Town(
        "Modesto",
        "209",
        _names("95350 95351 95354 95355 95356 95357 95358"),
        435_000,
        2_150,
        0.04,
        _list(
            """
            McHenry Ave, Sylvan Ave, Oakdale Rd, Coffee Rd, Briggsmore Ave, Paradise Rd,
            Carpenter Rd, Standiford Ave, Yosemite Blvd
            """
        ),
    ),
    Town(
        "Riverside",
        "951",
        _names("92501 92503 92504 92505 92506 92507 92508 92509"),
        620_000,
        2_900,
        0.04,
        _list(
            """
            Magnolia Ave, Van Buren Blvd, Arlington Ave, Central Ave, Market St, University
            Ave, La Sierra Ave, Tyler St, Canyon Crest Dr, Victoria Ave
            """
        ),
    ),
)

TOWN_STREETS: dict[str, tuple[str, ...]] = {t.name: t.streets + _COMMON_STREETS for t in TOWNS}

#: Lead sources and how often an ordinary agent's leads come from each.
LEAD_SOURCES: tuple[tuple[str, float], ...] = (
    ("Zillow", 0.34),
    ("Website", 0.14),
    ("Referral", 0.12),
    ("Realtor.com", 0.08),
    ("Open House", 0.08),
    ("Sign Call", 0.06),
    ("Networking", 0.05),
    ("Past Client", 0.05),
    ("Facebook Ads", 0.04),
    ("Sphere of Influence", 0.02),
    ("Door Knocking", 0.02),
)

#: The broker's own (private) pipeline: paid Zillow ads, referrals, networking.
BROKER_LEAD_SOURCES: tuple[tuple[str, float], ...] = (
    ("Zillow", 0.45),
    ("Referral", 0.2),
    ("Past Client", 0.15),
    ("Networking", 0.12),
    ("Website", 0.08),
)

CLIENT_SOURCES: tuple[tuple[str, float], ...] = (
    ("Referral", 0.3),
    ("Past Client", 0.25),
    ("Sphere of Influence", 0.2),
    ("Open House", 0.1),
    ("Networking", 0.1),
    ("Sign Call", 0.05),
)

#: Relative activity by calendar month (more leads and escrows in spring and summer).
MONTH_WEIGHT: dict[int, float] = {
    1: 0.72,
    2: 0.82,
    3: 1.0,
    4: 1.16,
    5: 1.28,
    6: 1.32,
    7: 1.28,
    8: 1.18,
    9: 1.0,
    10: 0.9,
    11: 0.76,
    12: 0.6,
}
#: Relative activity by weekday (Monday = 0).
WEEKDAY_WEIGHT: tuple[float, ...] = (1.1, 1.08, 1.05, 1.03, 0.98, 0.9, 0.66)

APPOINTMENT_TITLES: tuple[str, ...] = (
    "Buyer consultation",
    "Showing",
    "Second showing",
    "Listing presentation",
    "Home valuation walk-through",
    "Pre-approval review",
    "Offer strategy call",
    "Investor property tour",
    "Open house follow-up",
    "Rental analysis meeting",
)
FREE_APPOINTMENT_TITLES: tuple[str, ...] = (
    "Listing appointment",
    "Broker preview",
    "Open house",
    "Final walk-through",
    "Closing signing",
    "Inspection",
    "Appraisal access",
    "Past client check-in",
)

DEAL_ASSET_TYPES: tuple[tuple[str, float], ...] = (
    ("residential", 0.5),
    ("multifamily", 0.17),
    ("commercial", 0.08),
    ("retail", 0.06),
    ("industrial", 0.05),
    ("office", 0.04),
    ("land", 0.07),
    ("portfolio", 0.03),
)
DEAL_TYPES: tuple[tuple[str, float], ...] = (
    ("buy_side", 0.44),
    ("sell_side", 0.36),
    ("lease", 0.1),
    ("management", 0.05),
    ("capital_raise", 0.02),
    ("other", 0.03),
)

BUYER_NAMES: tuple[str, ...] = (
    "Kern River Capital LLC",
    "Sierra Peak Holdings",
    "Tan & Lim Family Office",
    "Golden State Rentals LP",
    "Valley Oak Investments",
    "Mojave Yield Partners",
    "Ortiz Family Trust",
    "Chen Property Group",
    "Sequoia Income Fund",
    "Tehachapi Mountain Homes LLC",
    "Central Valley Doors LLC",
    "Pacific Rim Realty Pte Ltd",
    "Harvest Moon Holdings",
    "Red Apple Rentals",
    "Kings River Equity",
    "Mount Whitney Partners",
    "San Joaquin Housing Fund",
    "Blue Sky Multifamily",
)

COMPANY_WORDS: tuple[str, ...] = (
    "Kern",
    "Sierra",
    "Valley",
    "Golden",
    "Pacific",
    "Oak",
    "Sequoia",
    "Mojave",
    "Tule",
    "Summit",
    "Harvest",
    "Canyon",
    "Delta",
    "Orchard",
    "Granite",
    "Cypress",
    "Redwood",
)
COMPANY_SUFFIXES: tuple[str, ...] = (
    "Holdings",
    "Capital",
    "Partners",
    "Investments",
    "Properties",
    "Equity",
    "Rentals",
    "Realty Trust",
    "Group",
    "Ventures",
)
