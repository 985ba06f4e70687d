"""`python -m bot categories export FILE` / `categories import FILE [--dry-run]`: the
municipality's avvik categories as a CSV an admin edits in Excel (docs/categories.md); and
`python -m bot causes …` the same for the causes a leader records (docs/causes.md).

Exit status: 0 done (or nothing to change); 2 nothing changed: the file cannot be read, or it
has a problem, or it would remove or repurpose a category that reports use.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
from pathlib import Path

from bot.cli.common import nothing_imported, read_file
from bot.config import Settings
from domain.categories import LABEL_LANGUAGES, Categories
from domain.readers.categories import COLUMNS, CategoryPlan, parse_categories_csv
from storage.categories import (
    CATEGORIES,
    CAUSES,
    CategoryChanges,
    CategoryImportRefused,
    CodeList,
    replace_categories,
    summary_lines,
)
from storage.db import database, one_transaction
from storage.migrate import upgrade

COMMAND = "categories"
CAUSES_COMMAND = "causes"
_LISTS = {COMMAND: CATEGORIES, CAUSES_COMMAND: CAUSES}


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], command: str = COMMAND
) -> None:
    what = "avvik categories" if command == COMMAND else "causes a leader records"
    parser = subparsers.add_parser(
        command, help=f"the {what}: codes, labels in nn/nb/en, order, active"
    )
    parser.add_argument(
        "action",
        choices=["export", "import"],
        help="export: write the list to a CSV; import: make the list the file's",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help=f"the CSV (docs/{command}.md)")
    parser.add_argument(
        "--dry-run", action="store_true", help="import: show what would change, save nothing"
    )


def categories_csv(categories: Categories, in_use: dict[str, int]) -> str:
    """The list as the import reads it, with how many reports use each (ignored on import)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for category in categories:
        writer.writerow(
            [
                category.code,
                *(category.labels.get(language, "") for language in LABEL_LANGUAGES),
                category.order,
                "yes" if category.active else "no",
                in_use.get(category.code, 0),
            ]
        )
    return out.getvalue()


async def _export(database_url: str, kind: CodeList) -> str:
    async with database(database_url) as sessions, sessions() as session:
        return categories_csv(await kind.load(session), await kind.in_use(session))


async def _import(
    database_url: str, plan: CategoryPlan, kind: CodeList, *, dry_run: bool
) -> tuple[CategoryChanges, Categories]:
    async with database(database_url) as sessions:
        async with one_transaction(sessions, dry_run=dry_run) as session:
            changes = await replace_categories(session, plan, kind)
        return changes, Categories(plan.categories)


def run(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.file
    kind = _LISTS[args.command]
    if args.action == "export":
        upgrade(settings.database_url)
        text = asyncio.run(_export(settings.database_url, kind))
        try:
            # With a BOM, so that Excel reads æøå right when the admin opens the file.
            path.write_text(text, encoding="utf-8-sig")
        except OSError as error:
            sys.stderr.write(f"cannot write {path}: {error.strerror}\n")
            return 2
        sys.stdout.write(f"{args.command.capitalize()} written to {path}\n")
        return 0
    data = read_file(path)
    if data is None:
        return 2
    plan = parse_categories_csv(data)
    if not isinstance(plan, CategoryPlan):
        return nothing_imported(path, plan)
    upgrade(settings.database_url)
    try:
        changes, categories = asyncio.run(
            _import(settings.database_url, plan, kind, dry_run=args.dry_run)
        )
    except CategoryImportRefused as refused:
        return nothing_imported(path, refused.problems)
    if not changes.changed:
        sys.stdout.write(f"Nothing changed: the {args.command} already match {path}.\n")
        return 0
    if args.dry_run:
        heading = f"Dry run, nothing saved. Importing {path} would change:"
    else:
        heading = f"Imported {path}:"
    sys.stdout.write("\n  ".join([heading, *summary_lines(changes, categories)]) + "\n")
    return 0
