"""Which import kinds exist, loaded only when used (listing them imports nothing heavy).

A kind is a subclass of ``ImportKind`` (``spec.py``) in a module of ``kinds/``. To add one,
write the class and add one line to ``KINDS``, e.g.
``"deals": f"{_KINDS_PACKAGE}.deals:DealsImport"``.
The order of ``KINDS`` is the order an office imports its files in (people first).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from app.services.importing.errors import UnknownKind

if TYPE_CHECKING:
    from app.services.importing.spec import ImportKind

_KINDS_PACKAGE = "app.services.importing.kinds"

KINDS: dict[str, str] = {
    "users": f"{_KINDS_PACKAGE}.users:UsersImport",
    "leads": f"{_KINDS_PACKAGE}.records:LeadsImport",
    "appointments": f"{_KINDS_PACKAGE}.records:AppointmentsImport",
    "clients": f"{_KINDS_PACKAGE}.records:ClientsImport",
    "listings": f"{_KINDS_PACKAGE}.records:ListingsImport",
    "escrows": f"{_KINDS_PACKAGE}.records:EscrowsImport",
    "deals": f"{_KINDS_PACKAGE}.deals:DealsImport",
    "commissions": f"{_KINDS_PACKAGE}.commissions:CommissionsImport",
    "buy_boxes": f"{_KINDS_PACKAGE}.buy_boxes:BuyBoxesImport",
    "deal_performance": f"{_KINDS_PACKAGE}.performance:PerformanceImport",
    "rent_roll": f"{_KINDS_PACKAGE}.rent_roll:RentRollImport",
    "benchmarks": f"{_KINDS_PACKAGE}.benchmarks:BenchmarksImport",
    "kpi_definitions": f"{_KINDS_PACKAGE}.kpi_definitions:KpiDefinitionsImport",
    "kpi_assignments": f"{_KINDS_PACKAGE}.kpi_assignments:KpiAssignmentsImport",
    "kpi_measurements": f"{_KINDS_PACKAGE}.kpi_measurements:KpiMeasurementsImport",
    "goals": f"{_KINDS_PACKAGE}.goals:GoalsImport",
    "activities": f"{_KINDS_PACKAGE}.activities:ActivitiesImport",
}

_extra: dict[str, type[ImportKind]] = {}


def kind_names() -> list[str]:
    return [*KINDS, *(n for n in _extra if n not in KINDS)]


def register(kind: type[ImportKind]) -> type[ImportKind]:
    """Add (or replace) a kind at run time, e.g. from a plug-in or a test; usable as a decorator."""
    _extra[kind.name] = kind
    return kind


def get_kind(name: str) -> ImportKind:
    """A fresh instance of the kind called ``name``; UnknownKind names the kinds there are."""
    if name in _extra:
        return _extra[name]()
    target = KINDS.get(name)
    if target is None:
        raise UnknownKind(f"there is no import kind {name!r}; kinds: {', '.join(kind_names())}")
    module_name, _, class_name = target.partition(":")
    cls: type[ImportKind] = getattr(importlib.import_module(module_name), class_name)
    if cls.name != name:
        raise RuntimeError(f"{target} declares kind {cls.name!r}, registered as {name!r}")
    return cls()
