"""The command line (SPEC §12): ``python main.py`` opens the window, a COMMAND runs headless.

Exit codes: 0 success; 1 a rule or data error (one line on stderr, or for a refused import
a first line "FILE: N errors, nothing imported" and one line per error) or an unexpected
failure (the traceback only with ``--debug``); 2 bad usage.

Everything heavy (SQLAlchemy, alembic, Qt, the demo generator) is imported inside the command
that needs it, so ``--help`` is instant and headless commands never load Qt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from app.domain.enums import CommissionStatus, Role, Strategy
from app.domain.errors import DatabaseProblem, PerfDeskError

if TYPE_CHECKING:
    from app.domain.agent_kpis import AgentReport
    from app.services.database import Database

PROG = "main.py"
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
SCALES = ("small", "brokerage", "large")


WindowLauncher = Callable[[str | None], object]
"""Shows the window on the given database URL (None: the window's own default)."""


class UsageError(Exception):
    """Bad usage found after parsing (exit 2)."""


class ServiceMissing(PerfDeskError):
    """A command whose service is not part of this build."""


# ---------------------------------------------------------------------------- parsing


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def _period_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if days < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (1 or more)")
    return days


def _import_kind(text: str) -> str:
    from app.services.importing.registry import kind_names

    names = kind_names()
    if text not in names:
        raise argparse.ArgumentTypeError(f"unknown kind {text!r} (choose from {', '.join(names)})")
    return text


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The options accepted before and after the command.

    On the subcommands they default to SUPPRESS, so that a value given before the command
    is not overwritten by the subcommand's default.
    """

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--db",
        metavar="URL",
        default=default(None),
        help="database URL (else $PERFDESK_DB_URL, else the local file)",
    )
    group.add_argument(
        "--as",
        dest="acting_email",
        metavar="EMAIL",
        default=default(None),
        help="the acting person, for commands that apply SPEC §1 visibility",
    )
    group.add_argument(
        "--as-of",
        dest="as_of",
        metavar="YYYY-MM-DD",
        type=_iso_date,
        default=default(None),
        help="take this day as today",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show the traceback of an unexpected error",
    )


def _period_options(parser: argparse.ArgumentParser) -> None:
    """--period-start and --period-end: both or neither (see ``_report_period``)."""
    parser.add_argument(
        "--period-start", dest="period_start", metavar="YYYY-MM-DD", type=_iso_date, default=None,
        help="the first day of the period",
    )  # fmt: skip
    parser.add_argument(
        "--period-end", dest="period_end", metavar="YYYY-MM-DD", type=_iso_date, default=None,
        help="the last day of the period",
    )  # fmt: skip


def _range_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="range_from", metavar="YYYY-MM-DD", type=_iso_date, default=None,
        help="the first day of the range",
    )  # fmt: skip
    parser.add_argument(
        "--to", dest="range_to", metavar="YYYY-MM-DD", type=_iso_date, default=None,
        help="the last day of the range (default: --as-of)",
    )  # fmt: skip


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON (SPEC §12) on stdout")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="PerfDesk. Without a command, opens the window; with one, runs headless.",
    )
    _global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str, **kwargs: Any) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, **kwargs)
        _global_options(sub, suppress=True)
        return sub

    command("migrate", "create or upgrade the database schema")

    demo = command("demo", "fill the database with generated data")
    demo.add_argument("--scale", choices=SCALES, default="brokerage", help="default: brokerage")
    demo.add_argument("--seed", type=int, default=None, help="random seed (same seed, same data)")

    users = command("users", "manage people")
    users_commands = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users_commands.add_parser("add", help="add a person", description="add a person")
    _global_options(add, suppress=True)
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--first-name", default=None)
    add.add_argument("--last-name", default=None)
    add.add_argument("--team", default=None, help="team name (created when new)")
    add.add_argument("--broker", metavar="EMAIL", default=None, help="the person's broker")
    add.add_argument(
        "--password-env",
        metavar="VAR",
        default=None,
        help="take the new login's password from this environment variable (shared mode)",
    )

    imp = command(
        "import",
        "import a CSV file (users, leads, appointments, clients, listings, escrows, …)",
        epilog="Every row is checked first; nothing is written unless all rows are valid.",
    )
    imp.add_argument("kind", metavar="KIND", type=_import_kind, help="what the file holds")
    imp.add_argument("file", metavar="FILE", help="the CSV file (UTF-8, header row, commas)")

    jobs = command("jobs", "run the scheduled jobs")
    jobs_commands = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    jobs_run = jobs_commands.add_parser(
        "run",
        help="run scheduled jobs now",
        description="Run the named scheduled jobs now (all of them without a name), "
        "as of --as-of (default: today, UTC). Exit 1 if any job failed.",
    )
    _global_options(jobs_run, suppress=True)
    jobs_run.add_argument("names", metavar="NAME", nargs="*", help="a job (default: every job)")
    jobs_run.add_argument(
        "--backfill-months",
        metavar="N",
        type=int,
        default=None,
        help="agent-kpis: also store the N previous whole months",
    )
    jobs_run.add_argument(
        "--periods",
        metavar="N",
        type=int,
        default=None,
        help="kpis: measure the N newest whole periods of each type (default 1, at most 36)",
    )
    jobs_run.add_argument(
        "--days",
        metavar="N",
        type=int,
        default=None,
        help="snapshots: store the N days ending --as-of (a backfill; default 1, at most 400)",
    )

    deal = command("deal", "work with deals on the pipeline board")
    deal_commands = deal.add_subparsers(dest="deal_command", metavar="ACTION", required=True)
    move = deal_commands.add_parser(
        "move",
        help="move a deal to another stage",
        description="Move the deal REF to STAGE, as a drag on the board does: a stage event "
        "and an audit entry are appended. closed_lost needs a reason (--note).",
    )
    _global_options(move, suppress=True)
    move.add_argument("ref", metavar="REF", help="the deal's ref (e.g. DL-000123)")
    move.add_argument("stage", metavar="STAGE", help="the stage to move it to (e.g. proposal)")
    move.add_argument("--note", default=None, help="a note kept with the move")

    audit = command("audit", "check the tamper-evident history")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_commands.add_parser(
        "verify",
        help="recompute every audit chain",
        description="Recompute every audit chain (SPEC §5). Exit 0 with the count checked, "
        "or 1 naming the first entry whose hash or link is wrong.",
    )
    _global_options(verify, suppress=True)
    verify.add_argument("--chain", metavar="KEY", default=None, help="only this chain (deal:12)")

    report = command("report", "print the numbers a screen shows")
    reports = report.add_subparsers(dest="report_command", metavar="NAME", required=True)

    def report_command(name: str, help_text: str, description: str) -> argparse.ArgumentParser:
        sub = reports.add_parser(name, help=help_text, description=description)
        _global_options(sub, suppress=True)
        return sub

    agents = report_command(
        "agents",
        "the broker dashboard's agent cards and brokerage totals",
        "The broker dashboard's agent cards (SPEC §2) and brokerage totals, "
        "as the acting person (--as) may see them, as of the end of --as-of (UTC).",
    )
    agents.add_argument(
        "--period-days",
        metavar="N",
        type=_period_days,
        default=30,
        help="the period new leads and appointments are counted over, ending --as-of (default: 30)",
    )
    _json_option(agents)
    pipeline = report_command(
        "pipeline",
        "the pipeline board's column figures, cycle days and conversion rate",
        "Per stage: deals, total and weighted value (the office's currency), as the "
        "acting person (--as) may see them; the mean cycle days of closed-won deals and the "
        "conversion rate (SPEC §4).",
    )
    _json_option(pipeline)
    commissions = report_command(
        "commissions",
        "the commission ledger's totals by status and each agent's gross and net",
        "Commission amounts by status and each agent's gross, adjustments and net "
        "(SPEC §6), over the commissions the acting person (--as) may see, in the office's "
        "currency (other currencies apart). With --as-of, only what was created by the end of "
        "that day (UTC) counts.",
    )
    commissions.add_argument("--agent", metavar="EMAIL", default=None, help="only this agent's")
    commissions.add_argument(
        "--status", default=None, choices=[c.value for c in CommissionStatus],
        help="only commissions in this status",
    )  # fmt: skip
    commissions.add_argument("--deal", metavar="REF", default=None, help="only this deal's")
    commissions.add_argument(
        "--from", dest="created_from", metavar="YYYY-MM-DD", type=_iso_date, default=None,
        help="created on or after this day (UTC)",
    )  # fmt: skip
    commissions.add_argument(
        "--to", dest="created_to", metavar="YYYY-MM-DD", type=_iso_date, default=None,
        help="created on or before this day (UTC)",
    )  # fmt: skip
    _json_option(commissions)
    portfolio = report_command(
        "portfolio",
        "post-close performance: grades, variances and rates of the rental portfolio",
        "Total deals, grade distribution, mean cash-flow and DSCR variances (over "
        "each record's latest period) and performance rate, also by market, strategy and buyer; "
        "each record's grade and flags; buy boxes' rates and buyers' scores (SPEC §9).",
    )
    portfolio.add_argument("--market", metavar="KEY", default=None, help="only this market")
    portfolio.add_argument(
        "--strategy", default=None, choices=[s.value for s in Strategy],
        help="only this strategy",
    )  # fmt: skip
    portfolio.add_argument("--buyer", metavar="NAME", default=None, help="only this buyer's")
    portfolio.add_argument(
        "--buy-box", dest="buy_box", metavar="REF", default=None, help="only this buy box's"
    )
    portfolio.add_argument(
        "--closed-from", dest="closed_from", metavar="YYYY-MM-DD", type=_iso_date, default=None,
        help="closed on or after this day",
    )  # fmt: skip
    portfolio.add_argument(
        "--closed-to", dest="closed_to", metavar="YYYY-MM-DD", type=_iso_date, default=None,
        help="closed on or before this day",
    )  # fmt: skip
    _json_option(portfolio)
    kpis = report_command(
        "kpis",
        "each person's KPIs and overall score for a period",
        "Each person the acting person (--as) may see, with their KPI "
        "assignments active in the period: the newest measurement per KPI whose period starts "
        "in it (actual, target, achievement %%, weight) and the overall score (SPEC §7). "
        "Default period: the last whole month before --as-of.",
    )
    _period_options(kpis)
    _json_option(kpis)
    goals = report_command(
        "goals",
        "goals with their progress and status",
        "Every goal the acting person (--as) may see: target, current value, "
        "achievement %% and status (SPEC §8), as last computed by the goals job or a save.",
    )
    goals.add_argument("--open", action="store_true", help="only goals not yet finalised")
    _json_option(goals)
    board = report_command(
        "leaderboard",
        "rank the producers by revenue, orders and conversion rate",
        "The active agents and brokers the acting person (--as) may see, ranked "
        "by revenue, orders and conversion rate over the period; ties share a rank; medals "
        "for ranks 1-3 (SPEC §8). Default period: the last whole month before --as-of.",
    )
    _period_options(board)
    _json_option(board)
    snapshots = report_command(
        "snapshots",
        "the stored daily performance snapshots per agent and day",
        "Each agent's stored snapshot (SPEC §10) for every day of the range, as the "
        "acting person (--as) may see them; `jobs run snapshots` stores them. Default range: "
        "the 30 days ending --as-of.",
    )
    snapshots.add_argument("--agent", metavar="EMAIL", default=None, help="only this agent's")
    _range_options(snapshots)
    _json_option(snapshots)
    roi = report_command(
        "roi",
        "ROI by lead source: cost, leads, closed deals and commission earned",
        "Per lead source over the range: what it cost (monthly spend shared by days), "
        "the leads and closed-won deals it brought, the commission earned on them, cost per "
        "lead, per closed deal and commission per dollar spent; and the same per agent. As the "
        "acting person (--as) may see them. Default range: the 30 days ending --as-of.",
    )
    _range_options(roi)
    _json_option(roi)
    return parser


# ---------------------------------------------------------------------------- helpers


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _service(module: str, name: str) -> Any:
    """``module.name``, or ServiceMissing when this build does not have it."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise ServiceMissing(
                f"this PerfDesk has no {module} (needed by this command)"
            ) from None
        raise
    if not hasattr(mod, name):
        raise ServiceMissing(f"this PerfDesk has no {module}.{name} (needed by this command)")
    return getattr(mod, name)


