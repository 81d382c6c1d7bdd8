"""The interpreter settings that keep the window answering while workers compute
(app/gui/responsiveness.py; figures in bench/README.md, Dashboard page)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.gui import responsiveness
from app.gui.responsiveness import ResponsivenessTuning
from app.gui.targets import ExplicitUrl
from tests.gui.conftest import WindowFactory, wait_settled


@pytest.fixture
def restored_interpreter() -> Iterator[None]:
    interval = sys.getswitchinterval()
    yield
    sys.setswitchinterval(interval)
    gc.unfreeze()


def test_the_gil_is_handed_over_within_a_millisecond(
    make_window: WindowFactory, restored_interpreter: None
) -> None:
    window = make_window()
    ResponsivenessTuning(window.ctx, window)
    assert sys.getswitchinterval() == pytest.approx(0.001)


def test_long_lived_objects_are_frozen_once_the_opened_database_settles(
    qtbot,
    make_window: WindowFactory,
    prepared_db_path: Path,
    restored_interpreter: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(responsiveness, "SETTLE_MS", 10)
    window = make_window()
    tuning = ResponsivenessTuning(window.ctx, window)
    gc.unfreeze()
    assert tuning.freezes == 0 and gc.get_freeze_count() == 0
    window.open_database(ExplicitUrl(f"sqlite:///{prepared_db_path}"))
    wait_settled(qtbot, window)
    qtbot.waitUntil(lambda: tuning.freezes == 1, timeout=5_000)
    assert gc.get_freeze_count() > 0
