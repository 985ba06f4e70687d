"""`python -m bot history import FILE`: avvik from an earlier system (docs/history.md).

Exit status: 0 imported (or nothing new to import); 2 nothing imported: the file cannot be
read, or a row was rejected (without `--skip-invalid`), or with `--skip-invalid` every row was.
The summary goes to stdout, problems to stderr; neither ever holds a word of a report's text.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path

from bot.cli.common import nothing_imported, progress_bar
from bot.config import Settings
from domain.readers.history import HistoryFile, parse_history_csv
from storage.db import database
from storage.history_import import (
    HistoryImported,
    HistoryImportRefused,
    import_history,
    summary_lines,
)
from storage.migrate import upgrade
from storage.types import utcnow


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """`history import FILE [--dry-run] [--skip-invalid]` under the `python -m bot` commands."""
    history = subparsers.add_parser("history", help="avvik from an earlier system")
    history.add_argument("action", choices=["import"], help="import them from a CSV file")
    history.add_argument("file", type=Path, metavar="FILE", help="the CSV (docs/history.md)")
    history.add_argument(
        "--dry-run", action="store_true", help="check everything and show the summary, save nothing"
    )
    history.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the rows that pass and list the rejected ones (default: all or nothing)",
    )
    return history


async def _apply(
    database_url: str, history: HistoryFile, *, skip_invalid: bool, dry_run: bool
) -> HistoryImported:
    async with database(database_url) as sessions:
        with progress_bar(len(history.rows)) as bar:
            return await import_history(
                sessions,
                history,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                progress=bar.update,
            )


def run(settings: Settings, args: argparse.Namespace, *, now: datetime | None = None) -> int:
    """Run `history import` as parsed by `add_parser`; `now` (aware) is when nothing may be
    after, the clock by default."""
    path: Path = args.file
    try:
        data = path.read_bytes()
    except OSError as error:
        sys.stderr.write(f"cannot read {path}: {error.strerror}\n")
        return 2
    history = parse_history_csv(data, now=now or utcnow())
    if not isinstance(history, HistoryFile):
        return nothing_imported(path, history)
    upgrade(settings.database_url)
    try:
        result = asyncio.run(
            _apply(
                settings.database_url,
                history,
                skip_invalid=args.skip_invalid,
                dry_run=args.dry_run,
            )
        )
    except HistoryImportRefused as refused:
        return nothing_imported(path, refused.problems, rejected_rows=refused.rejected_rows)

    if result.rejected:
        sys.stderr.write(f"Rejected {result.rejected_rows} row(s) of {path}, not imported:\n")
        sys.stderr.writelines(f"{problem}\n" for problem in result.rejected)
    encoding = f" (read as {history.encoding})"
    if not result.accepted:
        heading = f"Nothing imported: no row of {path} can be imported{encoding}."
    elif not result.imported:
        heading = f"Nothing new: every report in {path} is already imported{encoding}."
    elif args.dry_run:
        heading = f"Dry run, nothing saved. Importing {path}{encoding} would give:"
    else:
        heading = f"Imported {path}{encoding}:"
    sys.stdout.write("\n  ".join([heading, *summary_lines(result)]) + "\n")
    return 0 if result.accepted else 2