class CommandContext:
    """What a command runs with: the parsed options and the database, opened on demand."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._db: Database | None = None
        self.where = ""

    def url(self) -> str:
        from app.services.database import resolve_url

        return resolve_url(self.args.db)

    def database(self, *, must_exist: bool = True) -> Database:
        """The database; with ``must_exist``, a missing local file is an error, not created."""
        if self._db is None:
            from app.services.database import open_database

            db = open_database(self.url(), create_dir=not must_exist)
            self.where = db.describe()
            path = db.file_path
            if must_exist and path is not None and not path.exists():
                db.dispose()
                raise DatabaseProblem(
                    f"there is no database at {path}; run `python main.py migrate` first"
                )
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


def _print_json(data: object) -> None:
    import json

    print(json.dumps(data, indent=2))


def _summary(result: object) -> str:
    """A short text for whatever a service returned: counts by name, else its str()."""
    summary = getattr(result, "summary", None)
    if callable(summary):
        return str(summary())
    if isinstance(summary, str):
        return summary
    items: Mapping[str, object] | None = None
    if isinstance(result, Mapping):
        items = result
    elif is_dataclass(result) and not isinstance(result, type):
        items = {f.name: getattr(result, f.name) for f in fields(result)}
    if items is not None:
        counts = [
            f"{value} {key}"
            for key, value in items.items()
            if isinstance(value, int) and not isinstance(value, bool)
        ]
        if counts:
            return ", ".join(counts)
    return "" if result is None else str(result)


class _Progress:
    """Prints progress on one line of stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.shown = False

    def __call__(self, *args: object, **kwargs: object) -> None:
        if not self.enabled:
            return
        words = [str(a) for a in (*args, *kwargs.values()) if isinstance(a, str)]
        numbers = [a for a in (*args, *kwargs.values()) if isinstance(a, int | float)]
        if len(numbers) >= 2 and numbers[1]:
            words.append(f"{numbers[0]}/{numbers[1]}")
        elif len(numbers) == 1:
            value = numbers[0]
            words.append(f"{value:.0%}" if isinstance(value, float) and value <= 1 else str(value))
        self.stream.write("\r\033[K" + " ".join(words))
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


