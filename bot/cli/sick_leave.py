"""`python -m bot sickleave import FILE [--dry-run]`: sick-leave figures per unit and quarter
(docs/under-reporting.md), imported all or nothing."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.cli.common import nothing_imported
from bot.config import Settings
from domain.readers.sick_leave import SickLeavePlan, decode_sick_leave_csv, parse_sick_leave_csv
from storage.db import database
from storage.migrate import upgrade
from storage.sick_leave_import import (
    SickLeaveChanges,
    SickLeaveImportRefused,
    import_sick_leave_plan,
    summary_line,
)

COMMAND = "sickleave"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        COMMAND, help="sick-leave figures per unit and quarter, shown beside the avvik counts"
    )
    parser.add_argument("action", choices=["import"], help="load or update them from a CSV file")
    parser.add_argument("file", type=Path, metavar="FILE", help="the CSV (docs/under-reporting.md)")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would change, save nothing"
    )


async def _apply(database_url: str, plan: SickLeavePlan, *, dry_run: bool) -> SickLeaveChanges:
    async with database(database_url) as sessions:
        return await import_sick_leave_plan(sessions, plan, dry_run=dry_run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 with a summary, or 2 with every problem in the file and nothing changed."""
    path: Path = args.file
    try:
        text = decode_sick_leave_csv(path.read_bytes())
    except OSError as error:
        sys.stderr.write(f"cannot read {path}: {error.strerror}\n")
        return 2
    plan = parse_sick_leave_csv(text)
    if not isinstance(plan, SickLeavePlan):
        return nothing_imported(path, plan)
    upgrade(settings.database_url)
    try:
        changes = asyncio.run(_apply(settings.database_url, plan, dry_run=args.dry_run))
    except SickLeaveImportRefused as refused:
        return nothing_imported(path, refused.problems)
    if not changes.changed:
        heading = f"Nothing changed: the database already has the figures in {path}."
    elif args.dry_run:
        heading = f"Dry run, nothing saved. Importing {path} would change:"
    else:
        heading = f"Imported {path}:"
    sys.stdout.write(f"{heading}\n  {summary_line(changes)}\n")
    return 0
