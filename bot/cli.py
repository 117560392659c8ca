"""The `refdesk` command line."""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from bot.logs import announce_rules, configure_logging
from bot.preflight import StartupError, build_app, describe_database_error, open_database
from bot.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings
from store.db import Database

if TYPE_CHECKING:
    from bot.exchange.pool_csv import ImportResult

PROGRESS_FROM_ROWS = 2_000

log = logging.getLogger("refdesk")


def version() -> str:
    try:
        return metadata.version("refdesk")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def cmd_run(_: argparse.Namespace) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.delivery.scheduler import start_scheduler
    from bot.preflight import connect_socket_mode

    settings = load_settings(require=("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "CS_CHANNEL_ID"))
    configure_logging(settings.log_level)
    db = open_database(settings)
    app = build_app(settings, db)
    handler = SocketModeHandler(app, settings.slack_app_token)
    connect_socket_mode(settings, handler)
    start_scheduler(settings=settings, db=db)
    announce_rules(settings)
    log.info("refdesk is connected to Slack over Socket Mode (Ctrl-C stops it)")
    threading.Event().wait()


def cmd_serve(args: argparse.Namespace) -> None:
    settings = load_settings(require=("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "CS_CHANNEL_ID"))
    configure_logging(settings.log_level)
    # Checked once here, so a bad setting is one line before any worker starts; each worker then builds its
    # own app, database engine, courier and scheduler (bot.web.serve_app).
    db = open_database(settings)
    build_app(settings, db)  # the token, proved by auth.test
    db.engine.dispose()
    import uvicorn

    uvicorn.run(
        "bot.web:serve_app",
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        # One line per request is noise at INFO and costs the ack path its formatting; DEBUG turns it back on.
        access_log=settings.log_level.upper() == "DEBUG",
        proxy_headers=True,
    )


def cmd_db_upgrade(_: argparse.Namespace) -> None:
    from bot.preflight import database, database_errors

    settings = load_settings()
    configure_logging(settings.log_level)
    db = database(settings.database_url)
    with database_errors(settings.database_url):
        db.check_connection()
        db.upgrade()
    print(f"database at {db.engine.url.render_as_string(hide_password=True)} is up to date")


def cmd_doctor(args: argparse.Namespace) -> int:
    """Recompute the kept usage counters from history: one line per advocate that drifted; --repair fixes them."""
    from store import usage

    db = _store()
    with db.unit_of_work() as session:
        connection = session.connection()
        drift = usage.check(connection)
        for found in drift:
            print(found.describe())
        if drift and args.repair:
            usage.repair(connection, drift)
            print(f"repaired {len(drift)} advocate{'' if len(drift) == 1 else 's'}' usage")
        elif not drift:
            print("usage counters agree with history")
    return 1 if drift and not args.repair else 0


def _store() -> Database:
    """The database for offline commands: SQLite is migrated, PostgreSQL must already be."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return open_database(settings)


def cmd_advocates_import(args: argparse.Namespace) -> None:
    from bot.exchange import pool_csv

    result, label = _import(args, "advocates", pool_csv.import_advocates)
    print(f"{label}: {result.created} advocates added, {result.updated} updated")


def cmd_advocates_export(args: argparse.Namespace) -> None:
    from bot.exchange import pool_csv

    count = _export(args, pool_csv.export_advocates)
    print(f"{count} advocates exported", file=sys.stderr)


def cmd_history_import(args: argparse.Namespace) -> None:
    from bot.exchange import history_csv

    result, label = _import(args, "past references", history_csv.import_history)
    print(f"{label}: {result.created} past references added, {result.skipped} already known")


def cmd_opportunities_import(args: argparse.Namespace) -> None:
    from bot.exchange import crm

    result, label = _import(args, "opportunities", crm.import_opportunities)
    print(f"{label}: {result.created} opportunities added, {result.updated} updated")


def cmd_engagements_export(args: argparse.Namespace) -> None:
    from bot.exchange import crm

    count = _export(args, crm.export_engagements)
    print(f"{count} engagements exported", file=sys.stderr)


def _export(args: argparse.Namespace, exporter: Callable[..., int]) -> int:
    """Rows written by `exporter` to `-o FILE`, or to stdout when no file (or `-`) is given."""
    db = _store()
    with db.unit_of_work() as session:
        if args.output in (None, "-"):
            return exporter(session=session, sink=sys.stdout)
        with open(args.output, "w", newline="", encoding="utf-8") as sink:
            return exporter(session=session, sink=sink)


def _import(
    args: argparse.Namespace, what: str, importer: Callable[..., ImportResult]
) -> tuple[ImportResult, str]:
    """Read, decode and import one CSV file in one transaction; (the result, the file named for the operator)."""
    from bot.clock import SystemClock
    from bot.exchange import csv_input

    if args.date_format and (problem := csv_input.check_date_format(args.date_format)):
        raise StartupError(problem)
    try:
        decoded = csv_input.decode(_read_file(args.file), args.encoding)
    except LookupError:
        raise StartupError(
            f"--encoding {args.encoding!r} is not an encoding Python knows (e.g. cp1252, utf-16)"
        ) from None
    except csv_input.ImportRefused as refused:
        raise StartupError(f"{args.file}: {refused}") from None
    label = args.file
    if decoded.encoding not in ("utf-8", "ascii"):
        guessed = (
            ", not UTF-8: if letters look wrong, name the encoding with --encoding" if decoded.guessed else ""
        )
        label = f"{args.file} (read as {decoded.encoding}{guessed})"
    db = _store()
    try:
        with (
            db.unit_of_work() as session,
            progress_bar(what, csv_input.estimate_rows(decoded.text)) as advance,
        ):
            result = importer(
                session=session,
                source=io.StringIO(decoded.text),
                now=SystemClock().now(),
                progress=advance,
                date_format=args.date_format,
            )
    except csv_input.ImportRefused as refused:
        raise StartupError(f"{label}: {refused}") from None
    return result, label


def cmd_dispatch(args: argparse.Namespace) -> None:
    """One dispatcher pass, now or as if at --now: catch up after an outage; safe to repeat."""
    from datetime import UTC, datetime

    from bot.clock import FrozenClock, SystemClock
    from bot.delivery.scheduler import make_dispatcher

    settings = load_settings(require=("SLACK_BOT_TOKEN", "CS_CHANNEL_ID"))
    configure_logging(settings.log_level)
    db = open_database(settings)
    if args.now:
        try:
            instant = datetime.fromisoformat(args.now.replace("Z", "+00:00"))
        except ValueError:
            raise StartupError(
                f"--now {args.now!r} is not an ISO instant like 2026-12-01T09:30:00Z"
            ) from None
        clock = FrozenClock(instant if instant.tzinfo else instant.replace(tzinfo=UTC))
    else:
        clock = SystemClock()
    result = make_dispatcher(settings=settings, db=db, clock=clock).run_pass()
    print(f"dispatch at {clock.now().isoformat()}: {result}")
    if settings.webhook_urls:
        from bot.delivery.webhooks import WebhookSender

        sent = WebhookSender(db=db, clock=clock, secret=settings.webhook_secret).run_pass()
        print(f"webhooks: {sent}")


def cmd_report(args: argparse.Namespace) -> None:
    from bot.clock import SystemClock
    from bot.flows.shortlist import policy_from
    from bot.reporting.metrics import Period
    from bot.reporting.report import (
        build_report,
        slack_names,
        write_advocates_csv,
        write_csv,
        write_html,
        write_reps_csv,
    )

    settings = load_settings()
    configure_logging(settings.log_level)
    db = open_database(settings)
    try:
        period = Period.parse(args.quarter) if args.quarter else Period.quarter(SystemClock().now().date())
    except ValueError as error:
        raise StartupError(str(error)) from None
    with db.unit_of_work() as session:
        report = build_report(
            session=session, period=period, policy=policy_from(settings), today=SystemClock().now().date()
        )
    output = args.output or f"refdesk-{period.label}.{args.format}"
    names = None
    if settings.slack_bot_token:  # reps by name, not U0… ids (users.info, each looked up once)
        from bot.slack_client import make_client

        names = slack_names(make_client(settings))
    if args.format == "csv":
        # Tidy files, one row per thing: the program's figures, then one per rep and one per advocate.
        stem = output[: -len(".csv")] if output.endswith(".csv") else output
        written = []
        for path, writer in (
            (output, write_csv),
            (f"{stem}-reps.csv", write_reps_csv),
            (f"{stem}-advocates.csv", write_advocates_csv),
        ):
            with open(path, "w", newline="", encoding="utf-8") as sink:
                writer(report, sink, names=names)
            written.append(path)
        print(f"wrote {', '.join(written)}")
        return
    from bot.reporting.chart import quarter_chart

    with open(output, "w", newline="", encoding="utf-8") as sink:
        write_html(report, sink, chart_png=quarter_chart(report), names=names)
    print(f"wrote {output}")


def cmd_demo(args: argparse.Namespace) -> None:
    """Offline: needs no tokens, no settings and no network."""
    logging.basicConfig(level=logging.WARNING)
    from bot.demo.run import run

    run(html=args.html)


@contextmanager
def progress_bar(what: str, rows: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for large files (rich draws it only on a terminal).

    It counts each row twice, checked then written, so it moves from the first row checked.
    """
    if rows < PROGRESS_FROM_ROWS:
        yield lambda _done: None
        return
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"checking and importing {rows:,} {what}", total=2 * rows)
        yield lambda done: progress.advance(task, done)


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as source:
            return source.read()
    except OSError as error:
        raise StartupError(f"cannot read {path}: {error.strerror}") from None


def _csv_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--encoding",
        help="the file's encoding, e.g. cp1252 (default: UTF-8 with or without BOM, UTF-16 with BOM, "
        "else Windows-1252)",
    )
    command.add_argument(
        "--date-format",
        help="how the file writes dates besides ISO 2026-03-31, e.g. %%d/%%m/%%Y or %%m/%%d/%%Y (never guessed)",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="refdesk", description="A Slack bot that runs a customer reference program."
    )
    top.add_argument("--version", action="version", version=f"refdesk {version()}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="see the whole program run offline, against a simulated Slack")
    demo.add_argument("--html", type=Path, help="also write the transcript as an HTML page")
    demo.set_defaults(func=cmd_demo)

    run = commands.add_parser("run", help="connect to Slack over Socket Mode (a laptop, no public URL)")
    run.set_defaults(func=cmd_run)

    serve = commands.add_parser(
        "serve", help="serve Slack's HTTP requests on POST /slack/events (production)"
    )
    serve.add_argument("--host", default="0.0.0.0", help="interface to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=3000, help="port to listen on (default 3000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes, each with its own app and courier (default 1)",
    )
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    upgrade = db_commands.add_parser("upgrade", help="apply the schema migrations (Alembic)")
    upgrade.set_defaults(func=cmd_db_upgrade)

    doctor = commands.add_parser(
        "doctor",
        help="check the kept usage counters against history (one line per finding); --repair fixes them",
    )
    doctor.add_argument(
        "--repair", action="store_true", help="rewrite the counters that drifted from history"
    )
    doctor.set_defaults(func=cmd_doctor)

    advocates = commands.add_parser("advocates", help="the advocate pool as CSV")
    advocate_commands = advocates.add_subparsers(
        dest="advocates_command", required=True, metavar="ADVOCATES_COMMAND"
    )
    imp = advocate_commands.add_parser(
        "import", help="add or update advocates from a CSV (by email; all or nothing)"
    )
    imp.add_argument("file", help="CSV with the columns of `refdesk advocates export`")
    _csv_options(imp)
    imp.set_defaults(func=cmd_advocates_import)
    exp = advocate_commands.add_parser("export", help="write the pool as CSV, in the import format")
    exp.add_argument("--output", "-o", help="file to write (default: standard output)")
    exp.set_defaults(func=cmd_advocates_export)

    dispatch = commands.add_parser("dispatch", help="send the scheduled messages that are due (one pass)")
    dispatch.add_argument("--now", help="run as if at this instant, e.g. 2026-12-01T09:30:00Z")
    dispatch.set_defaults(func=cmd_dispatch)

    report = commands.add_parser("report", help="write a quarter's report (CSV or HTML with a chart)")
    report.add_argument("--quarter", help="e.g. 2026Q4 (default: this quarter)")
    report.add_argument("--format", choices=("csv", "html"), default="html")
    report.add_argument("--output", "-o", help="file to write (default: refdesk-<quarter>.<format>)")
    report.set_defaults(func=cmd_report)

    history = commands.add_parser("history", help="past references")
    history_commands = history.add_subparsers(
        dest="history_command", required=True, metavar="HISTORY_COMMAND"
    )
    himp = history_commands.add_parser(
        "import", help="count past references toward caps, recency and success rates"
    )
    himp.add_argument(
        "file", help="CSV: advocate_email,date,prospect_company,prospect_industry,kind,outcome,deal_arr"
    )
    _csv_options(himp)
    himp.set_defaults(func=cmd_history_import)

    opportunities = commands.add_parser("opportunities", help="deals from the CRM")
    opportunity_commands = opportunities.add_subparsers(
        dest="opportunities_command", required=True, metavar="OPPORTUNITIES_COMMAND"
    )
    oimp = opportunity_commands.add_parser(
        "import", help="add or update CRM deals (win rate and cycle length with vs without a reference)"
    )
    oimp.add_argument("file", help="CSV: id,name,created,closed,outcome,arr,had_reference")
    _csv_options(oimp)
    oimp.set_defaults(func=cmd_opportunities_import)

    engagements = commands.add_parser("engagements", help="references refdesk brokered, for the CRM")
    engagement_commands = engagements.add_subparsers(
        dest="engagements_command", required=True, metavar="ENGAGEMENTS_COMMAND"
    )
    eexp = engagement_commands.add_parser("export", help="one row per engagement, keyed by opportunity id")
    eexp.add_argument("--output", "-o", help="file to write (default: standard output)")
    eexp.set_defaults(func=cmd_engagements_export)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Every failure ends in one line per problem on stderr, naming it and the fix; never a traceback."""
    args = parser().parse_args(argv)
    try:
        code = args.func(args)
    except SettingsError as error:
        for problem in error.problems:
            print(f"refdesk: {problem}", file=sys.stderr)
        return 2
    except StartupError as error:
        print(f"refdesk: {error}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:  # the database failed after the start-up checks passed
        url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        print(f"refdesk: {describe_database_error(error, url)}", file=sys.stderr)
        return 2
    except OSError as error:  # a file that cannot be written, a port already taken, …
        where = f"{error.filename}: " if error.filename else ""
        print(f"refdesk: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - a bug: still one line, and the traceback on request
        if (os.environ.get("LOG_LEVEL") or "").strip().upper() == "DEBUG":
            traceback.print_exc()
        print(
            f"refdesk: unexpected {type(error).__name__}: {error} (set LOG_LEVEL=DEBUG for the traceback, "
            "and please report it)",
            file=sys.stderr,
        )
        return 1
    return code if isinstance(code, int) else 0
