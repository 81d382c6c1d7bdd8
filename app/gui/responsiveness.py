"""Two interpreter settings that keep the window answering while workers compute in Python.

Measured with bench/bench_dashboard.py on the ``large`` demo (bench/README.md):

- The GIL: a worker running Python holds it for up to ``sys.getswitchinterval()`` each time the
  GUI thread asks for it, and painting the cards asks dozens of times (each delegate call is
  Python). At the default 5 ms, opening the dashboard while a worker read froze the window
  30–55 ms; at 1 ms the hand-over is quick and the worker loses a few per cent at most.
- The cyclic garbage collector: a full (generation 2) collection walks every tracked object;
  with the window, SQLAlchemy's mappers and caches and the loaded pages that is some 90 ms,
  and it runs in whichever thread happens to allocate, holding the GIL throughout. Once a
  database is open and its first pages are read, ``gc.freeze()`` moves what is alive then (the
  long-lived objects) out of the collector's sight; later collections walk only what came
  after (~6 ms). Objects frozen are never collected, which is the point for these.
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QObject, QTimer, Slot

from app.gui.context import AppContext

#: Seconds a thread may hold the GIL while another waits for it (Python's default: 0.005).
SWITCH_INTERVAL_S = 0.001
#: After a database opens, freeze once the background work has been idle this long (ms).
SETTLE_MS = 2_000


class ResponsivenessTuning(QObject):
    """Sets the switch interval now and freezes the long-lived objects after each open."""

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.freezes = 0
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._freeze_when_idle)
        ctx.database.opened.connect(self._on_opened)

    @Slot(object, object)
    def _on_opened(self, _db: object, _status: object) -> None:
        self._settle.start()

    @Slot()
    def _freeze_when_idle(self) -> None:
        if self.ctx.ops.active():  # the first pages are still being read: wait for them
            self._settle.start()
            return
        gc.freeze()
        self.freezes += 1