# ---------------------------------------------------------------------------- commands


def cmd_migrate(s: CommandContext) -> int:
    prepare = _service("app.services.schema", "prepare")
    db = s.database(must_exist=False)
    result = prepare(db)
    state = str(getattr(result, "state", result))
    backup = getattr(result, "backup_path", None)
    if state == "created":
        line = f"created the PerfDesk schema in {s.where}"
    elif state == "current":
        line = f"{s.where} is up to date"
    elif state == "upgraded":
        line = f"upgraded {s.where}"
    else:
        line = f"{s.where}: {state}"
    if backup:
        line += f" (copy of the previous file: {backup})"
    print(line)
    return EXIT_OK


def cmd_demo(s: CommandContext) -> int:
    prepare = _service("app.services.schema", "prepare")
    generate = _service("app.services.demo", "generate")
    db = s.database(must_exist=False)
    prepare(db)
    progress = _Progress(sys.stderr)
    try:
        result = generate(
            db, scale=s.args.scale, seed=s.args.seed, progress=progress, as_of=s.args.as_of
        )
    finally:
        progress.done()
    seed = "" if s.args.seed is None else f", seed {s.args.seed}"
    detail = _summary(result)
    print(
        f"demo data ({s.args.scale}{seed}) written to {s.where}" + (f": {detail}" if detail else "")
    )
    return EXIT_OK


