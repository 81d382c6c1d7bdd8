"""What each record page shows: its columns, statuses, default order and form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PySide6.QtCore import Qt

from app.domain.enums import (
    AppointmentStatus,
    ClientStatus,
    EscrowStatus,
    LeadStatus,
    ListingStatus,
)
from app.domain.money import format_money
from app.gui import events
from app.gui.records.appointment_dialog import AppointmentDialog
from app.gui.records.client_dialog import ClientDialog
from app.gui.records.dialog import RecordDialog
from app.gui.records.escrow_dialog import EscrowDialog
from app.gui.records.format import (
    full_time,
    local_date,
    local_time,
    money_key,
    status_label,
    time_key,
)
from app.gui.records.lead_dialog import LeadDialog
from app.gui.records.listing_dialog import ListingDialog
from app.gui.records.model import Column
from app.services.records import RecordKind


@dataclass(frozen=True)
class KindView:
    kind: RecordKind
    title: str  # "Leads": the page and its navigation entry
    noun: str  # "lead"
    event: str  # the data_changed kind saved records announce
    columns: tuple[Column, ...]
    statuses: tuple[str, ...]
    status_of: Callable[[Any], str]
    sort_column: int
    sort_order: Qt.SortOrder
    filter_hint: str
    dialog: type[RecordDialog]
    order: int  # in the navigation list
    tooltip: str

    @property
    def key(self) -> str:
        return str(self.kind)

    @property
    def plural(self) -> str:
        return f"{self.noun}s"


def _status_column(enum_cls: type[StrEnum], attr: str = "status") -> Column:
    rank = {m.value: i for i, m in enumerate(enum_cls)}
    return Column(
        "Status",
        lambda r, _c: status_label(getattr(r, attr)),
        sort_key=lambda r: rank.get(getattr(r, attr), len(rank)),
    )


def _owner_column(header: str) -> Column:
    return Column(
        header,
        lambda r, _c: r.owner_name,
        sort_key=lambda r: r.owner_name.lower(),
        is_owner=True,
        tooltip=lambda r: r.owner_email,
    )


def _time_column(header: str, attr: str, *, date_only: bool = False) -> Column:
    show = local_date if date_only else local_time
    return Column(
        header,
        lambda r, _c: show(getattr(r, attr)),
        sort_key=lambda r: time_key(getattr(r, attr)),
        tooltip=lambda r: full_time(getattr(r, attr)),
    )


def _money_column(header: str, attr: str) -> Column:
    return Column(
        header,
        lambda r, currency: format_money(getattr(r, attr), currency),
        sort_key=lambda r: money_key(getattr(r, attr)),
        numeric=True,
    )


def _text_column(header: str, attr: str) -> Column:
    return Column(header, lambda r, _c: getattr(r, attr) or "")


PRIVATE_COLUMN = Column(
    "Private",
    lambda r, _c: "Yes" if r.is_private else "",
    searchable=False,
    tooltip=lambda r: "Only the owner sees it" if r.is_private else "Counted for the broker",
)

LEADS = KindView(
    kind=RecordKind.LEADS,
    title="Leads",
    noun="lead",
    event=events.LEADS,
    columns=(
        _text_column("Name", "name"),
        _status_column(LeadStatus),
        _text_column("Source", "source"),
        _text_column("Email", "email"),
        _text_column("Phone", "phone"),
        PRIVATE_COLUMN,
        _owner_column("Owner"),
        _time_column("Created", "created_at"),
    ),
    statuses=tuple(s.value for s in LeadStatus),
    status_of=lambda r: r.status,
    sort_column=7,
    sort_order=Qt.SortOrder.DescendingOrder,
    filter_hint="Filter by name, source, email, phone or owner (Ctrl+F)",
    dialog=LeadDialog,
    order=110,
    tooltip="Leads: the people who may buy or sell",
)

APPOINTMENTS = KindView(
    kind=RecordKind.APPOINTMENTS,
    title="Appointments",
    noun="appointment",
    event=events.APPOINTMENTS,
    columns=(
        _text_column("Title", "title"),
        _time_column("Starts", "start_time"),
        _time_column("Ends", "end_time"),
        _status_column(AppointmentStatus),
        _text_column("Location", "location"),
        PRIVATE_COLUMN,
        _owner_column("Agent"),
    ),
    statuses=tuple(s.value for s in AppointmentStatus),
    status_of=lambda r: r.status,
    sort_column=1,
    sort_order=Qt.SortOrder.DescendingOrder,
    filter_hint="Filter by title, time, location or agent (Ctrl+F)",
    dialog=AppointmentDialog,
    order=120,
    tooltip="Appointments: meetings, showings and consultations",
)

CLIENTS = KindView(
    kind=RecordKind.CLIENTS,
    title="Clients",
    noun="client",
    event=events.CLIENTS,
    columns=(
        _text_column("Name", "name"),
        _status_column(ClientStatus),
        _text_column("Source", "source"),
        _text_column("Email", "email"),
        _text_column("Phone", "phone"),
        _owner_column("Agent"),
        _time_column("Created", "created_at"),
    ),
    statuses=tuple(s.value for s in ClientStatus),
    status_of=lambda r: r.status,
    sort_column=6,
    sort_order=Qt.SortOrder.DescendingOrder,
    filter_hint="Filter by name, source, email, phone or agent (Ctrl+F)",
    dialog=ClientDialog,
    order=130,
    tooltip="Clients the agents work for",
)

LISTINGS = KindView(
    kind=RecordKind.LISTINGS,
    title="Listings",
    noun="listing",
    event=events.LISTINGS,
    columns=(
        _text_column("Address", "address"),
        _money_column("List price", "list_price"),
        _status_column(ListingStatus),
        _owner_column("Agent"),
        _time_column("Listed", "created_at", date_only=True),
    ),
    statuses=tuple(s.value for s in ListingStatus),
    status_of=lambda r: r.status,
    sort_column=4,
    sort_order=Qt.SortOrder.DescendingOrder,
    filter_hint="Filter by address or agent (Ctrl+F)",
    dialog=ListingDialog,
    order=140,
    tooltip="Properties listed for sale",
)

ESCROWS = KindView(
    kind=RecordKind.ESCROWS,
    title="Escrows",
    noun="escrow",
    event=events.ESCROWS,
    columns=(
        _text_column("Property", "property_address"),
        _money_column("Purchase price", "purchase_price"),
        _money_column("My commission", "my_commission"),
        _status_column(EscrowStatus, "escrow_status"),
        _text_column("Client", "client_name"),
        _owner_column("Agent"),
        _time_column("Opened", "created_at", date_only=True),
        _time_column("Closed", "closed_at", date_only=True),
    ),
    statuses=tuple(s.value for s in EscrowStatus),
    status_of=lambda r: r.escrow_status,
    sort_column=6,
    sort_order=Qt.SortOrder.DescendingOrder,
    filter_hint="Filter by property, client or agent (Ctrl+F)",
    dialog=EscrowDialog,
    order=150,
    tooltip="Escrows: sales under way and closed",
)

ALL_KINDS: tuple[KindView, ...] = (LEADS, APPOINTMENTS, CLIENTS, LISTINGS, ESCROWS)
