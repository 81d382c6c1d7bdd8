"""The command line (SPEC §12): exit 0 success, 1 a rule or data error, 2 bad usage."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app import cli

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"
SAMPLES = ROOT / "resources" / "samples"
FIXTURES = ROOT / "tests" / "fixtures" / "csv"

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """``python main.py ARGS`` in a subprocess, away from the real user data folder."""
    env = {k: v for k, v in os.environ.items() if k != "PERFDESK_DB_URL"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))

    def go(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(MAIN), *args],
            capture_output=True,
            text=True,
            env={**env, **(extra_env or {})},
            cwd=tmp_path,
            timeout=120,
        )

    return go


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated, empty local database file."""
    path = tmp_path / "office.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def lines(text: str) -> list[str]:
    return text.strip().splitlines()


# --------------------------------------------------------------------------- import


def test_import_prints_what_it_wrote(run: Run, db_url: str) -> None:
    users = str(SAMPLES / "users.csv")
    leads = str(SAMPLES / "leads.csv")

    first = run("--db", db_url, "import", "users", users)
    second = run("import", "leads", leads, "--db", db_url)  # global options after the command

    assert (first.returncode, first.stdout, first.stderr) == (
        0,
        f"imported 7 users from {users}\n",
        "",
    )
    assert (second.returncode, second.stdout) == (0, f"imported 7 leads from {leads}\n")


def test_a_refused_import_lists_every_error(run: Run, db_url: str) -> None:
    run("--db", db_url, "import", "users", str(SAMPLES / "users.csv"))
    path = str(FIXTURES / "leads_bad_values.csv")

    result = run("--db", db_url, "import", "leads", path)

    assert result.returncode == 1
    assert result.stdout == ""
    err = lines(result.stderr)
    assert err[0] == f"{path}: 7 errors, nothing imported"
    assert len(err) == 8
    assert err[1] == f"{path}, row 2, column email: 'not-an-email' is not an email address"
    assert all(line.startswith(f"{path}, row ") for line in err[1:])
    assert "Traceback" not in result.stderr


def test_one_error_is_one_line(run: Run, db_url: str) -> None:
    run("--db", db_url, "import", "users", str(SAMPLES / "users.csv"))
    path = str(FIXTURES / "listings_negative.csv")

    result = run("--db", db_url, "import", "listings", path)

    assert result.returncode == 1
    assert lines(result.stderr) == [
        f"{path}, row 3, column list_price: must not be negative (got -1) (nothing imported)"
    ]


def test_a_missing_file_is_a_data_error(run: Run, db_url: str) -> None:
    result = run("--db", db_url, "import", "leads", "nope.csv")
    assert result.returncode == 1
    assert lines(result.stderr) == ["nope.csv: no such file (nothing imported)"]


