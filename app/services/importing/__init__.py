"""CSV import (SPEC §11): every row is checked first; all rows are written, or none.

Use ``import_file(db, kind, path)``; it returns an ``ImportResult`` or raises
``ImportFailed`` listing every ``RowError``. ``kind_names()`` lists the kinds without
loading them. The heavy parts (SQLAlchemy, the models) load on first use, so that a command
line asking only for help stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from app.services.importing.errors import ImportCancelled, ImportFailed, RowError, UnknownKind
from app.services.importing.registry import get_kind, kind_names, register

if TYPE_CHECKING:
    from app.services.importing.runner import ImportResult, import_file
    from app.services.importing.spec import Column, ImportContext, ImportKind, Row

_LAZY = {
    "ImportResult": "app.services.importing.runner",
    "import_file": "app.services.importing.runner",
    "Column": "app.services.importing.spec",
    "ImportContext": "app.services.importing.spec",
    "ImportKind": "app.services.importing.spec",
    "Row": "app.services.importing.spec",
}

__all__ = [
    "Column",
    "ImportCancelled",
    "ImportContext",
    "ImportFailed",
    "ImportKind",
    "ImportResult",
    "Row",
    "RowError",
    "UnknownKind",
    "get_kind",
    "import_file",
    "kind_names",
    "register",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