def cmd_users_add(s: CommandContext) -> int:
    args = s.args
    password: str | None = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            raise UsageError(
                f"--password-env: the environment variable {args.password_env} is not set"
            )
    add_user = _service("app.services.users", "add_user")
    db = s.database()
    shown_password: str | None = None
    if password is None and not db.is_local:
        # The new login needs a password; nobody is asked on a console, so one is made here
        # and shown once, to be handed over in person (it is stored nowhere).
        import secrets

        password = shown_password = secrets.token_urlsafe(18)
    info = add_user(
        db,
        args.email,
        args.role,
        args.first_name,
        args.last_name,
        team=args.team,
        broker_email=args.broker,
        password=password,
    )
    email = getattr(info, "email", args.email)
    role = getattr(info, "role", args.role)
    print(f"added {role} {email}")
    if shown_password is not None:
        print(f"password of the new login {email}: {shown_password} (shown once; hand it over)")
    return EXIT_OK


def cmd_import(s: CommandContext) -> int:
    from app.services.importing.runner import import_file

    db = s.database()
    result = import_file(
        db, s.args.kind, s.args.file, as_of=s.args.as_of, acting=s.args.acting_email
    )
    print(f"imported {result.rows} {result.kind} from {s.args.file}")
    for note in result.notes:
        _err(f"note: {note}")
    return EXIT_OK