def test_a_missing_database_is_not_created_by_an_import(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite3"
    result = run("--db", f"sqlite:///{path}", "import", "leads", str(SAMPLES / "leads.csv"))
    assert result.returncode == 1
    assert lines(result.stderr) == [
        f"there is no database at {path}; run `python main.py migrate` first"
    ]
    assert not path.exists()


def test_a_database_without_the_schema_says_so(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "blank.sqlite3"
    sqlite3.connect(path).close()
    result = run("--db", f"sqlite:///{path}", "import", "users", str(SAMPLES / "users.csv"))
    assert result.returncode == 1
    err = lines(result.stderr)
    assert len(err) == 1
    assert "has no PerfDesk tables yet" in err[0]


def test_the_database_url_comes_from_the_environment(run: Run, db_url: str) -> None:
    result = run(
        "import", "users", str(SAMPLES / "users.csv"), extra_env={"PERFDESK_DB_URL": db_url}
    )
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- usage


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["import", "deal", "x.csv"],
            "argument KIND: unknown kind 'deal' (choose from users, leads",
        ),
        (["import", "leads"], "the following arguments are required: FILE"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["--as-of", "2025-02-30", "migrate"], "'2025-02-30' is not a date (expected YYYY-MM-DD)"),
        (["users"], "the following arguments are required: ACTION"),
        (["users", "add", "a@example.com"], "the following arguments are required: --role"),
        (["demo", "--scale", "huge"], "invalid choice: 'huge'"),
        (["migrate", "--db"], "expected one argument"),
    ],
)
def test_bad_usage_exits_2(run: Run, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith("usage: main.py")


def test_help_is_fast_and_imports_nothing_heavy(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from app.cli import main\n"
        "assert main(['--help']) == 0\n"
        "assert main(['import', '--help']) == 0\n"
        "heavy = ('sqlalchemy', 'alembic', 'PySide6', 'pyqtgraph', 'app.services.demo')\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout
    assert "users, leads, appointments, clients, listings, escrows" in result.stdout


def test_a_headless_command_never_loads_qt(db_url: str) -> None:
    code = (
        "import sys\n"
        "from app.cli import main\n"
        f"args = ['--db', {db_url!r}, 'import', 'users', {str(SAMPLES / 'users.csv')!r}]\n"
        "assert main(args) == 0\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith(('PySide6', 'alembic'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout


# --------------------------------------------------------------------------- migrate, users


def test_migrate_then_add_people(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "office.sqlite3"
    url = f"sqlite:///{path}"

    created = run("migrate", "--db", url)
    current = run("--db", url, "migrate")
    broker = run("--db", url, "users", "add", "Morgan.Reyes@example.com", "--role", "broker")
    agent = run(
        "users", "add", "ann@example.com", "--role", "agent", "--first-name", "Ann",
        "--last-name", "Lee", "--team", "Downtown", "--broker", "morgan.reyes@example.com",
        "--db", url,
    )  # fmt: skip
    again = run("--db", url, "users", "add", "ann@example.com", "--role", "agent")
    no_password = run(
        "--db", url, "users", "add", "x@example.com", "--role", "agent", "--password-env", "NOPE"
    )

    assert created.returncode == 0, created.stderr
    assert lines(created.stdout) == [f"created the PerfDesk schema in Local file {path}"]
    assert lines(current.stdout) == [f"Local file {path} is up to date"]
    assert (broker.returncode, lines(broker.stdout)) == (
        0,
        ["added broker morgan.reyes@example.com"],
    )
    assert (agent.returncode, lines(agent.stdout)) == (0, ["added agent ann@example.com"])
    assert again.returncode == 1
    assert len(lines(again.stderr)) == 1 and "already exists" in again.stderr
    assert no_password.returncode == 2
    assert "the environment variable NOPE is not set" in no_password.stderr


# --------------------------------------------------------------------------- in process


def test_demo_prepares_then_generates(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    calls: list[tuple[str, Any]] = []
    schema = types.ModuleType("app.services.schema")
    schema.prepare = lambda db: calls.append(("prepare", db.url))  # type: ignore[attr-defined]
    demo = types.ModuleType("app.services.demo")

    def generate(
        db: Any, *, scale: str, seed: int | None, progress: Any, as_of: Any
    ) -> dict[str, int]:
        progress(10, 20, "Leads")
        calls.append(("generate", (scale, seed, as_of)))
        return {"users": 12, "leads": 340}

    demo.generate = generate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.services.schema", schema)
    monkeypatch.setitem(sys.modules, "app.services.demo", demo)
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"

    code = cli.main(
        ["--db", url, "--as-of", "2026-05-01", "demo", "--scale", "small", "--seed", "7"]
    )

    out, err = capsys.readouterr()
    assert code == 0
    assert calls == [("prepare", url), ("generate", ("small", 7, dt.date(2026, 5, 1)))]
    where = f"Local file {tmp_path / 'demo.sqlite3'}"
    assert out == f"demo data (small, seed 7) written to {where}: 12 users, 340 leads\n"
    assert err == ""  # stderr is not a terminal here: no progress


def test_progress_is_drawn_on_a_terminal_only() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        progress = cli._Progress(stream)
        progress(250, 1000, "Escrows")
        progress.done()
    assert "Escrows 250/1000" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_no_command_opens_the_window(capsys: pytest.CaptureFixture[str]) -> None:
    opened: list[str | None] = []

    def launch(url: str | None) -> int:
        opened.append(url)
        return 0

    assert cli.main([], open_window=launch) == 0
    assert cli.main(["--db", "sqlite:////tmp/x.sqlite3"], open_window=launch) == 0
    assert cli.main(["--db", "no url"], open_window=launch) == 1
    assert "is not a database URL" in capsys.readouterr().err
    assert cli.main([]) == 2  # only main.py knows how to open the window
    assert opened == [None, "sqlite:////tmp/x.sqlite3"]


def test_main_py_opens_the_window_through_the_gui(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str | None] = []
    gui = types.ModuleType("app.gui.app")
    gui.run_window = lambda url: opened.append(url) or 3  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.gui.app", gui)
    spec = importlib.util.spec_from_file_location("perfdesk_main", MAIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    assert module.main is cli.main
    assert module.open_window("sqlite:////tmp/y.sqlite3") == 3
    assert opened == ["sqlite:////tmp/y.sqlite3"]


def test_an_unexpected_error_is_one_line_unless_debugging(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    from app.services.importing import runner

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "import_file", explode)
    args = ["--db", db_url, "import", "leads", str(SAMPLES / "leads.csv")]

    assert cli.main(args) == 1
    quiet = capsys.readouterr().err
    assert cli.main([*args, "--debug"]) == 1
    loud = capsys.readouterr().err

    assert lines(quiet) == ["unexpected error: RuntimeError: boom (run with --debug for details)"]
    assert loud.startswith("unexpected error: RuntimeError: boom\n")
    assert "Traceback (most recent call last)" in loud


def test_demo_on_an_already_migrated_database(run: Run, db_url: str) -> None:
    """Regression: with the schema current, nothing imported the models before the demo."""
    result = run("--db", db_url, "demo", "--scale", "small", "--seed", "2")
    assert result.returncode == 0, result.stderr
    assert "demo data (small, seed 2) written to" in result.stdout
    again = run("--db", db_url, "demo", "--scale", "small")
    assert again.returncode == 1 and again.stderr.count("\n") == 1
