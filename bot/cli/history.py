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

from bot.cli.common import nothing_imported, progress_bar, read_file
from bot.config import Settings
from domain.categories import Categories
from domain.readers.categories import CategoryMap, parse_category_map
from domain.readers.history import HistoryFile, parse_history_csv
from storage.categories import load_categories
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
    """`history import FILE [--category-map MAP] [--dry-run] [--skip-invalid]` under the
    `python -m bot` commands."""
    history = subparsers.add_parser("history", help="avvik from an earlier system")
    history.add_argument("action", choices=["import"], help="import them from a CSV file")
    history.add_argument("file", type=Path, metavar="FILE", help="the CSV (docs/history.md)")
    history.add_argument(
        "--dry-run", action="store_true", help="check everything and show the summary, save nothing"
    )
    history.add_argument(
        "--category-map",
        type=Path,
        metavar="MAP",
        help="a CSV with the columns from,to: the earlier system's category names and ours",
    )
    history.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the rows that pass and list the rejected ones (default: all or nothing)",
    )
    return history


async def _categories(database_url: str) -> Categories:
    async with database(database_url) as sessions, sessions() as session:
        return await load_categories(session)


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
    map_path: Path | None = args.category_map
    data = read_file(path)
    map_data = read_file(map_path) if map_path is not None else b""
    if data is None or map_data is None:
        return 2
    upgrade(settings.database_url)
    categories = asyncio.run(_categories(settings.database_url))
    category_map: CategoryMap | None = None
    if map_path is not None:
        mapped = parse_category_map(map_data, categories)
        if not isinstance(mapped, CategoryMap):
            return nothing_imported(map_path, mapped)
        category_map = mapped
    history = parse_history_csv(
        data, now=now or utcnow(), categories=categories, category_map=category_map
    )
    if not isinstance(history, HistoryFile):
        return nothing_imported(path, history)
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