def _today(s: CommandContext) -> dt.date:
    """``--as-of``, else today in UTC (a report as of a day runs to the end of it, UTC)."""
    day: dt.date | None = s.args.as_of
    return day if day is not None else dt.datetime.now(dt.UTC).date()


def cmd_jobs_run(s: CommandContext) -> int:
    from app.domain.enums import JobStatus, JobTrigger
    from app.services.jobs.runner import describe, job_names, run_jobs

    known = job_names()
    unknown = [name for name in s.args.names if name not in known]
    if unknown:
        raise UsageError(f"unknown job {', '.join(unknown)} (known jobs: {', '.join(known)})")
    backfill = s.args.backfill_months
    if backfill is not None and backfill < 0:
        raise UsageError("--backfill-months must be 0 or more")
    options: dict[str, dict[str, int]] = {}
    if backfill is not None:
        options["agent-kpis"] = {"backfill_months": backfill}
    if s.args.periods is not None:
        if not 1 <= s.args.periods <= 36:
            raise UsageError("--periods must be from 1 to 36")
        options["kpis"] = {"periods": s.args.periods}
    if s.args.days is not None:
        from app.services.analytics.snapshots import MAX_DAYS

        if not 1 <= s.args.days <= MAX_DAYS:
            raise UsageError(f"--days must be from 1 to {MAX_DAYS}")
        options["snapshots"] = {"days": s.args.days}
    db = s.database()
    results = run_jobs(db, s.args.names, _today(s), JobTrigger.CLI, options)
    for line in describe(results):
        print(line)
    return EXIT_ERROR if any(r.status is JobStatus.FAILED for r in results) else EXIT_OK


def cmd_report_agents(s: CommandContext) -> int:
    from app.services.reports.agents import agent_report

    db = s.database()
    report = agent_report(
        db, _today(s), period_days=s.args.period_days, acting_email=s.args.acting_email
    )
    if s.args.json:
        from app.domain.agent_kpis import report_json

        _print_json(report_json(report))
    else:
        from app.services.office import get_currency

        for line in _agents_table(report, get_currency(db)):
            print(line)
    return EXIT_OK


