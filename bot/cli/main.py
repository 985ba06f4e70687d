"""`python -m bot …`: serve the bot, upgrade the database, import the organisation, or look
after personal data (export, forget, retention)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from dotenv import dotenv_values, find_dotenv

from bot.app import create_app
from bot.cli import categories as categories_cli
from bot.cli import history as history_cli
from bot.cli import outbox as outbox_cli
from bot.cli import reminders as reminders_cli
from bot.cli import report as report_cli
from bot.cli import risk as risk_cli
from bot.cli import sick_leave as sick_leave_cli
from bot.cli import stats as stats_cli
from bot.cli import tips as tips_cli
from bot.cli import under_reporting as under_reporting_cli
from bot.cli.common import nothing_imported, progress_bar
from bot.cli.manifest_package import PackageError, build_package
from bot.cli.playground import (
    PlaygroundMissing,
    PlaygroundOptions,
    playground_command,
    playground_lifetime,
)
from bot.config import Settings, SettingsError, is_true, load_settings
from bot.logs import configure_logging
from domain.readers.organisation import OrgPlan, decode_org_csv, parse_org_csv
from storage.db import database
from storage.migrate import upgrade
from storage.org_import import OrgChanges, OrgImportRefused, import_org_plan, summary_lines
from storage.privacy import Forgotten, export_person, forget_person, run_retention
from storage.types import utcnow

logger = logging.getLogger("bot")


def _environment() -> dict[str, str]:
    """`.env` (found upward from the working directory) under the real environment."""
    path = os.environ.get("AVVIK_ENV_FILE") or find_dotenv(usecwd=True)
    from_file = {k: v for k, v in dotenv_values(path).items() if v is not None} if path else {}
    return {**from_file, **os.environ}


def _server_options(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """`--dev`, `--host`, `--port` for serving: on `python -m bot` itself and on `serve`. The
    subcommand's copies leave a value given before it alone (`python -m bot --dev serve`)."""
    unset: dict[str, Any] = {} if top_level else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--dev",
        action="store_true",
        help="run without authentication, on 127.0.0.1 unless --host says otherwise",
        **unset,
    )
    parser.add_argument("--host", help="listen on this address instead of HOST", **unset)
    parser.add_argument(
        "--port",
        type=int,
        help="listen on this port instead of PORT",
        **unset,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Avviksboten")
    _server_options(parser, top_level=True)
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the bot (the default)")
    _server_options(serve, top_level=False)
    playground = commands.add_parser(
        "playground", help="run the bot in dev mode with the Agents Playground (Teams emulator)"
    )
    playground.add_argument(
        "--port", type=int, default=argparse.SUPPRESS, help="the bot's port (default PORT or 3978)"
    )
    manifest = commands.add_parser("manifest", help="the Teams app package")
    manifest.add_argument("action", choices=["package"], help="write the zip an admin uploads")
    manifest.add_argument("--out", type=Path, default=Path("build"), help="folder (build/)")
    database = commands.add_parser("db", help="database maintenance")
    database.add_argument("action", choices=["upgrade"], help="apply migrations")
    org = commands.add_parser("org", help="the organisation: departments, units, people")
    org.add_argument("action", choices=["import"], help="load or update it from a CSV file")
    org.add_argument("file", type=Path, metavar="FILE", help="the CSV (docs/organisation.md)")
    org.add_argument("--dry-run", action="store_true", help="show what would change, save nothing")
    privacy = commands.add_parser(
        "privacy", help="personal data: a person's export, forgetting them, retention"
    )
    privacy.add_argument(
        "action",
        choices=["export", "forget", "retention"],
        help="export or forget one person, or anonymise old closed reports (docs/PRIVACY.md)",
    )
    privacy.add_argument("--person", metavar="AAD_OBJECT_ID", help="the person's Entra object id")
    privacy.add_argument("--out", type=Path, help="export: write the JSON here, not to stdout")
    privacy.add_argument(
        "--dry-run", action="store_true", help="forget, retention: show what would change"
    )
    stats_cli.add_parser(commands)
    history_cli.add_parser(commands)
    categories_cli.add_parser(commands)
    categories_cli.add_parser(commands, categories_cli.CAUSES_COMMAND)
    outbox_cli.add_parser(commands)
    outbox_cli.add_reach_parser(commands)
    reminders_cli.add_parser(commands)
    tips_cli.add_parser(commands)
    sick_leave_cli.add_parser(commands)
    under_reporting_cli.add_parser(commands)
    report_cli.add_parser(commands)
    risk_cli.add_parser(commands)
    return parser


def _serve(settings: Settings, *, with_playground: bool = False) -> None:
    if settings.dev_mode:
        logger.warning(
            "DEV MODE: /api/messages accepts requests WITHOUT authentication, on %s. "
            "Never run like this where anyone else can reach the port.",
            settings.host,
        )
    logger.info("Avviksboten on http://%s:%d/api/messages", settings.host, settings.port)
    app = create_app(settings)
    if with_playground:
        playground_command()  # fail before anything starts when it is not installed
        bot_url = f"http://127.0.0.1:{settings.port}/api/messages"
        app.cleanup_ctx.append(playground_lifetime(PlaygroundOptions(bot_url=bot_url)))
    web.run_app(app, host=settings.host, port=settings.port, print=None)


def _package(settings: Settings, out_dir: Path) -> int:
    try:
        target = build_package(settings, out_dir)
    except PackageError as error:
        logger.error("cannot build the app package: %s", error)
        return 2
    logger.info("Teams app package written to %s", target)
    return 0


async def _apply_org(database_url: str, plan: OrgPlan, *, dry_run: bool) -> OrgChanges:
    async with database(database_url) as sessions:
        with progress_bar(plan.row_count) as bar:
            return await import_org_plan(sessions, plan, dry_run=dry_run, progress=bar.update)


def _import_org(settings: Settings, path: Path, *, dry_run: bool) -> int:
    """Exit 0 with a summary, or 2 with every problem in the file and nothing changed."""
    try:
        text = decode_org_csv(path.read_bytes())
    except OSError as error:
        sys.stderr.write(f"cannot read {path}: {error.strerror}\n")
        return 2
    plan = parse_org_csv(text) if isinstance(text, str) else [text]
    if not isinstance(plan, OrgPlan):
        return nothing_imported(path, plan)
    upgrade(settings.database_url)
    try:
        changes = asyncio.run(_apply_org(settings.database_url, plan, dry_run=dry_run))
    except OrgImportRefused as refused:
        return nothing_imported(path, refused.problems)
    if not changes.changed:
        heading = f"Nothing changed: the database already matches {path}."
    elif dry_run:
        heading = f"Dry run, nothing saved. Importing {path} would change:"
    else:
        heading = f"Imported {path}:"
    sys.stdout.write("\n  ".join([heading, *summary_lines(changes)]) + "\n")
    return 0


async def _export(database_url: str, person: str) -> dict[str, object] | None:
    async with database(database_url) as sessions, sessions() as session:
        return await export_person(session, aad_object_id=person, now=utcnow())


async def _forget(database_url: str, person: str, *, dry_run: bool) -> Forgotten:
    async with database(database_url) as sessions:
        return await forget_person(sessions, aad_object_id=person, now=utcnow(), dry_run=dry_run)


async def _retention(database_url: str, years: int, *, dry_run: bool) -> list[str]:
    async with database(database_url) as sessions:
        due = await run_retention(sessions, now=utcnow(), years=years, dry_run=dry_run)
    return [report.case_number for report in due]


def _privacy(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 having done it (or shown it, with --dry-run); 2 when there is nothing to do it to."""
    if args.action in ("export", "forget") and not args.person:
        sys.stderr.write(f"privacy {args.action} needs --person AAD_OBJECT_ID\n")
        return 2
    upgrade(settings.database_url)
    if args.action == "retention":
        cases = asyncio.run(
            _retention(settings.database_url, settings.retention_years, dry_run=args.dry_run)
        )
        years = settings.retention_years
        verb = "would be anonymised (dry run)" if args.dry_run else "anonymised"
        heading = f"{len(cases)} report(s) closed more than {years} year(s) ago {verb}"
        sys.stdout.write("\n  ".join([heading + (":" if cases else "."), *cases]) + "\n")
        return 0
    if args.action == "export":
        export = asyncio.run(_export(settings.database_url, args.person))
        if export is None:
            sys.stderr.write(f"nothing is kept about {args.person}\n")
            return 2
        text = json.dumps(export, ensure_ascii=False, indent=2) + "\n"
        if args.out is None:
            sys.stdout.write(text)
        else:
            args.out.write_text(text, encoding="utf-8")
            logger.info("export of one person written to %s", args.out)
        return 0
    forgotten = asyncio.run(_forget(settings.database_url, args.person, dry_run=args.dry_run))
    if not forgotten.found:
        sys.stderr.write(f"nothing is kept about {args.person}\n")
        return 2
    heading = "Dry run, nothing changed. Forgetting" if args.dry_run else "Forgot"
    lines = [
        f"{heading} {args.person}:",
        f"{forgotten.reports} report(s) they filed unlinked, their text replaced",
        f"{forgotten.actions} action(s) of theirs on other reports unlinked",
        f"{forgotten.mentions} text(s) naming them changed",
        f"{forgotten.conversations} conversation reference(s) and "
        f"{forgotten.states} bot state row(s) deleted",
    ]
    sys.stdout.write("\n  ".join(lines) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env = _environment()
    if args.dev or args.command == "playground":
        env["AVVIK_DEV_MODE"] = "1"
    dev_mode = is_true(env.get("AVVIK_DEV_MODE"))
    configure_logging(env, dev_mode=dev_mode)
    if args.host:
        env["HOST"] = args.host
    elif dev_mode:
        env["HOST"] = "127.0.0.1"  # an unauthenticated bot stays on this machine
    if args.port:
        env["PORT"] = str(args.port)
    try:
        # Only serving needs the bot's secret: packaging the app, imports, statistics and
        # looking after personal data serve nothing.
        settings = load_settings(env, serving=args.command in (None, "serve", "playground"))
    except SettingsError as error:
        logger.error("cannot start: %s", error)
        return 2
    if args.command == "manifest":
        return _package(settings, args.out)
    if args.command == "db":
        upgrade(settings.database_url)
        logger.info("database is up to date")
        return 0
    if args.command == "org":
        return _import_org(settings, args.file, dry_run=args.dry_run)
    if args.command == "privacy":
        return _privacy(settings, args)
    if args.command == "stats":
        return stats_cli.run(settings, args)
    if args.command == "history":
        return history_cli.run(settings, args)
    if args.command in (categories_cli.COMMAND, categories_cli.CAUSES_COMMAND):
        return categories_cli.run(settings, args)
    if args.command == outbox_cli.COMMAND:
        return outbox_cli.run(settings, args)
    if args.command == outbox_cli.REACH:
        return outbox_cli.run_reach(settings, args)
    if args.command == reminders_cli.COMMAND:
        return reminders_cli.run(settings, args)
    if args.command == tips_cli.COMMAND:
        return tips_cli.run(settings, args)
    if args.command == sick_leave_cli.COMMAND:
        return sick_leave_cli.run(settings, args)
    if args.command == under_reporting_cli.COMMAND:
        return under_reporting_cli.run(settings, args)
    if args.command == report_cli.COMMAND:
        return report_cli.run(settings, args)
    if args.command == risk_cli.COMMAND:
        return risk_cli.run(settings, args)
    try:
        _serve(settings, with_playground=args.command == "playground")
    except PlaygroundMissing as error:
        logger.error("cannot start: %s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
