"""Cold start to the first painted window, against the bare cost of the two big imports.

Budget (issue 2): first paint ≤ 1.5 s and ≤ 2.5 × the time to import PySide6.QtWidgets +
sqlalchemy, both measured here in the same run as fresh processes (interpreter start
included in both). The window is opened on a migrated local file with demo data already in
it, under the platform given by QT_QPA_PLATFORM (offscreen by default; use xvfb-run for xcb).

    .venv/bin/python bench/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _time(cmd: list[str], env: dict[str, str], marker: str | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if marker is None:
        proc.communicate(timeout=60)
        elapsed = time.perf_counter() - start
    else:
        assert proc.stdout is not None
        for line in proc.stdout:
            if marker in line:
                elapsed = time.perf_counter() - start
                break
        else:
            raise RuntimeError(
                f"no {marker!r} from {cmd}: {proc.stderr.read() if proc.stderr else ''}"
            )
        proc.wait(timeout=60)
    if proc.returncode:
        raise RuntimeError(f"{cmd} exited {proc.returncode}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        env["PERFDESK_DB_URL"] = f"sqlite:///{db}"
        env["XDG_CONFIG_HOME"] = tmp  # isolated QSettings
        subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "demo", "--scale", "small"], env=env, check=True
        )
        bare_cmd = [sys.executable, "-c", "import PySide6.QtWidgets, sqlalchemy"]
        app_env = dict(env, PERFDESK_EXIT_AFTER_FIRST_PAINT="1")
        app_cmd = [sys.executable, str(ROOT / "main.py")]
        _time(bare_cmd, env)  # warm the OS file cache for both
        _time(app_cmd, app_env, "first-paint")
        bare = [_time(bare_cmd, env) for _ in range(args.runs)]
        app = [_time(app_cmd, app_env, "first-paint") for _ in range(args.runs)]
    bare_s, app_s = statistics.median(bare), statistics.median(app)
    print(
        json.dumps(
            {
                "bench": "startup",
                "platform": env["QT_QPA_PLATFORM"],
                "runs": args.runs,
                "bare_imports_s": round(bare_s, 3),
                "first_paint_s": round(app_s, 3),
                "ratio": round(app_s / bare_s, 2),
                "budget_ok": app_s <= 1.5 and app_s <= 2.5 * bare_s,
            }
        )
    )


if __name__ == "__main__":
    main()
