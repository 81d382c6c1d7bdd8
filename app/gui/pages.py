"""The page registry: a feature adds one ``PageSpec`` and the window shows it.

    @page("people", "People", order=20, icon="people")
    def build_people_page(ctx: AppContext) -> QWidget:
        return PeoplePage(ctx)

A page exists only once its feature is built: nothing is registered ahead of time.
Feature packages register on import; BUILTIN_PAGE_MODULES lists them (add yours there).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from app.gui.context import AppContext

PageBuilder = Callable[["AppContext"], QWidget]

BUILTIN_PAGE_MODULES: tuple[str, ...] = (
    "app.gui.dashboard.page",
    "app.gui.people.page",
    "app.gui.pipeline.page",
    "app.gui.commissions.page",
    "app.gui.records.pages",
    "app.gui.postclose.rentroll_page",
    "app.gui.postclose.month_grid_page",
    "app.gui.postclose.portfolio_page",
    "app.gui.postclose.buyers_page",
    "app.gui.postclose.buy_boxes_page",
    "app.gui.kpis.scorecard_page",
    "app.gui.kpis.team_page",
    "app.gui.kpis.definitions_page",
    "app.gui.kpis.assignments_page",
    "app.gui.kpis.goals_page",
    "app.gui.kpis.leaderboard_page",
    "app.gui.analytics.analytics_page",
    "app.gui.analytics.roi_page",
    "app.gui.analytics.benchmarks_page",
    "app.gui.jobs_page",
    "app.gui.settings.page",
)

SETTINGS_PAGE = "settings"


@dataclass(frozen=True)
class PageSpec:
    key: str  # stable id, kept in QSettings as the last page
    title: str  # shown in the navigation list
    build: PageBuilder
    order: int = 100  # position in the navigation list, lowest first
    icon: str | None = None  # name of an SVG in resources/icons
    tooltip: str = ""


class PageRegistry:
    def __init__(self) -> None:
        self._specs: dict[str, PageSpec] = {}

    def register(self, spec: PageSpec) -> PageSpec:
        existing = self._specs.get(spec.key)
        if existing is not None and existing.build is not spec.build:
            raise ValueError(f"A page {spec.key!r} is already registered")
        self._specs[spec.key] = spec
        return spec

    def specs(self) -> list[PageSpec]:
        return sorted(self._specs.values(), key=lambda s: (s.order, s.title))

    def __iter__(self) -> Iterator[PageSpec]:
        return iter(self.specs())

    def __contains__(self, key: object) -> bool:
        return key in self._specs


PAGES = PageRegistry()


def page(
    key: str,
    title: str,
    *,
    order: int = 100,
    icon: str | None = None,
    tooltip: str = "",
    registry: PageRegistry = PAGES,
) -> Callable[[PageBuilder], PageBuilder]:
    """Register the decorated builder as a page."""

    def register(build: PageBuilder) -> PageBuilder:
        registry.register(PageSpec(key, title, build, order, icon, tooltip))
        return build

    return register


def load_builtin_pages() -> PageRegistry:
    for module in BUILTIN_PAGE_MODULES:
        importlib.import_module(module)
    return PAGES
