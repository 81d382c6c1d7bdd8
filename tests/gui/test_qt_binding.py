"""The Qt binding must not corrupt reference counts: the window emits signals all day long.

PySide6 6.12.0 on Python 3.11 returns Signal.emit()'s bool without a reference; after a few
thousand emits Python aborts with "deallocating True or False". The check runs in a child
process, because the failure is an abort, not an exception.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import gc, sys, threading
    from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

    app = QCoreApplication([])

    class Receiver(QObject):
        def __init__(self):
            super().__init__()
            self.count = 0

        @Slot(object)
        def take(self, value):
            self.count += 1

    class Emitter(QObject):
        fired = Signal(object)

    receiver, emitter = Receiver(), Emitter()
    emitter.fired.connect(receiver.take)
    gc.collect()
    before = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    for _ in range(20_000):
        emitter.fired.emit(None)
    worker = threading.Thread(target=lambda: [emitter.fired.emit(None) for _ in range(5_000)])
    worker.start()
    worker.join()
    while receiver.count < 25_000:
        app.processEvents()
    gc.collect()
    after = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    print(*(a - b for a, b in zip(after, before)))
    """
)


def test_emitting_signals_keeps_reference_counts() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    drift = [int(v) for v in done.stdout.split()]
    assert all(d > -50 for d in drift), f"True/False/None lost references: {drift}"