def _agents_table(report: AgentReport, currency: str) -> list[str]:
    """The agent report as a plain-text table, one agent a line, then the totals."""
    from app.domain.agent_kpis import reference_time, time_ago
    from app.domain.money import format_money

    def pct(value: object) -> str:
        return "—" if value is None else f"{value}%"

    now = reference_time(report.as_of, dt.datetime.now(dt.UTC))
    header = (
        *("Agent", "Leads", "New", "Conv", "Appts", "Done", "No-show", "Show", "Escrows"),
        *("Volume YTD", "Commission YTD", "Clients", "Listings", "Last activity"),
    )
    rows = [
        (
            a.name,
            str(a.total_leads),
            str(a.new_leads),
            pct(a.conversion_rate_pct),
            str(a.appointments_scheduled),
            str(a.appointments_completed),
            str(a.no_shows),
            pct(a.show_rate_pct),
            str(a.escrows_ytd),
            format_money(a.volume_ytd, currency),
            format_money(a.commission_ytd, currency),
            str(a.active_clients),
            str(a.active_listings),
            time_ago(a.last_activity, now),
        )
        for a in report.agents
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        # Names and the last activity read left to right; numbers line up on the right.
        padded = [
            cell.ljust(width) if i in (0, len(cells) - 1) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    days = report.period.period_days
    totals = report.brokerage
    out = [
        f"Agents as of {report.as_of.isoformat()} (new leads and appointments: last {days} days)"
    ]
    out += ["", line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in rows] if rows else ["(no agents)"]
    out += [
        "",
        f"Brokerage year to date: {format_money(totals.volume_ytd, currency)} volume, "
        f"{totals.escrows_ytd} escrows; {totals.active_clients} active clients, "
        f"{totals.active_listings} active listings",
    ]
    return out


def cmd_report_pipeline(s: CommandContext) -> int:
    from app.services.reports.pipeline import pipeline_json, pipeline_report

    data = pipeline_json(pipeline_report(s.database(), acting=s.args.acting_email))
    if s.args.json:
        _print_json(data)
        return EXIT_OK
    print(f"{'stage':<18} {'deals':>7} {'total':>18} {'weighted':>18}")
    for row in data["stages"]:
        print(
            f"{row['stage']:<18} {row['count']:>7} {row['total_value']:>18} "
            f"{row['weighted_value']:>18}"
        )
    cycle, rate = data["avg_cycle_days"], data["conversion_rate"]
    print(
        f"average cycle: {'—' if cycle is None else f'{cycle} days'}; "
        f"conversion: {'—' if rate is None else f'{rate}%'} ({data['currency']})"
    )
    return EXIT_OK


def cmd_report_commissions(s: CommandContext) -> int:
    from app.services.commissions.report import commission_report, report_filters, report_json

    db = s.database()
    args = s.args
    filters = report_filters(
        db,
        agent_email=args.agent,
        status=args.status,
        deal_ref=args.deal,
        created_from=args.created_from,
        created_to=args.created_to,
    )
    data = report_json(commission_report(db, filters, as_of=args.as_of, acting=args.acting_email))
    if args.json:
        _print_json(data)
        return EXIT_OK
    print(f"{'status':<12} {'amount':>18}   ({data['currency']})")
    for status, amount in data["by_status"].items():
        print(f"{status:<12} {amount:>18}")
    print()
    print(f"{'agent':<40} {'gross':>16} {'adjustments':>14} {'net':>16}")
    for agent in data["agents"]:
        print(
            f"{agent['email']:<40} {agent['gross']:>16} {agent['adjustments']:>14} "
            f"{agent['net']:>16}"
        )
    for code, section in data["other_currencies"].items():
        amounts = ", ".join(f"{k} {v}" for k, v in section["by_status"].items())
        print(f"\nin {code}: {amounts}")
    return EXIT_OK


def cmd_report_portfolio(s: CommandContext) -> int:
    from app.services.postclose.portfolio import (
        portfolio_filters,
        portfolio_json,
        portfolio_report,
        portfolio_text,
    )

    db = s.database()
    args = s.args
    filters = portfolio_filters(
        db,
        market=args.market,
        strategy=args.strategy,
        buyer_name=args.buyer,
        buy_box_ref=args.buy_box,
        closed_from=args.closed_from,
        closed_to=args.closed_to,
    )
    report = portfolio_report(db, filters)
    if args.json:
        _print_json(portfolio_json(report))
        return EXIT_OK
    print(portfolio_text(report))
    return EXIT_OK


def _report_period(s: CommandContext) -> tuple[dt.date, dt.date]:
    from app.domain.enums import PeriodType
    from app.domain.periods import period_of

    start, end = s.args.period_start, s.args.period_end
    if start is None and end is None:
        last = period_of(PeriodType.MONTHLY, period_of(PeriodType.MONTHLY, _today(s)).start
                         - dt.timedelta(days=1))  # fmt: skip
        return last.start, last.end
    if start is None or end is None:
        raise UsageError("give both --period-start and --period-end, or neither")
    if end < start:
        raise UsageError("--period-end is before --period-start")
    return start, end


def cmd_report_kpis(s: CommandContext) -> int:
    from app.services.kpis.scorecards import kpi_report

    start, end = _report_period(s)
    data = kpi_report(s.database(), start, end, acting=s.args.acting_email)
    if s.args.json:
        _print_json(data)
        return EXIT_OK
    print(f"KPIs from {start.isoformat()} to {end.isoformat()}")
    for user in data["users"]:
        score = user["overall_score"]
        print(f"\n{user['email']}  overall {'—' if score is None else f'{score:.2f}'}")
        for k in user["kpis"]:
            pct = k["achievement_pct"]
            actual = "—" if k["actual"] is None else f"{k['actual']:g}"
            print(
                f"  {k['name']:<32} {actual:>12} / {k['target']:<10g} "
                f"{'—' if pct is None else f'{pct:.2f}%':>9}  weight {k['weight']:g}"
            )
    return EXIT_OK


def cmd_report_goals(s: CommandContext) -> int:
    from app.services.kpis.goals import STATUS_LABELS, goals_json, list_goals

    rows = list_goals(s.database(), acting=s.args.acting_email, open_only=s.args.open)
    if s.args.json:
        _print_json(goals_json(rows))
        return EXIT_OK
    for r in rows:
        pct = "—" if r.achievement_pct is None else f"{r.achievement_pct}%"
        print(
            f"{r.owner:<28} {r.goal_type:<16} {r.period_start} – {r.period_end}  "
            f"{r.current_value.normalize():f} / {r.target_value.normalize():f}  {pct:>8}  "
            f"{STATUS_LABELS.get(r.status, r.status)}"
        )
    if not rows:
        print("No goals.")
    return EXIT_OK


def cmd_report_leaderboard(s: CommandContext) -> int:
    from app.services.kpis.leaderboard import leaderboard_json, leaderboards

    start, end = _report_period(s)
    board = leaderboards(s.database(), start, end, acting=s.args.acting_email)
    if s.args.json:
        _print_json(leaderboard_json(board))
        return EXIT_OK
    titles = {"by_revenue": "Revenue", "by_orders": "Orders", "by_conversion": "Conversion %"}
    print(f"Leaderboards from {start.isoformat()} to {end.isoformat()}")
    for key, places in board.boards.items():
        print(f"\n{titles[key]}")
        for p in places:
            print(f"  {p.rank:>3}. {p.name:<28} {p.value:>14}  {p.medal or ''}")
    return EXIT_OK


def _report_range(s: CommandContext, days: int = 30) -> tuple[dt.date, dt.date]:
    """``--from``/``--to``; by default the ``days`` days ending ``--to`` (else --as-of)."""
    end = s.args.range_to or _today(s)
    start = s.args.range_from or end - dt.timedelta(days=days - 1)
    if end < start:
        raise UsageError("--to is before --from")
    return start, end


def cmd_report_snapshots(s: CommandContext) -> int:
    from app.services.analytics.snapshot_report import snapshot_lines, snapshots_json

    start, end = _report_range(s)
    lines = snapshot_lines(
        s.database(), start, end, agent_email=s.args.agent, acting=s.args.acting_email
    )
    if s.args.json:
        _print_json(snapshots_json(lines))
        return EXIT_OK
    print(f"Snapshots from {start.isoformat()} to {end.isoformat()}")
    for line in lines:
        v = line.values
        conversion = v["conversion_rate"]
        print(
            f"{line.email:<32} {line.as_of_date}  open {v['deals_open']:>4}  "
            f"weighted {v['weighted_pipeline_value']:>14,.2f}  won {v['deals_closed_won']:>5}  "
            f"conversion {'—' if conversion is None else f'{conversion:.1f}%'}"
        )
    if not lines:
        print("No snapshots in this range (run `jobs run snapshots --days N` to store them).")
    return EXIT_OK


def cmd_report_roi(s: CommandContext) -> int:
    from app.domain.money import format_money
    from app.services.analytics.roi import roi_json, roi_report

    start, end = _report_range(s)
    report = roi_report(s.database(), start, end, acting=s.args.acting_email)
    if s.args.json:
        _print_json(roi_json(report))
        return EXIT_OK

    def money(value: Decimal | None) -> str:
        return "—" if value is None else format_money(value, report.currency)

    print(f"ROI by lead source from {start.isoformat()} to {end.isoformat()}")
    for row in report.sources:
        f = row.figures
        per = f.commission_per_dollar
        print(
            f"  {row.source:<24} cost {money(f.cost):>14}  leads {f.leads:>7}  "
            f"per lead {money(f.cost_per_lead):>10}  closed {f.closed:>5}  "
            f"commission {money(f.commission):>15}  per $1 {'—' if per is None else f'{per:.2f}'}"
        )
    if not report.sources:
        print("  No lead-source cost, leads or closed deals in this range.")
    return EXIT_OK


def cmd_deal_move(s: CommandContext) -> int:
    from app.services.pipeline.moves import move_deal_by_ref

    result = move_deal_by_ref(
        s.database(), s.args.ref, s.args.stage, note=s.args.note, acting=s.args.acting_email
    )
    print(result.describe())
    return EXIT_OK


def cmd_audit_verify(s: CommandContext) -> int:
    from app.services.audit import verify_all

    result = verify_all(s.database(), s.args.chain)
    if result.fault is not None:
        _err(f"{result.fault} — {result.entries} entries before it verified")
        return EXIT_ERROR
    print(result.describe())
    return EXIT_OK


COMMANDS: dict[str, Callable[[CommandContext], int]] = {
    "migrate": cmd_migrate,
    "demo": cmd_demo,
    "users add": cmd_users_add,
    "import": cmd_import,
    "report agents": cmd_report_agents,
    "report pipeline": cmd_report_pipeline,
    "report commissions": cmd_report_commissions,
    "report portfolio": cmd_report_portfolio,
    "report kpis": cmd_report_kpis,
    "report goals": cmd_report_goals,
    "report leaderboard": cmd_report_leaderboard,
    "report snapshots": cmd_report_snapshots,
    "report roi": cmd_report_roi,
    "jobs run": cmd_jobs_run,
    "deal move": cmd_deal_move,
    "audit verify": cmd_audit_verify,
}


# ---------------------------------------------------------------------------- entry


def _open_window(args: argparse.Namespace, launch: WindowLauncher) -> int:
    """The window. Only an explicit ``--db`` is passed on: without one the window itself
    falls back to PERFDESK_DB_URL, the server it was last connected to, or the local file."""
    url: str | None = None
    if args.db:
        from app.services.database import resolve_url

        url = resolve_url(args.db)  # a malformed URL is refused here, before Qt starts
    code = launch(url)
    return code if isinstance(code, int) else EXIT_OK


def _database_message(exc: BaseException, where: str) -> str | None:
    """Plain words for a driver/SQLAlchemy error, or None when ``exc`` is not one."""
    if not type(exc).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3")):
        return None
    from app.services.dberrors import explain

    text = explain(exc, where or "the database")
    low = str(exc).lower()
    if "no such table" in low or ("relation" in low and "does not exist" in low):
        text += " (run `python main.py migrate` first)"
    return text


def _fail(exc: BaseException, debug: bool, where: str) -> int:
    message = _database_message(exc, where)
    if message is None:
        message = f"unexpected error: {type(exc).__name__}: {exc}".strip()
    first = message.splitlines()[0] if message else type(exc).__name__
    _err(first + ("" if debug else " (run with --debug for details)"))
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None, *, open_window: WindowLauncher | None = None) -> int:
    """Run the command line. ``open_window(db_url)`` shows the window when no command is
    given; ``main.py`` passes it, so this module never imports Qt (nor the GUI package)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or bad usage (2); argparse printed why
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    debug = bool(args.debug)
    if args.command is None:
        if open_window is None:
            parser.print_usage(sys.stderr)
            _err(f"{PROG}: error: a COMMAND is required")
            return EXIT_USAGE
        try:
            return _open_window(args, open_window)
        except PerfDeskError as exc:
            _err(str(exc))
            return EXIT_ERROR
        except Exception as exc:
            return _fail(exc, debug, "")
    action = getattr(args, f"{args.command}_command", None)  # e.g. users add, report agents
    key = f"{args.command} {action}" if action else args.command
    context = CommandContext(args)
    try:
        return COMMANDS[key](context)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        _err(f"{PROG}: error: {exc}")
        return EXIT_USAGE
    except PerfDeskError as exc:
        _err(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (``| head``): what it wanted was written. Point stdout at
        # nothing so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        return _fail(exc, debug, context.where)
    finally:
        context.close()
